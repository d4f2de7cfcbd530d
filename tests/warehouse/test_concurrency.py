"""Real concurrent workers: threads, each with its own database connection."""

import threading

import pytest
from django.db import connection

from inventory.models import StockMove
from orders.models import Order, TrackingNumber, WaveOrder
from orders.services import kernel, printing, scanning, shipping, waves

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("reseeded")]


def run_together(*calls):
    barrier = threading.Barrier(len(calls))
    results = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait()
            results[i] = ("ok", call())
        except Exception as exc:  # noqa: BLE001 - the outcome is what the test checks
            results[i] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_two_workers_shipping_the_same_order_ship_it_once(make_order, stocked_product, worker):
    cup = stocked_product(barcode="6902222222222")
    order = make_order([(cup, 1, "10")])
    printing.print_waybills(orders=[order], actor=worker)
    scanning.scan_item(order=order, scanned={}, code=cup.barcode, actor=worker)

    results = run_together(
        lambda: shipping.ship_order(order=order, actor=worker),
        lambda: shipping.ship_order(order=order, actor=worker),
    )

    assert sorted(r[0] for r in results) == ["error", "ok"]
    error = next(r[1] for r in results if r[0] == "error")
    assert isinstance(error, kernel.OrderError) and error.code == "shipped"
    assert StockMove.objects.filter(document=order.document, reason="ship").count() == 1


def test_two_waves_printed_at_once_never_share_a_tracking_number(
    make_order, stocked_product, worker
):
    cup = stocked_product()
    orders = [make_order([(cup, 1, "10")]) for _ in range(20)]
    first = waves.create_wave(orders=orders[:10], actor=worker)
    second = waves.create_wave(orders=orders[10:], actor=worker)

    results = run_together(
        lambda: printing.print_waybills(wave=first, actor=worker),
        lambda: printing.print_waybills(wave=second, actor=worker),
    )

    assert [r[0] for r in results] == ["ok", "ok"]
    numbers = list(Order.objects.values_list("tracking_no", flat=True))
    assert len(set(numbers)) == 20 and "" not in numbers
    assert TrackingNumber.objects.count() == 20


def test_two_workers_making_waves_at_once_never_put_an_order_in_both(
    make_order, stocked_product, carrier, worker
):
    cup = stocked_product()
    for _ in range(12):
        make_order([(cup, 1, "10")])

    results = run_together(
        lambda: waves.create_wave_by_filter(carrier=carrier, limit=8, actor=worker),
        lambda: waves.create_wave_by_filter(carrier=carrier, limit=8, actor=worker),
    )

    assert all(r[0] == "ok" or r[1].code == "empty" for r in results)
    waved = list(WaveOrder.objects.values_list("order_id", flat=True))
    assert len(waved) == len(set(waved)) and len(waved) >= 8
