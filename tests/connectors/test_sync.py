"""Pulling orders and refunds end to end: sandbox over HTTP → connector → intake service."""

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.utils import timezone

from channels import notices
from channels.models import OutboxMessage, Shop
from channels.types import ShipmentNotice
from orders.models import HoldReason, Order, OrderHold
from platformsync import outbox, sync, tasks

pytestmark = pytest.mark.django_db


def orders_of(shop):
    return Order.objects.filter(shop=shop, split_from__isnull=True)


def soon():
    """A pull a moment later: platforms list what changed up to the previous whole second."""
    return datetime.now(UTC) + timedelta(seconds=2)


def test_pulling_a_top_shop_takes_every_order_in_once(sandbox, top_shop):
    made = sandbox.generate(count=45)

    result = sync.pull_orders(shop=top_shop)

    assert result.error == "" and result.created == 45
    assert sorted(orders_of(top_shop).values_list("platform_order_no", flat=True)) == sorted(made)
    order = orders_of(top_shop).get(platform_order_no=made[0])
    raw = sandbox.order("top", made[0])
    assert order.receiver_name.startswith(raw["receiver_name"][0])  # masked: 张**
    assert order.receiver_oaid and order.city == raw["receiver_city"]
    assert order.lines.count() == len(raw["lines"])
    state = sync.read_sync_state(top_shop.pk)
    assert state["orders_watermark"] and state["orders_total_read"] == 45


def test_pulling_the_same_window_again_duplicates_nothing(sandbox, top_shop):
    sandbox.generate(count=30)
    sync.pull_orders(shop=top_shop)
    sync.update_sync_state(top_shop.pk, orders_watermark=None)  # read it all again

    details = sandbox.state()["calls"]["top:taobao.trade.fullinfo.get"]
    again = sync.pull_orders(shop=top_shop)

    assert (again.created, again.read, again.skipped) == (0, 30, 30)
    assert orders_of(top_shop).count() == 30
    # what we already hold at the same modification time is not fetched again
    assert sandbox.state()["calls"]["top:taobao.trade.fullinfo.get"] == details


def test_an_order_modified_on_the_platform_is_read_again_and_updated(sandbox, top_shop):
    tid, _other = sandbox.generate(count=2)
    sync.pull_orders(shop=top_shop)
    sandbox.control("refund", platform="top", tid=tid)

    again = sync.pull_orders(shop=top_shop, now=soon())

    assert again.updated == 1 and again.created == 0
    assert orders_of(top_shop).get(platform_order_no=tid).on_hold


def test_windows_overlap_the_watermark_and_new_orders_are_picked_up(sandbox, top_shop):
    sandbox.generate(count=10)
    sync.pull_orders(shop=top_shop)
    now = datetime.now(UTC)
    newer = sandbox.generate(count=5, start=now - timedelta(minutes=1), end=now)

    second = sync.pull_orders(shop=top_shop, now=now + timedelta(minutes=1))

    assert second.created == 5 and orders_of(top_shop).count() == 15
    assert set(newer) <= set(orders_of(top_shop).values_list("platform_order_no", flat=True))


def test_the_watermark_is_the_whole_second_the_platform_was_asked_up_to(sandbox, top_shop):
    """Platforms take a window's end in whole seconds and list what changed before it: an order
    changed within a pull's last, partial second is not claimed as read (the peak drill found
    the watermark half a second past what had been read)."""
    second = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=1)
    tid = sandbox.put_order([("TEA-001", 1)], at=second)

    first = sync.pull_orders(shop=top_shop, now=second + timedelta(milliseconds=700))

    assert first.error == "" and first.read == 0
    watermark = datetime.fromisoformat(sync.read_sync_state(top_shop.pk)["orders_watermark"])
    assert watermark == second
    later = sync.pull_orders(shop=top_shop, now=second + timedelta(milliseconds=1500))
    assert later.created == 1 and orders_of(top_shop).get(platform_order_no=tid)


