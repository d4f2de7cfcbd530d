"""Returns received through the real flow: intake → ship → return → receive.

The intake stores each line's component quantities for the whole line (quantity × per unit);
a return may receive exactly what its lines shipped, never more.
"""

from decimal import Decimal as D

import pytest

from inventory.models import StockLevel, Warehouse
from inventory.selectors import ledger_mismatches
from returns.selectors import receivable_items
from returns.services import ReturnError

pytestmark = pytest.mark.django_db


def on_hand(product):
    level = StockLevel.objects.get(warehouse__kind=Warehouse.Kind.MAIN, product=product)
    return level.on_hand


@pytest.fixture
def shipped(flow):
    a, b = flow.products("A001", "B001")
    flow.sku("SKU-A", a)
    flow.sku("SKU-AB", (a, "2"), (b, "1"))
    flow.stock(a, 10)
    flow.stock(b, 10)
    order = flow.shipped(flow.order([("SKU-A", 3, "10.00"), ("SKU-AB", 2, "50.00")]))
    return order, a, b


def test_a_return_of_three_receives_exactly_three_and_refuses_more(flow, shipped):
    order, a, _b = shipped
    assert on_hand(a) == D("3")  # 10 − 3 − 2 × 2
    ro = flow.return_order(order, {"SKU-A": 3})
    flow.approve_return(ro)
    (item,) = receivable_items(ro)
    assert item.expected == D("3")
    with pytest.raises(ReturnError):
        flow.receive(ro, {("SKU-A", "A001"): 4}, finish=False)
    flow.receive(ro, {("SKU-A", "A001"): 2}, finish=False)
    with pytest.raises(ReturnError):
        flow.receive(ro, {("SKU-A", "A001"): 2}, finish=False)
    flow.receive(ro, {("SKU-A", "A001"): 1})  # the correct rest after a partial receipt
    ro.refresh_from_db()
    assert ro.status == ro.Status.RECEIVED
    assert on_hand(a) == D("6")
    assert not ledger_mismatches()


def test_a_bundle_line_returned_once_expects_one_bundle_of_components(flow, shipped):
    order, a, b = shipped
    ro = flow.return_order(order, {"SKU-AB": 1})
    flow.approve_return(ro)
    expected = {i.product.code: i.expected for i in receivable_items(ro)}
    assert expected == {"A001": D("2"), "B001": D("1")}
    with pytest.raises(ReturnError):
        flow.receive(ro, {("SKU-AB", "A001"): 3}, finish=False)
    flow.receive(ro, {("SKU-AB", "A001"): 1}, finish=False)
    flow.receive(ro, {("SKU-AB", "A001"): 1, ("SKU-AB", "B001"): 1})
    ro.refresh_from_db()
    assert ro.status == ro.Status.RECEIVED
    assert (on_hand(a), on_hand(b)) == (D("5"), D("9"))


def test_returns_together_receive_up_to_exactly_what_shipped(flow, shipped):
    order, a, b = shipped
    first = flow.returned(order, {"SKU-A": 1, "SKU-AB": 1})
    second = flow.returned(order, {"SKU-A": 2, "SKU-AB": 1})
    assert first.status == second.status == first.Status.RECEIVED
    # Everything that shipped came back: 3 + 2 × 2 A, 2 × 1 B.
    assert (on_hand(a), on_hand(b)) == (D("10"), D("10"))
    # Refunds: exactly what the lines were paid, 30.00 + 100.00.
    assert first.refund_amount + second.refund_amount == D("130.00")
    assert not ledger_mismatches()
