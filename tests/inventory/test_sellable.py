"""The sellable quantity pushed to each shop SKU (docs/design.md, Stock):
floor(min over components of max(0, available − safety) × ratio / component quantity)."""

from decimal import Decimal as D

import pytest

from channels import sellable as sellable_module
from channels.models import SellableQuantity, SkuComponent, SkuMapping
from channels.sellable import recompute_sellable
from inventory import services
from inventory.models import SellableDirty
from platformsync.outbox import queue_stock_pushes

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


def test_only_the_figures_that_changed_are_written_and_reported(
    make_shop, make_product, main_warehouse
):
    shop = make_shop("TM01")
    tea, cup = make_product(), make_product()
    stock(main_warehouse, tea, 10)
    stock(main_warehouse, cup, 10)
    both = mapping(shop, "SET", (tea, "1"), (cup, "1"))
    tea_only = mapping(shop, "TEA", (tea, "1"))
    cup_only = mapping(shop, "CUP", (cup, "1"))
    assert sorted(recompute_sellable([tea.id, cup.id])) == sorted(
        [both.id, tea_only.id, cup_only.id]
    )
    cup_computed_at = SellableQuantity.objects.get(mapping=cup_only).computed_at

    stock(main_warehouse, tea, -4)  # the set and the tea change; the cup alone does not

    assert sorted(recompute_sellable([tea.id, cup.id])) == sorted([both.id, tea_only.id])
    assert (sellable(both), sellable(tea_only), sellable(cup_only)) == (6, 6, 10)
    assert SellableQuantity.objects.get(mapping=cup_only).computed_at == cup_computed_at
    assert recompute_sellable([tea.id, cup.id]) == []


def test_a_new_mapping_gets_its_figure_alongside_existing_ones(
    make_shop, make_product, main_warehouse
):
    shop = make_shop("TM01")
    cup = make_product()
    stock(main_warehouse, cup, 7)
    old = mapping(shop, "CUP", (cup, "1"))
    recompute_sellable([cup.id])
    stock(main_warehouse, cup, 1)
    new = mapping(shop, "CUP-2", (cup, "2"))

    assert sorted(recompute_sellable([cup.id])) == sorted([old.id, new.id])
    assert (sellable(old), sellable(new)) == (8, 4)


def test_a_large_set_of_products_gives_the_same_figures_as_one_product_at_a_time(
    make_shop, make_product, main_warehouse
):
    shops = [
        make_shop("TM01", stock_ratio=D("0.8"), safety_stock=D("2")),
        make_shop("JD01", platform="jd", stock_ratio=D("1"), safety_stock=D("0")),
    ]
    products = [make_product() for _ in range(30)]
    for n, product in enumerate(products):
        if n % 5:  # every fifth product has no stock level at all
            stock(main_warehouse, product, 3 * n + 1)
    mappings = []
    for shop in shops:
        for n, product in enumerate(products):
            parts = [(product, "0.5" if n % 7 == 0 else "1")]
            if n % 3 == 0:
                parts.append((products[(n * 11 + 1) % len(products)], "2"))
            mappings.append(mapping(shop, f"SKU-{n}", *parts))

    for product in products:
        recompute_sellable([product.id])
    one_at_a_time = {m.id: sellable(m) for m in mappings}
    SellableQuantity.objects.all().delete()

    changed = recompute_sellable([p.id for p in products])

    assert sorted(changed) == sorted(m.id for m in mappings)
    assert {m.id: sellable(m) for m in mappings} == one_at_a_time
    assert recompute_sellable(None) == []  # the whole-table path agrees


def test_a_set_holding_every_mapped_product_takes_the_whole_table_path_with_the_same_result(
    make_shop, make_product, main_warehouse, monkeypatch
):
    monkeypatch.setattr(sellable_module, "WHOLE_TABLE_CHECK_FROM", 1)
    shop = make_shop("TM01", stock_ratio=D("0.5"))
    tea, cup, spare = make_product(), make_product(), make_product()
    stock(main_warehouse, tea, 9)
    stock(main_warehouse, cup, 4)
    bundle = mapping(shop, "SET", (tea, "1"), (cup, "1"))
    tea_only = mapping(shop, "TEA", (tea, "3"))

    changed = recompute_sellable([tea.id, cup.id, spare.id])  # covers every mapped product

    assert sorted(changed) == sorted([bundle.id, tea_only.id])
    assert (sellable(bundle), sellable(tea_only)) == (2, 1)


def test_a_large_set_missing_a_mapped_product_leaves_that_products_mappings_alone(
    make_shop, make_product, main_warehouse, monkeypatch
):
    monkeypatch.setattr(sellable_module, "WHOLE_TABLE_CHECK_FROM", 1)
    shop = make_shop("TM01")
    tea, cup = make_product(), make_product()
    stock(main_warehouse, tea, 5)
    stock(main_warehouse, cup, 5)
    tea_only = mapping(shop, "TEA", (tea, "1"))
    cup_only = mapping(shop, "CUP", (cup, "1"))
    recompute_sellable([tea.id, cup.id])
    SellableQuantity.objects.filter(mapping=cup_only).update(quantity=99)  # stale on purpose

    stock(main_warehouse, tea, 1)
    assert recompute_sellable([tea.id]) == [tea_only.id]

    assert (sellable(tea_only), sellable(cup_only)) == (6, 99)


def test_shipping_what_was_reserved_keeps_the_figure_and_moving_out_more_lowers_it_at_once(
    make_shop, make_product, main_warehouse, django_capture_on_commit_callbacks
):
    """A shipment of exactly what was reserved leaves on hand − reserved as it was: nothing to
    recompute. Moving out more than the reservation (a piece found broken at packing, say)
    changes what the shop may sell, and the figure follows on commit."""
    shop = make_shop("TM01")
    cup = make_product()
    stock(main_warehouse, cup, 10)
    m = mapping(shop, "CUP", (cup, "1"))
    services.reserve(document="order:1", items=[(cup.id, D("4"))])
    queue_stock_pushes()
    assert sellable(m) == 6

    with django_capture_on_commit_callbacks(execute=True):
        services.ship(document="order:1", actor=None)
    assert sellable(m) == 6 and not SellableDirty.objects.exists()

    services.reserve(document="order:2", items=[(cup.id, D("2"))])
    queue_stock_pushes()
    assert sellable(m) == 4
    with django_capture_on_commit_callbacks(execute=True):
        services.apply_moves(
            [services.Move(main_warehouse.id, cup.id, D("-3"), "ship", "order:2", "")],
            consume_reservation="order:2",
        )
    assert sellable(m) == 3  # on hand 3, nothing reserved: recomputed without a push
