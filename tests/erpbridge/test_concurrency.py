"""Races with real concurrent connections: nothing is handed out or applied twice."""

import threading
from decimal import Decimal

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from erpbridge.models import RetailBatch, RetailRecord, StockMessage
from inventory.models import StockMove

from .conftest import ErpApi, iso, on_hand

pytestmark = pytest.mark.django_db(transaction=True)


def race(n, call):
    """Run call(i) in n threads released at the same moment; each has its own connection."""
    barrier = threading.Barrier(n)
    results, errors = [None] * n, []

    def run(i):
        try:
            barrier.wait()
            results[i] = call(i)
        except Exception as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors
    return results


def test_racing_batch_calls_for_one_unit_code_and_kind_hand_each_order_out_once(
    erp_client, shop, make_product, stock_in, make_shipped_order
):
    a = make_product("A")
    stock_in(a, 100)
    orders = [make_shipped_order(shop, [("A", 1, "1.00", [(a, 1)])]) for _ in range(30)]

    def call(i):
        erp = ErpApi(Client(), erp_client.key_id, erp_client.secret)
        response = erp.post("retail-batches", {"unit_code": "TM01", "kind": "sales", "limit": 20})
        return response.status_code, response.json()

    results = race(6, call)

    assert sorted(status for status, _ in results) == [200] * 5 + [201]
    assert len({body["batch_id"] for _, body in results}) == 1
    assert RetailBatch.objects.count() == 1
    assert RetailRecord.objects.count() == 20
    handed = [r["order_no"] for r in results[0][1]["records"]]
    assert len(set(handed)) == 20 and set(handed) <= {o.order_no for o in orders}


def test_racing_extract_and_acknowledge_loops_deliver_every_order_exactly_once(
    erp_client, shop, make_product, stock_in, make_shipped_order
):
    a = make_product("A")
    stock_in(a, 100)
    orders = [make_shipped_order(shop, [("A", 1, "1.00", [(a, 1)])]) for _ in range(25)]
    received: list[list[str]] = [[] for _ in range(4)]

    def call(i):
        erp = ErpApi(Client(), erp_client.key_id, erp_client.secret)
        for _ in range(20):
            body = erp.post(
                "retail-batches", {"unit_code": "TM01", "kind": "sales", "limit": 3}
            ).json()
            if not body["records"]:
                return
            ack = erp.post(f"retail-batches/{body['batch_id']}/ack")
            assert ack.status_code == 200
            received[i].append((body["batch_id"], [r["order_no"] for r in body["records"]]))

    race(4, call)

    batches = {}
    for per_thread in received:
        for batch_id, order_nos in per_thread:
            batches.setdefault(batch_id, order_nos)
    delivered = [no for order_nos in batches.values() for no in order_nos]
    assert sorted(delivered) == sorted(o.order_no for o in orders)
    assert RetailRecord.objects.filter(acked_at__isnull=True).count() == 0


def test_the_same_stock_message_sent_twice_at_once_is_applied_once(erp_client, make_product):
    a = make_product("A")
    body = {
        "message_id": "RACE-1",
        "as_of": iso(timezone.now()),
        "items": [{"product_code": "A", "quantity": "8"}],
    }

    def call(i):
        erp = ErpApi(Client(), erp_client.key_id, erp_client.secret)
        return erp.post("stock/incremental", body).json()["status"]

    statuses = race(4, call)

    assert sorted(statuses) == ["applied", "duplicate", "duplicate", "duplicate"]
    assert on_hand(a) == Decimal("8")
    assert StockMove.objects.filter(reason="erp_sync").count() == 1
    assert StockMessage.objects.count() == 1


def test_a_shipment_racing_a_stock_message_is_not_lost(
    erp_client, shop, make_product, stock_in, make_shipped_order
):
    """Whatever commits first, on_hand ends at Q − the unextracted shipment."""
    from inventory import services as stock

    a = make_product("A")
    stock_in(a, 10)
    order = make_shipped_order(
        shop, [("A", 2, "2.00", [(a, 1)])], status="verified"
    )  # reserved, not shipped yet

    def call(i):
        if i == 0:
            from django.db import transaction

            from orders.models import Order

            with transaction.atomic():
                Order.objects.filter(pk=order.pk).update(
                    status="shipped", shipped_at=timezone.now()
                )
                stock.ship(document=order.document, actor=None)
            return "shipped"
        erp = ErpApi(Client(), erp_client.key_id, erp_client.secret)
        body = {
            "message_id": "RACE-2",
            "as_of": iso(timezone.now()),
            "items": [{"product_code": "A", "quantity": "10"}],
        }
        return erp.post("stock/incremental", body).json()["status"]

    assert sorted(race(2, call)) == ["applied", "shipped"]
    assert on_hand(a) == Decimal("8")
