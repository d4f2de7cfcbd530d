"""The reviewer's day in a real browser: open the queue, pick an order, approve it."""

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from orders.intake import intake_orders
from orders.models import Order

from .conftest import norder

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
]

ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def page(monkeypatch):
    playwright = pytest.importorskip("playwright.sync_api")
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still plain synchronous code.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        page = browser.new_page()
        yield page
        browser.close()


def test_a_reviewer_approves_an_order_from_the_queue(
    live_server, page, shop, tea, map_sku, stock_of, django_user_model
):
    map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 10)
    intake_orders(shop=shop, orders=[norder("WEB-1", ("TEA", 1)), norder("WEB-2", ("TEA", 1))])
    user = django_user_model.objects.create_user("rv", password="pw-rv-12345", is_staff=True)
    user.groups.add(Group.objects.get(name="reviewer"))
    order = Order.objects.get(platform_order_no="WEB-1")

    page.goto(live_server.url + reverse("admin:login"))
    page.fill("#id_username", "rv")
    page.fill("#id_password", "pw-rv-12345")
    page.click("input[type=submit]")
    page.goto(live_server.url + reverse("admin:orders_reviewqueueorder_changelist"))
    assert page.locator("#result_list tbody tr").count() == 2

    page.check(f"input[name=_selected_action][value='{order.pk}']")
    page.select_option("select[name=action]", "approve_action")
    page.click("button[name=index]")

    page.wait_for_selector(".messagelist")
    assert page.locator("#result_list tbody tr").count() == 1
    order.refresh_from_db()
    assert order.status == Order.Status.REVIEWED
