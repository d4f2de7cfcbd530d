"""Encrypted buyer details (密文订单) in the review: masked receivers are not who they seem, so
merging compares the receiver id; an encrypted order needs no clear address to go on."""

import pytest

from orders.intake import intake_orders
from orders.models import HoldReason, Order, OrderHold
from orders.services import review
from orders.services.split_merge import merge_orders, split_order

from .conftest import norder

pytestmark = pytest.mark.django_db

MASKED = {
    "receiver_name": "张**",
    "receiver_phone": "138****5678",
    "address": "文三路********",
}


@pytest.fixture
def mapped(shop, tea, map_sku, stock_of):
    map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 20)


def test_two_masked_receivers_that_look_alike_but_have_other_ids_are_not_merged(
    shop, mapped, reviewer
):
    intake_orders(
        shop=shop,
        orders=[
            norder("A1", ("TEA", 1), receiver_oaid="OAID-ZHANG-WEI", **MASKED),
            norder("A2", ("TEA", 1), receiver_oaid="OAID-ZHANG-LI", **MASKED),
        ],
    )

    with pytest.raises(review.OrderError):
        merge_orders(orders=list(Order.objects.all()), actor=reviewer)
    assert not Order.objects.filter(status=Order.Status.MERGED).exists()


def test_orders_with_the_same_receiver_id_merge_though_their_masks_differ(shop, mapped, reviewer):
    intake_orders(
        shop=shop,
        orders=[
            norder("A1", ("TEA", 1), minutes=1, receiver_oaid="OAID-1", **MASKED),
            norder(
                "A2",
                ("TEA", 2),
                minutes=2,
                receiver_oaid="OAID-1",
                **{**MASKED, "receiver_phone": "138****0000"},
            ),
        ],
    )
    a1, a2 = Order.objects.order_by("platform_order_no")

    survivor = merge_orders(orders=[a1, a2], actor=reviewer)

    a2.refresh_from_db()
    assert survivor == a1 and a2.merged_into == a1


def test_an_encrypted_order_with_a_hidden_phone_is_not_held_but_a_clear_one_is(shop, mapped):
    hidden = {**MASKED, "receiver_phone": ""}  # the platform hides the phone entirely
    intake_orders(
        shop=shop,
        orders=[
            norder("A1", ("TEA", 1), receiver_oaid="OAID-1", **hidden),
            norder("A2", ("TEA", 1), **hidden),
        ],
    )
    encrypted, clear = Order.objects.order_by("platform_order_no")

    def address_held(order):
        return OrderHold.objects.filter(
            order=order, reason=HoldReason.ADDRESS_INCOMPLETE, released_at__isnull=True
        ).exists()

    assert encrypted.receiver_oaid == "OAID-1" and encrypted.receiver_name == "张**"
    assert not address_held(encrypted)
    assert address_held(clear)


def test_a_split_part_keeps_the_receiver_id(shop, mapped, reviewer):
    intake_orders(shop=shop, orders=[norder("A1", ("TEA", 2), receiver_oaid="OAID-1", **MASKED)])
    order = Order.objects.get()

    part = split_order(order=order, quantities={order.lines.get().pk: 1}, actor=reviewer)

    assert part.receiver_oaid == "OAID-1"
