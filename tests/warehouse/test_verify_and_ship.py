from decimal import Decimal

import pytest

from channels.models import OutboxMessage
from inventory.models import Reservation, StockLevel, StockMove
from inventory.selectors import ledger_mismatches, reservation_mismatches
from orders.models import HandoverItem, Order, OrderEvent
from orders.services import kernel, printing, scanning, shipping

from .conftest import hold

pytestmark = pytest.mark.django_db


@pytest.fixture
def printed(make_order, stocked_product, worker):
    cup = stocked_product("保温杯", barcode="6901234567892")
    tea = stocked_product("西湖龙井茶", barcode="6909876543210")
    order = make_order([(cup, 2, "59.00"), (tea, 1, "128.00")])
    printing.print_waybills(orders=[order], actor=worker)
    order.refresh_from_db()
    return order, cup, tea


def scan_all(order, codes, actor):
    tally = {}
    result = None
    for code in codes:
        result = scanning.scan_item(order=order, scanned=tally, code=code, actor=actor)
        tally = result["scanned"]
    return result


def test_scanning_every_item_verifies_the_order(printed, worker):
    order, cup, tea = printed

    result = scan_all(order, [cup.barcode, tea.barcode, cup.barcode], worker)

    assert result["complete"]
    order.refresh_from_db()
    assert order.status == Order.Status.VERIFIED and order.verified_at is not None
    event = OrderEvent.objects.get(order=order, kind="verified")
    assert event.actor == worker


def test_a_wrong_item_is_refused_and_the_tally_stays(printed, worker, stocked_product):
    order, cup, _tea = printed
    stranger = stocked_product("雨伞", barcode="6900000000001")

    with pytest.raises(kernel.OrderError) as err:
        scanning.scan_item(
            order=order, scanned={cup.barcode: 1}, code=stranger.barcode, actor=worker
        )

    assert err.value.code == "wrong_item"
    order.refresh_from_db()
    assert order.status == Order.Status.PRINTED


def test_one_item_too_many_is_refused(printed, worker):
    order, cup, _tea = printed

    with pytest.raises(kernel.OrderError) as err:
        scanning.scan_item(order=order, scanned={cup.barcode: 2}, code=cup.barcode, actor=worker)

    assert err.value.code == "too_many"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (lambda o: hold(o), "held"),
        (lambda o: Order.objects.filter(pk=o.pk).update(status="cancelled"), "cancelled"),
        (lambda o: Order.objects.filter(pk=o.pk).update(status="reviewed"), "not_printed"),
        (lambda o: Order.objects.filter(pk=o.pk).update(status="shipped"), "shipped"),
    ],
)
def test_an_order_that_may_not_be_verified_refuses_every_scan(printed, worker, change, code):
    order, cup, _tea = printed
    change(order)

    with pytest.raises(kernel.OrderError) as err:
        scanning.scan_item(order=order, scanned={}, code=cup.barcode, actor=worker)

    assert err.value.code == code
    with pytest.raises(kernel.OrderError):
        scanning.check_can_verify(scanning.find_order_by_scan(order.tracking_no))


def test_verification_refuses_a_tally_with_something_missing(printed, worker):
    order, cup, _tea = printed

    with pytest.raises(kernel.OrderError) as err:
        scanning.verify_order(order=order, scanned={cup.barcode: 2}, actor=worker)

    assert err.value.code == "missing"
    order.refresh_from_db()
    assert order.status == Order.Status.PRINTED


def test_an_order_is_found_by_its_tracking_number_or_its_order_number(printed):
    order, *_ = printed
    assert scanning.find_order_by_scan(order.tracking_no) == order
    assert scanning.find_order_by_scan(f" {order.order_no} ") == order
    with pytest.raises(kernel.OrderError):
        scanning.find_order_by_scan("NOPE")


def test_shipping_deducts_stock_marks_the_order_and_queues_the_platform_notice(
    printed, worker, main_warehouse
):
    order, cup, tea = printed
    scan_all(order, [cup.barcode, cup.barcode, tea.barcode], worker)

    shipping.ship_order(order=order, actor=worker)

    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED and order.shipped_at is not None
    cup_level = StockLevel.objects.get(warehouse=main_warehouse, product=cup)
    assert (cup_level.on_hand, cup_level.reserved) == (Decimal("98"), Decimal("0"))
    assert not Reservation.objects.filter(document=order.document).exists()
    moves = StockMove.objects.filter(document=order.document, reason="ship")
    assert sorted(m.quantity for m in moves) == [Decimal("-2"), Decimal("-1")]
    assert all(m.actor == worker for m in moves)
    notice = OutboxMessage.objects.get(dedupe_key=f"shipment:{order.pk}")
    assert notice.kind == "shipment" and notice.shop == order.shop
    assert notice.payload["tracking_no"] == order.tracking_no
    assert notice.payload["carrier"] == "SF"
    assert notice.payload["platform_order_no"] == order.platform_order_no
    assert notice.payload["platform_line_ids"] == [
        f"{order.platform_order_no}-1",
        f"{order.platform_order_no}-2",
    ]
    assert ledger_mismatches() == [] and reservation_mismatches() == []


def test_an_order_ships_only_once(printed, worker):
    order, cup, tea = printed
    scan_all(order, [cup.barcode, cup.barcode, tea.barcode], worker)
    shipping.ship_order(order=order, actor=worker)

    with pytest.raises(kernel.OrderError) as err:
        shipping.ship_order(order=order, actor=worker)

    assert err.value.code == "shipped"
    assert StockMove.objects.filter(document=order.document).count() == 2


