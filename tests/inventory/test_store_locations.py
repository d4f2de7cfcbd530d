"""Store and sample locations: any location reserves, releases, ships and receives through the
same services; samples are never reserved nor sold; online sellable stock stays main-only."""

from decimal import Decimal

import pytest
from django.utils import translation

from inventory import services
from inventory.models import Reservation, StockLevel, StockMove, Warehouse
from inventory.selectors import ledger_mismatches, reservation_mismatches

pytestmark = pytest.mark.django_db


def level(code, product):
    lv = StockLevel.objects.filter(warehouse__code=code, product=product).first()
    return (lv.on_hand, lv.reserved) if lv else (Decimal(0), Decimal(0))


def test_the_fixed_locations_have_the_codes_the_erp_and_the_stores_use():
    codes = dict(Warehouse.objects.values_list("kind", "code"))
    assert codes["main"] == "main" and codes["defective"] == "defective"
    assert codes["transit"] == "transit"


def test_a_store_has_a_sellable_location_and_a_sample_location(store_locations):
    store, sample = store_locations
    assert (store.code, store.kind) == ("MD01", "store")
    assert (sample.code, sample.kind) == ("MD01:sample", "sample")
    assert sample.store_code == "MD01" and store.store_code == "MD01"
    assert Warehouse.main().store_code is None


def test_reserve_release_ship_and_receive_in_a_store_location(store_locations, make_product):
    product = make_product()
    services.receive(warehouse="MD01", items=[(product.id, 3)], actor=None, document="test:in")
    services.receive(items=[(product.id, 10)], actor=None, document="test:main")

    services.reserve(document="order:1", items=[(product.id, 2)], warehouse="MD01")
    assert level("MD01", product) == (3, 2)
    assert level("main", product) == (10, 0)

    services.release(document="order:1", items=[(product.id, 1)], warehouse="MD01")
    assert level("MD01", product) == (3, 1)

    services.ship(document="order:1", actor=None, warehouse="MD01")
    assert level("MD01", product) == (2, 0)
    assert level("main", product) == (10, 0)
    move = StockMove.objects.get(document="order:1")
    assert (move.warehouse.code, move.quantity, move.reason) == ("MD01", -1, "ship")
    assert ledger_mismatches() == [] and reservation_mismatches() == []


def test_ship_with_a_warehouse_ships_only_that_locations_part(store_locations, make_product):
    product = make_product()
    services.receive(warehouse="MD01", items=[(product.id, 1)], actor=None, document="t")
    services.receive(items=[(product.id, 5)], actor=None, document="t")
    services.reserve(document="order:2", items=[(product.id, 1)], warehouse="MD01")
    services.reserve(document="order:2", items=[(product.id, 2)])

    services.ship(document="order:2", actor=None, warehouse=store_locations[0])

    assert level("MD01", product) == (0, 0)
    assert level("main", product) == (5, 2)  # the main warehouse's part still waits
    assert Reservation.objects.get(document="order:2").warehouse.code == "main"


def test_the_store_cannot_reserve_what_it_does_not_have(store_locations, make_product):
    product = make_product()
    services.receive(items=[(product.id, 50)], actor=None, document="t")  # main only

    with pytest.raises(services.InsufficientStock):
        services.reserve(document="order:3", items=[(product.id, 1)], warehouse="MD01")

    assert not Reservation.objects.exists()


def test_samples_are_never_reserved_nor_sold(store_locations, make_product):
    _store, sample = store_locations
    product = make_product(code="TX-S")
    services.receive(warehouse=sample, items=[(product.id, 1)], actor=None, document="t")

    with translation.override("en"):
        with pytest.raises(services.SampleLocationError) as refused:
            services.reserve(document="order:4", items=[(product.id, 1)], warehouse=sample)
        assert "MD01:sample is a sample location" in str(refused.value)
        with pytest.raises(services.SampleLocationError):
            services.reserve_many([("order:5", [(product.id, 1)])], warehouse_id=sample.id)
        with pytest.raises(services.SampleLocationError):
            services.apply_moves(
                [services.Move(sample.id, product.id, Decimal(-1), StockMove.Reason.SHIP, "x")]
            )

    assert not Reservation.objects.exists()
    assert level("MD01:sample", product) == (1, 0)


def test_an_unknown_location_code_is_a_clear_error(make_product):
    product = make_product()
    with pytest.raises(services.StockError, match="no stock location with code 'XX99'"):
        services.reserve(document="order:6", items=[(product.id, 1)], warehouse="XX99")


def test_online_sellable_quantities_count_the_main_warehouse_only(
    store_locations, make_product, make_shop
):
    from channels.models import SellableQuantity, SkuComponent, SkuMapping
    from channels.sellable import recompute_sellable

    product = make_product()
    shop = make_shop("TM01", "tmall")
    mapping = SkuMapping.objects.create(shop=shop, platform_sku="SKU-1")
    SkuComponent.objects.create(mapping=mapping, product=product, quantity=Decimal(1))
    services.receive(items=[(product.id, 4)], actor=None, document="t")
    services.receive(warehouse="MD01", items=[(product.id, 7)], actor=None, document="t")
    services.receive(warehouse="MD01:sample", items=[(product.id, 1)], actor=None, document="t")

    recompute_sellable([product.id])

    assert SellableQuantity.objects.get(mapping=mapping).quantity == 4


def test_releasing_items_of_a_product_held_in_two_locations_releases_them_once(
    store_locations, make_product
):
    product = make_product()
    services.receive(items=[(product.id, 5)], actor=None, document="t")
    services.receive(warehouse="MD01", items=[(product.id, 5)], actor=None, document="t")
    services.reserve(document="order:7", items=[(product.id, 2)])
    services.reserve(document="order:7", items=[(product.id, 2)], warehouse="MD01")

    services.release(document="order:7", items=[(product.id, 3)])

    held = sorted(
        (r.warehouse.code, r.quantity) for r in Reservation.objects.filter(document="order:7")
    )
    assert sum(q for _w, q in held) == 1
    assert reservation_mismatches() == []
    with pytest.raises(services.StockError, match="holds less than 2.0000"):
        services.release(document="order:7", items=[(product.id, 2)])
