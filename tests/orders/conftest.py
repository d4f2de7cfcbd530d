"""Fixtures for the orders tests: a shop with SKU relations, stock, and normalized orders."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from channels.models import SkuComponent, SkuMapping
from channels.types import NormalizedLine, NormalizedOrder
from inventory import services as stock

T0 = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)


@pytest.fixture
def map_sku():
    def make(shop, sku, *components):
        mapping, _ = SkuMapping.objects.get_or_create(shop=shop, platform_sku=sku)
        mapping.components.all().delete()
        for product, q in components:
            SkuComponent.objects.create(mapping=mapping, product=product, quantity=Decimal(q))
        return mapping

    return make


@pytest.fixture
def stock_of(main_warehouse, django_capture_on_commit_callbacks):
    """Adjust stock and run what follows its commit (sellable recompute, stock-short retry)."""

    def put(product, quantity):
        with django_capture_on_commit_callbacks(execute=True):
            stock.adjust(
                warehouse_id=main_warehouse.id, product_id=product.id, quantity=quantity, actor=None
            )

    return put


@pytest.fixture
def level(main_warehouse):
    from inventory.models import StockLevel

    def get(product):
        lv = StockLevel.objects.filter(warehouse=main_warehouse, product=product).first()
        return (lv.on_hand, lv.reserved) if lv else (Decimal(0), Decimal(0))

    return get


def norder(no, *lines, minutes=0, modified=None, **kwargs):
    """A normalized order paid at T0 + minutes, with lines given as (sku, qty[, price])."""
    kwargs.setdefault("receiver_name", "王小丽")
    kwargs.setdefault("receiver_phone", "13812345678")
    kwargs.setdefault("province", "浙江省")
    kwargs.setdefault("city", "杭州市")
    kwargs.setdefault("district", "西湖区")
    kwargs.setdefault("address", "文三路 90 号")
    return NormalizedOrder(
        platform_order_no=no,
        lines=[
            NormalizedLine(
                platform_sku=spec[0],
                quantity=Decimal(spec[1]),
                unit_price=Decimal(spec[2] if len(spec) > 2 else "10.00"),
            )
            for spec in lines
        ],
        paid_at=T0 + timedelta(minutes=minutes),
        platform_modified_at=modified,
        **kwargs,
    )


@pytest.fixture
def shop(make_shop):
    return make_shop("TM01", "tmall")


@pytest.fixture
def tea(make_product):
    return make_product("TEA")


@pytest.fixture
def cup(make_product):
    return make_product("CUP")


@pytest.fixture
def reviewer(django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(
        "reviewer1", password="pw-reviewer-1", is_staff=True
    )
    user.groups.add(Group.objects.get(name="reviewer"))
    return user
