"""End to end: platform trades pulled from the sandbox, moved through the warehouse, handed to
the ERP as retail records: line amounts net of order discounts, exact to the cent."""

from datetime import timedelta
from decimal import Decimal as D

import pytest

from erpbridge import services as erp
from orders.models import Order
from tests.factory import Flow

pytestmark = pytest.mark.django_db


@pytest.fixture
def flow(top_shop):
    made = Flow(shop=top_shop)
    tea, cup, box = made.products(
        ("TEA", "龙井", "", "80.00"), ("CUP", "茶杯", "", "10.00"), ("BOX", "礼盒", "", "30.00")
    )
    made.sku("TEA-001", tea)
    made.sku("CUP-001", cup)
    made.sku("GIFT-01", (tea, "1"), (cup, "2"), box)
    for product in (tea, cup, box):
        made.stock(product, 50)
    return made


def records(kind="sales"):
    batch, _created = erp.next_retail_batch(unit_code="TB01", kind=kind)
    return batch.records


def pulled(flow, sandbox, shop, lines, **kw):
    tid = sandbox.put_order(lines, **kw)
    flow.pull(shop)
    return Order.objects.get(shop=shop, platform_order_no=tid, split_from__isnull=True)


def test_a_discounted_trade_is_recorded_net_and_exact(flow, sandbox, top_shop):
    order = pulled(
        flow,
        sandbox,
        top_shop,
        [("TEA-001", 2, "100.00"), ("CUP-001", 1, "50.00")],
        discount_fee="25.00",
        post_fee="8.00",
    )
    assert order.total_amount == D("233.00")
    flow.shipped(order)

    (record,) = records()
    assert record["total"] == "225.00"
    assert record["postage"] == "8.00"
    amounts = [D(ln["amount"]) for ln in record["lines"]]
    assert amounts == [D("180.00"), D("45.00")]
    assert sum(amounts) == D(record["total"])
    assert {ln["platform_order_no"] for ln in record["lines"]} == {order.platform_order_no}
    assert record["platform_order_nos"] == [order.platform_order_no]


def test_a_bundle_is_split_into_components_that_add_up_to_its_net_amount(flow, sandbox, top_shop):
    order = pulled(
        flow,
        sandbox,
        top_shop,
        [("GIFT-01", 1, "128.00"), ("CUP-001", 3, "10.00")],
        discount_fee="10.01",
    )
    flow.shipped(order)
    (record,) = records()
    assert record["total"] == "147.99"
    assert sum(D(ln["amount"]) for ln in record["lines"]) == D("147.99")
    bundle = [ln for ln in record["lines"][:3]]
    assert [ln["product_code"] for ln in bundle] == ["TEA", "CUP", "BOX"]
    # 10.01 over 128 : 30 → 8.11 to the bundle, whose net 119.89 is shared 80 : 20 : 30.
    assert sum(D(ln["amount"]) for ln in bundle) == D("119.89")


def test_the_parts_of_a_split_trade_add_up_to_what_was_paid(flow, sandbox, top_shop):
    order = pulled(
        flow,
        sandbox,
        top_shop,
        [("TEA-001", 2, "100.00"), ("CUP-001", 1, "50.00")],
        discount_fee="25.00",
    )
    part = flow.split(order, {"TEA-001": 1})
    flow.shipped(order)
    flow.shipped(part)
    first, second = records()
    assert [first["total"], second["total"]] == ["135.00", "90.00"]


def test_a_merged_parcel_lists_every_platform_order(flow, sandbox, top_shop):
    first = pulled(flow, sandbox, top_shop, [("TEA-001", 1, "100.00")], discount_fee="5.00")
    same_buyer = {
        k: getattr(first, k)
        for k in ("buyer_nick", "receiver_name", "receiver_phone", "receiver_oaid", "province")
    }
    same_buyer.update(city=first.city, district=first.district, address=first.address)
    same_buyer["paid_at"] = first.paid_at + timedelta(minutes=1)
    second = flow.order([("CUP-001", 2, "50.00")], shop=top_shop, **same_buyer)
    survivor = flow.merge(first, second)
    flow.shipped(survivor)

    (record,) = records()
    assert record["platform_order_nos"] == [first.platform_order_no, second.platform_order_no]
    by_line = [(ln["product_code"], ln["platform_order_no"]) for ln in record["lines"]]
    assert by_line == [("TEA", first.platform_order_no), ("CUP", second.platform_order_no)]
    assert record["total"] == "195.00"


def test_a_returned_part_refunds_exactly_what_its_lines_were_paid(flow, sandbox, top_shop):
    order = pulled(
        flow,
        sandbox,
        top_shop,
        [("TEA-001", 2, "100.00"), ("CUP-001", 1, "50.00")],
        discount_fee="25.00",
    )
    flow.shipped(order)
    first = flow.returned(order, {"TEA-001": 1})
    second = flow.returned(order, {"TEA-001": 1, "CUP-001": 1})
    assert (first.refund_amount, second.refund_amount) == (D("90.00"), D("135.00"))
    one, two = records("returns")
    assert [ln["amount"] for ln in one["lines"]] == ["90.00"]
    assert [ln["amount"] for ln in two["lines"]] == ["90.00", "45.00"]
    assert (one["refund_total"], two["refund_total"]) == ("90.00", "135.00")
