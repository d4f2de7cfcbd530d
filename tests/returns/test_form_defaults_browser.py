"""The return form in Chromium: the refund amount is computed when left empty, an imported
order's lines show their products, and receiving speaks of what is expected back (应退)."""

import pytest
from django.urls import reverse

from orders.models import OrderLine
from returns.models import ReturnOrder
from tests.conftest import screenshot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_an_empty_refund_amount_becomes_the_lines_amount_and_lines_show_their_products(
    open_as, simple_order, after_sales
):
    # A file-imported order carries no title on its lines.
    OrderLine.objects.filter(order=simple_order).update(title="")
    url = reverse("admin:returns_returnorder_create_from_order", args=[simple_order.pk])
    page = open_as(after_sales, url)
    screenshot(page, "return-create")

    assert page.locator("#id_refund_amount").get_attribute("required") is None
    assert "留空" in page.locator("#create-return-form").inner_text()
    rows = page.locator("#create-return-form tbody tr").all_inner_texts()
    assert "商品A001" in rows[0]
    # The bundle line (2 sets of 2 B + 1 C) lists what the whole line holds.
    assert "商品B001 × 4" in rows[1] and "商品C001 × 2" in rows[1]

    page.select_option("#id_kind", "return_goods")
    page.fill("#id_reason", "质量问题")
    page.fill(f"#id_qty_{simple_order.line_a.pk}", "2")
    page.click("#create-return-form input[type=submit]")
    page.wait_for_selector(".messagelist")

    ro = ReturnOrder.objects.get()
    assert str(ro.refund_amount) == "20.00"


def test_the_receive_form_says_expected_back(open_as, simple_order, after_sales, reviewer):
    from returns import services

    ro = services.create_return(
        order=simple_order,
        lines=[(simple_order.line_a, 1, None)],
        kind="return_goods",
        reason="质量问题",
        refund_amount="10.00",
        return_tracking_no="SF1",
        actor=after_sales,
    )
    services.approve_return(return_order=ro, actor=reviewer)
    page = open_as(after_sales, reverse("admin:returns_returnorder_receive", args=[ro.pk]))

    headers = page.locator("thead th").all_inner_texts()
    assert "应退数量" in headers and "应发" not in " ".join(headers)
