"""A newer platform version of an order meets a reviewer's corrections and a printed waybill.

Orders come in and are updated through the intake, corrected and printed through the services.
"""

from datetime import timedelta

import pytest
from django.urls import reverse

from orders.models import HoldReason, Order, OrderEvent
from orders.services.holds import active_reasons
from orders.services.platform_changes import accept_platform_change, dismiss_platform_change
from orders.services.review import update_order_details

pytestmark = pytest.mark.django_db

FIRST = {"address": "文三路 90 号", "receiver_phone": "13812345678", "buyer_remark": ""}


@pytest.fixture
def stocked(flow):
    tea = flow.product("TEA")
    flow.sku("SKU-TEA", tea)
    flow.stock(tea, 10)
    return flow


def placed(flow):
    normalized = flow.normalized([("SKU-TEA", 1)], **FIRST)
    flow.intake(normalized)
    return normalized, Order.objects.get(platform_order_no=normalized.platform_order_no)


def newer(flow, normalized, minutes, **changes):
    """The platform's next version of the order, ``minutes`` later, with ``changes``."""
    values = {**FIRST, **changes}
    again = flow.normalized(
        [("SKU-TEA", 1)],
        number=normalized.platform_order_no,
        paid_at=normalized.paid_at,
        platform_modified_at=normalized.platform_modified_at + timedelta(minutes=minutes),
        **values,
    )
    flow.intake(again)


def test_a_corrected_field_stays_corrected_and_the_platform_value_waits(stocked):
    flow = stocked
    normalized, order = placed(flow)
    update_order_details(
        order=order, changes={"address": "文三路 90 号 3 幢"}, actor=flow.reviewer()
    )

    newer(
        flow, normalized, 5, address="古墩路 1 号", receiver_phone="13900000000", buyer_remark="快"
    )

    order = flow.fresh(order)
    assert order.address == "文三路 90 号 3 幢"  # the reviewer's correction stays
    assert order.platform_changes == {"address": "古墩路 1 号"}  # shown to accept or dismiss
    assert (order.receiver_phone, order.buyer_remark) == ("13900000000", "快")  # the rest follows
    assert order.events.filter(kind=OrderEvent.Kind.PLATFORM_CHANGE).exists()

    accept_platform_change(order=order, actor=flow.reviewer())
    order = flow.fresh(order)
    assert (order.address, order.platform_changes) == ("古墩路 1 号", {})
    # Accepted: the field follows the platform again.
    newer(flow, normalized, 10, address="古墩路 2 号", receiver_phone="13900000000")
    assert flow.fresh(order).address == "古墩路 2 号"


def test_a_dismissed_change_is_not_raised_again_until_the_platform_changes_it_again(stocked):
    flow = stocked
    normalized, order = placed(flow)
    update_order_details(
        order=order, changes={"address": "文三路 90 号 3 幢"}, actor=flow.reviewer()
    )
    newer(flow, normalized, 5, address="古墩路 1 号")
    dismiss_platform_change(order=flow.fresh(order), actor=flow.reviewer())
    assert flow.fresh(order).platform_changes == {}

    newer(flow, normalized, 10, address="古墩路 1 号", buyer_remark="周末送")
    order = flow.fresh(order)
    assert (order.address, order.platform_changes, order.buyer_remark) == (
        "文三路 90 号 3 幢",
        {},
        "周末送",
    )
    newer(flow, normalized, 15, address="古墩路 9 号")
    assert flow.fresh(order).platform_changes == {"address": "古墩路 9 号"}


def test_an_address_change_after_printing_holds_the_order_until_it_is_reprinted(stocked):
    flow = stocked
    normalized, order = placed(flow)
    order = flow.printed(order)

    newer(flow, normalized, 5, address="古墩路 1 号")

    order = flow.fresh(order)
    assert order.address == FIRST["address"]  # the printed waybill's address, until accepted
    assert order.platform_changes == {"address": "古墩路 1 号"}
    assert HoldReason.ADDRESS_CHANGED in active_reasons(order) and order.on_hold

    accept_platform_change(order=order, actor=flow.reviewer())
    order = flow.fresh(order)
    assert order.address == "古墩路 1 号" and order.on_hold  # the old waybill is still on it
    flow.printed(order, wave=False)  # reprinted with the new address
    assert not flow.fresh(order).on_hold
    assert flow.shipped(order).status == order.Status.SHIPPED


def test_a_dismissed_address_change_after_printing_releases_the_order(stocked):
    flow = stocked
    normalized, order = placed(flow)
    order = flow.printed(order)
    newer(flow, normalized, 5, address="古墩路 1 号")
    assert flow.fresh(order).on_hold

    dismiss_platform_change(order=flow.fresh(order), actor=flow.reviewer())

    order = flow.fresh(order)
    assert (order.address, order.on_hold, order.platform_changes) == (FIRST["address"], False, {})


def test_the_order_page_shows_the_platform_change_to_accept_or_dismiss(stocked, client):
    flow = stocked
    normalized, order = placed(flow)
    update_order_details(
        order=order, changes={"address": "文三路 90 号 3 幢"}, actor=flow.reviewer()
    )
    newer(flow, normalized, 5, address="古墩路 <1> 号")
    client.force_login(flow.reviewer())
    page = client.get(reverse("admin:orders_order_change", args=[order.pk]))
    html = page.content.decode()
    assert page.status_code == 200 and 'id="platform-changes"' in html
    assert "古墩路 &lt;1&gt; 号" in html  # the platform's text, escaped

    url = reverse("admin:orders_order_platform_change", args=[order.pk])
    assert client.get(url).status_code == 405
    done = client.post(url, {"decision": "accept"})
    assert done.status_code == 302
    assert flow.fresh(order).address == "古墩路 <1> 号"
    assert 'id="platform-changes"' not in client.get(done.url).content.decode()
