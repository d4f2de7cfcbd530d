"""Shared fixtures. Tests run against real PostgreSQL (the embedded one, or DATABASE_URL)."""

from decimal import Decimal

import pytest

from channels.models import Platform, Shop
from inventory.models import Product, Warehouse


@pytest.fixture
def main_warehouse(db):
    return Warehouse.objects.get(kind=Warehouse.Kind.MAIN)


@pytest.fixture
def defective_warehouse(db):
    return Warehouse.objects.get(kind=Warehouse.Kind.DEFECTIVE)


@pytest.fixture
def make_product(db):
    counter = {"n": 0}

    def make(code=None, **kwargs):
        counter["n"] += 1
        code = code or f"P{counter['n']:05d}"
        kwargs.setdefault("name", f"测试商品{counter['n']}")
        return Product.objects.create(code=code, **kwargs)

    return make


@pytest.fixture
def make_shop(db):
    def make(code="TM01", platform="tmall", **kwargs):
        kwargs.setdefault("name", f"{code} 店铺")
        kwargs.setdefault("unit_code", code)
        kwargs.setdefault("stock_ratio", Decimal("1"))
        return Shop.objects.create(
            code=code, platform=Platform.objects.get(code=platform), **kwargs
        )

    return make


@pytest.fixture
def flow(db):
    """Test data through the real intake and services (tests/factory.py)."""
    from tests.factory import Flow

    return Flow()
