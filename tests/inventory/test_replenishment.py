"""The replenishment suggestion of a store and the draft transfer the manager makes of it."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from core import clock
from inventory import replenishment, services, transfers
from inventory.imports import import_products
from inventory.models import Product, ReplenishmentRule, Transfer

DATA = Path(__file__).parent.parent / "data"
pytestmark = pytest.mark.django_db


@pytest.fixture
def tees(store_locations, admin_user):
    import_products(source=DATA / "products-clothing.csv", actor=admin_user)
    products = {p.code: p for p in Product.objects.filter(style_code="TX2601")}
    services.receive(
        items=[(p.id, 10) for p in products.values()], actor=admin_user, document="po:1"
    )
    return products


def sold_in_store(product, quantity, n):
    services.receive(warehouse="MD01", items=[(product.id, quantity)], actor=None, document="t")
    services.reserve(document=f"order:{n}", items=[(product.id, quantity)], warehouse="MD01")
    services.ship(document=f"order:{n}", actor=None)


def test_a_style_rule_suggests_every_colour_and_size_below_its_minimum_plus_one_sample_each(
    tees, store_locations, admin_user
):
    store, _sample = store_locations
    ReplenishmentRule.objects.create(
        warehouse=store, style_code="TX2601", minimum=Decimal(2), target=Decimal(4)
    )
    white_s = tees["TX2601-01-S"]
    services.receive(warehouse="MD01", items=[(white_s.id, 3)], actor=None, document="t")
    services.receive(warehouse="MD01:sample", items=[(white_s.id, 1)], actor=None, document="t")

    lines = replenishment.suggestion(store=store)

    by = {(ln.product.code, ln.sample): ln for ln in lines}
    assert by[("TX2601-01-S", False)].quantity == 0  # 3 on hand ≥ minimum 2
    assert ("TX2601-01-S", True) not in by  # it has its sample
    assert by[("TX2601-02-XL", False)].quantity == 4
    assert by[("TX2601-02-XL", True)].quantity == 1
    assert len([ln for ln in lines if ln.quantity]) == 7 + 7


def test_the_last_days_sales_raise_the_target_and_what_is_in_transit_counts(
    tees, store_locations, admin_user
):
    store, _sample = store_locations
    black_m = tees["TX2601-02-M"]
    ReplenishmentRule.objects.create(
        warehouse=store, product=black_m, minimum=Decimal(2), target=Decimal(3)
    )
    sold_in_store(black_m, 5, 1)

    (line, sample) = replenishment.suggestion(store=store, days=14)
    assert (line.sold, line.quantity) == (5, 5)  # sold 5 in 14 days: more than the target 3
    assert sample.sample and sample.quantity == 1

    later = replenishment.suggestion(store=store, days=14, now=clock.now() + timedelta(days=15))
    assert later[0].sold == 0 and later[0].quantity == 3

    t = transfers.create_transfer(
        from_warehouse="main", to_warehouse="MD01", lines=[(black_m, 2)], actor=admin_user
    )
    transfers.ship_transfer(transfer=t, actor=admin_user)
    (line, _sample) = replenishment.suggestion(store=store, days=14)
    assert (line.in_transit, line.position, line.quantity) == (2, 2, 0)  # 2 ≥ minimum 2


def test_the_manager_turns_the_suggestion_into_one_draft_transfer(
    tees, store_locations, admin_user
):
    store, _sample = store_locations
    black_m = tees["TX2601-02-M"]
    ReplenishmentRule.objects.create(
        warehouse=store, product=black_m, minimum=Decimal(1), target=Decimal(30)
    )

    t = replenishment.create_replenishment_transfer(store=store, actor=admin_user)

    assert (t.status, t.from_warehouse.code, t.to_warehouse.code) == ("draft", "main", "MD01")
    lines = {(ln.product.code, ln.sample): ln.quantity for ln in t.lines.all()}
    # 10 in the main warehouse: 9 for the store, 1 for its sample
    assert lines == {("TX2601-02-M", False): Decimal(9), ("TX2601-02-M", True): Decimal(1)}
    # asked again, the draft counts: nothing more to send
    assert replenishment.create_replenishment_transfer(store=store, actor=admin_user) is None
    assert Transfer.objects.count() == 1


def test_a_rule_is_a_product_or_a_style_with_target_at_least_minimum(store_locations):
    from django.db import IntegrityError, transaction

    store, _sample = store_locations
    with pytest.raises(IntegrityError), transaction.atomic():
        ReplenishmentRule.objects.create(warehouse=store, minimum=1, target=2)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReplenishmentRule.objects.create(
            warehouse=store, style_code="X", minimum=Decimal(3), target=Decimal(2)
        )
