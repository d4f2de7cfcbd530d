"""Cancelling a waybill throws its number away for good: the admin asks first."""

import pytest

from orders.models import Order
from orders.services import printing
from tests.conftest import screenshot

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("reseeded"),
]


def test_cancelling_a_waybill_asks_for_confirmation_first(
    open_as, make_order, stocked_product, worker
):
    order = make_order([(stocked_product("保温杯"), 1, "59.00")])
    printing.print_waybills(orders=[order], actor=worker)
    order.refresh_from_db()
    number = order.tracking_no
    page = open_as(worker, "/admin/orders/order/?status__exact=printed")

    page.check(f"input[name=_selected_action][value='{order.pk}']")
    page.select_option("select[name=action]", "cancel_waybill_action")
    page.click("button[name=index]")
    page.wait_for_selector("#action-warning")
    screenshot(page, "cancel-waybill-confirm")

    assert number in page.locator("#content-main").inner_text()
    assert "不再使用" in page.locator("#action-warning").inner_text()
    order.refresh_from_db()
    assert order.status == Order.Status.PRINTED and order.tracking_no == number

    page.click("#action-form input[type=submit]")
    page.wait_for_selector(".messagelist")
    order.refresh_from_db()
    assert order.status == Order.Status.REVIEWED and order.tracking_no == ""
