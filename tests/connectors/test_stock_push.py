"""A stock change reaches the platforms within seconds: one push per window, through the outbox."""

import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection, connections
from django_q.models import OrmQ

from channels.models import SkuComponent, SkuMapping
from channels.sellable import recompute_sellable
from core.clock import frozen
from inventory import services as stock
from orders.models import Order
from platformsync import outbox, push
from platformsync.models import StockPushWindow
from tests.connectors.conftest import credentials


@pytest.fixture
def tea(sandbox, make_shop, make_product, main_warehouse):
    """A TOP shop selling TEA-001 (one product, 10 on hand); the platform has the 10."""
    shop = make_shop(
        code="TB01", platform="taobao", api_base_url=sandbox.url, credentials=credentials("top")
    )
    product = make_product()
    stock.adjust(warehouse_id=main_warehouse.id, product_id=product.id, quantity=10, actor=None)
    mapping = SkuMapping.objects.create(shop=shop, platform_sku="TEA-001")
    SkuComponent.objects.create(mapping=mapping, product=product, quantity=Decimal(1))
    recompute_sellable([product.id])
    outbox.queue_stock_pushes()
    outbox.drain_stock()
    assert sandbox.state()["stock"]["top"] == {"TEA-001": 10}
    StockPushWindow.objects.all().delete()
    OrmQ.objects.all().delete()
    return product


def queued_pushes() -> int:
    return sum(1 for q in OrmQ.objects.all() if q.func() == push.TASK)


def change(product, main_warehouse, quantity):
    """A stock adjustment, committed (these tests run outside a test transaction)."""
    stock.adjust(
        warehouse_id=main_warehouse.id, product_id=product.id, quantity=quantity, actor=None
    )


def stock_calls(sandbox) -> list[dict]:
    return sandbox.state()["stock_calls"]


@pytest.mark.django_db(transaction=True)
def test_a_committed_change_queues_its_push_at_once_and_the_platform_gets_it(
    sandbox, tea, main_warehouse
):
    before = len(stock_calls(sandbox))

    change(tea, main_warehouse, -3)

    # queued now, not at the next minute's drain
    assert queued_pushes() == 1 and StockPushWindow.objects.count() == 1
    slept = []
    result = push.push_stock_window(sleep=slept.append)
    assert result["sent"] == 1
    assert slept and max(slept) <= 2.0  # only until the window closes
    calls = stock_calls(sandbox)[before:]
    assert [c["quantities"] for c in calls] == [{"TEA-001": 7}]
    assert not StockPushWindow.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_changes_within_one_window_make_one_call_with_the_last_figure(sandbox, tea, main_warehouse):
    before = len(stock_calls(sandbox))

    for _ in range(5):
        change(tea, main_warehouse, -1)

    assert queued_pushes() == 1
    push.push_stock_window(sleep=lambda seconds: None)
    calls = stock_calls(sandbox)[before:]
    assert [c["quantities"] for c in calls] == [{"TEA-001": 5}]
    # the window is closed: the next change opens the next one
    change(tea, main_warehouse, 2)
    assert queued_pushes() == 2


@pytest.mark.django_db(transaction=True)
def test_a_window_whose_task_was_lost_is_opened_again_seconds_later(sandbox, tea, main_warehouse):
    t0 = datetime(2026, 11, 11, 2, 0, tzinfo=UTC)
    with frozen(t0):
        change(tea, main_warehouse, -1)
    with frozen(t0 + timedelta(seconds=10)):
        change(tea, main_warehouse, -1)
    assert queued_pushes() == 1  # still the same window (its task may just be late)
    with frozen(t0 + timedelta(seconds=16)):
        change(tea, main_warehouse, -1)
    assert queued_pushes() == 2  # the first task never ran: another one is queued


@pytest.mark.django_db(transaction=True)
def test_a_push_task_whose_database_connection_is_cut_starts_again_and_pushes(
    sandbox, tea, main_warehouse
):
    """PostgreSQL restarted under a queued push (the drill's fault): the task does not fail
    leaving its window open (no push for a while); it starts again on a new connection."""
    change(tea, main_warehouse, -2)
    with connection.cursor() as cur:
        cur.execute("SELECT pg_backend_pid()")
        pid = cur.fetchone()[0]
    other = connections.create_connection("default")
    try:
        with other.cursor() as cur:
            cur.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        other.close()
    slept = []

    result = push.push_stock_window(sleep=slept.append)

    assert result["sent"] == 1
    assert sandbox.state()["stock"]["top"] == {"TEA-001": 8}
    assert not StockPushWindow.objects.exists()
    assert slept[0] == 1.0  # it waited a moment before trying again


