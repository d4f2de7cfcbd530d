"""Fixtures for after-sales tests: shipped orders built with the ORM, stock via the stock core."""

from decimal import Decimal
from itertools import count

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone, translation

from channels.models import Platform, Shop, SkuComponent, SkuMapping
from inventory import services as stock
from inventory.models import Product, Warehouse
from orders.models import Order, OrderComponent, OrderLine

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
def product(db):
    def make(code, name=None):
        return Product.objects.create(code=code, name=name or f"商品{code}")

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
def make_shipped_order(warehouses, shop):
    """A shipped order: lines = [(platform_sku, quantity, unit_price, [(product, per_unit)])].

    Stock is put on hand, reserved and shipped through the stock core, so the ledger is whole.
    """
    main, _defective = warehouses

    def make(lines, *, shop=shop, total=None, status=Order.Status.SHIPPED, number=None):
        n = next(_numbers)
        amounts = [D(q) * D(p) for _s, q, p, _c in lines]
        order = Order.objects.create(
            order_no=number or f"SO{n:08d}",
            shop=shop,
            platform_order_no=f"TB{n:010d}",
            status=Order.Status.PENDING_REVIEW,
            receiver_name="张三",
            receiver_phone="13800000000",
            province="浙江省",
            city="杭州市",
            address="西湖区文三路1号",
            goods_amount=sum(amounts, D(0)),
            total_amount=D(total) if total is not None else sum(amounts, D(0)),
            paid_at=timezone.now(),
        )
        need = {}
        for (sku, quantity, price, components), amount in zip(lines, amounts, strict=True):
            mapping, _ = SkuMapping.objects.get_or_create(shop=shop, platform_sku=sku)
            line = OrderLine.objects.create(
                order=order,
                platform_sku=sku,
                title=f"标题 {sku}",
                quantity=D(quantity),
                unit_price=D(price),
                amount=amount,
                mapping=mapping,
            )
            for prod, per_unit in components:
                SkuComponent.objects.get_or_create(
                    mapping=mapping, product=prod, defaults={"quantity": D(per_unit)}
                )
                OrderComponent.objects.create(line=line, product=prod, quantity=D(per_unit))
                need[prod.id] = need.get(prod.id, D(0)) + D(quantity) * D(per_unit)
        if status == Order.Status.SHIPPED:
            for pid, q in need.items():
                stock.adjust(warehouse_id=main.id, product_id=pid, quantity=q, actor=None)
            stock.reserve(document=order.document, items=list(need.items()))
            stock.ship(document=order.document, actor=None)
            order.shipped_at = timezone.now()
        order.status = status
        order.save()
        return order

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
