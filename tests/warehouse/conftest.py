"""Fixtures of the warehouse tests: carriers with a number pool, and reviewed orders with their
stock reserved, made directly with the ORM (independent of the intake and review services)."""

from decimal import Decimal
from itertools import count

import pytest
from django.contrib.auth.models import Group, User
from django.utils import timezone

from inventory import services as stock
from orders.models import Carrier, Order, OrderComponent, OrderHold, OrderLine, TrackingNumberRange

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
    """A reviewed order with lines [(product, quantity, unit_price)], its stock reserved."""

    def make(items, *, status=Order.Status.REVIEWED, carrier=carrier, held=False, **kwargs):
        n = next(_seq)
        kwargs.setdefault("receiver_name", "张三")
        kwargs.setdefault("receiver_phone", "13800138000")
        kwargs.setdefault("province", "浙江省")
        kwargs.setdefault("city", "杭州市")
        kwargs.setdefault("district", "西湖区")
        kwargs.setdefault("address", "文三路100号2幢301室")
        order = Order.objects.create(
            order_no=f"TC{n:08d}",
            shop=kwargs.pop("shop", shop),
            platform_order_no=f"P{n:010d}",
            status=status,
            carrier=carrier,
            reviewed_at=timezone.now(),
            paid_at=timezone.now(),
            **kwargs,
        )
        goods = Decimal(0)
        reserve = []
        for i, (product, quantity, price) in enumerate(items, 1):
            quantity, price = Decimal(quantity), Decimal(price)
            line = OrderLine.objects.create(
                order=order,
                platform_line_id=f"{order.platform_order_no}-{i}",
                platform_sku=f"SKU-{product.code}",
                title=product.name,
                quantity=quantity,
                unit_price=price,
                amount=quantity * price,
            )
            OrderComponent.objects.create(line=line, product=product, quantity=quantity)
            reserve.append((product.id, quantity))
            goods += quantity * price
        order.goods_amount = goods
        order.total_amount = goods + order.shipping_fee - order.discount_amount
        order.save()
        stock.reserve(document=order.document, items=reserve)
        if held:
            hold(order)
        return order

    return make


def hold(order, reason="refund_requested"):
    OrderHold.objects.create(order=order, reason=reason)
    Order.objects.filter(pk=order.pk).update(on_hold=True)
    order.refresh_from_db()
    return order
