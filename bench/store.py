"""Benchmark: the experience store (issue 13).

Fills a database of its own with a store carrying ``--styles`` styles (2 colours × 4 sizes
each, one try-on sample of each item, stock in the store and the main warehouse), then:

1. the kiosk's catalogue page (first page, a later page, a search) and a style's grid, through
   the test client as a registered device: median and p95. Target: p95 < 150 ms.
2. take-away orders (reserve in the store, price with ``promotions.quote``, write) placed by
   ``--devices`` concurrent devices (real threads, one connection each): p50 and p95 per order.
   Target: p95 < 100 ms.
3. the same one-line order created by the order intake in bulk (``--bulk`` orders in one call):
   the time per order, and the ratio of the store's p50 to it.

    python -m bench store
    python bench/store.py --styles 200 --orders-per-device 5
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from decimal import Decimal

COLOURS = [("01", "白色"), ("02", "黑色")]
SIZES = ["S", "M", "L", "XL"]


def p95(values):
    values = sorted(values)
    return values[max(0, int(round(0.95 * len(values))) - 1)]


def fill(styles: int):
    from inventory import services as stock
    from inventory.models import Product, StockMove, Warehouse
    from stores import services

    store = services.create_store(
        code="MD01", name="基准体验店", province="上海市", city="上海市", address="基准路1号"
    )
    products = [
        Product(
            code=f"S{n:05d}-{c}-{size}",
            name=f"基准款{n} {colour} {size}",
            barcode=f"69{n:05d}{c}{i}",
            list_price=Decimal("99.00") + n % 7 * 10,
            style_code=f"S{n:05d}",
            colour=colour,
            size=size,
        )
        for n in range(styles)
        for c, colour in COLOURS
        for i, size in enumerate(SIZES)
    ]
    Product.objects.bulk_create(products, batch_size=2000)
    ids = list(Product.objects.order_by("id").values_list("id", flat=True))
    for warehouse_id, quantity in (
        (store.sample_location_id, 1),
        (store.location_id, 50),
        (Warehouse.main().pk, 100),
    ):
        stock.apply_deltas(
            warehouse_id=warehouse_id,
            deltas={pid: Decimal(quantity) for pid in ids},
            reason=StockMove.Reason.RECEIVE,
            document="bench:store",
        )
    return store


def measure_pages(client, requests: int, styles: int):
    pages = [
        ("kiosk catalogue, first page", "/store/kiosk/", {}),
        ("kiosk catalogue, page 20", "/store/kiosk/", {"page": "20"}),
        ("kiosk catalogue, search", "/store/kiosk/", {"q": f"S{styles // 2:05d}"}),
        ("style grid (JSON)", f"/store/kiosk/api/style/S{styles // 3:05d}/", {}),
        ("scan a sample tag (JSON)", "/store/kiosk/api/scan/", {"code": f"69{styles // 4:05d}011"}),
    ]
    results = []
    for label, url, params in pages:
        times = []
        for _ in range(requests + 2):
            started = time.perf_counter()
            response = client.get(url, params)
            times.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, (url, response.status_code)
        times = times[2:]  # the first two warm the caches
        results.append((label, statistics.median(times), p95(times)))
        print(f"  {label}: p50 {results[-1][1]:.0f} ms, p95 {results[-1][2]:.0f} ms", flush=True)
    return results


def concurrent_takeaway(store, devices: int, per_device: int, styles: int):
    from django.db import connection

    from stores import services

    barrier = threading.Barrier(devices)
    times: list[float] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def device(n):
        try:
            barrier.wait()
            for k in range(per_device):
                style = (n * per_device + k) * 7 % styles
                code = f"S{style:05d}-01-{SIZES[k % len(SIZES)]}"
                started = time.perf_counter()
                services.place_order(
                    store=store,
                    lines=[{"code": code, "quantity": 1}],
                    fulfilment="takeaway",
                    actor=f"kiosk:{n}",
                )
                elapsed = (time.perf_counter() - started) * 1000
                with lock:
                    times.append(elapsed)
        except BaseException as exc:
            with lock:
                errors.append(exc)
        finally:
            connection.close()

    started = time.perf_counter()
    threads = [threading.Thread(target=device, args=(n,)) for n in range(devices)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - started
    if errors:
        raise errors[0]
    return times, wall


def bulk_intake(count: int, styles: int) -> float:
    """The same one-line orders through the intake in one call: ms per order."""
    from django.utils import timezone

    from channels.models import Platform, Shop, SkuComponent, SkuMapping
    from channels.types import NormalizedLine, NormalizedOrder
    from inventory.models import Product
    from orders.intake import intake_orders

    shop = Shop.objects.create(
        code="TM01",
        name="基准天猫店",
        unit_code="TM01",
        platform=Platform.objects.get(code="tmall"),
    )
    codes = [f"S{(k * 7) % styles:05d}-02-{SIZES[k % len(SIZES)]}" for k in range(count)]
    products = dict(Product.objects.filter(code__in=set(codes)).values_list("code", "id"))
    for code, pid in products.items():
        mapping = SkuMapping.objects.create(shop=shop, platform_sku=code)
        SkuComponent.objects.create(mapping=mapping, product_id=pid, quantity=Decimal(1))
    now = timezone.now()
    orders = [
        NormalizedOrder(
            platform_order_no=f"B{k:08d}",
            receiver_name="顾客",
            receiver_phone="13800000000",
            province="上海市",
            city="上海市",
            address="基准路1号",
            paid_at=now,
            lines=[NormalizedLine(platform_sku=code, quantity=Decimal(1), unit_price=Decimal(99))],
        )
        for k, code in enumerate(codes)
    ]
    started = time.perf_counter()
    intake_orders(shop=shop, orders=orders)
    return (time.perf_counter() - started) * 1000 / count


def main(argv) -> int:
    parser = argparse.ArgumentParser(prog="bench/store.py")
    parser.add_argument("--styles", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=30, help="requests per page measured")
    parser.add_argument("--devices", type=int, default=16)
    parser.add_argument("--orders-per-device", type=int, default=20)
    parser.add_argument("--bulk", type=int, default=1000)
    args = parser.parse_args(argv)
    from bench.benchdb import bench_database, setup_django

    setup_django()
    from django.test import Client

    from stores import services

    with bench_database("bench_store"):
        started = time.perf_counter()
        store = fill(args.styles)
        print(
            f"filled a store of {args.styles:,} styles ({args.styles * 8:,} items) in "
            f"{time.perf_counter() - started:.0f} s",
            flush=True,
        )
        _device, token = services.register_device(store=store, name="bench", actor=None)
        client = Client(HTTP_X_KIOSK_TOKEN=token)
        pages = measure_pages(client, args.requests, args.styles)
        times, wall = concurrent_takeaway(store, args.devices, args.orders_per_device, args.styles)
        order_p50, order_p95 = statistics.median(times), p95(times)
        print(
            f"  take-away orders: {len(times)} by {args.devices} devices in {wall:.1f} s: "
            f"p50 {order_p50:.0f} ms, p95 {order_p95:.0f} ms",
            flush=True,
        )
        per_bulk = bulk_intake(args.bulk, args.styles)
        print(f"  intake in bulk: {args.bulk} orders, {per_bulk:.2f} ms per order", flush=True)

    print(f"\n{'measure':<34}{'p50 ms':>9}{'p95 ms':>9}")
    for label, p50, p95_ in pages:
        print(f"{label:<34}{p50:>9.0f}{p95_:>9.0f}")
    print(f"{'take-away order (16 devices)':<34}{order_p50:>9.0f}{order_p95:>9.0f}")
    print(f"{'intake in bulk, per order':<34}{per_bulk:>9.2f}")
    catalogue_p95 = max(p for label, _m, p in pages if label.startswith("kiosk catalogue"))
    ok = catalogue_p95 < 150 and order_p95 < 100
    print(
        f"store of {args.styles:,} styles: catalogue p95 {catalogue_p95:.0f} ms (target < 150), "
        f"take-away order p95 {order_p95:.0f} ms with {args.devices} devices (target < 100), "
        f"{order_p50 / per_bulk:.0f}× the bulk intake's time per order: "
        f"{'OK' if ok else 'ABOVE TARGET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main(sys.argv[1:]))
