"""Encrypted buyer details (密文订单): masked receivers with the receiver's id, and the rationed
decryption calls, through the connectors against the sandbox."""

from datetime import UTC, datetime, timedelta

import pytest

from channels.connectors.base import PermanentError
from channels.connectors.jd import JdConnector
from channels.connectors.top import TopConnector
from orders.models import HoldReason, Order, OrderHold
from platformsync import sync

pytestmark = pytest.mark.django_db


def test_a_top_trade_comes_masked_with_its_oaid(sandbox, top_shop):
    (tid,) = sandbox.generate(count=1)
    raw = sandbox.order("top", tid)

    (order,) = TopConnector(top_shop).fetch_orders([tid])

    assert order.receiver_name != raw["receiver_name"] and "*" in order.receiver_name
    assert order.receiver_phone == raw["receiver_mobile"][:3] + "****" + raw["receiver_mobile"][-4:]
    assert "*" in order.address and raw["receiver_address"] not in order.address
    assert order.receiver_oaid


def test_top_returns_the_oaid_only_when_the_receiver_fields_and_created_are_asked_for(
    sandbox, top_shop
):
    (tid,) = sandbox.generate(count=1)
    connector = TopConnector(top_shop)

    without_created = connector.call(
        "taobao.trade.fullinfo.get",
        tid=tid,
        fields="tid,receiver_name,receiver_address,receiver_mobile,receiver_phone",
    )["trade"]
    with_created = connector.call(
        "taobao.trade.fullinfo.get",
        tid=tid,
        fields="tid,created,receiver_name,receiver_address,receiver_mobile,receiver_phone",
    )["trade"]
    asked_outright = connector.call(
        "taobao.trade.fullinfo.get", tid=tid, fields="tid", include_oaid="true"
    )["trade"]

    assert "oaid" not in without_created
    assert with_created["oaid"] == asked_outright["oaid"]


def test_two_orders_to_the_same_receiver_share_the_oaid_and_others_do_not(sandbox, top_shop):
    first, second, other = sandbox.generate(count=3)
    same = sandbox.order("top", first)
    sandbox.control(
        "receiver",
        platform="top",
        tid=second,
        **{k: v for k, v in same.items() if k.startswith("receiver_")},
    )

    orders = {
        o.platform_order_no: o for o in TopConnector(top_shop).fetch_orders([first, second, other])
    }

    assert orders[first].receiver_oaid == orders[second].receiver_oaid
    assert orders[other].receiver_oaid != orders[first].receiver_oaid


def test_top_decryption_goes_twenty_at_a_time_and_says_matched(sandbox, top_shop):
    made = sandbox.generate(count=25)
    connector = TopConnector(top_shop)
    orders = connector.fetch_orders(made)
    queries = [(o.platform_order_no, o.receiver_oaid) for o in orders]
    queries[0] = (queries[0][0], "STALE-OAID")

    clear = {c.platform_order_no: c for c in connector.decrypt_receivers(queries, scene="1004")}

    assert sandbox.state()["calls"]["top:taobao.top.oaid.decrypt"] == 2
    assert sandbox.state()["decrypts"] == {"top": 25}
    assert clear[made[0]].matched is False and clear[made[0]].name == ""
    raw = sandbox.order("top", made[1])
    assert clear[made[1]].matched and clear[made[1]].name == raw["receiver_name"]
    assert clear[made[1]].address == raw["receiver_address"]
    virtual = [c for c in clear.values() if c.privacy_number]
    assert virtual and all(c.phone.startswith("170") for c in virtual)


def test_top_decryption_past_the_ration_is_refused(sandbox, top_shop):
    (tid,) = sandbox.generate(count=1)
    (order,) = TopConnector(top_shop).fetch_orders([tid])
    sandbox.control("privacy", decrypt_quota=0)

    with pytest.raises(PermanentError) as err:
        TopConnector(top_shop).decrypt_receivers([(tid, order.receiver_oaid)])
    assert "quota" in err.value.sub_code


def test_jd_orders_come_masked_with_their_oaid_and_decrypt_through_jos(sandbox, jd_shop):
    (tid,) = sandbox.generate(platform="jd", count=1)
    raw = sandbox.order("jd", tid)
    connector = JdConnector(jd_shop)
    now = datetime.now(UTC)
    page = connector.order_page(now - timedelta(hours=3), now + timedelta(minutes=1), 1)
    (order,) = connector.normalize_orders(page.items)

    (clear,) = connector.decrypt_receivers([(tid, order.receiver_oaid)])

    assert "*" in order.receiver_name and order.receiver_oaid
    assert clear.matched and clear.name == raw["receiver_name"]
    assert clear.phone == raw["receiver_mobile"]


def test_an_encrypted_order_is_not_held_for_an_incomplete_address(sandbox, top_shop):
    (tid,) = sandbox.generate(count=1)

    sync.pull_orders(shop=top_shop)

    order = Order.objects.get(shop=top_shop, platform_order_no=tid)
    assert order.receiver_oaid and "*" in order.address
    assert not OrderHold.objects.filter(
        order=order, reason=HoldReason.ADDRESS_INCOMPLETE, released_at__isnull=True
    ).exists()