@pytest.mark.django_db(transaction=True)
def test_with_the_window_at_zero_nothing_is_queued_and_the_minute_drain_still_sends(
    sandbox, tea, main_warehouse, settings
):
    settings.STOCK_PUSH_WINDOW = 0
    change(tea, main_warehouse, -4)
    assert queued_pushes() == 0
    outbox.drain()
    assert sandbox.state()["stock"]["top"] == {"TEA-001": 6}


@pytest.mark.django_db(transaction=True)
def test_a_push_the_platform_did_not_take_is_sent_again_within_seconds(
    sandbox, tea, main_warehouse
):
    before = len(stock_calls(sandbox))
    sandbox.fault("http_500")
    change(tea, main_warehouse, -1)

    slept = []

    def sleep(seconds):  # really waits: the retry must become due
        slept.append(seconds)
        time.sleep(seconds)

    result = push.push_stock_window(sleep=sleep)

    assert result["retried"] == 1 and result["sent"] == 1
    assert max(slept) <= 2.0  # the stock backoff: 2 s, not the 30 s of a shipment
    assert sandbox.state()["stock"]["top"] == {"TEA-001": 9}
    assert len(stock_calls(sandbox)) == before + 1  # the failed call is not counted as accepted


@pytest.mark.django_db(transaction=True)
def test_a_shipped_parcel_reaches_the_platform_with_its_stock_window_not_the_minute_drain(
    sandbox, top_flow, top_shop
):
    """A parcel shipped is a stock change: the window it opens also sends its tracking number
    (at a peak the minute drain's 500 notices a minute left parcels queued for hours)."""
    tid = sandbox.put_order([("TEA-001", 1)])
    top_flow.pull(top_shop)
    order = top_flow.shipped(Order.objects.get(shop=top_shop, platform_order_no=tid))
    assert sandbox.state()["shipments"] == []
    assert queued_pushes() >= 1  # the ship's stock change opened a window

    result = push.push_stock_window(sleep=lambda seconds: None)

    assert result["shipments_sent"] == 1
    (shipment,) = sandbox.state()["shipments"]
    assert shipment["tid"] == tid and shipment["tracking_no"] == order.tracking_no
    assert sandbox.order("top", tid)["status"] == "WAIT_BUYER_CONFIRM_GOODS"
    # sent once: the minute drain finds nothing left to send
    assert outbox.drain_shipments().sent == 0


@pytest.mark.django_db(transaction=True)
def test_a_shipped_parcel_leaves_the_platforms_figure_as_it_was_and_costs_no_stock_call(
    sandbox, top_flow, top_shop
):
    """On hand and reserved fall together when a parcel ships: what the shop may sell is what
    it was, so the window sends the tracking number and no stock figure."""
    tid = sandbox.put_order([("TEA-001", 2)])
    top_flow.pull(top_shop)
    push.push_stock_window(sleep=lambda seconds: None)  # the reservation's figure goes out
    assert sandbox.state()["stock"]["top"]["TEA-001"] == 8
    calls = len(stock_calls(sandbox))

    top_flow.shipped(Order.objects.get(shop=top_shop, platform_order_no=tid))
    result = push.push_stock_window(sleep=lambda seconds: None)

    assert result["shipments_sent"] == 1
    assert stock_calls(sandbox)[calls:] == []
    assert sandbox.state()["stock"]["top"]["TEA-001"] == 8
    mapping = SkuMapping.objects.get(shop=top_shop, platform_sku="TEA-001")
    assert mapping.sellable.quantity == 8  # on hand 8, nothing reserved


@pytest.mark.django_db(transaction=True)
def test_one_window_sends_every_platform_its_figure(sandbox, tea, jd_shop, main_warehouse):
    """The platforms are sent to at once, each on its own connection: each gets its figure,
    and a failure of one is retried without holding the other back."""
    mapping = SkuMapping.objects.create(shop=jd_shop, platform_sku="TEA-001")
    SkuComponent.objects.create(mapping=mapping, product=tea, quantity=Decimal(1))
    sandbox.fault("http_500", method="jingdong.stock.write.updateSkuStock")
    change(tea, main_warehouse, -4)

    result = push.push_stock_window(sleep=time.sleep)

    assert result["sent"] == 2 and result["retried"] == 1
    stock_now = sandbox.state()["stock"]
    assert stock_now["top"] == {"TEA-001": 6}
    assert stock_now["jd"] == {"TEA-001": 6}
    assert not outbox.stock_pending_shops()
