"""Sellable recomputes running at once (found by the peak drill, issue 15): parcels shipped at
the same moment each recompute the SKUs of their products after commit. Real threads, each
with its own database connection."""

import threading
import time
from decimal import Decimal as D

import pytest
from django.db import connection, transaction

from channels.models import SellableQuantity, SkuComponent, SkuMapping
from channels.sellable import recompute_sellable
from inventory import services

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until_a_backend_waits_for_a_lock(timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND datname = current_database()"
            )
            if cur.fetchone()[0]:
                return
        time.sleep(0.05)
    raise AssertionError("the second recompute never waited for the first")


def test_a_recompute_that_waited_for_another_computes_from_the_stock_committed_meanwhile(
    make_shop, make_product, main_warehouse
):
    shop = make_shop("TM01")
    cup = make_product()
    services.adjust(warehouse_id=main_warehouse.id, product_id=cup.id, quantity=10, actor=None)
    mapping = SkuMapping.objects.create(shop=shop, platform_sku="CUP")
    SkuComponent.objects.create(mapping=mapping, product=cup, quantity=D(1))
    recompute_sellable([cup.id])
    assert SellableQuantity.objects.get(mapping=mapping).quantity == 10

    first_holds, first_may_end = threading.Event(), threading.Event()
    outcome = {}

    def first():  # another recompute of the same SKU, in the middle of its transaction
        try:
            with transaction.atomic(), connection.cursor() as cur:
                cur.execute(
                    "SELECT 1 FROM channels_sellablequantity WHERE mapping_id = %s FOR UPDATE",
                    [mapping.pk],
                )
                first_holds.set()
                first_may_end.wait(30)
        finally:
            connection.close()

    def second():
        try:
            outcome["changed"] = recompute_sellable([cup.id])
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            outcome["error"] = exc
        finally:
            connection.close()

    a = threading.Thread(target=first)
    a.start()
    assert first_holds.wait(20)
    b = threading.Thread(target=second)
    b.start()
    try:
        wait_until_a_backend_waits_for_a_lock()
        # While the second recompute waits, an order reserves 4 (committed now).
        services.reserve(document="order:1", items=[(cup.id, D("4"))])
    finally:
        first_may_end.set()
        a.join(30)
        b.join(30)

    assert "error" not in outcome
    # It computed once it could write: from the stock as it is then (10 − 4), not from the
    # stock it would have read before waiting.
    assert SellableQuantity.objects.get(mapping=mapping).quantity == 6
    assert outcome["changed"] == [mapping.pk]
