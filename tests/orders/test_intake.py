from datetime import timedelta
from decimal import Decimal

import pytest

from channels.models import SellableQuantity
from inventory.models import Reservation
from orders.intake import IntakeError, intake_orders
from orders.models import HoldReason, Order, OrderComponent, OrderEvent, OrderHold

from .conftest import T0, norder

pytestmark = pytest.mark.django_db


def active_holds(order):
    return set(
        OrderHold.objects.filter(order=order, released_at__isnull=True).values_list(
            "reason", flat=True
        )
    )


def test_a_bundle_line_becomes_components_of_line_quantity_times_component(
    shop, tea, cup, map_sku, stock_of
):
    map_sku(shop, "GIFT", (tea, "0.5"), (cup, "2"))
    stock_of(tea, 10)
    stock_of(cup, 10)

    result = intake_orders(shop=shop, orders=[norder("A1", ("GIFT", 3, "128.00"))])

    order = Order.objects.get(pk=result.order_ids[0])
    comps = {c.product.code: c.quantity for c in OrderComponent.objects.filter(line__order=order)}
    assert comps == {"TEA": Decimal("1.5"), "CUP": Decimal("6")}
    assert order.goods_amount == Decimal("384.00") and order.total_amount == Decimal("384.00")
    assert order.order_no.startswith("SO") and order.status == Order.Status.PENDING_REVIEW
    assert result.created == 1 and result.held == 0


def test_taking_in_the_same_order_again_creates_nothing(shop, tea, map_sku, stock_of):
    map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 10)
    orders = [norder("A1", ("TEA", 2)), norder("A2", ("TEA", 1))]

    intake_orders(shop=shop, orders=orders)
    again = intake_orders(shop=shop, orders=orders)

    assert (again.created, again.updated, again.skipped) == (0, 0, 2)
    assert Order.objects.count() == 2
    assert Reservation.objects.get(document=Order.objects.get(platform_order_no="A1").document)


def test_a_newer_modification_updates_and_an_older_one_is_ignored(shop, tea, map_sku, stock_of):
    map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 10)
    t = T0 + timedelta(hours=1)
    intake_orders(shop=shop, orders=[norder("A1", ("TEA", 1), modified=t)])

    newer = intake_orders(
        shop=shop,
        orders=[norder("A1", ("TEA", 1), modified=t + timedelta(minutes=5), address="新地址 1 号")],
    )
    older = intake_orders(
        shop=shop,
        orders=[norder("A1", ("TEA", 1), modified=t - timedelta(minutes=5), address="旧地址")],
    )

    order = Order.objects.get(platform_order_no="A1")
    assert (newer.updated, older.skipped) == (1, 1)
    assert order.address == "新地址 1 号"
    event = OrderEvent.objects.get(order=order, kind="platform_update")
    assert event.before["address"] == "文三路 90 号" and event.after["address"] == "新地址 1 号"


def test_new_lines_from_the_platform_move_the_reservation(shop, tea, map_sku, stock_of, level):
    map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 10)
    intake_orders(shop=shop, orders=[norder("A1", ("TEA", 2), modified=T0)])

    intake_orders(shop=shop, orders=[norder("A1", ("TEA", 5), modified=T0 + timedelta(minutes=1))])

    assert level(tea) == (Decimal("10"), Decimal("5"))


def test_stock_is_reserved_oldest_paid_first_and_the_short_order_reserves_nothing(
    shop, tea, cup, map_sku, stock_of, level
):
    map_sku(shop, "TEA", (tea, 1))
    map_sku(shop, "SET", (tea, 1), (cup, 1))
    stock_of(tea, 3)
    stock_of(cup, 5)
    late = norder("LATE", ("TEA", 2), minutes=30)
    early = norder("EARLY", ("TEA", 2), minutes=5)
    mixed = norder("MIXED", ("SET", 2), minutes=10)

    intake_orders(shop=shop, orders=[late, early, mixed])

    assert Order.objects.get(platform_order_no="EARLY").allocated_at is not None
    for no in ("LATE", "MIXED"):
        order = Order.objects.get(platform_order_no=no)
        assert order.on_hold and active_holds(order) == {HoldReason.STOCK_SHORT}
        assert not Reservation.objects.filter(document=order.document).exists()
    assert level(tea) == (Decimal("3"), Decimal("2"))
    assert level(cup) == (Decimal("5"), Decimal("0"))


def test_stock_growth_allocates_held_orders_oldest_first(shop, tea, map_sku, stock_of, level):
    map_sku(shop, "TEA", (tea, 1))
    intake_orders(
        shop=shop, orders=[norder("B", ("TEA", 2), minutes=20), norder("A", ("TEA", 2), minutes=10)]
    )
    assert Order.objects.filter(on_hold=True).count() == 2

    stock_of(tea, 3)

    a, b = Order.objects.get(platform_order_no="A"), Order.objects.get(platform_order_no="B")
    assert a.allocated_at is not None and not a.on_hold
    assert b.allocated_at is None and active_holds(b) == {HoldReason.STOCK_SHORT}
    assert level(tea) == (Decimal("3"), Decimal("2"))
    assert OrderEvent.objects.filter(order=a, kind="release").exists()


