"""Store orders through the one order writer: where they reserve, what they cost, how they
are paid, handed over and picked up, and what is refused (nothing written)."""

import datetime as dt
from decimal import Decimal

import pytest

from core.clock import frozen
from inventory.models import Reservation, StockMove, Warehouse
from orders.models import Fulfilment, HoldReason, Order, Payment
from orders.services.review import approve_orders
from stores import services
from stores.models import PickupAttempt
from stores.services import StoreError

from .conftest import T0, level

pytestmark = pytest.mark.django_db


def cart(*pairs):
    return [{"code": code, "quantity": q} for code, q in pairs]


def place(store, fulfilment="takeaway", lines=None, **kwargs):
    kwargs.setdefault("actor", "kiosk:1")
    return services.place_order(
        store=store,
        lines=cart(("TX2601-01-S", 1)) if lines is None else lines,
        fulfilment=fulfilment,
        **kwargs,
    )


def pay(order, store, guide, amount=None, method="wechat"):
    return services.take_payment(
        order=order,
        store=store,
        method=method,
        amount=amount if amount is not None else order.total_amount,
        reference="WX-123",
        actor=guide,
    )


def test_take_away_order_is_reserved_in_the_store_unpaid_and_priced_by_the_quote(
    store, stocked, clock
):
    order = place(store, lines=cart(("TX2601-01-S", 2)))
    assert order.fulfilment == Fulfilment.TAKEAWAY
    assert order.shop_id == store.shop_id
    assert order.total_amount == Decimal("198.00")
    assert order.quote["total"] == "198.00"
    assert order.quote["lines"][0]["product_code"] == "TX2601-01-S"
    assert order.paid_at is None
    assert order.payment_due_at == T0 + dt.timedelta(minutes=30)
    assert order.holds.filter(reason=HoldReason.UNPAID, released_at__isnull=True).exists()
    reserved = Reservation.objects.get(document=order.document)
    assert reserved.warehouse_id == store.location_id
    assert reserved.quantity == 2
    assert level(store.location_id, stocked["TX2601-01-S"]) == (2, 2)
    assert level(Warehouse.main().pk, stocked["TX2601-01-S"]) == (10, 0)


def test_a_tampered_price_is_ignored(store, stocked, clock):
    lines = [{"code": "TX2601-01-S", "quantity": 1, "price": "0.01", "unit_price": "0.01"}]
    order = place(store, lines=lines)
    assert order.total_amount == Decimal("99.00")
    assert order.lines.get().amount == Decimal("99.00")


def test_take_away_more_than_the_store_has_is_refused_and_nothing_is_written(store, stocked, clock):
    before = Order.objects.count()
    with pytest.raises(StoreError) as err:
        place(store, lines=cart(("TX2601-01-M", 2)))
    assert err.value.code == "short"
    assert Order.objects.count() == before
    assert not Reservation.objects.exists()
    assert level(store.location_id, stocked["TX2601-01-M"]) == (1, 0)


def test_an_order_for_the_sample_location_is_refused(store, stocked, clock):
    with pytest.raises(StoreError) as err:
        place(store, location=store.sample_location.code)
    assert err.value.code == "sample"
    assert not Order.objects.exists()


def test_an_order_for_another_stores_location_is_refused(store, other_store, stocked, clock):
    with pytest.raises(StoreError) as err:
        place(store, location=other_store.location.code)
    assert err.value.code == "other_location"
    assert not Order.objects.exists()


def test_bad_carts_are_refused(store, stocked, clock):
    for lines, code in (
        ([], "empty"),
        (cart(("NOPE", 1)), "unknown_product"),
        (cart(("TX2601-01-S", 0)), "bad_quantity"),
        (cart(("TX2601-01-S", "1.5")), "bad_quantity"),
        ("not a list", "empty"),
    ):
        with pytest.raises(StoreError) as err:
            place(store, lines=lines)
        assert err.value.code == code
    with pytest.raises(StoreError) as err:
        place(store, fulfilment="teleport")
    assert err.value.code == "bad_fulfilment"
    assert not Order.objects.exists()


def test_pick_up_reserves_in_the_store_when_it_has_the_goods_else_in_the_main_warehouse(
    store, stocked, clock
):
    here = place(store, "pickup", customer={"phone": "13800001234"})
    assert Reservation.objects.get(document=here.document).warehouse_id == store.location_id
    there = place(store, "pickup", lines=cart(("TX2601-02-L", 1)), member_phone="13800001234")
    assert Reservation.objects.get(document=there.document).warehouse_id == Warehouse.main().pk
    with pytest.raises(StoreError) as err:
        place(store, "pickup")  # no phone to check at the pick-up
    assert err.value.code == "no_phone"


