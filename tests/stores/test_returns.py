"""Returns in the store: the lines' net amounts are refunded, the goods go back into the
store's location (or the main or defective warehouse), online orders only where allowed."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User

from channels.types import NormalizedLine, NormalizedOrder
from orders.intake import intake_orders
from orders.models import Order
from returns.models import ReturnOrder
from returns.services import approve_return
from stores import services
from stores.services import StoreError

from .conftest import level

pytestmark = pytest.mark.django_db


@pytest.fixture
def reviewer(db):
    user = User.objects.create_user("reviewer1", password="x-pass-12345")
    user.groups.add(Group.objects.get(name="after_sales_reviewer"))
    return user


def sold(store, guide, quantity=2):
    order = services.place_order(
        store=store,
        lines=[{"code": "TX2601-01-S", "quantity": quantity}],
        fulfilment="takeaway",
        actor=guide,
    )
    services.take_payment(
        order=order, store=store, method="cash", amount=order.total_amount, actor=guide
    )
    services.hand_over(order=order, store=store, actor=guide)
    return Order.objects.get(pk=order.pk)


def test_a_store_return_refunds_the_net_amount_and_goes_back_into_the_store(
    store, stocked, guide, reviewer, clock
):
    order = sold(store, guide)
    assert level(store.location_id, stocked["TX2601-01-S"]) == (0, 0)
    line = order.lines.get()
    ro = services.create_store_return(
        store=store, order=order, lines=[(line, 1)], reason="尺码不合适", actor=guide
    )
    assert ro.refund_amount == Decimal("99.00")
    approve_return(return_order=ro, actor=reviewer)
    ro.refresh_from_db()
    services.receive_store_return(
        store=store,
        return_order=ro,
        receipts=[(ro.lines.get(), stocked["TX2601-01-S"], 1, 0)],
        actor=guide,
    )
    ro.refresh_from_db()
    assert ro.status == ReturnOrder.Status.RECEIVED
    assert level(store.location_id, stocked["TX2601-01-S"]) == (1, 0)


def test_a_return_never_refunds_more_than_the_line_was_paid(store, stocked, guide, clock):
    order = sold(store, guide)
    line = order.lines.get()
    with pytest.raises(StoreError):
        services.create_store_return(
            store=store, order=order, lines=[(line, 3)], reason="x", actor=guide
        )
    assert not ReturnOrder.objects.exists()


def test_an_online_order_is_returned_in_the_store_only_when_its_shop_allows_it(
    store, stocked, guide, make_shop, clock
):
    shop = make_shop("TM01", "tmall")
    result = intake_orders(
        shop=shop,
        orders=[
            NormalizedOrder(
                platform_order_no="T1",
                receiver_name="王五",
                receiver_phone="13800000000",
                province="上海市",
                city="上海市",
                address="路1号",
                lines=[
                    NormalizedLine(platform_sku="X", quantity=Decimal(1), unit_price=Decimal(9))
                ],
            )
        ],
    )
    order = Order.objects.get(pk=result.order_ids[0])
    with pytest.raises(StoreError) as err:
        services.create_store_return(
            store=store, order=order, lines=[(order.lines.get(), 1)], reason="x", actor=guide
        )
    assert err.value.code == "other_shop"
    shop.store_returns_allowed = True
    shop.save()
    with pytest.raises(StoreError) as err:  # allowed now; but it has not shipped
        services.create_store_return(
            store=store, order=order, lines=[(order.lines.get(), 1)], reason="x", actor=guide
        )
    assert err.value.code == "return"
    assert not ReturnOrder.objects.exists()
