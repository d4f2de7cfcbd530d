"""Shipments and stock go out through the durable outbox, to the sandbox over HTTP."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.utils import timezone

from channels import notices
from channels.models import OutboxMessage, SellableQuantity, SkuComponent, SkuMapping
from channels.sellable import recompute_sellable
from channels.types import ShipmentNotice
from inventory import services as stock
from platformsync import outbox


def ship_message(shop, tid, *, tracking="SF1001", split_lines=None, n=1):
    return notices.queue_shipment(
        shop=shop,
        dedupe_key=f"shipment:{tid}:{n}",
        notice=ShipmentNotice(
            order_no=f"SO{n:05d}",
            platform_order_no=tid,
            carrier="SF",
            tracking_no=tracking,
            platform_line_ids=tuple(split_lines or []),
            partial=bool(split_lines),
            shipped_at=timezone.now(),
            carrier_name="",
        ),
    )


def later(minutes):
    return timezone.now() + timedelta(minutes=minutes)


@pytest.mark.django_db
def test_a_shipment_is_sent_once_and_the_platform_shows_it_shipped(sandbox, top_shop):
    (tid,) = sandbox.generate(count=1)
    msg = ship_message(top_shop, tid)

    first = outbox.drain_shipments()
    again = outbox.drain_shipments(now=later(60))

    msg.refresh_from_db()
    assert (first.sent, again.sent) == (1, 0)
    assert msg.status == "sent" and msg.sent_at is not None and msg.attempts == 1
    assert [s["tid"] for s in sandbox.state()["shipments"]] == [tid]
    assert sandbox.order("top", tid)["status"] == "WAIT_BUYER_CONFIRM_GOODS"


@pytest.mark.django_db
def test_a_split_shipment_names_its_sub_orders(sandbox, top_shop):
    tid = next(t for t in sandbox.generate(count=20) if len(sandbox.order("top", t)["lines"]) > 1)
    lines = sandbox.order("top", tid)["lines"]
    ship_message(top_shop, tid, split_lines=[lines[0]["oid"]], tracking="SF1", n=1)
    ship_message(top_shop, tid, split_lines=[ln["oid"] for ln in lines[1:]], tracking="SF2", n=2)

    outbox.drain_shipments()

    shipped = sandbox.state()["shipments"]
    assert [s["oids"] for s in shipped] == [[lines[0]["oid"]], [ln["oid"] for ln in lines[1:]]]
    assert sandbox.order("top", tid)["status"] == "WAIT_BUYER_CONFIRM_GOODS"


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["http_500", "rate_limit", "malformed", "timeout"])
def test_a_shipment_is_retried_with_backoff_after_a_transient_failure(sandbox, top_shop, kind):
    (tid,) = sandbox.generate(count=1)
    msg = ship_message(top_shop, tid)
    sandbox.fault(kind, method="taobao.logistics.offline.send", delay=1.5)

    failed = outbox.drain_shipments()
    msg.refresh_from_db()
    assert failed.retried == 1 and msg.status == "pending" and msg.attempts == 1
    assert msg.next_attempt_at > timezone.now() and msg.last_error
    assert outbox.drain_shipments().sent == 0  # not due yet

    assert outbox.drain_shipments(now=later(1)).sent == 1
    assert len(sandbox.state()["shipments"]) == 1


@pytest.mark.django_db
def test_an_answer_lost_after_the_platform_accepted_is_not_sent_twice(sandbox, top_shop):
    (tid,) = sandbox.generate(count=1)
    msg = ship_message(top_shop, tid)
    # the platform ships, then the answer never arrives in time
    sandbox.fault("timeout_after", method="taobao.logistics.offline.send", delay=1.5)

    outbox.drain_shipments()
    outbox.drain_shipments(now=later(1))

    msg.refresh_from_db()
    assert msg.status == "sent" and msg.attempts == 2
    assert len(sandbox.state()["shipments"]) == 1


@pytest.mark.django_db
def test_a_shipment_of_an_order_the_platform_closed_is_parked_with_its_error(
    sandbox, top_shop, admin_user
):
    (tid,) = sandbox.generate(count=1)
    sandbox.control("close", platform="top", tid=tid)
    msg = ship_message(top_shop, tid)

    result = outbox.drain_shipments()

    msg.refresh_from_db()
    assert result.parked == 1 and msg.status == "parked" and msg.parked_at is not None
    assert "交易已关闭" in msg.last_error
    assert sandbox.state()["shipments"] == []

    assert outbox.retry_parked(messages=[msg], actor=admin_user) == 1
    msg.refresh_from_db()
    assert (msg.status, msg.attempts, msg.retried_by) == ("pending", 0, admin_user)
    assert msg.retried_at is not None


@pytest.mark.django_db(transaction=True)
def test_two_workers_draining_at_once_send_each_shipment_exactly_once(sandbox, make_shop):
    from tests.connectors.conftest import credentials

    shop = make_shop(
        code="TB01", platform="taobao", api_base_url=sandbox.url, credentials=credentials("top")
    )
    tids = sandbox.generate(count=30)
    for n, tid in enumerate(tids):
        ship_message(shop, tid, n=n)
    results, errors = [], []
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            results.append(outbox.drain_shipments())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == []
    assert sum(r.sent for r in results) == 30
    shipped = [s["tid"] for s in sandbox.state()["shipments"]]
    assert sorted(shipped) == sorted(tids)
    assert OutboxMessage.objects.filter(status="sent").count() == 30


# --- stock -------------------------------------------------------------------------------


@pytest.fixture
def mapped(db, main_warehouse, make_product, top_shop):
    """TEA-001 → 1 product; GIFT-01 → bundle of 1 TEA + 2 CUP; HALF-001 → 0.5 of a product."""
    tea, cup, loose = make_product(), make_product(), make_product()
    for product, qty in ((tea, 10), (cup, 9), (loose, 3)):
        stock.adjust(
            warehouse_id=main_warehouse.id, product_id=product.id, quantity=qty, actor=None
        )

    def relation(sku, *parts):
        mapping = SkuMapping.objects.create(shop=top_shop, platform_sku=sku)
        for product, qty in parts:
            SkuComponent.objects.create(mapping=mapping, product=product, quantity=Decimal(qty))
        return mapping

    relation("TEA-001", (tea, "1"))
    relation("GIFT-01", (tea, "1"), (cup, "2"))
    relation("HALF-001", (loose, "0.5"))
    recompute_sellable([tea.id, cup.id, loose.id])
    return {"tea": tea, "cup": cup, "loose": loose}


def test_changed_sellable_quantities_are_pushed_and_recorded_once_accepted(sandbox, mapped):
    queued = outbox.queue_stock_pushes()
    result = outbox.drain_stock()

    assert queued == 3 and result.sent == 3
    assert sandbox.state()["stock"]["top"] == {"TEA-001": 10, "GIFT-01": 4, "HALF-001": 6}
    rows = SellableQuantity.objects.all()
    assert all(r.pushed_quantity == r.quantity and r.pushed_at for r in rows)
    # nothing changed: nothing is queued or sent again
    assert outbox.queue_stock_pushes() == 0 and outbox.drain_stock().sent == 0


def test_only_changed_quantities_are_sent_again(sandbox, mapped, main_warehouse):
    outbox.drain()
    calls_before = len(sandbox.state()["stock_calls"])
    stock.adjust(
        warehouse_id=main_warehouse.id, product_id=mapped["cup"].id, quantity=-5, actor=None
    )
    recompute_sellable([mapped["cup"].id])

    outbox.drain()

    calls = sandbox.state()["stock_calls"][calls_before:]
    assert calls == [{"platform": "top", "quantities": {"GIFT-01": 2}}]


def test_a_sku_the_platform_does_not_know_is_parked_and_the_others_go_through(
    sandbox, mapped, top_shop, make_product, main_warehouse
):
    ghost = make_product()
    stock.adjust(warehouse_id=main_warehouse.id, product_id=ghost.id, quantity=4, actor=None)
    mapping = SkuMapping.objects.create(shop=top_shop, platform_sku="NOT-ON-TAOBAO")
    SkuComponent.objects.create(mapping=mapping, product=ghost, quantity=Decimal("1"))
    recompute_sellable([ghost.id])

    result = outbox.drain()

    parked = OutboxMessage.objects.get(status="parked")
    assert result.sent == 3 and result.parked == 1
    assert parked.payload["platform_sku"] == "NOT-ON-TAOBAO" and "不存在" in parked.last_error
    # parked stays parked: not queued again until a person retries it
    assert outbox.drain().sent == 0 and OutboxMessage.objects.filter(status="pending").count() == 0


def test_a_failed_stock_push_leaves_the_quantity_unpushed_until_it_is_accepted(sandbox, mapped):
    sandbox.fault("http_500", method="taobao.skus.quantity.update", times=3)
    first = outbox.drain()
    assert first.sent == 0 and first.retried == 3
    assert SellableQuantity.objects.filter(pushed_quantity__isnull=True).count() == 3

    second = outbox.drain(now=later(1))
    assert second.sent == 3
    assert sandbox.state()["stock"]["top"]["GIFT-01"] == 4


def test_the_full_push_sends_every_mapped_sku_again(sandbox, mapped):
    outbox.drain()
    assert outbox.queue_stock_pushes(full=True) == 3
    assert outbox.drain_stock().sent == 3
    assert len(sandbox.state()["stock_calls"]) == 6


def test_skus_of_one_item_go_to_the_platform_in_one_call(sandbox, mapped, top_shop):
    tea = mapped["tea"]
    mapping = SkuMapping.objects.create(shop=top_shop, platform_sku="TEA-002")
    SkuComponent.objects.create(mapping=mapping, product=tea, quantity=Decimal("2"))
    recompute_sellable([tea.id])

    outbox.drain()

    calls = [c["quantities"] for c in sandbox.state()["stock_calls"]]
    assert {"TEA-001": 10, "TEA-002": 5} in calls and len(calls) == 3


@pytest.mark.django_db
def test_wrong_credentials_make_messages_wait_not_park(sandbox, top_shop):
    (tid,) = sandbox.generate(count=1)
    msg = ship_message(top_shop, tid)
    top_shop.credentials["secret"] = "stale"
    top_shop.save()

    result = outbox.drain_shipments()

    msg.refresh_from_db()
    assert result.retried == 1 and msg.status == "pending" and "Invalid Signature" in msg.last_error
    top_shop.credentials["secret"] = "sandbox-top-secret"
    top_shop.save()
    assert outbox.drain_shipments(now=later(1)).sent == 1


@pytest.mark.django_db(transaction=True)
def test_two_workers_pushing_stock_at_once_send_each_change_once(
    sandbox, make_shop, make_product, main_warehouse
):
    from tests.connectors.conftest import credentials

    shop = make_shop(
        code="WM01", platform="weimob", api_base_url=sandbox.url, credentials=credentials("weimob")
    )
    product = make_product()
    stock.adjust(warehouse_id=main_warehouse.id, product_id=product.id, quantity=8, actor=None)
    skus = ["TEA-001", "TEA-002", "CUP-001", "CUP-SET2", "GIFT-01", "HALF-001", "POT-001"]
    for sku in skus:
        mapping = SkuMapping.objects.create(shop=shop, platform_sku=sku)
        SkuComponent.objects.create(mapping=mapping, product=product, quantity=Decimal("1"))
    recompute_sellable([product.id])
    outbox.queue_stock_pushes()
    results, errors = [], []
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            results.append(outbox.drain_stock())
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert errors == [] and sum(r.sent for r in results) == 7
    pushed = [sku for call in sandbox.state()["stock_calls"] for sku in call["quantities"]]
    assert sorted(pushed) == sorted(skus)
