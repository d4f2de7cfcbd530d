"""Shared fixtures. Tests run against real PostgreSQL (the embedded one, or DATABASE_URL)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

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


# --- the clock: time-sensitive tests run at fixed times, never at the wall clock's ---------------

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIXED_TIMES = {
    # the ERP simulator's nightly full snapshot is due between 03:00 and 04:00
    "03:30 Shanghai": dt.datetime(2026, 10, 14, 3, 30, tzinfo=SHANGHAI),
    # the last second of a day and of a month (in Shanghai; 15:59:59 UTC)
    "23:59:59 Shanghai, a month's end": dt.datetime(2026, 10, 31, 23, 59, 59, tzinfo=SHANGHAI),
    # an ordinary working morning
    "10:00 Shanghai": dt.datetime(2026, 10, 15, 10, 0, tzinfo=SHANGHAI),
}


@pytest.fixture(params=list(FIXED_TIMES))
def fixed_time(request):
    """Runs the test once at each of FIXED_TIMES, with ``core.clock`` frozen there (every
    thread, the live server's included). Use it for any test whose outcome could depend on the
    time of day or the date: ``pytestmark = pytest.mark.usefixtures("fixed_time")``."""
    from core.clock import frozen

    at = FIXED_TIMES[request.param]
    with frozen(at.astimezone(dt.UTC)):
        yield at
