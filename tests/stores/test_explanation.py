"""The quote frozen on a store order, explained where people see the order: the kiosk's answer
when it is placed, the counter page, the printed receipt and the order's page in the back
office (which promotion changed each line, the red packet spent, the cash-back to come)."""

import datetime as dt
import io
import json
from decimal import Decimal as D

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from core.clock import frozen
from orders.models import Order
from promotions.services import OrderFacts, issue_red_packet
from stores import services

from .conftest import CASHBACK_200_20, SAVE_320_50, T0

pytestmark = pytest.mark.django_db

PHONE = "13812345678"
FOUR = [{"code": "TX2601-02-S", "quantity": 4}]  # 396.00 → 满320减50 → 346.00
STEP = "满减 满320减50：396.00 → 346.00"
CASHBACK = "售后期结束后返还 20.00 元红包。"


@pytest.fixture
def running(promote, stocked):
    promote("save", **SAVE_320_50)
    promote("cb", **CASHBACK_200_20)


@pytest.fixture
def kiosk(store, manager):
    _device, token = services.register_device(store=store, name="自助屏1", actor=manager)
    client = Client()
    client.get(f"/store/kiosk/start/?token={token}")
    return client


def placed(kiosk) -> tuple[Order, dict]:
    body = {"lines": FOUR, "fulfilment": "pickup", "customer": {"phone": "13800001234"}}
    data = kiosk.post(
        "/store/kiosk/api/order/", json.dumps(body), content_type="application/json"
    ).json()
    return Order.objects.get(order_no=data["order_no"]), data


def receipt_text(client, order) -> str:
    response = client.get(reverse("stores:counter_receipt", args=[order.order_no]))
    assert response["Content-Type"] == "application/pdf"
    return "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(response.content)).pages)


def test_the_kiosk_answers_a_placed_order_with_its_frozen_explanation(kiosk, running, clock):
    order, data = placed(kiosk)
    assert order.total_amount == D("346.00") and data["total"] == "346.00"
    frozen_quote = data["quote"]
    assert frozen_quote["lines"][0]["steps"] == [STEP]
    assert frozen_quote["notes"] == [CASHBACK]
    assert frozen_quote["total"] == order.quote["total"] == "346.00"


def test_the_kiosk_quote_explains_the_cart_and_its_near_miss(kiosk, running, clock):
    body = {"lines": [{"code": "TX2601-02-S", "quantity": 3}]}  # 297.00: 23.00 short of 320
    data = kiosk.post(
        "/store/kiosk/api/quote/", json.dumps(body), content_type="application/json"
    ).json()
    assert [n["text"] for n in data["quote"]["near_misses"]] == [
        "再买 23.00 元可减 50.00（满320减50）"
    ]
    assert data["quote"]["notes"] == [CASHBACK] and data["quote"]["total"] == "297.00"


def test_the_counter_page_and_the_receipt_show_the_explanation(kiosk, running, guide, clock):
    order, _data = placed(kiosk)
    counter = Client()
    counter.force_login(guide)
    page = counter.get(reverse("stores:counter_order", args=[order.order_no])).content.decode()
    assert 'id="explanation"' in page and STEP in page and CASHBACK in page
    text = receipt_text(counter, order)
    assert "满320减50" in text and "396.00 → 346.00" in text
    assert "346.00" in text and "20.00" in text and "红包" in text


def test_a_red_packet_spent_is_on_the_receipt_and_the_order_page(
    kiosk, running, guide, enrol, store
):
    member = enrol(PHONE)
    with frozen(T0):
        earned = services.place_order(
            store=store, lines=FOUR, fulfilment="pickup", member_phone=PHONE, actor=guide
        )
        services.take_payment(
            order=earned, store=store, method="cash", amount=earned.total_amount, actor=guide
        )
    handed = T0 + dt.timedelta(hours=1)
    later = T0 + dt.timedelta(days=8)
    with frozen(later):
        packet = issue_red_packet(order_ref=earned.order_no, facts=OrderFacts(handed, False))
        order = services.place_order(
            store=store,
            lines=[{"code": "TX2601-02-M", "quantity": 1}],
            fulfilment="pickup",
            member_phone=PHONE,
            actor=guide,
        )
        services.spend_red_packet(order=order, store=store, ref=packet.ref, actor=guide)
    order.refresh_from_db()
    assert order.total_amount == D("79.00") and member.ref == order.quote["member_ref"]
    counter = Client()
    counter.force_login(guide)
    text = receipt_text(counter, order)
    assert "使用红包：20.00" in text and "99.00 → 79.00" in text

    admin = User.objects.create_superuser("boss", password="boss-pass-123")
    office = Client()
    office.force_login(admin)
    page = office.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert 'id="order-quote"' in page and "价格说明" in page
    assert "使用红包：20.00" in page and f"红包 {packet.ref}：99.00 → 79.00" in page
