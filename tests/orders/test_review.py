from decimal import Decimal

import pytest

from inventory.models import Reservation
from inventory.selectors import reservation_mismatches
from orders.intake import intake_orders
from orders.models import Carrier, HoldReason, Order, OrderComponent, OrderEvent, OrderHold
from orders.services import review
from orders.services.split_merge import merge_orders, split_order

from .conftest import norder

pytestmark = pytest.mark.django_db


@pytest.fixture
def tea_order(shop, tea, map_sku, stock_of):
    map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 10)
    intake_orders(shop=shop, orders=[norder("A1", ("TEA", 2, "30.00"))])
    return Order.objects.get(platform_order_no="A1")


def reserved(order):
    return {r.product.code: r.quantity for r in Reservation.objects.filter(document=order.document)}


def test_approving_a_reserved_order_records_who_approved_it(tea_order, reviewer):
    approved, refused = review.approve_orders(orders=[tea_order], actor=reviewer)

    tea_order.refresh_from_db()
    assert tea_order.status == Order.Status.REVIEWED and tea_order.reviewed_at
    event = OrderEvent.objects.get(order=tea_order, kind="approved")
    assert event.actor == reviewer and event.after == {"status": "reviewed"}
    assert refused == {}


def test_a_held_order_is_not_approved(tea_order, reviewer):
    review.hold(order=tea_order, actor=reviewer, note="客户要求改地址")

    approved, refused = review.approve_orders(orders=[tea_order], actor=reviewer)

    tea_order.refresh_from_db()
    assert approved == [] and tea_order.order_no in refused
    assert tea_order.status == Order.Status.PENDING_REVIEW and tea_order.on_hold


def test_releasing_a_manual_hold_ends_on_hold(tea_order, reviewer):
    review.hold(order=tea_order, actor=reviewer, note="check")
    review.release(order=tea_order, reason=HoldReason.MANUAL, actor=reviewer, note="ok")

    tea_order.refresh_from_db()
    assert not tea_order.on_hold
    hold = OrderHold.objects.get(order=tea_order)
    assert hold.released_by == reviewer and hold.release_note == "ok"


def test_cancelling_releases_the_reservation(tea_order, reviewer, tea, level):
    review.cancel_order(order=tea_order, actor=reviewer, note="买家取消")

    tea_order.refresh_from_db()
    assert tea_order.status == Order.Status.CANCELLED and tea_order.cancelled_at
    assert level(tea) == (Decimal("10"), Decimal("0"))
    assert reservation_mismatches() == []


def test_correcting_the_address_records_before_and_after(tea_order, reviewer):
    review.update_order_details(
        order=tea_order,
        changes={"address": "文三路 100 号", "receiver_name": "王小丽"},
        actor=reviewer,
    )

    event = OrderEvent.objects.get(order=tea_order, kind="edited")
    assert event.before == {"address": "文三路 90 号"} and event.after == {
        "address": "文三路 100 号"
    }


def test_emptying_the_address_holds_the_order_and_filling_it_releases(tea_order, reviewer):
    review.update_order_details(order=tea_order, changes={"address": ""}, actor=reviewer)
    tea_order.refresh_from_db()
    assert tea_order.on_hold

    review.update_order_details(order=tea_order, changes={"address": "文三路 1 号"}, actor=reviewer)
    tea_order.refresh_from_db()
    assert not tea_order.on_hold


def test_raising_a_quantity_reserves_more(tea_order, reviewer, tea, level):
    line = tea_order.lines.get()

    review.change_line_quantity(order=tea_order, line=line, quantity=5, actor=reviewer)

    assert level(tea) == (Decimal("10"), Decimal("5"))
    tea_order.refresh_from_db()
    assert tea_order.goods_amount == Decimal("150.00")


def test_raising_a_quantity_beyond_stock_holds_the_order_with_nothing_reserved(
    tea_order, reviewer, tea, level
):
    review.change_line_quantity(
        order=tea_order, line=tea_order.lines.get(), quantity=11, actor=reviewer
    )

    tea_order.refresh_from_db()
    assert tea_order.on_hold and tea_order.allocated_at is None
    assert level(tea) == (Decimal("10"), Decimal("0"))


