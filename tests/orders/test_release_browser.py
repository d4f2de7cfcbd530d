"""Releasing a hold in Chromium: only the order's current reasons are offered, and releasing
nothing is never shown as a success."""

import pytest
from django.contrib.auth.models import Group

from orders.intake import intake_orders
from orders.models import Order
from orders.services import review
from tests.conftest import screenshot

from .conftest import norder

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def rv(django_user_model):
    user = django_user_model.objects.create_user("rv", password="pw-rv-12345", is_staff=True)
    user.groups.add(Group.objects.get(name="reviewer"))
    return user


def run_action(page, order, action):
    page.check(f"input[name=_selected_action][value='{order.pk}']")
    page.select_option("select[name=action]", action)
    page.click("button[name=index]")
    page.wait_for_load_state()


def test_a_manual_hold_is_the_only_reason_offered_and_its_release_releases_it(
    open_as, rv, shop, tea, map_sku, stock_of
):
    map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 10)
    intake_orders(shop=shop, orders=[norder("WEB-1", ("TEA", 1))])
    order = Order.objects.get(platform_order_no="WEB-1")
    review.hold(order=order, actor=rv, note="买家要求改地址")
    page = open_as(rv, "/admin/orders/reviewqueueorder/")

    run_action(page, order, "release_action")
    screenshot(page, "release-form")

    options = page.locator("#id_reason option").all_inner_texts()
    assert options == ["人工挂起"]
    page.click("#action-form input[type=submit]")
    page.wait_for_selector(".messagelist")

    assert page.locator(".messagelist .success").count() == 1
    order.refresh_from_db()
    assert order.on_hold is False


def test_releasing_an_order_that_is_not_held_is_a_warning(
    open_as, rv, shop, tea, map_sku, stock_of
):
    map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 10)
    intake_orders(shop=shop, orders=[norder("WEB-2", ("TEA", 1))])
    order = Order.objects.get(platform_order_no="WEB-2")
    page = open_as(rv, "/admin/orders/reviewqueueorder/")

    run_action(page, order, "release_action")

    page.wait_for_selector(".messagelist")
    assert page.locator(".messagelist .success").count() == 0
    assert page.locator(".messagelist .warning").count() == 1
