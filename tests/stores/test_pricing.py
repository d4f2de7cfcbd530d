"""Store orders are priced by the promotions (member prices by phone, spend-and-save) on the
server; the quote is frozen on the order and the lines add up to what is paid."""

from decimal import Decimal

import pytest

from promotions.demo import load_demo_promotions
from promotions.models import PromotionUsage
from stores import services

pytestmark = pytest.mark.django_db

ADDRESS = {
    "name": "张三",
    "phone": "13800001234",
    "province": "上海市",
    "city": "上海市",
    "address": "长寿路9号",
}


@pytest.fixture
def promotions(store, stocked, clock):
    load_demo_promotions(store.code)


def test_a_members_phone_gives_the_member_price(store, promotions):
    items = services.parse_cart([{"code": "TX2601-01-L", "quantity": 1}])
    assert services.price_cart(store=store, items=items).total == Decimal("99.00")
    member = services.price_cart(store=store, items=items, member_phone="138 0000 0001")
    assert member.total == Decimal("84.15")


def test_spend_and_save_is_frozen_on_the_order_and_the_lines_add_up(store, promotions):
    order = services.place_order(
        store=store,
        lines=[{"code": "TX2601-02-S", "quantity": 3}, {"code": "TX2601-02-M", "quantity": 1}],
        fulfilment="delivery",
        customer=ADDRESS,
        actor="kiosk:1",
    )
    assert order.total_amount == Decimal("346.00")  # 396 − 50
    assert sum(line.amount for line in order.lines.all()) == order.total_amount
    assert order.quote["total"] == "346.00" and order.quote["list_total"] == "396.00"
    assert PromotionUsage.objects.filter(order_ref=order.order_no).exists()