def test_an_unmapped_sku_holds_the_order_until_remapped(shop, tea, map_sku, stock_of, level):
    from orders.services.review import remap_unmapped_orders

    stock_of(tea, 5)
    intake_orders(shop=shop, orders=[norder("A1", ("NEW-SKU", 2))])
    order = Order.objects.get()
    assert active_holds(order) == {HoldReason.SKU_UNMAPPED}
    assert level(tea)[1] == 0

    map_sku(shop, "NEW-SKU", (tea, 1))
    assert remap_unmapped_orders() == 1

    order.refresh_from_db()
    assert not order.on_hold and order.allocated_at is not None
    assert level(tea) == (Decimal("5"), Decimal("2"))


def test_a_refund_request_before_shipping_holds_the_order_and_keeps_its_stock(
    shop, tea, map_sku, stock_of, level
):
    map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 5)
    intake_orders(shop=shop, orders=[norder("A1", ("TEA", 2), modified=T0)])

    intake_orders(
        shop=shop,
        orders=[
            norder(
                "A1",
                ("TEA", 2),
                modified=T0 + timedelta(hours=1),
                platform_change="refund_requested",
            )
        ],
    )

    order = Order.objects.get()
    assert active_holds(order) == {HoldReason.REFUND_REQUESTED}
    assert level(tea) == (Decimal("5"), Decimal("2"))


def test_a_cancellation_after_shipping_marks_the_order_for_after_sales(
    shop, tea, map_sku, stock_of
):
    map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 5)
    intake_orders(shop=shop, orders=[norder("A1", ("TEA", 2), modified=T0)])
    Order.objects.update(status=Order.Status.SHIPPED)

    intake_orders(
        shop=shop,
        orders=[
            norder("A1", ("TEA", 2), modified=T0 + timedelta(hours=1), platform_change="cancelled")
        ],
    )

    order = Order.objects.get()
    assert order.after_sales_pending and not order.on_hold


def test_sellable_quantities_follow_the_reservations_once_per_intake(
    shop, tea, map_sku, stock_of, django_capture_on_commit_callbacks
):
    mapping = map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 10)
    assert SellableQuantity.objects.get(mapping=mapping).quantity == 10

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        intake_orders(shop=shop, orders=[norder(f"A{i}", ("TEA", 2)) for i in range(3)])

    assert SellableQuantity.objects.get(mapping=mapping).quantity == 4
    assert len(callbacks) == 1


def test_bad_input_is_refused_and_writes_nothing(shop, tea, map_sku):
    map_sku(shop, "TEA", (tea, 1))
    good = norder("A1", ("TEA", 1))
    bad = norder("A2", ("TEA", 0))

    with pytest.raises(IntakeError) as err:
        intake_orders(shop=shop, orders=[good, bad])

    assert "A2 line 1: quantity must be positive" in str(err.value)
    assert Order.objects.count() == 0


def test_automatic_review_approves_plain_orders_within_the_limit(shop, tea, map_sku, stock_of):
    shop.auto_review_enabled = True
    shop.auto_review_max_amount = Decimal("100")
    shop.save()
    map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 50)

    intake_orders(
        shop=shop,
        orders=[
            norder("PLAIN", ("TEA", 1, "50")),
            norder("REMARK", ("TEA", 1, "50"), buyer_remark="请尽快发货"),
            norder("BIG", ("TEA", 3, "50")),
        ],
    )

    status = dict(Order.objects.values_list("platform_order_no", "status"))
    assert status == {"PLAIN": "reviewed", "REMARK": "pending_review", "BIG": "pending_review"}
    assert OrderEvent.objects.get(
        order__platform_order_no="PLAIN", kind="approved"
    ).actor_label == ("auto_review")


def test_a_missing_address_holds_the_order_but_still_reserves(shop, tea, map_sku, stock_of):
    map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 5)

    intake_orders(shop=shop, orders=[norder("A1", ("TEA", 1), address="")])

    order = Order.objects.get()
    assert active_holds(order) == {HoldReason.ADDRESS_INCOMPLETE}
    assert order.allocated_at is not None


def test_automatic_review_approves_a_stock_short_order_once_stock_arrives(
    shop, tea, map_sku, stock_of
):
    shop.auto_review_enabled = True
    shop.save()
    map_sku(shop, "TEA", (tea, 1))
    intake_orders(shop=shop, orders=[norder("A1", ("TEA", 2))])
    assert Order.objects.get().status == Order.Status.PENDING_REVIEW

    stock_of(tea, 2)

    order = Order.objects.get()
    assert order.status == Order.Status.REVIEWED and not order.on_hold


def test_an_order_first_seen_already_cancelled_is_held_and_reserves_nothing(
    shop, tea, map_sku, stock_of, level
):
    map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 5)

    intake_orders(shop=shop, orders=[norder("A1", ("TEA", 2), platform_change="cancelled")])

    order = Order.objects.get()
    assert active_holds(order) == {HoldReason.REFUND_REQUESTED}
    assert order.allocated_at is None and level(tea) == (Decimal("5"), Decimal("0"))


def test_the_same_modification_time_again_changes_nothing(shop, tea, map_sku, stock_of):
    map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 5)
    intake_orders(shop=shop, orders=[norder("A1", ("TEA", 1), modified=T0)])

    again = intake_orders(shop=shop, orders=[norder("A1", ("TEA", 3), modified=T0, address="别处")])

    order = Order.objects.get()
    assert again.skipped == 1 and order.address == "文三路 90 号"
    assert order.lines.get().quantity == Decimal("1")