def test_a_shop_pulled_for_the_first_time_reads_the_last_day_across_windows(sandbox, top_shop):
    end = datetime.now(UTC) - timedelta(minutes=5)
    sandbox.generate(count=20, start=end - timedelta(hours=23), end=end)
    sync.update_sync_state(top_shop.pk, orders_watermark=(end - timedelta(days=2)).isoformat())
    older = sandbox.generate(
        count=7, start=end - timedelta(hours=40), end=end - timedelta(hours=30)
    )

    result = sync.pull_orders(shop=top_shop)

    assert result.windows == 3 and result.created == 27
    assert set(older) <= set(orders_of(top_shop).values_list("platform_order_no", flat=True))


def test_the_watermark_stays_put_when_a_window_cannot_be_read(sandbox, top_shop):
    sandbox.generate(count=12)
    sync.update_sync_state(
        top_shop.pk, orders_watermark=(datetime.now(UTC) - timedelta(hours=5)).isoformat()
    )
    before = sync.read_sync_state(top_shop.pk)["orders_watermark"]
    sandbox.fault("http_500", method="taobao.trades.sold.increment.get", times=50)

    failed = sync.pull_orders(shop=top_shop)

    state = sync.read_sync_state(top_shop.pk)
    assert "HTTP 502" in failed.error and state["orders_last_error"] == failed.error
    assert state["orders_watermark"] == before
    sandbox.control("reset")  # the platform recovers (same orders are gone; make new ones)
    made = sandbox.generate(count=12)
    recovered = sync.pull_orders(shop=top_shop)
    assert recovered.error == "" and recovered.created == 12
    assert sorted(orders_of(top_shop).values_list("platform_order_no", flat=True)) == sorted(made)
    assert sync.read_sync_state(top_shop.pk)["orders_watermark"] > before


@pytest.mark.parametrize(
    "kind,method",
    [
        ("http_500", "taobao.trade.fullinfo.get"),
        ("rate_limit", "taobao.trade.fullinfo.get"),
        ("malformed", "taobao.trade.fullinfo.get"),
        ("timeout", "taobao.trade.fullinfo.get"),
        ("duplicate_page", "taobao.trades.sold.increment.get"),
        ("out_of_order", "taobao.trades.sold.increment.get"),
        ("malformed", "taobao.trades.sold.increment.get"),
    ],
)
def test_a_misbehaving_platform_loses_and_doubles_nothing(sandbox, top_shop, kind, method):
    made = sandbox.generate(count=25)
    sandbox.fault(kind, method=method, times=2, delay=1.3)
    from channels.connectors.top import TopConnector

    connector = TopConnector(top_shop)
    connector.page_size = 10
    first = sync.pull_orders(shop=top_shop, connector=connector)
    if first.error:  # gave up for now: the next run finishes the job
        sync.pull_orders(shop=top_shop)

    numbers = list(orders_of(top_shop).values_list("platform_order_no", flat=True))
    assert sorted(numbers) == sorted(made)


def test_a_refund_before_shipping_holds_the_order(sandbox, top_shop):
    tid, other = sandbox.generate(count=2)
    sync.pull_orders(shop=top_shop)
    sandbox.control("refund", platform="top", tid=tid)

    result = sync.pull_refunds(shop=top_shop, now=soon())

    assert result.error == "" and result.read == 1
    order = orders_of(top_shop).get(platform_order_no=tid)
    assert order.on_hold
    assert OrderHold.objects.filter(
        order=order, reason=HoldReason.REFUND_REQUESTED, released_at__isnull=True
    ).exists()
    assert (
        not orders_of(top_shop)
        .get(platform_order_no=other)
        .holds.filter(reason=HoldReason.REFUND_REQUESTED)
        .exists()
    )
    assert sync.read_sync_state(top_shop.pk)["refunds_total_read"] == 1


def test_a_refund_of_an_order_never_pulled_brings_the_order_in_held(sandbox, top_shop):
    (tid,) = sandbox.generate(count=1)
    sandbox.control("refund", platform="top", tid=tid)

    sync.pull_refunds(shop=top_shop, now=soon())

    assert orders_of(top_shop).get(platform_order_no=tid).on_hold


