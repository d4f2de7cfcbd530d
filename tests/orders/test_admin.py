from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.urls import reverse

from inventory.models import Reservation
from orders.intake import intake_orders
from orders.models import HoldReason, Order, OrderEvent

from .conftest import norder

pytestmark = pytest.mark.django_db

QUEUE = "admin:orders_reviewqueueorder_changelist"


@pytest.fixture
def orders(shop, make_shop, tea, cup, map_sku, stock_of):
    jd = make_shop("JD01", "jd")
    map_sku(shop, "TEA", (tea, 1))
    map_sku(jd, "CUP", (cup, 1))
    stock_of(tea, 10)
    stock_of(cup, 10)
    intake_orders(
        shop=shop,
        orders=[
            norder("TM-1", ("TEA", 1), minutes=1, buyer_remark="请尽快发货"),
            norder("TM-2", ("NOPE", 1), minutes=2, province="上海市", receiver_phone="13900001111"),
        ],
    )
    intake_orders(shop=jd, orders=[norder("JD-1", ("CUP", 2), minutes=3, province="江苏省")])
    return {o.platform_order_no: o for o in Order.objects.all()}


@pytest.fixture
def client_of(client):
    def login(user):
        client.force_login(user)
        return client

    return login


def shown(response):
    return sorted(o.platform_order_no for o in response.context["cl"].result_list)


def test_the_review_queue_lists_pending_orders_oldest_paid_first(orders, reviewer, client_of):
    Order.objects.filter(platform_order_no="JD-1").update(status=Order.Status.REVIEWED)

    response = client_of(reviewer).get(reverse(QUEUE))

    assert response.status_code == 200
    assert [o.platform_order_no for o in response.context["cl"].result_list] == ["TM-1", "TM-2"]
    assert "商品未匹配" in response.content.decode()  # TM-2's hold reason, in Chinese


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"platform": "jd"}, ["JD-1"]),
        ({"hold": HoldReason.SKU_UNMAPPED}, ["TM-2"]),
        ({"hold": "none"}, ["JD-1", "TM-1"]),
        ({"province": "江苏省"}, ["JD-1"]),
        ({"product": "CUP"}, ["JD-1"]),
        ({"remark": "yes"}, ["TM-1"]),
        ({"q": "13900001111"}, ["TM-2"]),
        ({"q": "TM-1"}, ["TM-1"]),
        (
            {
                "paid_at__gte": "2026-11-01 00:00:00+08:00",
                "paid_at__lt": "2026-12-01 00:00:00+08:00",
            },
            ["JD-1", "TM-1", "TM-2"],
        ),
    ],
)
def test_the_queue_filters_and_searches(orders, reviewer, client_of, params, expected):
    response = client_of(reviewer).get(reverse(QUEUE), params)

    assert response.status_code == 200
    assert shown(response) == expected


def test_the_shop_filter_shows_one_shop(orders, reviewer, client_of, shop):
    response = client_of(reviewer).get(reverse(QUEUE), {"shop": shop.pk})
    assert shown(response) == ["TM-1", "TM-2"]


def test_approving_from_the_queue_moves_orders_on(orders, reviewer, client_of):
    ids = [orders["TM-1"].pk, orders["TM-2"].pk]
    response = client_of(reviewer).post(
        reverse(QUEUE), {"action": "approve_action", "_selected_action": ids}, follow=True
    )

    assert response.status_code == 200
    assert Order.objects.get(pk=ids[0]).status == Order.Status.REVIEWED
    assert Order.objects.get(pk=ids[1]).status == Order.Status.PENDING_REVIEW  # held: refused
    assert OrderEvent.objects.get(order_id=ids[0], kind="approved").actor == reviewer


def test_holding_asks_for_a_reason_then_holds(orders, reviewer, client_of):
    c = client_of(reviewer)
    order = orders["TM-1"]
    first = c.post(reverse(QUEUE), {"action": "hold_action", "_selected_action": [order.pk]})
    assert first.status_code == 200 and "note" in first.context["form"].fields

    c.post(
        reverse(QUEUE),
        {"action": "hold_action", "_selected_action": [order.pk], "apply": "1", "note": "核对地址"},
    )

    order.refresh_from_db()
    assert order.on_hold
    assert order.holds.get().note == "核对地址" and order.holds.get().reason == HoldReason.MANUAL


