"""Fixtures of the warehouse tests: carriers with a number pool, and reviewed orders with their
stock reserved, made through the real intake and review services (tests/factory.py)."""

from decimal import Decimal
from itertools import count

import pytest
from django.contrib.auth.models import Group, User

from inventory import services as stock
from orders.models import Carrier, HoldReason, Order, TrackingNumberRange
from orders.services.holds import hold_order
from orders.services.review import set_carrier

_seq = count(1)


@pytest.fixture
def reseeded(transactional_db):
    """A transactional test. The rows seeded by data migrations (platforms, warehouses, groups)
    come back after the flush that ends it by themselves: the flush re-sends post_migrate and
    inventory.seeds.ensure_reference_data answers it."""


@pytest.fixture
def carrier(db):
    sf = Carrier.objects.create(code="SF", name="顺丰速运")
    TrackingNumberRange.objects.create(
        carrier=sf, prefix="SF", start=1000000, end=1000999, next_value=1000000
    )
    return sf


@pytest.fixture
def shop(make_shop):
    return make_shop("TM01", "tmall", name="天猫旗舰店")


@pytest.fixture
def worker(db):
    user = User.objects.create_user("picker", password="pick-pass-123")
    user.groups.add(Group.objects.get(name="warehouse"))
    return user


@pytest.fixture
def stocked_product(make_product, main_warehouse):
    def make(name="保温杯", barcode=None, spec="500ml 白色", on_hand=100, **kwargs):
        n = next(_seq)
        product = make_product(name=name, barcode=barcode or f"69{n:011d}", spec=spec, **kwargs)
        stock.adjust(
            warehouse_id=main_warehouse.id, product_id=product.id, quantity=on_hand, actor=None
        )
        return product

    return make


@pytest.fixture
def make_order(shop, carrier):
    """An order of [(product, quantity, unit_price)] (SKU-<code> maps to 1 product each),
    taken in by the intake (which reserves its stock), approved and given the carrier by the
    review services; ``held``: then held as a platform refund would hold it."""
    from tests.factory import Flow

    flow = Flow(shop=shop)

    def make(items, *, status=Order.Status.REVIEWED, carrier=carrier, held=False, **kwargs):
        order_shop = kwargs.pop("shop", shop)
        kwargs.setdefault("receiver_name", "张三")
        kwargs.setdefault("receiver_phone", "13800138000")
        kwargs.setdefault("province", "浙江省")
        kwargs.setdefault("city", "杭州市")
        kwargs.setdefault("district", "西湖区")
        kwargs.setdefault("address", "文三路100号2幢301室")
        for product, _q, _p in items:
            flow.sku(f"SKU-{product.code}", product, shop=order_shop)
        order = flow.order(
            [(f"SKU-{p.code}", Decimal(q), Decimal(price)) for p, q, price in items],
            shop=order_shop,
            **kwargs,
        )
        if carrier is not None:
            set_carrier(orders=[order], carrier=carrier, actor=flow.reviewer())
        order = flow.moved_to(order, status)
        if held:
            hold(order)
        return order

    return make


def hold(order, reason=HoldReason.REFUND_REQUESTED):
    """Held as the intake holds an order the buyer asked a refund for on the platform."""
    hold_order(order=order, reason=reason, actor="test")
    order.refresh_from_db()
    return order
