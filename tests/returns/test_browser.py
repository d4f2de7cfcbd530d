"""After-sales in a real browser: create from the order, review, receive, print."""

import os

import pytest
from django.urls import reverse

from inventory.models import StockMove
from returns.models import ReturnOrder

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def browser(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the ORM calls of the test
    # (fixtures and checks) happen beside it, never inside it.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    playwright = pytest.importorskip("playwright.sync_api")
    if not os.path.exists("/usr/bin/chromium"):
        pytest.skip("chromium is not installed")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def login(browser, live_server, username):
    context = browser.new_context(locale="zh-CN")
    page = context.new_page()
    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-secret-1")
    page.click("input[type=submit]")
    page.wait_for_url("**/admin/")
    return page


def test_a_return_goes_from_the_order_to_the_warehouse_in_the_browser(
    live_server, simple_order, after_sales, reviewer, tmp_path, browser
):
    staff = login(browser, live_server, "shouhou")
    staff.goto(live_server.url + reverse("admin:returns_returnorder_add"))
    staff.fill("#id_order_number", simple_order.order_no)
    staff.click("input[type=submit]")
    staff.wait_for_url(f"**/create-from-order/{simple_order.pk}/")
    staff.select_option("#id_kind", "return_goods")
    staff.fill("#id_reason", "质量问题")
    staff.fill("#id_refund_amount", "20.00")
    staff.fill("#id_return_tracking_no", "SF-BROWSER-1")
    staff.fill(f"#id_qty_{simple_order.line_a.pk}", "2")
    staff.screenshot(path=str(tmp_path / "create.png"), full_page=True)
    staff.click("#create-return-form input[type=submit]")
    staff.wait_for_selector("text=等待审核")
    ro = ReturnOrder.objects.get()
    assert staff.locator("text=审核通过").count() == 0  # not for after-sales staff

    boss = login(browser, live_server, "shenhe")
    boss.goto(live_server.url + reverse("admin:returns_returnorder_change", args=[ro.pk]))
    boss.click("text=审核通过")
    boss.click("#return-action-form input[type=submit]")
    boss.wait_for_selector(".messagelist")
    ro.refresh_from_db()
    assert ro.status == ReturnOrder.Status.APPROVED

    staff.goto(live_server.url + reverse("admin:returns_returnorder_change", args=[ro.pk]))
    staff.click("text=退货入库")
    line = ro.lines.get()
    a = simple_order.products["A"]
    staff.fill(f"#id_main_{line.pk}_{a.pk}", "1")
    staff.fill(f"#id_defective_{line.pk}_{a.pk}", "1")
    staff.screenshot(path=str(tmp_path / "receive.png"), full_page=True)
    staff.click("#receive-form input[type=submit]")
    staff.wait_for_selector(".messagelist")
    staff.screenshot(path=str(tmp_path / "received.png"), full_page=True)
    ro.refresh_from_db()
    assert ro.status == ReturnOrder.Status.RECEIVED
    assert StockMove.objects.filter(document=f"return:{ro.pk}").count() == 2
    assert "入库" in staff.content() and "shouhou" in staff.content()

    staff.goto(live_server.url + reverse("admin:returns_returnorder_changelist"))
    staff.fill("#searchbar", "SF-BROWSER-1")
    staff.press("#searchbar", "Enter")
    staff.wait_for_load_state()
    staff.screenshot(path=str(tmp_path / "list.png"), full_page=True)
    assert staff.locator(f"text={ro.return_no}").count() == 1

    with staff.expect_response("**/receipt.pdf") as pdf:
        staff.goto(live_server.url + reverse("admin:returns_returnorder_receipt_pdf", args=[ro.pk]))
    assert pdf.value.headers["content-type"] == "application/pdf"
