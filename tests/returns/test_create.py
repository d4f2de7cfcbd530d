import re
from decimal import Decimal as D

import pytest

from orders.models import Order, OrderEvent
from returns.models import ReturnEvent, ReturnOrder
from returns.services import ReturnError, create_return

pytestmark = pytest.mark.django_db

GOODS = ReturnOrder.Kind.RETURN_GOODS
REFUND = ReturnOrder.Kind.REFUND_ONLY


def new_return(order, lines, actor, kind=GOODS, refund="10.00", reason="尺码不合适", **kw):
    return create_return(
        order=order,
        lines=lines,
        kind=kind,
        reason=reason,
        refund_amount=D(refund),
        return_tracking_no=kw.pop("tracking", "SF100"),
        actor=actor,
        **kw,
    )


def test_after_sales_creates_a_submitted_return_with_our_own_number(simple_order, after_sales):
    ro = new_return(simple_order, [(simple_order.line_a, D("2"), D("20.00"))], after_sales)

    ro.refresh_from_db()
    assert ro.status == ReturnOrder.Status.SUBMITTED
    assert ro.source == ReturnOrder.Source.MANUAL
    assert re.fullmatch(r"RT\d{8}\d{6}", ro.return_no)
    assert ro.shop == simple_order.shop and ro.created_by == after_sales
    assert [(line.order_line, line.quantity) for line in ro.lines.all()] == [
        (simple_order.line_a, D("2"))
    ]
    event = ro.events.get()
    assert (event.kind, event.actor, event.after["status"]) == ("created", after_sales, "submitted")
    assert OrderEvent.objects.filter(order=simple_order, kind="return_created").exists()


def test_two_returns_get_different_numbers(simple_order, after_sales):
    first = new_return(simple_order, [(simple_order.line_a, D("1"), D("10"))], after_sales)
    second = new_return(simple_order, [(simple_order.line_a, D("1"), D("10"))], after_sales)
    assert first.return_no != second.return_no


def test_an_unshipped_order_cannot_get_a_return(make_shipped_order, product, after_sales):
    order = make_shipped_order(
        [("SKU-A", "1", "10", [(product("X1"), "1")])], status=Order.Status.VERIFIED
    )
    with pytest.raises(ReturnError, match="has not been shipped"):
        new_return(order, [(order.lines.get(), D("1"), D("10"))], after_sales)
    assert not ReturnOrder.objects.exists()


def test_more_than_shipped_is_refused(simple_order, after_sales):
    with pytest.raises(ReturnError, match="only 3 can still be returned"):
        new_return(simple_order, [(simple_order.line_a, D("4"), D("40"))], after_sales)
    assert not ReturnOrder.objects.exists()


def test_earlier_returns_count_against_what_can_still_be_returned(simple_order, after_sales):
    new_return(simple_order, [(simple_order.line_a, D("2"), D("20"))], after_sales)
    with pytest.raises(ReturnError, match="only 1 can still be returned"):
        new_return(simple_order, [(simple_order.line_a, D("2"), D("20"))], after_sales)
    assert ReturnOrder.objects.count() == 1


def test_a_rejected_return_frees_its_quantities(simple_order, after_sales, reviewer):
    from returns.services import reject_return

    first = new_return(simple_order, [(simple_order.line_a, D("3"), D("30"))], after_sales)
    reject_return(return_order=first, actor=reviewer, reason="买家未寄回")

    again = new_return(simple_order, [(simple_order.line_a, D("3"), D("30"))], after_sales)
    assert again.lines.get().quantity == D("3")


def test_a_line_of_another_order_is_refused(simple_order, make_shipped_order, product, after_sales):
    other = make_shipped_order([("SKU-Z", "1", "5", [(product("Z1"), "1")])])
    with pytest.raises(ReturnError, match="does not belong to order"):
        new_return(simple_order, [(other.lines.get(), D("1"), D("5"))], after_sales)
    assert not ReturnOrder.objects.exists()


@pytest.mark.parametrize(
    "quantity, message",
    [
        (0.5, "not a float"),
        (D("0"), "more than 0"),
        (D("-1"), "more than 0"),
        ("abc", "not a number"),
    ],
)
def test_bad_quantities_are_refused(simple_order, after_sales, quantity, message):
    with pytest.raises(ReturnError, match=message):
        new_return(simple_order, [(simple_order.line_a, quantity, D("1"))], after_sales)
    assert not ReturnOrder.objects.exists()


def test_the_same_line_twice_is_refused(simple_order, after_sales):
    with pytest.raises(ReturnError, match="listed twice"):
        new_return(
            simple_order,
            [(simple_order.line_a, D("1"), D("1")), (simple_order.line_a, D("1"), D("1"))],
            after_sales,
        )


def test_a_refund_above_what_the_order_paid_is_refused(simple_order, after_sales):
    # The order's total is 3 × 10 + 2 × 50 = 130.
    new_return(simple_order, [(simple_order.line_a, D("1"), D("10"))], after_sales, refund="100")
    with pytest.raises(ReturnError, match="more than what is left"):
        new_return(simple_order, [(simple_order.line_a, D("1"), D("10"))], after_sales, refund="31")
    assert ReturnOrder.objects.count() == 1


def test_a_negative_refund_is_refused(simple_order, after_sales):
    with pytest.raises(ReturnError, match="cannot be negative"):
        new_return(simple_order, [(simple_order.line_a, D("1"), D("1"))], after_sales, refund="-1")


def test_a_return_needs_a_reason(simple_order, after_sales):
    with pytest.raises(ReturnError, match="reason"):
        new_return(simple_order, [(simple_order.line_a, D("1"), D("1"))], after_sales, reason=" ")


def test_a_return_with_goods_needs_lines_but_a_refund_without_goods_does_not(
    simple_order, after_sales
):
    with pytest.raises(ReturnError, match="at least one line"):
        new_return(simple_order, [], after_sales)
    ro = new_return(simple_order, [], after_sales, kind=REFUND, refund="5.00")
    assert ro.kind == REFUND and not ro.lines.exists()


def test_an_unknown_kind_is_refused(simple_order, after_sales):
    with pytest.raises(ReturnError, match="Unknown return kind"):
        new_return(simple_order, [(simple_order.line_a, D("1"), D("1"))], after_sales, kind="swap")


def test_creation_is_recorded_with_actor_and_time(simple_order, after_sales):
    ro = new_return(simple_order, [(simple_order.line_a, D("1"), D("10"))], after_sales)
    event = ReturnEvent.objects.get(return_order=ro)
    assert event.actor_label == "shouhou" and event.created_at is not None