def test_delivery_reserves_in_the_main_warehouse_and_needs_an_address(store, stocked, clock):
    with pytest.raises(StoreError) as err:
        place(store, "delivery", customer={"name": "张三", "phone": "13800001234"})
    assert err.value.code == "bad_address"
    order = place(
        store,
        "delivery",
        customer={
            "name": "张三",
            "phone": "13800001234",
            "province": "上海市",
            "city": "上海市",
            "address": "长寿路9号",
        },
    )
    assert Reservation.objects.get(document=order.document).warehouse_id == Warehouse.main().pk
    assert order.receiver_name == "张三"
    assert order.shop.unit_code == "MD01"


def test_unpaid_orders_cannot_be_approved_and_paid_delivery_goes_to_review(
    store, stocked, guide, clock
):
    order = place(
        store,
        "delivery",
        customer={
            "name": "张三",
            "phone": "13800001234",
            "province": "上海市",
            "city": "上海市",
            "address": "长寿路9号",
        },
    )
    approved, refused = approve_orders(orders=[order], actor=guide)
    assert not approved and order.order_no in refused
    pay(order, store, guide)
    order.refresh_from_db()
    assert order.paid_at == T0 and not order.on_hold
    approved, refused = approve_orders(orders=[order], actor=guide)
    assert [o.pk for o in approved] == [order.pk]


def test_a_take_away_order_is_not_approved_for_the_warehouse(store, stocked, guide, clock):
    order = place(store)
    pay(order, store, guide)
    approved, refused = approve_orders(orders=[order], actor=guide)
    assert not approved and order.order_no in refused


def test_paying_and_handing_over_ships_a_take_away_order_from_the_store(
    store, stocked, guide, clock
):
    order = place(store, lines=cart(("TX2601-01-S", 2)))
    with pytest.raises(StoreError) as err:
        services.hand_over(order=order, store=store, actor=guide)
    assert err.value.code == "unpaid"
    pay(order, store, guide, amount=Decimal("100.00"), method="cash")
    order.refresh_from_db()
    assert order.paid_at is None  # 98.00 still to pay
    with pytest.raises(StoreError) as err:
        pay(order, store, guide, amount=Decimal("99.00"))
    assert err.value.code == "too_much"
    pay(order, store, guide, amount=Decimal("98.00"))
    order.refresh_from_db()
    assert order.paid_at is not None and order.guide_id == guide.pk
    assert sorted(Payment.objects.filter(order=order).values_list("method", "amount")) == [
        ("cash", Decimal("100.00")),
        ("wechat", Decimal("98.00")),
    ]
    services.hand_over(order=order, store=store, actor=guide)
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED and order.handed_over_at is not None
    assert level(store.location_id, stocked["TX2601-01-S"]) == (0, 0)
    move = StockMove.objects.get(document=order.document)
    assert (move.warehouse_id, move.quantity, move.reason) == (store.location_id, -2, "ship")
    with pytest.raises(StoreError) as err:
        services.hand_over(order=order, store=store, actor=guide)
    assert err.value.code == "handed_over"


def test_a_wechat_payment_needs_its_reference(store, stocked, guide, clock):
    order = place(store)
    with pytest.raises(StoreError) as err:
        services.take_payment(
            order=order, store=store, method="wechat", amount="99", reference=" ", actor=guide
        )
    assert err.value.code == "no_reference"
    assert not Payment.objects.exists()


def test_another_stores_guide_cannot_touch_the_order(store, other_store, stocked, guide, clock):
    order = place(store)
    with pytest.raises(StoreError) as err:
        pay(order, other_store, guide)
    assert err.value.code == "other_store"
    assert not Payment.objects.exists()


def ready_pickup(store, guide):
    order = place(store, "pickup", customer={"name": "李四", "phone": "13800005678"})
    pay(order, store, guide)
    order.refresh_from_db()
    return order


def test_a_paid_pick_up_in_the_store_is_ready_with_an_eight_digit_code_used_once(
    store, stocked, guide, clock
):
    order = ready_pickup(store, guide)
    assert order.pickup_ready_at is not None
    assert len(order.pickup_code) == 8 and order.pickup_code.isdigit()
    with pytest.raises(StoreError) as err:
        services.verify_pickup(
            order=order, store=store, code=order.pickup_code, phone_last4="0000", actor=guide
        )
    assert err.value.code == "wrong_code"
    services.verify_pickup(
        order=order, store=store, code=order.pickup_code, phone_last4="5678", actor=guide
    )
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED and order.handed_over_at is not None
    assert level(store.location_id, stocked["TX2601-01-S"]) == (1, 0)
    with pytest.raises(StoreError) as err:
        services.verify_pickup(
            order=order, store=store, code=order.pickup_code, phone_last4="5678", actor=guide
        )
    assert err.value.code == "handed_over"