def test_an_order_held_after_verification_cannot_ship(printed, worker):
    order, cup, tea = printed
    scan_all(order, [cup.barcode, cup.barcode, tea.barcode], worker)
    hold(order)

    with pytest.raises(kernel.OrderError) as err:
        shipping.ship_order(order=order, actor=worker)

    assert err.value.code == "held"
    order.refresh_from_db()
    assert order.status == Order.Status.VERIFIED
    assert not StockMove.objects.filter(document=order.document).exists()
    assert not OutboxMessage.objects.exists()


def test_an_unverified_order_cannot_ship(printed, worker):
    order, *_ = printed
    with pytest.raises(kernel.OrderError) as err:
        shipping.ship_order(order=order, actor=worker)
    assert err.value.code == "not_verified"


def test_a_handover_batch_ships_its_orders_and_leaves_out_one_held_since(
    make_order, stocked_product, carrier, worker
):
    cup = stocked_product(barcode="6901111111111")
    orders = [make_order([(cup, 1, "10")]) for _ in range(3)]
    printing.print_waybills(orders=orders, actor=worker)
    for order in orders:
        scan_all(order, [cup.barcode], worker)
    batch = shipping.create_handover_batch(carrier=carrier, actor=worker)
    assert batch.items.count() == 3
    hold(orders[1])

    outcome = shipping.ship_handover_batch(batch=batch, actor=worker)

    assert [o.pk for o in outcome.shipped] == [orders[0].pk, orders[2].pk]
    assert [o.pk for o, _m in outcome.problems] == [orders[1].pk]
    statuses = {o.pk: o.status for o in Order.objects.filter(pk__in=[o.pk for o in orders])}
    assert statuses == {orders[0].pk: "shipped", orders[1].pk: "verified", orders[2].pk: "shipped"}
    assert not HandoverItem.objects.filter(order=orders[1]).exists()
    batch.refresh_from_db()
    assert batch.shipped_at is not None and batch.shipped_by == worker
    assert OutboxMessage.objects.count() == 2
    with pytest.raises(kernel.OrderError):
        shipping.ship_handover_batch(batch=batch, actor=worker)


def test_a_handover_batch_takes_only_verified_unheld_orders_of_its_carrier(
    make_order, stocked_product, carrier, worker
):
    cup = stocked_product()
    printed_only = make_order([(cup, 1, "10")])
    printing.print_waybills(orders=[printed_only], actor=worker)

    with pytest.raises(kernel.OrderError) as err:
        shipping.create_handover_batch(carrier=carrier, actor=worker)
    assert err.value.code == "empty"
    with pytest.raises(kernel.OrderError):
        shipping.create_handover_batch(carrier=carrier, actor=worker, orders=[printed_only])


def test_file_platforms_get_a_csv_of_their_shipped_orders_tracking_numbers(
    printed, worker, tmp_path
):
    from django.core.management import call_command

    order, cup, tea = printed
    scan_all(order, [cup.barcode, cup.barcode, tea.barcode], worker)
    shipping.ship_order(order=order, actor=worker)
    out = tmp_path / "shipments.csv"

    call_command("export_shipments", order.shop.code, "-o", str(out))

    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "platform_order_no,order_no,carrier_code,carrier_name,tracking_no,shipped_at"
    assert lines[1].startswith(f"{order.platform_order_no},{order.order_no},SF,顺丰速运,")
    assert order.tracking_no in lines[1] and lines[1].endswith("+08:00")
    assert len(lines) == 2


def test_scanning_another_parcels_waybill_mid_order_says_so_and_changes_nothing(
    printed, worker, make_order, stocked_product
):
    order, cup, _tea = printed
    other = make_order([(cup, 1, "59.00")])
    printing.print_waybills(orders=[other], actor=worker)
    other.refresh_from_db()

    with pytest.raises(kernel.OrderError) as err:
        scanning.scan_item(
            order=order, scanned={cup.barcode: 1}, code=other.tracking_no, actor=worker
        )

    assert err.value.code == "other_order" and "Esc" in err.value.message


def test_a_merged_parcel_tells_each_platform_order_its_tracking_number(
    make_order, stocked_product, worker
):
    from orders.services.split_merge import merge_orders

    cup = stocked_product("保温杯", barcode="6901234500001")
    tea = stocked_product("西湖龙井茶", barcode="6901234500002")
    first = make_order([(cup, 1, "59.00")], status=Order.Status.PENDING_REVIEW, buyer_nick="小鹿")
    second = make_order([(tea, 1, "128.00")], status=Order.Status.PENDING_REVIEW, buyer_nick="小鹿")
    survivor = merge_orders(orders=[first, second], actor=worker)
    other = second if survivor.pk == first.pk else first
    Order.objects.filter(pk=survivor.pk).update(status=Order.Status.REVIEWED)
    survivor.refresh_from_db()
    printing.print_waybills(orders=[survivor], actor=worker)
    survivor.refresh_from_db()
    scan_all(survivor, [cup.barcode, tea.barcode], worker)

    shipping.ship_order(order=survivor, actor=worker)

    notices = {
        m.payload["platform_order_no"]: m.payload
        for m in OutboxMessage.objects.filter(kind="shipment")
    }
    assert set(notices) == {first.platform_order_no, second.platform_order_no}
    assert {n["tracking_no"] for n in notices.values()} == {survivor.tracking_no}
    assert notices[other.platform_order_no]["platform_line_ids"] == [f"{other.platform_order_no}-1"]
    assert OutboxMessage.objects.filter(dedupe_key=f"shipment:{other.pk}").exists()
