"""Each role's home page in real headless Chromium: what the person sees after signing in, and
that a queue's count leads to the list it counts."""

import pytest

from core.clock import frozen
from tests.conftest import screenshot as shot

from .conftest import NOW, ROLES

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# What each role's page shows first (Chinese, the default language).
EXPECTED = {
    "warehouse": ("仓库", ["待打单", "未打印的波次", "待复核", "待交接发货", "发件箱搁置"]),
    "reviewer": ("审单", ["待审核", "库存不足", "商品未匹配", "发件箱搁置"]),
    "after_sales": ("售后", ["待收货售后单", "待审核售后单"]),
    "after_sales_reviewer": ("售后审核", ["待审核售后单"]),
    "auditor": ("审计总览", ["待审核", "库存不足", "待打单", "待审核售后单", "ERP 待确认批次"]),
    "superuser": ("总览", ["待审核", "库存不足", "待打单", "待审核售后单", "ERP 待确认批次"]),
}


@pytest.mark.parametrize("role", [*ROLES, "superuser"])
def test_each_role_lands_on_its_own_home_page(open_as, person, orders_in, role):
    with frozen(NOW):
        orders_in("TM01", 4)
        orders_in("JD01", 2, on_hand=0)
    user = person(role)

    with frozen(NOW):
        page = open_as(user)
    shot(page, f"home-{role}")

    title, queues = EXPECTED[role]
    assert page.title().startswith("工作台")
    assert page.locator("section.role h2").first.inner_text() == title
    labels = page.locator("section.role .queue .label").all_inner_texts()
    for label in queues:
        assert label in labels
    assert (page.locator("#scan-link").count() == 1) == (role in ("warehouse", "superuser"))
    body = page.locator("#home").inner_text()
    for english in ("to review", "stock short", "Orders", "Warehouse"):
        assert english not in body


def test_a_reviewer_follows_the_stock_short_count_to_the_held_orders(open_as, person, orders_in):
    orders_in("TM01", 3)
    orders_in("JD01", 2, on_hand=0)
    page = open_as(person("reviewer"))

    card = page.locator("[data-queue=stock_short]")
    assert card.locator(".n").inner_text() == "2"
    card.click()
    page.wait_for_load_state()

    assert "hold=stock_short" in page.url
    rows = page.locator("#result_list tbody tr")
    assert rows.count() == 2
    assert all("JD01" in t for t in rows.all_inner_texts())


def test_the_warehouse_opens_the_scan_page_from_its_home_page(open_as, person):
    page = open_as(person("warehouse"))
    page.locator("#scan-link").click()
    page.wait_for_selector("#scan")
    assert page.url.endswith("/warehouse/")


def test_the_home_page_speaks_english_when_chosen(open_as, person, orders_in):
    orders_in("TM01", 2)
    page = open_as(person("reviewer"), language="en")
    shot(page, "home-reviewer-en")
    assert page.title().startswith("My work")
    assert "to review" in page.locator("section.role .queue .label").all_inner_texts()


def test_an_after_sales_clerk_starts_a_return_from_the_home_page(open_as, person, flow):
    from django.urls import reverse

    tea = flow.product("TEA", "西湖龙井")
    flow.sku("SKU-TEA", tea)
    flow.stock(tea, 10)
    order = flow.shipped(flow.order([("SKU-TEA", 2)]))
    page = open_as(person("after_sales"))
    shot(page, "home-after_sales")

    page.fill("#new-return-order", order.platform_order_no)  # the number the buyer quotes
    page.click("#new-return input[type=submit]")
    page.wait_for_selector("#create-return-form")

    assert page.url.endswith(
        reverse("admin:returns_returnorder_create_from_order", args=[order.pk])
    )
    assert "标题 SKU-TEA" in page.locator("#create-return-form").inner_text()  # its line
