from decimal import Decimal as D

import pytest

from channels.models import SellableQuantity, SkuMapping
from inventory.models import StockLevel, StockMove
from inventory.selectors import ledger_mismatches
from orders.models import OrderEvent
from returns.models import ReturnOrder, ReturnReceipt
from returns.services import (
    ReturnError,
    approve_return,
    close_return,
    create_return,
    receive_return,
)

pytestmark = pytest.mark.django_db

S = ReturnOrder.Status


def on_hand(warehouse, product):
    level = StockLevel.objects.filter(warehouse=warehouse, product=product).first()
    return level.on_hand if level else D("0")


@pytest.fixture
def approved(simple_order, after_sales, reviewer):
    """Approved: 2 × SKU-A (→ 2 A) and 1 × the bundle (→ 2 B + 1 C) come back."""
    ro = create_return(
        order=simple_order,
        lines=[(simple_order.line_a, D("2"), D("20")), (simple_order.line_bundle, D("1"), D("50"))],
        kind=ReturnOrder.Kind.RETURN_GOODS,
        reason="质量问题",
        refund_amount=D("70"),
        actor=after_sales,
    )
    approve_return(return_order=ro, actor=reviewer)
    ro.refresh_from_db()
    ro.line_a, ro.line_bundle = ro.lines.order_by("order_line_id")
    ro.products = simple_order.products
    return ro


def test_received_goods_go_to_the_main_or_the_defective_warehouse(
    approved, after_sales, warehouses
):
    main, defective = warehouses
    a, b, c = (approved.products[k] for k in "ABC")
    receive_return(
        return_order=approved,
        receipts=[
            (approved.line_a, a, D("1"), D("1")),  # one sellable again, one broken
            (approved.line_bundle, b, D("2"), D("0")),
            (approved.line_bundle, c, D("0"), D("1")),
        ],
        actor=after_sales,
    )

    approved.refresh_from_db()
    assert approved.status == S.RECEIVED and approved.received_at is not None
    assert (on_hand(main, a), on_hand(defective, a)) == (D("1"), D("1"))
    assert (on_hand(main, b), on_hand(defective, b)) == (D("2"), D("0"))
    assert (on_hand(main, c), on_hand(defective, c)) == (D("0"), D("1"))
    moves = StockMove.objects.filter(document=f"return:{approved.pk}")
    assert moves.count() == 4
    assert set(moves.values_list("reason", flat=True)) == {StockMove.Reason.RETURN_IN}
    assert set(moves.values_list("actor", flat=True)) == {after_sales.pk}
    assert ledger_mismatches() == []
    receipts = ReturnReceipt.objects.filter(line__return_order=approved)
    assert sorted((r.product.code, r.warehouse.kind, r.quantity) for r in receipts) == [
        ("A001", "defective", D("1")),
        ("A001", "main", D("1")),
        ("B001", "main", D("2")),
        ("C001", "defective", D("1")),
    ]
    event = approved.events.get(kind="received")
    assert event.actor == after_sales and len(event.after["receipts"]) == 4
    assert OrderEvent.objects.filter(order=approved.order, kind="return_received").exists()


def test_goods_back_in_the_main_warehouse_become_sellable_again(
    approved, after_sales, django_capture_on_commit_callbacks
):
    a = approved.products["A"]
    mapping = SkuMapping.objects.get(shop=approved.shop, platform_sku="SKU-A")
    with django_capture_on_commit_callbacks(execute=True):
        receive_return(
            return_order=approved,
            receipts=[(approved.line_a, a, D("2"), D("0"))],
            actor=after_sales,
        )
    sellable = SellableQuantity.objects.get(mapping=mapping)
    assert sellable.quantity == 2 and sellable.needs_push


def test_goods_in_the_defective_warehouse_are_not_sellable(
    approved, after_sales, django_capture_on_commit_callbacks
):
    a = approved.products["A"]
    mapping = SkuMapping.objects.get(shop=approved.shop, platform_sku="SKU-A")
    with django_capture_on_commit_callbacks(execute=True):
        receive_return(
            return_order=approved,
            receipts=[(approved.line_a, a, D("0"), D("2"))],
            actor=after_sales,
        )
    assert SellableQuantity.objects.get(mapping=mapping).quantity == 0


