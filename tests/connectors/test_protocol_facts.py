"""Protocol facts checked against public sources (channels/connectors/PROTOCOLS.md), proven
through the connectors against the sandbox, which behaves as those sources say."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
import requests
from django.utils import timezone

from channels import notices
from channels.connectors.base import AuthError, PermanentError, RateLimited, TransientError
from channels.connectors.jd import JdConnector
from channels.connectors.top import TopConnector
from channels.connectors.weimob import WeimobConnector
from channels.models import OutboxMessage
from channels.sandbox.jd import expected_sign
from channels.sandbox.top import fmt
from channels.types import ShipmentNotice
from orders.models import HoldReason, Order, OrderHold
from platformsync import outbox, sync

pytestmark = pytest.mark.django_db


def soon():
    return datetime.now(UTC) + timedelta(seconds=2)


def active_holds(order):
    return set(
        OrderHold.objects.filter(order=order, released_at__isnull=True).values_list(
            "reason", flat=True
        )
    )


def notice(tid, tracking="YT0001", carrier="YTO"):
    return ShipmentNotice(
        order_no="SO00001",
        platform_order_no=tid,
        carrier=carrier,
        carrier_name="",
        tracking_no=tracking,
        shipped_at=timezone.now(),
    )


def shipment(shop, tid, tracking="YT0001", carrier="YTO"):
    notices.queue_shipment(
        shop=shop, dedupe_key=f"shipment:{tid}:{tracking}", notice=notice(tid, tracking, carrier)
    )
    return OutboxMessage.objects.get(dedupe_key=f"shipment:{tid}:{tracking}")


# --- JD ------------------------------------------------------------------------------------


def test_jd_shipping_sends_order_id_carrier_and_tracking_number_as_the_sdks_name_them(
    sandbox, jd_shop
):
    (tid,) = sandbox.generate(platform="jd", count=1)

    JdConnector(jd_shop).send_shipment(notice(tid, "JDVA0001", "463"))

    (shipped,) = sandbox.state()["shipments"]
    assert (shipped["tid"], shipped["carrier"], shipped["tracking_no"]) == (tid, "463", "JDVA0001")


def test_jd_stock_goes_to_the_sku_with_our_outer_code_not_the_first_one_listed(
    sandbox, jd_shop, make_product, main_warehouse
):
    connector = JdConnector(jd_shop)
    # POT-001 sorts last in the sandbox catalogue: "the first SKU returned" would be another
    results = connector.push_stock({"POT-001": 5, "CUP-001": 2})

    assert results == {"POT-001": None, "CUP-001": None}
    assert sandbox.state()["stock"]["jd"] == {"POT-001": 5, "CUP-001": 2}


def test_jd_ignores_an_unknown_sku_filter_so_the_old_outer_id_filter_would_list_every_sku(
    sandbox, jd_shop
):
    connector = JdConnector(jd_shop)
    every = connector.call("jingdong.sku.read.searchSkuList", outerId="POT-001")["page"]["data"]
    ours = connector.call("jingdong.sku.read.searchSkuList", outId=["POT-001"])["page"]["data"]

    assert len(every) > 1 and every[0]["outerId"] != "POT-001"
    assert [r["outerId"] for r in ours] == ["POT-001"]


def test_jd_order_search_without_optional_fields_is_refused(sandbox, jd_shop):
    now = datetime.now(UTC)
    with pytest.raises(PermanentError, match="optional_fields"):
        JdConnector(jd_shop).call(
            "jingdong.pop.order.search",
            start_date=fmt(now - timedelta(hours=1)),
            end_date=fmt(now),
            page="1",
            page_size="10",
        )


def test_a_paused_jd_order_is_held_not_cancelled_and_released_when_the_pause_ends(sandbox, jd_shop):
    (tid,) = sandbox.generate(platform="jd", count=1)
    sandbox.control("pause", platform="jd", tid=tid)

    sync.pull_orders(shop=jd_shop, now=soon())

    order = Order.objects.get(shop=jd_shop, platform_order_no=tid)
    assert order.status == Order.Status.PENDING_REVIEW
    assert order.platform_status == "POP_ORDER_PAUSE"
    assert HoldReason.SHIP_FORBIDDEN in active_holds(order)
    assert HoldReason.REFUND_REQUESTED not in active_holds(order)

    later = datetime.now(UTC) + timedelta(seconds=3)
    sandbox.control("pause", platform="jd", tid=tid, paused=False, at=later.isoformat())
    sync.pull_orders(shop=jd_shop, now=later + timedelta(seconds=2))

    order.refresh_from_db()
    assert order.status == Order.Status.PENDING_REVIEW
    assert HoldReason.SHIP_FORBIDDEN not in active_holds(order)


def test_the_jd_sandbox_refuses_to_ship_a_paused_order(sandbox, jd_shop):
    (tid,) = sandbox.generate(platform="jd", count=1)
    sandbox.control("pause", platform="jd", tid=tid)

    with pytest.raises(PermanentError, match="暂停"):
        JdConnector(jd_shop).send_shipment(notice(tid, "JDVA0002", "463"))
    assert sandbox.state()["shipments"] == []


@pytest.mark.parametrize(
    ("jd_status", "ours"),
    [
        (0, "requested"),
        (1, "requested"),
        (2, "refused"),
        (3, "refunded"),  # JD finance approved: not "closed"
        (4, "refused"),
        (6, "refunded"),
        (8, "requested"),
        (9, "refunded"),
    ],
)
def test_jd_refund_status_numbers_mean_what_jos_says(sandbox, jd_shop, jd_status, ours):
    (tid,) = sandbox.generate(platform="jd", count=1)
    refund_id = sandbox.control("refund", platform="jd", tid=tid)["refund_id"]
    sandbox.control("refund_status", platform="jd", refund_id=refund_id, jd_status=jd_status)
    connector = JdConnector(jd_shop)
    now = datetime.now(UTC)

    page = connector.refund_page(now - timedelta(hours=3), now + timedelta(minutes=1), 1)
    (notice,) = connector.normalize_refunds(page.items)

    assert notice.status == ours


def jd_raw_call(sandbox, **overrides):
    from channels.sandbox.state import DEFAULT_APPS

    app = DEFAULT_APPS["jd"]
    params = {
        "method": "jingdong.pop.order.search",
        "app_key": app["app_key"],
        "access_token": app["access_token"],
        "timestamp": fmt(datetime.now(UTC)),
        "v": "2.0",
        "360buy_param_json": "{}",
    }
    params.update(overrides)
    params = {k: v for k, v in params.items() if v is not None}
    secret = params.pop("_secret", app["secret"])
    params["sign"] = expected_sign(params, secret)
    resp = requests.post(f"{sandbox.url}/routerjson", data=params, timeout=5)
    return str(resp.json()["error_response"]["code"])


def test_the_jd_gateway_answers_with_the_jos_error_numbers(sandbox):
    now = datetime.now(UTC)
    assert jd_raw_call(sandbox, app_key=None) == "20"
    assert jd_raw_call(sandbox, app_key="nobody") == "21"
    assert jd_raw_call(sandbox, timestamp="yesterday") == "8"
    assert jd_raw_call(sandbox, timestamp=fmt(now - timedelta(minutes=7))) == "8"
    assert jd_raw_call(sandbox, _secret="wrong") == "12"
    assert jd_raw_call(sandbox, access_token=None) == "18"
    assert jd_raw_call(sandbox, access_token="stale") == "19"
    assert jd_raw_call(sandbox, method="jingdong.no.such") == "15"


def test_a_jd_clock_five_minutes_off_is_accepted(sandbox, jd_shop):
    code = jd_raw_call(sandbox, timestamp=fmt(datetime.now(UTC) - timedelta(minutes=5)))
    # accepted by the gateway: the business call itself complains (no dates given)
    assert code == "66"


def test_jd_gateway_errors_become_the_right_kind_of_error(sandbox, jd_shop):
    now = datetime.now(UTC)
    jd_shop.credentials["access_token"] = "stale"
    with pytest.raises(AuthError) as err:
        JdConnector(jd_shop).order_page(now - timedelta(hours=1), now, 1)
    assert err.value.code == "19"

    jd_shop.credentials["access_token"] = "jd-token"
    sandbox.fault("rate_limit", platform="jd")
    with pytest.raises(RateLimited) as err:
        JdConnector(jd_shop).order_page(now - timedelta(hours=1), now, 1)
    assert err.value.code == "2"


# --- TOP -----------------------------------------------------------------------------------


def test_the_top_increment_call_names_the_trade_types_or_fixed_price_trades_go_missing(
    sandbox, top_shop
):
    made = sandbox.generate(count=3)  # the sandbox's trades are fixed-price (一口价)
    connector = TopConnector(top_shop)
    now = datetime.now(UTC)
    without_type = connector.call(
        "taobao.trades.sold.increment.get",
        fields="tid",
        start_modified=fmt(now - timedelta(hours=3)),
        end_modified=fmt(now),
    )

    page = connector.order_page(now - timedelta(hours=3), now, 1)

    assert without_type["total_results"] == 0
    assert sorted(str(t["tid"]) for t in page.items) == sorted(made)


def test_a_paid_top_trade_whose_shipping_is_forbidden_is_held_and_never_shipped(sandbox, top_shop):
    (tid,) = sandbox.generate(count=1)
    sandbox.control("pause", platform="top", tid=tid)

    sync.pull_orders(shop=top_shop, now=soon())

    order = Order.objects.get(shop=top_shop, platform_order_no=tid)
    assert order.status == Order.Status.PENDING_REVIEW
    assert HoldReason.SHIP_FORBIDDEN in active_holds(order)
    assert HoldReason.REFUND_REQUESTED not in active_holds(order)
    assert order.platform_status == "PAID_FORBID_CONSIGN"
    with pytest.raises(PermanentError) as err:
        TopConnector(top_shop).send_shipment(notice(tid, "YT0009", "YTO"))
    assert "FORBID" in err.value.sub_code
    assert sandbox.state()["shipments"] == []


def test_b04_on_a_retry_of_a_shipment_the_platform_has_is_success(sandbox, top_shop):
    (tid,) = sandbox.generate(count=1)
    connector = TopConnector(top_shop)
    connector.send_shipment(notice(tid))

    connector.send_shipment(notice(tid))  # the platform answers B04: shipped (not closed)

    assert len(sandbox.state()["shipments"]) == 1


def test_b04_on_a_closed_trade_is_a_refusal(sandbox, top_shop):
    (tid,) = sandbox.generate(count=1)
    sandbox.control("close", platform="top", tid=tid)

    with pytest.raises(PermanentError) as err:
        TopConnector(top_shop).send_shipment(notice(tid, "YT0002", "YTO"))
    assert err.value.sub_code.endswith(":B04")


def test_b150_is_retried_by_the_outbox_not_parked(sandbox, top_shop):
    (tid,) = sandbox.generate(count=1)
    sandbox.fault("b150", method="taobao.logistics.offline.send", platform="top")
    message = shipment(top_shop, tid)

    outbox.drain()

    message.refresh_from_db()
    assert message.status != OutboxMessage.Status.PARKED
    assert sandbox.state()["shipments"] == []
    with pytest.raises(TransientError):
        sandbox.fault("b150", method="taobao.logistics.offline.send", platform="top")
        TopConnector(top_shop).send_shipment(ShipmentNotice.from_payload(message.payload))


def test_top_stock_goes_out_at_most_twenty_skus_a_call(sandbox, top_shop):
    catalogue = {f"TEA-{i:03d}": ["茶", "10.00"] for i in range(1, 46)}  # one item, 45 SKUs
    sandbox.control("catalogue", **catalogue)

    results = TopConnector(top_shop).push_stock({sku: 3 for sku in catalogue})

    assert set(results.values()) == {None}
    calls = [c for c in sandbox.state()["stock_calls"] if c["platform"] == "top"]
    assert [len(c["quantities"]) for c in calls] == [20, 20, 5]
    assert sandbox.state()["stock"]["top"] == {sku: 3 for sku in catalogue}


@pytest.mark.parametrize(
    "state",
    [
        "WAIT_BUYER_CONFIRM_EXCHANGE_SELLER_SEND_GOODS",
        "EXCHANGE_TRANSFORM_TO_REFUND",
        "WAIT_SELLER_CONSIGN_GOODS",
    ],
)
def test_the_three_exchange_refund_states_keep_the_refund_open(state):
    trade = {
        "tid": "1",
        "status": "WAIT_SELLER_SEND_GOODS",
        "pay_time": "2026-11-30 10:00:00",
        "orders": {
            "order": [
                {"oid": "11", "num_iid": "9", "outer_sku_id": "A", "num": 1, "price": "1.00"}
                | {"refund_status": state}
            ]
        },
    }
    order = TopConnector.normalize_trade(trade)
    assert order.platform_change == "refund_requested"


def top_raw_call(sandbox, **overrides):
    from channels.sandbox.state import DEFAULT_APPS
    from channels.sandbox.top import expected_sign as top_sign

    app = DEFAULT_APPS["top"]
    params = {
        "method": "taobao.trades.sold.increment.get",
        "app_key": app["app_key"],
        "session": app["session"],
        "timestamp": fmt(datetime.now(UTC)),
        "format": "json",
        "v": "2.0",
        "sign_method": "md5",
    }
    params.update(overrides)
    params = {k: v for k, v in params.items() if v is not None}
    params["sign"] = top_sign(params, app["secret"], "md5")
    return requests.post(f"{sandbox.url}/router/rest", data=params, timeout=5).json()


def test_the_top_sandbox_numbers_timestamp_errors_30_missing_and_31_invalid(sandbox):
    stale = fmt(datetime.now(UTC) - timedelta(minutes=11))
    assert top_raw_call(sandbox, timestamp=None)["error_response"]["code"] == 30
    assert top_raw_call(sandbox, timestamp="now")["error_response"]["code"] == 31
    assert top_raw_call(sandbox, timestamp=stale)["error_response"]["code"] == 31


# --- Weimob --------------------------------------------------------------------------------


def test_weimob_after_sales_are_read_from_search_rights_order_list(sandbox, weimob_shop):
    (tid,) = sandbox.generate(platform="weimob", count=1)
    sandbox.control("refund", platform="weimob", tid=tid)
    connector = WeimobConnector(weimob_shop)
    now = datetime.now(UTC)

    page = connector.refund_page(now - timedelta(hours=3), now + timedelta(minutes=1), 1)

    assert [n.platform_order_no for n in connector.normalize_refunds(page.items)] == [tid]
    assert sandbox.state()["calls"]["weimob:rights/searchRightsOrderList"] == 1
    assert isinstance(connector.normalize_refunds(page.items)[0].amount, Decimal)
