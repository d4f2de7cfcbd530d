"""The TOP connector against the sandbox over HTTP: signatures, orders, paging, states."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from channels.connectors.base import AuthError, PermanentError, RateLimited, TransientError
from channels.connectors.top import TopConnector, sign
from platformsync.sync import IncompleteWindow, read_window, windows

pytestmark = pytest.mark.django_db


def read_all(connector, start, end):
    got = []
    for w_start, w_end in windows(start, end, connector.window):
        read_window(
            fetch_page=connector.order_page,
            key=connector.order_key,
            page_size=connector.page_size,
            start=w_start,
            end=w_end,
            handle=got.extend,
        )
    return [connector.order_key(i) for i in got]


def test_the_md5_signature_matches_the_published_algorithm():
    # secret + sorted key+value pairs (empty values left out) + secret, md5, uppercase hex
    params = {"method": "taobao.time.get", "app_key": "k", "v": "2.0", "sign": "x", "empty": ""}
    import hashlib

    expected = hashlib.md5(b"sapp_keykmethodtaobao.time.getv2.0s").hexdigest().upper()
    assert sign(params, "s", "md5") == expected


@pytest.mark.parametrize("method", ["md5", "hmac", "hmac-sha256"])
def test_every_sign_method_is_accepted_by_the_sandbox(sandbox, top_shop, method):
    sandbox.generate(count=3)
    top_shop.credentials["sign_method"] = method
    now = datetime.now(UTC)
    page = TopConnector(top_shop).order_page(now - timedelta(hours=3), now, 1)
    assert page.total == 3


def test_a_wrong_signature_is_refused_by_the_sandbox(sandbox, top_shop):
    top_shop.credentials["secret"] = "not-the-secret"
    now = datetime.now(UTC)
    with pytest.raises(AuthError) as err:
        TopConnector(top_shop).order_page(now - timedelta(hours=1), now, 1)
    assert err.value.code == "25" and "Invalid Signature" in str(err.value)


def test_a_wrong_session_is_refused(sandbox, top_shop):
    top_shop.credentials["session"] = "someone-else"
    now = datetime.now(UTC)
    with pytest.raises(AuthError) as err:
        TopConnector(top_shop).order_page(now - timedelta(hours=1), now, 1)
    assert err.value.code == "27"


def test_a_trade_becomes_a_normalized_order_in_decimal_and_utc(sandbox, top_shop):
    (tid,) = sandbox.generate(count=1)
    raw = sandbox.order("top", tid)
    (order,) = TopConnector(top_shop).fetch_orders([tid])

    assert order.platform_order_no == tid
    # encrypted buyer details: a masked name, the province in clear, the receiver's id
    assert order.receiver_name == raw["receiver_name"][0] + "*" * (len(raw["receiver_name"]) - 1)
    assert order.province == raw["receiver_state"] and order.receiver_oaid
    assert [ln.platform_sku for ln in order.lines] == [ln["outer_sku_id"] for ln in raw["lines"]]
    assert all(
        isinstance(ln.quantity, Decimal) and isinstance(ln.unit_price, Decimal)
        for ln in order.lines
    )
    first = raw["lines"][0]
    assert order.lines[0].unit_price == Decimal(first["price"])
    assert order.lines[0].amount == Decimal(first["price"]) * first["num"]
    assert order.platform_modified_at == datetime.fromisoformat(raw["modified"])
    assert order.platform_modified_at.tzinfo is not None
    assert order.platform_change == "" and order.platform_status == "WAIT_SELLER_SEND_GOODS"


def test_a_refund_request_and_a_closed_trade_are_told_apart(sandbox, top_shop):
    refunded, closed = sandbox.generate(count=2)
    sandbox.control("refund", platform="top", tid=refunded)
    sandbox.control("close", platform="top", tid=closed)

    orders = {
        o.platform_order_no: o for o in TopConnector(top_shop).fetch_orders([refunded, closed])
    }

    assert orders[refunded].platform_change == "refund_requested"
    assert orders[refunded].lines[0].refund_status == "WAIT_SELLER_AGREE"
    assert orders[closed].platform_change == "cancelled"


def test_paging_backwards_across_windows_reads_every_order_once(sandbox, top_shop):
    end = datetime.now(UTC) - timedelta(minutes=5)
    made = sandbox.generate(count=130, start=end - timedelta(hours=40), end=end)
    made += sandbox.generate(count=90, start=end - timedelta(hours=6), end=end)
    connector = TopConnector(top_shop)
    connector.page_size = 20

    read = read_all(connector, end - timedelta(hours=41), end + timedelta(minutes=1))

    assert sorted(read) == sorted(made)
    assert len(read) == len(set(read)) == 220
    calls = sandbox.state()["calls"]["top:taobao.trades.sold.increment.get"]
    assert calls >= 220 // 20  # one call per page at least, over two windows of one day


def test_a_window_longer_than_a_day_is_refused_by_the_sandbox(sandbox, top_shop):
    now = datetime.now(UTC)
    with pytest.raises(PermanentError) as err:
        TopConnector(top_shop).order_page(now - timedelta(days=2), now, 1)
    assert "start_modified" in err.value.sub_code


@pytest.mark.parametrize("kind", ["duplicate_page", "out_of_order"])
def test_a_duplicate_or_shuffled_page_is_noticed_and_the_window_read_again(sandbox, top_shop, kind):
    made = sandbox.generate(count=50)
    connector = TopConnector(top_shop)
    connector.page_size = 10
    sandbox.fault(kind, method="taobao.trades.sold.increment.get", times=2)
    now = datetime.now(UTC)

    read = read_all(connector, now - timedelta(hours=2), now)

    assert sorted(read) == sorted(made)
    assert sandbox.state()["faults"] == 0  # the faults were served, and recovered from


def test_a_window_whose_pages_never_add_up_is_not_taken_as_read(sandbox, top_shop):
    sandbox.generate(count=30)
    connector = TopConnector(top_shop)
    connector.page_size = 10
    sandbox.fault("duplicate_page", method="taobao.trades.sold.increment.get", times=50)
    now = datetime.now(UTC)
    with pytest.raises(IncompleteWindow):
        read_all(connector, now - timedelta(hours=2), now)


@pytest.mark.parametrize(
    "kind,error",
    [
        ("http_500", TransientError),
        ("rate_limit", RateLimited),
        ("malformed", TransientError),
        ("timeout", TransientError),
    ],
)
def test_each_misbehaviour_is_a_transient_error(sandbox, top_shop, kind, error):
    sandbox.generate(count=2)
    sandbox.fault(kind, delay=1.5)
    now = datetime.now(UTC)
    with pytest.raises(error):
        TopConnector(top_shop).order_page(now - timedelta(hours=2), now, 1)
    # and the next call works again
    assert TopConnector(top_shop).order_page(now - timedelta(hours=2), now, 1).total == 2


def test_transient_errors_during_a_window_are_retried_and_nothing_is_lost(sandbox, top_shop):
    made = sandbox.generate(count=25)
    connector = TopConnector(top_shop)
    connector.page_size = 10
    sandbox.fault("http_500", method="taobao.trades.sold.increment.get")
    sandbox.fault("rate_limit", method="taobao.trades.sold.increment.get")
    now = datetime.now(UTC)
    assert sorted(read_all(connector, now - timedelta(hours=2), now)) == sorted(made)