def test_the_scheduled_task_pulls_every_enabled_api_shop(sandbox, top_shop, jd_shop, make_shop):
    sandbox.generate(count=4)
    sandbox.generate(platform="jd", count=3)
    make_shop(code="FN01", platform="feiniu")
    Shop.objects.filter(pk=jd_shop.pk).update(enabled=True)

    summary = tasks.sync_all_shops()

    assert set(summary) == {"TB01", "JD01"}
    assert orders_of(top_shop).count() == 4 and orders_of(jd_shop).count() == 3


def test_weimob_orders_are_pulled_end_to_end(sandbox, weimob_shop):
    sandbox.generate(platform="weimob", count=6)
    result = sync.pull_orders(shop=weimob_shop)
    assert result.error == "" and orders_of(weimob_shop).count() == 6


@pytest.mark.django_db(transaction=True)
def test_two_workers_pulling_the_same_shop_at_once_take_each_order_once(sandbox, make_shop):
    from tests.connectors.conftest import credentials

    shop = make_shop(
        code="TB01", platform="taobao", api_base_url=sandbox.url, credentials=credentials("top")
    )
    made = sandbox.generate(count=60)
    results, errors = [], []
    barrier = threading.Barrier(2)

    def worker():
        try:
            barrier.wait()
            results.append(sync.sync_shop(shop_id=shop.pk))
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
    assert sorted(orders_of(shop).values_list("platform_order_no", flat=True)) == sorted(made)
    assert sum(r["orders"].created for r in results) == 60


def test_an_order_the_intake_refuses_is_reported_and_does_not_block_the_others(sandbox, top_shop):
    bad, *good = sandbox.generate(count=5)
    with sandbox.server.state.lock:  # the platform sends a line of quantity 0
        sandbox.server.state.orders["top"][bad]["lines"][0]["num"] = 0

    result = sync.pull_orders(shop=top_shop)

    assert sorted(orders_of(top_shop).values_list("platform_order_no", flat=True)) == sorted(good)
    assert len(result.rejected) == 1 and result.rejected[0].startswith(bad)
    state = sync.read_sync_state(top_shop.pk)
    assert bad in state["orders_last_error"] and state["orders_rejected"][0].startswith(bad)


@pytest.mark.parametrize(
    "shop_fixture,platform,method",
    [
        ("jd_shop", "jd", "jingdong.pop.order.shipment"),
        ("weimob_shop", "weimob", "order/deliveryOrder"),
    ],
)
@pytest.mark.parametrize("kind", ["http_500", "rate_limit", "timeout_after"])
def test_jd_and_weimob_shipments_survive_misbehaviour_and_go_once(
    sandbox, request, shop_fixture, platform, method, kind
):
    shop = request.getfixturevalue(shop_fixture)
    (tid,) = sandbox.generate(platform=platform, count=1)
    notices.queue_shipment(
        shop=shop,
        dedupe_key=f"shipment:{tid}",
        notice=ShipmentNotice(
            order_no="SO00001",
            platform_order_no=tid,
            carrier="SF",
            tracking_no="SF7",
            platform_line_ids=tuple([]),
            partial=False,
            shipped_at=timezone.now(),
            carrier_name="",
        ),
    )
    sandbox.fault(kind, method=method, platform=platform, delay=1.3)

    outbox.drain_shipments()
    outbox.drain_shipments(now=datetime.now(UTC) + timedelta(minutes=5))

    assert [s["tid"] for s in sandbox.state()["shipments"]] == [tid]
    assert OutboxMessage.objects.get().status == "sent"


def test_two_top_shops_on_their_own_sessions_see_only_their_own_orders(
    sandbox, top_shop, make_shop
):
    from tests.connectors.conftest import credentials

    sandbox.server.state.add_top_seller(session="tmall-session", seller="top:TM01")
    tmall = make_shop(
        code="TM01",
        platform="tmall",
        api_base_url=sandbox.url,
        credentials=credentials("top", session="tmall-session"),
    )
    taobao_orders = sandbox.generate(count=4)
    tmall_orders = sandbox.generate(platform="top:TM01", count=3)

    sync.pull_orders(shop=top_shop)
    sync.pull_orders(shop=tmall)

    assert sorted(orders_of(top_shop).values_list("platform_order_no", flat=True)) == sorted(
        taobao_orders
    )
    assert sorted(orders_of(tmall).values_list("platform_order_no", flat=True)) == sorted(
        tmall_orders
    )