def test_receiving_more_than_the_line_allows_is_refused_and_changes_nothing(approved, after_sales):
    b = approved.products["B"]
    # 1 bundle of 2 × B: at most 2 B may come back.
    with pytest.raises(ReturnError, match=r"B001 of SKU-BUNDLE: 3 asked, at most 2 more"):
        receive_return(
            return_order=approved,
            receipts=[
                (approved.line_a, approved.products["A"], D("1"), D("0")),
                (approved.line_bundle, b, D("2"), D("1")),
            ],
            actor=after_sales,
        )
    approved.refresh_from_db()
    assert approved.status == S.APPROVED
    assert not StockMove.objects.filter(document=f"return:{approved.pk}").exists()
    assert not ReturnReceipt.objects.exists()
    assert approved.events.filter(kind="received").count() == 0


def test_the_same_product_twice_in_one_receipt_counts_together(approved, after_sales):
    a = approved.products["A"]
    with pytest.raises(ReturnError, match="at most 2 more"):
        receive_return(
            return_order=approved,
            receipts=[(approved.line_a, a, D("2"), D("0")), (approved.line_a, a, D("0"), D("1"))],
            actor=after_sales,
        )


def test_a_partial_receipt_keeps_the_return_open_for_the_rest(approved, after_sales, warehouses):
    main, _ = warehouses
    a, b, c = (approved.products[k] for k in "ABC")
    receive_return(
        return_order=approved,
        receipts=[(approved.line_a, a, D("1"), D("0"))],
        actor=after_sales,
        finish=False,
    )
    approved.refresh_from_db()
    assert approved.status == S.APPROVED and approved.received_at is None
    assert approved.events.filter(kind="part_received").count() == 1

    with pytest.raises(ReturnError, match="at most 1 more"):
        receive_return(
            return_order=approved,
            receipts=[(approved.line_a, a, D("2"), D("0"))],
            actor=after_sales,
            finish=False,
        )

    receive_return(
        return_order=approved,
        receipts=[
            (approved.line_a, a, D("1"), D("0")),
            (approved.line_bundle, b, D("2"), D("0")),
            (approved.line_bundle, c, D("1"), D("0")),
        ],
        actor=after_sales,
        finish=False,  # everything is in: it is received all the same
    )
    approved.refresh_from_db()
    assert approved.status == S.RECEIVED
    assert on_hand(main, a) == D("2")
    assert ledger_mismatches() == []


def test_a_finished_return_takes_no_more_goods(approved, after_sales):
    a = approved.products["A"]
    receive_return(
        return_order=approved, receipts=[(approved.line_a, a, D("1"), D("0"))], actor=after_sales
    )
    with pytest.raises(ReturnError, match="you cannot receive it"):
        receive_return(
            return_order=approved,
            receipts=[(approved.line_a, a, D("1"), D("0"))],
            actor=after_sales,
        )
    assert StockMove.objects.filter(document=f"return:{approved.pk}").count() == 1


def test_a_return_not_yet_approved_cannot_be_received(simple_order, after_sales):
    ro = create_return(
        order=simple_order,
        lines=[(simple_order.line_a, D("1"), D("10"))],
        kind=ReturnOrder.Kind.RETURN_GOODS,
        reason="质量问题",
        refund_amount=D("10"),
        actor=after_sales,
    )
    with pytest.raises(ReturnError, match="submitted: you cannot receive it"):
        receive_return(
            return_order=ro,
            receipts=[(ro.lines.get(), simple_order.products["A"], D("1"), D("0"))],
            actor=after_sales,
        )
    assert not StockMove.objects.filter(document=f"return:{ro.pk}").exists()


def test_a_product_that_is_not_part_of_the_line_is_refused(approved, after_sales):
    with pytest.raises(ReturnError, match="B001 is not part of SKU-A"):
        receive_return(
            return_order=approved,
            receipts=[(approved.line_a, approved.products["B"], D("1"), D("0"))],
            actor=after_sales,
        )


