"""End to end: a TOP trade pulled from the sandbox, split, shipped part by part; the notices
that shipping really queues go out through the outbox, and the platform sees what shipped."""

import pytest

from orders.models import Order
from platformsync import outbox

pytestmark = pytest.mark.django_db


def test_shipping_the_first_part_of_a_split_trade_ships_only_its_sub_order(
    top_flow, sandbox, top_shop
):
    flow = top_flow
    tid = sandbox.put_order([("TEA-001", 1), ("CUP-001", 2)])
    tea_oid, cup_oid = (ln["oid"] for ln in sandbox.order("top", tid)["lines"])
    flow.pull(top_shop)
    order = Order.objects.get(shop=top_shop, platform_order_no=tid)
    part = flow.split(order, {"CUP-001": 2})

    flow.shipped(order)
    assert outbox.drain_shipments().sent == 1

    (shipment,) = sandbox.state()["shipments"]
    assert shipment["oids"] == [tea_oid]
    trade = sandbox.order("top", tid)
    assert trade["status"] == "SELLER_CONSIGNED_PART"
    assert [ln["shipped"] for ln in trade["lines"]] == [True, False]

    flow.shipped(part)
    assert outbox.drain_shipments().sent == 1
    assert [s["oids"] for s in sandbox.state()["shipments"]] == [[tea_oid], [cup_oid]]
    assert sandbox.order("top", tid)["status"] == "WAIT_BUYER_CONFIRM_GOODS"
