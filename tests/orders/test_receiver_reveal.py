"""Seeing an encrypted receiver in clear: only with the permission and a reason, recorded with
who and why, rationed per person and day; the order keeps its masked receiver."""

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from channels.connectors.top import TopConnector
from orders.intake import intake_orders
from orders.models import Order, ReceiverReveal
from tests.connectors.conftest import credentials, sandbox, sandbox_server  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def encrypted_order(sandbox, make_shop):  # noqa: F811
    shop = make_shop(
        code="TB01", platform="taobao", api_base_url=sandbox.url, credentials=credentials("top")
    )
    (tid,) = sandbox.generate(count=1)
    intake_orders(shop=shop, orders=TopConnector(shop).fetch_orders([tid]))
    return Order.objects.get(platform_order_no=tid), sandbox.order("top", tid)


def user(name, *, may_reveal):
    person = User.objects.create_user(name, password="pw-123456", is_staff=True)
    person.user_permissions.add(Permission.objects.get(codename="view_order"))
    if may_reveal:
        person.user_permissions.add(Permission.objects.get(codename="reveal_receiver"))
    return person


def test_a_permitted_person_sees_the_receiver_once_with_a_reason_and_it_is_logged(
    client,
    encrypted_order,
    sandbox,  # noqa: F811
):
    order, raw = encrypted_order
    clerk = user("clerk", may_reveal=True)
    client.force_login(clerk)
    url = reverse("admin:orders_order_reveal_receiver", args=[order.pk])

    page = client.get(url).content.decode()
    shown = client.post(url, {"reason": "买家来电查询包裹"}).content.decode()

    assert raw["receiver_name"] not in page and order.receiver_name in page
    assert raw["receiver_name"] in shown and raw["receiver_address"] in shown
    (reveal,) = ReceiverReveal.objects.all()
    assert (reveal.order, reveal.revealed_by, reveal.reason) == (order, clerk, "买家来电查询包裹")
    assert reveal.scene == "2001" and reveal.matched
    order.refresh_from_db()
    assert order.receiver_name != raw["receiver_name"]  # nothing stored in clear
    assert sandbox.state()["decrypts"] == {"top": 1}


def test_without_the_permission_the_screen_is_refused(client, encrypted_order):
    order, _raw = encrypted_order
    client.force_login(user("picker", may_reveal=False))

    response = client.post(
        reverse("admin:orders_order_reveal_receiver", args=[order.pk]), {"reason": "想看看"}
    )

    assert response.status_code == 403
    assert not ReceiverReveal.objects.exists()


def test_no_reason_no_decryption(client, encrypted_order, sandbox):  # noqa: F811
    order, raw = encrypted_order
    client.force_login(user("clerk", may_reveal=True))

    shown = client.post(
        reverse("admin:orders_order_reveal_receiver", args=[order.pk]), {"reason": " "}
    ).content.decode()

    assert raw["receiver_name"] not in shown
    assert not ReceiverReveal.objects.exists() and sandbox.state()["decrypts"] == {}


def test_each_person_has_a_daily_ration(client, encrypted_order, settings):
    settings.TONGCANG_RECEIVER_REVEALS_PER_DAY = 1
    order, raw = encrypted_order
    client.force_login(user("clerk", may_reveal=True))
    url = reverse("admin:orders_order_reveal_receiver", args=[order.pk])

    client.post(url, {"reason": "第一次查询"})
    second = client.post(url, {"reason": "第二次查询"}).content.decode()

    assert raw["receiver_name"] not in second
    assert ReceiverReveal.objects.count() == 1