def test_a_line_of_another_return_is_refused(approved, simple_order, after_sales):
    other = create_return(
        order=simple_order,
        lines=[(simple_order.line_a, D("1"), D("10"))],
        kind=ReturnOrder.Kind.RETURN_GOODS,
        reason="质量问题",
        refund_amount=D("10"),
        actor=after_sales,
    )
    with pytest.raises(ReturnError, match="is not a line of return order"):
        receive_return(
            return_order=approved,
            receipts=[(other.lines.get(), approved.products["A"], D("1"), D("0"))],
            actor=after_sales,
        )


@pytest.mark.parametrize(
    "main, defective, message",
    [
        (D("-1"), D("2"), "cannot be negative"),
        (D("0"), D("0"), "Nothing to receive"),
        (1.0, D("0"), "not a float"),
    ],
)
def test_bad_receipt_quantities_are_refused(approved, after_sales, main, defective, message):
    with pytest.raises(ReturnError, match=message):
        receive_return(
            return_order=approved,
            receipts=[(approved.line_a, approved.products["A"], main, defective)],
            actor=after_sales,
        )
    assert not StockMove.objects.filter(document=f"return:{approved.pk}").exists()


def test_an_empty_receipt_is_refused(approved, after_sales):
    with pytest.raises(ReturnError, match="Nothing to receive"):
        receive_return(return_order=approved, receipts=[], actor=after_sales)


@pytest.mark.parametrize("who", ["reviewer", "auditor"])
def test_only_after_sales_staff_receive(approved, request, who):
    with pytest.raises(ReturnError, match="not allowed to receive"):
        receive_return(
            return_order=approved,
            receipts=[(approved.line_a, approved.products["A"], D("1"), D("0"))],
            actor=request.getfixturevalue(who),
        )


def test_a_received_return_is_closed(approved, after_sales):
    receive_return(
        return_order=approved,
        receipts=[(approved.line_a, approved.products["A"], D("2"), D("0"))],
        actor=after_sales,
    )
    received_at = ReturnOrder.objects.get(pk=approved.pk).received_at
    close_return(return_order=approved, actor=after_sales)

    approved.refresh_from_db()
    assert approved.status == S.CLOSED and approved.closed_at is not None
    assert approved.received_at == received_at
    assert approved.events.last().kind == "closed"


def test_closing_a_return_whose_goods_never_came_needs_a_note(approved, after_sales):
    with pytest.raises(ReturnError, match="say why"):
        close_return(return_order=approved, actor=after_sales)
    close_return(return_order=approved, actor=after_sales, note="买家放弃退货")
    approved.refresh_from_db()
    assert approved.status == S.CLOSED and approved.received_at is None


def test_closing_after_a_partial_receipt_hands_what_came_to_the_erp(approved, after_sales):
    receive_return(
        return_order=approved,
        receipts=[(approved.line_a, approved.products["A"], D("1"), D("0"))],
        actor=after_sales,
        finish=False,
    )
    close_return(return_order=approved, actor=after_sales, note="其余未寄回")
    approved.refresh_from_db()
    assert approved.status == S.CLOSED and approved.received_at is not None


def test_submitted_rejected_and_closed_returns_cannot_be_closed(
    simple_order, after_sales, reviewer
):
    from returns.services import reject_return

    ro = create_return(
        order=simple_order,
        lines=[(simple_order.line_a, D("1"), D("10"))],
        kind=ReturnOrder.Kind.RETURN_GOODS,
        reason="质量问题",
        refund_amount=D("10"),
        actor=after_sales,
    )
    with pytest.raises(ReturnError, match="you cannot close it"):
        close_return(return_order=ro, actor=after_sales, note="x")
    reject_return(return_order=ro, actor=reviewer, reason="不符合")
    with pytest.raises(ReturnError, match="you cannot close it"):
        close_return(return_order=ro, actor=after_sales, note="x")


def test_only_after_sales_staff_close(approved, reviewer):
    with pytest.raises(ReturnError, match="not allowed to close"):
        close_return(return_order=approved, actor=reviewer, note="x")