def test_adding_and_removing_lines_moves_the_reservation(
    tea_order, reviewer, shop, cup, map_sku, stock_of, level, tea
):
    map_sku(shop, "CUP", (cup, 2))
    stock_of(cup, 10)

    line = review.add_line(
        order=tea_order, platform_sku="CUP", quantity=1, unit_price="18", actor=reviewer
    )
    assert reserved(tea_order) == {"TEA": Decimal("2"), "CUP": Decimal("2")}

    review.remove_line(
        order=tea_order, line=tea_order.lines.get(platform_sku="TEA"), actor=reviewer
    )
    assert reserved(tea_order) == {"CUP": Decimal("2")}
    assert level(tea) == (Decimal("10"), Decimal("0"))
    assert line.pk


def test_setting_a_carrier_is_an_event(tea_order, reviewer):
    carrier = Carrier.objects.create(code="SF", name="顺丰")

    assert review.set_carrier(orders=[tea_order], carrier=carrier, actor=reviewer) == 1

    tea_order.refresh_from_db()
    assert tea_order.carrier == carrier
    assert OrderEvent.objects.get(order=tea_order, kind="carrier_set").after == {"carrier": "顺丰"}


def test_a_printed_order_cannot_be_cancelled_here(tea_order, reviewer):
    Order.objects.filter(pk=tea_order.pk).update(status=Order.Status.PRINTED)

    with pytest.raises(review.OrderError):
        review.cancel_order(order=tea_order, actor=reviewer)


def test_splitting_part_of_a_line_moves_its_reservation(tea_order, reviewer):
    line = tea_order.lines.get()

    new = split_order(order=tea_order, quantities={line.pk: Decimal("1")}, actor=reviewer)

    assert new.split_from == tea_order and new.platform_order_no == tea_order.platform_order_no
    assert new.order_no != tea_order.order_no
    assert reserved(tea_order) == {"TEA": Decimal("1")} and reserved(new) == {"TEA": Decimal("1")}
    assert new.lines.get().quantity == Decimal("1") and tea_order.lines.get().quantity == 1
    assert new.goods_amount == Decimal("30.00")
    assert reservation_mismatches() == []
    for order in (tea_order, new):  # components follow their lines (the product filter uses it)
        comps = OrderComponent.objects.filter(order=order)
        assert comps.count() == 1 and {c.line.order_id for c in comps} == {order.pk}


def test_a_split_cannot_take_everything(tea_order, reviewer):
    line = tea_order.lines.get()

    with pytest.raises(review.OrderError):
        split_order(order=tea_order, quantities={line.pk: Decimal("2")}, actor=reviewer)
    assert Order.objects.count() == 1


def test_merging_orders_of_the_same_receiver_makes_one_shipment(
    shop, tea, map_sku, stock_of, reviewer
):
    map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 10)
    intake_orders(
        shop=shop, orders=[norder("A1", ("TEA", 2), minutes=1), norder("A2", ("TEA", 3), minutes=2)]
    )
    a1, a2 = Order.objects.order_by("platform_order_no")

    survivor = merge_orders(orders=[a2, a1], actor=reviewer)

    a2.refresh_from_db()
    assert survivor == a1 and a2.merged_into == a1 and a2.status == Order.Status.MERGED
    assert reserved(a1) == {"TEA": Decimal("5")} and reserved(a2) == {}
    assert survivor.lines.count() == 2 and survivor.goods_amount == Decimal("50.00")
    assert OrderComponent.objects.filter(order=survivor).count() == 2
    assert not OrderComponent.objects.filter(order=a2).exists()
    assert reservation_mismatches() == []


def test_orders_of_different_receivers_are_not_merged(shop, tea, map_sku, stock_of, reviewer):
    map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 10)
    intake_orders(
        shop=shop, orders=[norder("A1", ("TEA", 2)), norder("A2", ("TEA", 3), receiver_phone="139")]
    )

    with pytest.raises(review.OrderError):
        merge_orders(orders=list(Order.objects.all()), actor=reviewer)
    assert not Order.objects.filter(status=Order.Status.MERGED).exists()


def test_a_refund_request_for_a_split_order_holds_every_part(tea_order, reviewer):
    from datetime import timedelta

    from .conftest import T0

    new = split_order(
        order=tea_order, quantities={tea_order.lines.get().pk: Decimal("1")}, actor=reviewer
    )

    intake_orders(
        shop=tea_order.shop,
        orders=[
            norder(
                "A1",
                ("TEA", 2, "30.00"),
                modified=T0 + timedelta(days=1),
                platform_change="refund_requested",
            )
        ],
    )

    for order in (tea_order, new):
        order.refresh_from_db()
        assert order.on_hold
        assert order.holds.get(released_at__isnull=True).reason == HoldReason.REFUND_REQUESTED
    assert reserved(tea_order) == {"TEA": Decimal("1")} and reserved(new) == {"TEA": Decimal("1")}