def test_five_wrong_codes_in_fifteen_minutes_lock_the_order(store, stocked, guide, manager):
    with frozen(T0):
        order = ready_pickup(store, guide)
    for minute in range(4):
        with frozen(T0 + dt.timedelta(minutes=minute)):
            with pytest.raises(StoreError) as err:
                services.verify_pickup(
                    order=order, store=store, code="00000000", phone_last4="5678", actor=guide
                )
            assert err.value.code == "wrong_code"
    with frozen(T0 + dt.timedelta(minutes=14)):
        with pytest.raises(StoreError) as err:
            services.verify_pickup(
                order=order, store=store, code="11111111", phone_last4="5678", actor=guide
            )
        assert err.value.code == "locked"
        with pytest.raises(StoreError) as err:  # even the right code now
            services.verify_pickup(
                order=order, store=store, code=order.pickup_code, phone_last4="5678", actor=guide
            )
        assert err.value.code == "locked"
    assert PickupAttempt.objects.filter(order=order, ok=False).count() == 5
    services.unlock_pickup(order=order, store=store, actor=manager)
    with frozen(T0 + dt.timedelta(minutes=20)):
        services.verify_pickup(
            order=order, store=store, code=order.pickup_code, phone_last4="5678", actor=guide
        )
    order.refresh_from_db()
    assert order.handed_over_at is not None


def test_wrong_codes_spread_over_more_than_fifteen_minutes_do_not_lock(store, stocked, guide):
    with frozen(T0):
        order = ready_pickup(store, guide)
    for minute in (0, 5, 10, 16, 20, 25):
        with frozen(T0 + dt.timedelta(minutes=minute)):
            with pytest.raises(StoreError) as err:
                services.verify_pickup(
                    order=order, store=store, code="00000000", phone_last4="5678", actor=guide
                )
            assert err.value.code == "wrong_code"


def test_a_pick_up_sent_by_the_main_warehouse_is_ready_when_it_arrives(
    store, stocked, guide, clock
):
    from orders.services import shipping

    order = place(store, "pickup", lines=cart(("TX2601-02-L", 1)), member_phone="13800001234")
    pay(order, store, guide)
    order.refresh_from_db()
    assert order.pickup_ready_at is None
    with pytest.raises(StoreError):
        services.receive_pickup_parcel(order=order, store=store, actor=guide)
    # The warehouse's normal flow, shortened: approved, verified, shipped to the store.
    approve_orders(orders=[order], actor=guide)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.VERIFIED)
    shipping.ship_order(order=order, actor=guide)
    assert level(Warehouse.main().pk, stocked["TX2601-02-L"]) == (9, 0)
    services.receive_pickup_parcel(order=order, store=store, actor=guide)
    order.refresh_from_db()
    assert order.pickup_code and order.pickup_ready_at
    services.verify_pickup(
        order=order, store=store, code=order.pickup_code, phone_last4="1234", actor=guide
    )
    order.refresh_from_db()
    assert order.handed_over_at is not None


def test_unpaid_orders_expire_after_thirty_minutes_and_release_their_stock(store, stocked, guide):
    with frozen(T0):
        order = place(store, lines=cart(("TX2601-01-S", 2)))
        paid = place(store, "pickup", lines=cart(("TX2601-01-M", 1)), member_phone="13800001234")
        pay(paid, store, guide)
    with frozen(T0 + dt.timedelta(minutes=29)):
        assert services.expire_unpaid_orders() == 0
    with frozen(T0 + dt.timedelta(minutes=31)):
        assert services.expire_unpaid_orders() == 1
        assert services.expire_unpaid_orders() == 0  # idempotent
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert level(store.location_id, stocked["TX2601-01-S"]) == (2, 0)
    assert level(store.location_id, stocked["TX2601-01-M"]) == (1, 1)  # the paid one keeps it
    with pytest.raises(StoreError) as err:
        pay(order, store, guide)
    assert err.value.code == "cancelled"


def test_uncollected_pick_ups_are_told_then_cancelled_and_released(store, stocked, guide):
    with frozen(T0):
        order = ready_pickup(store, guide)
    with frozen(T0 + dt.timedelta(days=6)):
        assert services.uncollected_pickups() == (0, 0)
    with frozen(T0 + dt.timedelta(days=7, minutes=1)):
        assert services.uncollected_pickups() == (1, 0)
        assert services.uncollected_pickups() == (0, 0)
    order.refresh_from_db()
    assert order.pickup_reminded_at is not None
    assert level(store.location_id, stocked["TX2601-01-S"]) == (2, 1)
    with frozen(T0 + dt.timedelta(days=10, minutes=2)):
        assert services.uncollected_pickups() == (0, 1)
    order.refresh_from_db()
    assert order.status == Order.Status.CANCELLED
    assert level(store.location_id, stocked["TX2601-01-S"]) == (2, 0)


def test_samples_are_never_reserved_by_an_order(store, stocked, clock):
    place(store, lines=cart(("TX2601-01-S", 1)))
    place(store, "pickup", lines=cart(("TX2601-02-S", 1)), member_phone="13800001234")
    assert not Reservation.objects.filter(warehouse_id=store.sample_location_id).exists()
