"""The scan page in real headless Chromium, driven through the keyboard as a scanner does it
(a scanner types the code and presses Enter)."""

import pytest
from django.conf import settings
from django.test import Client

from inventory.models import StockMove
from orders.models import Order
from orders.services import printing

from .conftest import hold

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("reseeded"),
]


@pytest.fixture
def page(browser, live_server, worker):
    client = Client()
    client.force_login(worker)
    context = browser.new_context(locale="zh-CN")
    context.add_cookies(
        [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
    )
    page = context.new_page()
    page.goto(f"{live_server.url}/warehouse/")
    page.wait_for_selector("#scan:focus")
    yield page
    context.close()


def scanner(page, code):
    """Type as a scanner does: the characters, then Enter; wait for the server's answer."""
    before = page.evaluate("window.tcSounds.length")
    page.keyboard.type(code)
    page.keyboard.press("Enter")
    page.wait_for_function(f"window.tcSounds.length > {before}")
    return page.evaluate("window.tcSounds[window.tcSounds.length - 1]")


def message(page):
    return page.locator("#message")


@pytest.fixture
def parcel(make_order, stocked_product, worker):
    cup = stocked_product("保温杯", barcode="6901234567892")
    tea = stocked_product("西湖龙井茶", barcode="6909876543210")
    order = make_order([(cup, 2, "59.00"), (tea, 1, "128.00")])
    printing.print_waybills(orders=[order], actor=worker)
    order.refresh_from_db()
    return order, cup, tea


def test_a_parcel_is_scanned_verified_and_shipped_from_the_keyboard(page, parcel):
    order, cup, tea = parcel

    assert scanner(page, order.tracking_no) == "ok"
    assert page.locator("#order-no").inner_text() == order.order_no
    assert page.locator("#total-missing").inner_text() == "3"

    assert scanner(page, cup.barcode) == "ok"
    row = page.locator(f"tr[data-code='{cup.barcode}']")
    assert row.locator(".scanned").inner_text() == "1"
    assert row.locator(".missing").inner_text() == "1"
    assert scanner(page, tea.barcode) == "ok"
    assert scanner(page, cup.barcode) == "done"

    assert page.locator("#status").get_attribute("data-status") == "verified"
    assert page.locator("#total-missing").inner_text() == "0"
    order.refresh_from_db()
    assert order.status == Order.Status.VERIFIED
    # The ship button has the focus: the packer presses Enter.
    assert page.evaluate("document.activeElement.id") == "ship"
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('status').dataset.status === 'shipped'")

    assert "已发货" in message(page).inner_text()
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED and order.shipped_at is not None
    assert StockMove.objects.filter(document=order.document, reason="ship").count() == 2
    assert page.evaluate("document.activeElement.id") == "scan"


def test_a_wrong_item_buzzes_shows_an_error_and_changes_nothing(page, parcel, stocked_product):
    order, cup, _tea = parcel
    umbrella = stocked_product("雨伞", barcode="6900000000001")
    scanner(page, order.tracking_no)
    scanner(page, cup.barcode)

    assert scanner(page, umbrella.barcode) == "error"

    assert message(page).get_attribute("class").startswith("message error")
    assert message(page).get_attribute("data-code") == "wrong_item"
    assert "6900000000001" in message(page).inner_text() and message(page).is_visible()
    assert page.locator(f"tr[data-code='{cup.barcode}'] .scanned").inner_text() == "1"
    order.refresh_from_db()
    assert order.status == Order.Status.PRINTED


def test_one_item_too_many_buzzes_and_the_count_stays(page, parcel):
    order, cup, _tea = parcel
    scanner(page, order.tracking_no)
    scanner(page, cup.barcode)
    scanner(page, cup.barcode)

    assert scanner(page, cup.barcode) == "error"

    assert message(page).get_attribute("data-code") == "too_many"
    assert "多了一件" in message(page).inner_text()
    assert page.locator(f"tr[data-code='{cup.barcode}'] .scanned").inner_text() == "2"
    order.refresh_from_db()
    assert order.status == Order.Status.PRINTED


@pytest.mark.parametrize(
    ("make_state", "code", "words"),
    [
        (lambda o: hold(o), "held", "挂起"),
        (lambda o: Order.objects.filter(pk=o.pk).update(status="cancelled"), "cancelled", "作废"),
        (lambda o: Order.objects.filter(pk=o.pk).update(status="reviewed"), "not_printed", "打单"),
        (lambda o: Order.objects.filter(pk=o.pk).update(status="shipped"), "shipped", "已发货"),
    ],
)
def test_a_parcel_that_must_not_go_buzzes_at_its_waybill(page, parcel, make_state, code, words):
    order, _cup, _tea = parcel
    make_state(order)
    before = Order.objects.get(pk=order.pk).status

    assert scanner(page, order.tracking_no) == "error"

    assert message(page).get_attribute("data-code") == code
    assert words in message(page).inner_text()
    assert page.locator("#order").is_hidden()
    assert Order.objects.get(pk=order.pk).status == before


def test_an_order_held_while_it_is_being_scanned_stops_at_the_next_item(page, parcel):
    order, cup, _tea = parcel
    scanner(page, order.tracking_no)
    hold(order)

    assert scanner(page, cup.barcode) == "error"

    assert message(page).get_attribute("data-code") == "held"
    order.refresh_from_db()
    assert order.status == Order.Status.PRINTED


def test_an_order_held_after_verification_cannot_ship_from_the_page(page, parcel):
    order, cup, tea = parcel
    scanner(page, order.tracking_no)
    for code in (cup.barcode, cup.barcode, tea.barcode):
        scanner(page, code)
    hold(order)

    before = page.evaluate("window.tcSounds.length")
    page.keyboard.press("Enter")
    page.wait_for_function(f"window.tcSounds.length > {before}")

    assert message(page).get_attribute("data-code") == "held"
    assert page.evaluate("window.tcSounds[window.tcSounds.length - 1]") == "error"
    order.refresh_from_db()
    assert order.status == Order.Status.VERIFIED
    assert not StockMove.objects.filter(document=order.document).exists()


def test_codes_scanned_faster_than_the_server_answers_are_all_counted(page, parcel):
    order, cup, tea = parcel
    scanner(page, order.tracking_no)

    # Three scans in a row without waiting for any answer.
    for code in (cup.barcode, tea.barcode, cup.barcode):
        page.keyboard.type(code)
        page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('status').dataset.status === 'verified'")

    assert page.locator("#total-scanned").inner_text() == "3"
    order.refresh_from_db()
    assert order.status == Order.Status.VERIFIED


@pytest.fixture
def next_parcel(make_order, stocked_product, worker):
    umbrella = stocked_product("雨伞", barcode="6900000000009")
    order = make_order([(umbrella, 1, "30.00")])
    printing.print_waybills(orders=[order], actor=worker)
    order.refresh_from_db()
    return order


def verify(page, parcel):
    order, cup, tea = parcel
    scanner(page, order.tracking_no)
    for code in (cup.barcode, cup.barcode, tea.barcode):
        scanner(page, code)
    assert page.locator("#status").get_attribute("data-status") == "verified"


def test_the_next_waybill_after_verification_is_refused_until_the_parcel_ships(
    page, parcel, next_parcel
):
    order, _cup, _tea = parcel
    verify(page, parcel)
    assert page.locator("#scan-label").inner_text() == "按回车键发货，再扫描下一单"

    assert scanner(page, next_parcel.tracking_no) == "error"

    assert message(page).get_attribute("data-code") == "verified_not_shipped"
    assert "先按回车发货" in message(page).inner_text()
    assert page.locator("#order-no").inner_text() == order.order_no
    assert Order.objects.get(pk=order.pk).status == Order.Status.VERIFIED
    assert Order.objects.get(pk=next_parcel.pk).status == Order.Status.PRINTED


def test_enter_in_the_scan_field_ships_a_verified_parcel(page, parcel, next_parcel):
    order, _cup, _tea = parcel
    verify(page, parcel)
    page.locator("#scan").focus()

    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('status').dataset.status === 'shipped'")

    assert Order.objects.get(pk=order.pk).status == Order.Status.SHIPPED
    assert page.locator("#scan-label").inner_text() == "扫描快递单号或订单号"
    assert scanner(page, next_parcel.tracking_no) == "ok"
    assert page.locator("#order-no").inner_text() == next_parcel.order_no


def test_a_unit_scanned_after_verification_is_one_too_many(page, parcel):
    _order, cup, _tea = parcel
    verify(page, parcel)
    page.locator("#scan").focus()

    assert scanner(page, cup.barcode) == "error"

    assert message(page).get_attribute("data-code") == "too_many"
    assert "多了一件" in message(page).inner_text()


def test_an_error_about_another_order_clears_the_previous_panel(page, parcel, next_parcel):
    order, cup, tea = parcel
    verify(page, parcel)
    page.keyboard.press("Enter")
    page.wait_for_function("document.getElementById('status').dataset.status === 'shipped'")
    hold(next_parcel)

    assert scanner(page, next_parcel.tracking_no) == "error"

    assert message(page).get_attribute("data-code") == "held"
    assert page.locator("#order").is_hidden()