def test_cancelling_from_the_queue_releases_stock(orders, reviewer, client_of, tea, level):
    order = orders["TM-1"]
    client_of(reviewer).post(
        reverse(QUEUE),
        {"action": "cancel_action", "_selected_action": [order.pk], "apply": "1", "note": "重复"},
    )

    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert level(tea) == (Decimal("10"), Decimal("0"))


def test_the_order_page_shows_components_stock_and_history(orders, reviewer, client_of):
    order = orders["JD-1"]
    response = client_of(reviewer).get(
        reverse("admin:orders_reviewqueueorder_change", args=[order.pk])
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "CUP" in body and 'id="order-events"' in body
    assert "订单接收" in body  # the "order received" event, labelled in Chinese
    line = response.context["detail"]["lines"][0]
    assert line["components"][0]["available"] == Decimal("8")


def test_correcting_the_address_on_the_order_page_is_an_event(orders, reviewer, client_of):
    order = orders["TM-1"]
    url = reverse("admin:orders_reviewqueueorder_change", args=[order.pk])
    data = {
        "receiver_name": order.receiver_name,
        "receiver_phone": order.receiver_phone,
        "province": order.province,
        "city": order.city,
        "district": order.district,
        "address": "文三路 200 号",
        "buyer_nick": "",
        "seller_remark": "",
        "carrier": "",
    }

    response = client_of(reviewer).post(url, data)

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.address == "文三路 200 号"
    event = OrderEvent.objects.get(order=order, kind="edited")
    assert event.actor == reviewer and event.after == {"address": "文三路 200 号"}


def test_changing_a_quantity_on_the_lines_page_moves_the_reservation(orders, reviewer, client_of):
    order = orders["JD-1"]
    line = order.lines.get()
    url = reverse("admin:orders_reviewqueueorder_lines", args=[order.pk])

    response = client_of(reviewer).post(url, {f"qty_{line.pk}": "3"})

    assert response.status_code == 302
    assert Reservation.objects.get(document=order.document).quantity == Decimal("3")


def test_splitting_on_the_split_page_creates_a_new_order(orders, reviewer, client_of):
    order = orders["JD-1"]
    line = order.lines.get()
    url = reverse("admin:orders_reviewqueueorder_split", args=[order.pk])

    response = client_of(reviewer).post(url, {f"move_{line.pk}": "1"})

    assert response.status_code == 302
    new = Order.objects.get(split_from=order)
    assert Reservation.objects.get(document=new.document).quantity == Decimal("1")


def test_the_auditor_sees_the_queue_but_cannot_act(orders, client_of, django_user_model):
    auditor = django_user_model.objects.create_user("auditor1", password="pw-auditor-1")
    auditor.is_staff = True
    auditor.save()
    auditor.groups.add(Group.objects.get(name="auditor"))
    c = client_of(auditor)

    response = c.get(reverse(QUEUE))
    assert response.status_code == 200
    assert "approve_action" not in response.content.decode()

    c.post(reverse(QUEUE), {"action": "approve_action", "_selected_action": [orders["TM-1"].pk]})
    assert Order.objects.get(pk=orders["TM-1"].pk).status == Order.Status.PENDING_REVIEW
    lines = c.post(reverse("admin:orders_reviewqueueorder_lines", args=[orders["JD-1"].pk]), {})
    assert lines.status_code == 403


def test_a_bad_quantity_on_the_lines_page_changes_nothing(orders, reviewer, client_of, shop):
    order = orders["TM-1"]
    line = order.lines.get()
    url = reverse("admin:orders_reviewqueueorder_lines", args=[order.pk])

    response = client_of(reviewer).post(
        url, {f"qty_{line.pk}": "0", "new_sku": "TEA", "new_qty": "1", "new_price": "10"}
    )

    assert response.status_code == 200 and response.context["errors"]
    assert order.lines.count() == 1 and order.lines.get().quantity == Decimal("1")
    assert Reservation.objects.get(document=order.document).quantity == Decimal("1")
