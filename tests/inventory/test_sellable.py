"""The sellable quantity pushed to each shop SKU (design.md, Stock):
floor(min over components of max(0, available − safety) × ratio / component quantity)."""

from decimal import Decimal as D

import pytest

from channels.models import SellableQuantity, SkuComponent, SkuMapping
from channels.outbox import queue_stock_pushes
from inventory import services
from inventory.models import SellableDirty
from inventory.sellable import recompute_sellable

pytestmark = pytest.mark.django_db


def stock(warehouse, product, quantity):
    services.adjust(warehouse_id=warehouse.id, product_id=product.id, quantity=quantity, actor=None)


def mapping(shop, sku, *components):
    m = SkuMapping.objects.create(shop=shop, platform_sku=sku)
    for product, quantity in components:
        SkuComponent.objects.create(mapping=m, product=product, quantity=D(quantity))
    return m


def sellable(m):
    return SellableQuantity.objects.get(mapping=m).quantity


def test_a_bundle_sells_as_many_as_its_scarcest_component_allows_after_ratio_and_safety(
    make_shop, make_product, main_warehouse
):
    shop = make_shop("TM01", stock_ratio=D("0.8"), safety_stock=D("2"))
    tea, cup = make_product(), make_product()
    stock(main_warehouse, tea, 12)  # (12 − 2) × 0.8 / 0.5 = 16
    stock(main_warehouse, cup, 9)  # (9 − 2) × 0.8 / 2 = 2.8 → the bundle sells 2
    single = mapping(shop, "TEA-HALF", (tea, "0.5"))
    bundle = mapping(shop, "GIFTBOX", (tea, "0.5"), (cup, "2"))

    recompute_sellable([tea.id, cup.id])

    assert sellable(single) == 16
    assert sellable(bundle) == 2


def test_stock_below_safety_sells_nothing_and_defective_stock_never_sells(
    make_shop, make_product, main_warehouse, defective_warehouse
):
    shop = make_shop("JD01", platform="jd", safety_stock=D("5"))
    cup = make_product()
    stock(main_warehouse, cup, 3)
    stock(defective_warehouse, cup, 100)
    m = mapping(shop, "CUP", (cup, "1"))

    recompute_sellable([cup.id])

    assert sellable(m) == 0


def test_a_reservation_lowers_the_sellable_quantity_before_the_next_push(
    make_shop, make_product, main_warehouse
):
    shop = make_shop("TM01")
    cup = make_product()
    stock(main_warehouse, cup, 10)
    m = mapping(shop, "CUP", (cup, "1"))
    recompute_sellable([cup.id])
    assert sellable(m) == 10

    services.reserve(document="order:1", items=[(cup.id, D("4"))])
    assert SellableDirty.objects.filter(product=cup).exists()

    queue_stock_pushes()

    assert sellable(m) == 6
    assert not SellableDirty.objects.exists()
