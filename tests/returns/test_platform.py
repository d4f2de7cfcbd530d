from decimal import Decimal as D

import pytest

from orders.models import Order
from returns.models import ReturnOrder
from returns.services import ReturnError, approve_return, upsert_platform_return

pytestmark = pytest.mark.django_db


def pull(order, *, refund_id="RF1", quantity="1", amount="10", tracking="", status="WAIT", **kw):
    return upsert_platform_return(
        shop=kw.pop("shop", order.shop),
        order=order,
        platform_refund_id=refund_id,
        kind=kw.pop("kind", ReturnOrder.Kind.RETURN_GOODS),
        lines=kw.pop("lines", [(order.line_a, D(quantity), D(amount))]),
        reason=kw.pop("reason", "七天无理由"),
        refund_amount=D(amount),
        return_tracking_no=tracking,
        platform_status=status,
    )


def test_a_platform_refund_becomes_a_return_order_once(simple_order):
    ro, created = pull(simple_order)
    again, created_again = pull(simple_order)

    assert created and not created_again and again.pk == ro.pk
    assert ReturnOrder.objects.count() == 1
    ro.refresh_from_db()
    assert (ro.source, ro.platform_refund_id, ro.created_by) == ("platform", "RF1", None)
    assert ro.events.get().actor_label == "platform"


def test_a_pull_that_changes_nothing_records_nothing(simple_order):
    ro, _ = pull(simple_order)
    pull(simple_order)
    assert ro.events.count() == 1


def test_a_later_pull_updates_a_submitted_return(simple_order):
    ro, _ = pull(simple_order)
    pull(simple_order, quantity="2", amount="20", tracking="YT123", status="WAIT_SELLER")

    ro.refresh_from_db()
    assert ro.lines.get().quantity == D("2") and ro.refund_amount == D("20")
    assert (ro.return_tracking_no, ro.platform_status) == ("YT123", "WAIT_SELLER")
    event = ro.events.get(kind="updated")
    assert event.before["refund_amount"] == "10.00" and event.after["refund_amount"] == "20.00"


def test_after_review_a_pull_only_updates_tracking_and_platform_status(simple_order, reviewer):
    ro, _ = pull(simple_order)
    approve_return(return_order=ro, actor=reviewer)

    pull(simple_order, quantity="3", amount="30", tracking="SF999", status="BUYER_SENT")

    ro.refresh_from_db()
    assert ro.lines.get().quantity == D("1") and ro.refund_amount == D("10")
    assert (ro.return_tracking_no, ro.platform_status) == ("SF999", "BUYER_SENT")
    assert ro.status == ReturnOrder.Status.APPROVED


def test_an_empty_tracking_number_in_a_later_pull_keeps_the_known_one(simple_order):
    ro, _ = pull(simple_order, tracking="SF1")
    pull(simple_order, tracking="")
    ro.refresh_from_db()
    assert ro.return_tracking_no == "SF1"


def test_a_platform_refund_on_an_unshipped_order_is_refused(make_shipped_order, product):
    order = make_shipped_order(
        [("SKU-A", "1", "10", [(product("X1"), "1")])], status=Order.Status.REVIEWED
    )
    order.line_a = order.lines.get()
    with pytest.raises(ReturnError, match="has not been shipped"):
        pull(order)
    assert not ReturnOrder.objects.exists()


def test_a_platform_refund_over_the_shipped_quantity_is_refused(simple_order):
    with pytest.raises(ReturnError, match="only 3 can still be returned"):
        pull(simple_order, quantity="5")
    assert not ReturnOrder.objects.exists()


def test_a_later_pull_over_the_shipped_quantity_changes_nothing(simple_order):
    ro, _ = pull(simple_order, refund_id="RF1", quantity="2")
    pull(simple_order, refund_id="RF2", quantity="1")
    with pytest.raises(ReturnError, match="only 2 can still be returned"):
        pull(simple_order, refund_id="RF1", quantity="3", tracking="SFX")
    ro.refresh_from_db()
    assert ro.lines.get().quantity == D("2") and ro.return_tracking_no == ""


def test_the_order_must_belong_to_the_shop(simple_order, other_shop):
    with pytest.raises(ReturnError, match="not an order of shop"):
        pull(simple_order, shop=other_shop)


def test_a_refund_id_is_needed(simple_order):
    with pytest.raises(ReturnError, match="refund id"):
        pull(simple_order, refund_id=" ")


def test_the_same_refund_id_in_two_shops_is_two_returns(
    simple_order, make_shipped_order, other_shop, product
):
    other = make_shipped_order([("SKU-A", "1", "10", [(product("Y1"), "1")])], shop=other_shop)
    other.line_a = other.lines.get()
    pull(simple_order, refund_id="RF7")
    pull(other, refund_id="RF7")
    assert ReturnOrder.objects.filter(platform_refund_id="RF7").count() == 2


def test_a_connector_may_name_the_line_by_the_platforms_line_id(simple_order):
    simple_order.line_bundle.platform_line_id = "OID-2"
    simple_order.line_bundle.save()
    ro, created = pull(simple_order, lines=[("OID-2", D("1"), D("50"))], amount="50")
    assert created and ro.lines.get().order_line == simple_order.line_bundle
    with pytest.raises(ReturnError, match="does not belong to order"):
        pull(simple_order, refund_id="RF9", lines=[("OID-404", D("1"), D("1"))])


def test_a_refund_id_already_used_for_another_order_is_refused(
    simple_order, make_shipped_order, product
):
    other = make_shipped_order([("SKU-A", "1", "10", [(product("W1"), "1")])])
    other.line_a = other.lines.get()
    ro, _ = pull(simple_order, refund_id="RF-SAME")
    with pytest.raises(ReturnError, match="belongs to order"):
        pull(other, refund_id="RF-SAME")
    assert ReturnOrder.objects.get().order == simple_order
