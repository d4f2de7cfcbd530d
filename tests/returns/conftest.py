"""Fixtures for after-sales tests: shipped orders made through the real intake and services."""

from decimal import Decimal
from itertools import count

import pytest
from django.contrib.auth.models import Group, User
from django.utils import translation

from channels.models import Platform, Shop
from inventory.models import Warehouse
from orders.models import Order

D = Decimal
_numbers = count(1)


@pytest.fixture(autouse=True)
def english_messages():
    """Assertions read the English msgids; tests of the Chinese interface override this."""
    with translation.override("en"):
        yield


@pytest.fixture
def warehouses(db):
    """The main and defective warehouses (recreated when a transactional test flushed them)."""
    main, _ = Warehouse.objects.get_or_create(
        kind="main", defaults={"code": "main", "name": "电商总仓", "sellable": True}
    )
    defective, _ = Warehouse.objects.get_or_create(
        kind="defective", defaults={"code": "defective", "name": "次品仓", "sellable": False}
    )
    return main, defective


@pytest.fixture
def shop(db):
    platform, _ = Platform.objects.get_or_create(
        code="tmall", defaults={"name": "天猫", "integration": "api"}
    )
    return Shop.objects.create(
        code="TM01", name="天猫旗舰店", platform=platform, unit_code="TM01", stock_ratio=D("1")
    )


@pytest.fixture
def other_shop(db):
    platform, _ = Platform.objects.get_or_create(
        code="jd", defaults={"name": "京东", "integration": "api"}
    )
    return Shop.objects.create(
        code="JD01", name="京东店", platform=platform, unit_code="JD01", stock_ratio=D("1")
    )


@pytest.fixture
def product(flow):
    def make(code, name=None):
        return flow.product(code, name or f"商品{code}")

    return make


def _group_user(username, *groups):
    user = User.objects.create_user(username, password="pw-secret-1", is_staff=True)
    for name in groups:
        user.groups.add(Group.objects.get(name=name))
    return user


@pytest.fixture
def roles(db):
    from config.roles import sync_role_permissions

    sync_role_permissions()  # a transactional test may have flushed the groups' permissions


@pytest.fixture
def after_sales(roles):
    return _group_user("shouhou", "after_sales")


@pytest.fixture
def reviewer(roles):
    return _group_user("shenhe", "after_sales_reviewer")


@pytest.fixture
def both_roles(roles):
    """Someone who is both after-sales staff and reviewer (a small team)."""
    return _group_user("liangge", "after_sales", "after_sales_reviewer")


@pytest.fixture
def auditor(roles):
    return _group_user("shenji", "auditor")


@pytest.fixture
def flow(warehouses, shop):
    """The real intake and services (tests/factory.py), for this app's shop."""
    from tests.factory import Flow

    return Flow(shop=shop)


@pytest.fixture
def make_shipped_order(flow, shop):
    """An order through the real flow: lines = [(platform_sku, quantity, unit_price,
    [(product, per_unit)])] (the SKU relations imported as given, stock put on hand), taken
    in by the intake and moved by the services to ``status`` (shipped by default)."""

    def make(lines, *, shop=shop, status=Order.Status.SHIPPED):
        return flow.order_of(lines, shop=shop, status=status)

    return make


@pytest.fixture
def simple_order(make_shipped_order, product):
    """Shipped: 3 × SKU-A (1 × product A each) and 2 × a bundle (2 × B + 1 × C) ."""
    a, b, c = product("A001"), product("B001"), product("C001")
    order = make_shipped_order(
        [
            ("SKU-A", "3", "10.00", [(a, "1")]),
            ("SKU-BUNDLE", "2", "50.00", [(b, "2"), (c, "1")]),
        ]
    )
    order.products = {"A": a, "B": b, "C": c}
    order.line_a, order.line_bundle = order.lines.order_by("id")
    return order
