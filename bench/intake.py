"""Benchmark: order intake (issue 3).

100,000 orders of 1 to 3 lines go through the intake service (mapping, dedupe, allocation and
the sellable recompute included), in batches as a connector or a file import would send them;
beside it, a raw COPY of the same rows into bare tables, and the ratio. Then the same orders
again: nothing may be created, and it must be much faster.

    python -m bench intake                     # the issue's size
    python bench/intake.py --orders 5000       # smaller, while iterating

Targets: ≥ 2,000 orders/s, within 10× of COPY; the second pass creates nothing and is ≥ 5×
faster. Runs in a database of its own (bench/benchdb.py: <name>_bench, dropped after).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal


def make_master_data(*, products: int = 200, skus: int = 400, stock: int = 10_000_000):
    """A shop with products, single, bundle and fractional SKUs, and plenty of stock."""
    from channels.models import Platform, Shop, SkuComponent, SkuMapping
    from inventory import services
    from inventory.models import Product, Warehouse

    rnd = random.Random(3)
    shop = Shop.objects.create(
        code="BENCH01", name="bench", unit_code="BENCH01", platform=Platform.objects.get(code="jd")
    )
    Product.objects.bulk_create(
        [Product(code=f"BP{i:05d}", name=f"商品 {i}") for i in range(products)]
    )
    ids = list(Product.objects.order_by("id").values_list("id", flat=True))
    main = Warehouse.objects.get(kind=Warehouse.Kind.MAIN)
    services.receive(
        warehouse_id=main.id, items=[(p, stock) for p in ids], actor=None, document="bench"
    )
    SkuMapping.objects.bulk_create(
        [SkuMapping(shop=shop, platform_sku=f"SKU-{i:05d}") for i in range(skus)]
    )
    components = []
    for i, mapping in enumerate(SkuMapping.objects.filter(shop=shop).order_by("id")):
        if i % 5 == 0:  # a bundle: 2 × A + 1 × B
            a, b = rnd.sample(ids, 2)
            components += [
                SkuComponent(mapping=mapping, product_id=a, quantity=Decimal(2)),
                SkuComponent(mapping=mapping, product_id=b, quantity=Decimal(1)),
            ]
        elif i % 7 == 0:  # a fraction of a product
            components.append(
                SkuComponent(mapping=mapping, product_id=rnd.choice(ids), quantity=Decimal("0.5"))
            )
        else:
            components.append(
                SkuComponent(mapping=mapping, product_id=rnd.choice(ids), quantity=Decimal(1))
            )
    SkuComponent.objects.bulk_create(components)
    return shop, skus


def make_orders(count: int, skus: int):
    from channels.types import NormalizedLine, NormalizedOrder

    rnd = random.Random(7)
    t0 = datetime(2026, 11, 11, tzinfo=UTC)
    provinces = ["浙江省", "江苏省", "上海市", "广东省", "北京市", "四川省"]
    orders = []
    for i in range(count):
        lines = [
            NormalizedLine(
                platform_sku=f"SKU-{rnd.randrange(skus):05d}",
                quantity=Decimal(rnd.randint(1, 3)),
                unit_price=Decimal(rnd.randint(500, 50000)) / 100,
                platform_line_id=f"{i}-{n}",
            )
            for n in range(rnd.randint(1, 3))
        ]
        orders.append(
            NormalizedOrder(
                platform_order_no=f"JD{i:010d}",
                receiver_name=f"收货人{i % 997}",
                receiver_phone=f"138{i:08d}",
                province=rnd.choice(provinces),
                city="某市",
                district="某区",
                address=f"某路 {i} 号",
                buyer_nick=f"buyer{i}",
                lines=lines,
                paid_at=t0 + timedelta(seconds=i),
                platform_modified_at=t0 + timedelta(seconds=i),
            )
        )
    return orders


def copy_baseline(orders) -> float:
    """COPY the same rows (orders and lines) into bare tables; returns seconds."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(
            "CREATE TABLE bench_raw_order (platform_order_no text, receiver_name text, "
            "receiver_phone text, province text, city text, district text, address text, "
            "buyer_nick text, paid_at timestamptz, modified_at timestamptz)"
        )
        cur.execute(
            "CREATE TABLE bench_raw_line (platform_order_no text, line_id text, sku text, "
            "quantity numeric(18,4), unit_price numeric(14,2))"
        )
    started = time.perf_counter()
    raw = connection.connection  # the psycopg connection
    with raw.cursor() as cur:
        with cur.copy("COPY bench_raw_order FROM STDIN") as copy:
            for o in orders:
                copy.write_row(
                    (
                        o.platform_order_no,
                        o.receiver_name,
                        o.receiver_phone,
                        o.province,
                        o.city,
                        o.district,
                        o.address,
                        o.buyer_nick,
                        o.paid_at,
                        o.platform_modified_at,
                    )
                )
        with cur.copy("COPY bench_raw_line FROM STDIN") as copy:
            for o in orders:
                for line in o.lines:
                    copy.write_row(
                        (
                            o.platform_order_no,
                            line.platform_line_id,
                            line.platform_sku,
                            line.quantity,
                            line.unit_price,
                        )
                    )
    raw.commit()
    return time.perf_counter() - started


def run_intake(shop, orders, batch: int, label: str):
    from orders.intake import IntakeResult, intake_orders

    total = IntakeResult()
    started = time.perf_counter()
    for start in range(0, len(orders), batch):
        result = intake_orders(shop=shop, orders=orders[start : start + batch], actor="bench")
        total.created += result.created
        total.updated += result.updated
        total.skipped += result.skipped
        total.held += result.held
        done = min(start + batch, len(orders))
        if done % (batch * 10) == 0 or done == len(orders):
            rate = done / (time.perf_counter() - started)
            print(f"  {label}: {done:,} orders ({rate:,.0f}/s)", flush=True)
    return total, time.perf_counter() - started


def main(argv) -> int:
    parser = argparse.ArgumentParser(prog="bench/intake.py", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5_000, help="orders per intake call")
    args = parser.parse_args(argv)
    from bench.benchdb import bench_database, setup_django

    setup_django()
    from django.db import connection

    from inventory.selectors import reservation_mismatches
    from orders.models import Order, OrderLine

    with bench_database():
        shop, skus = make_master_data()
        orders = make_orders(args.orders, skus)
        lines = sum(len(o.lines) for o in orders)
        print(f"{args.orders:,} orders, {lines:,} lines, batches of {args.batch:,}", flush=True)
        copy_seconds = copy_baseline(orders)
        first, first_seconds = run_intake(shop, orders, args.batch, "first pass")
        with connection.cursor() as cur:
            cur.execute("ANALYZE")
        second, second_seconds = run_intake(shop, orders, args.batch, "second pass")
        created_after = Order.objects.count()
        line_count = OrderLine.objects.count()
        mismatches = reservation_mismatches()

    rate = args.orders / first_seconds
    ratio = first_seconds / copy_seconds
    speedup = first_seconds / second_seconds
    rows = [
        ("raw COPY (bare tables)", copy_seconds, args.orders / copy_seconds, "-"),
        (
            "intake, first pass",
            first_seconds,
            rate,
            f"created {first.created:,}, held {first.held:,}",
        ),
        (
            "intake, same orders again",
            second_seconds,
            args.orders / second_seconds,
            f"created {second.created:,}, skipped {second.skipped:,}",
        ),
    ]
    print(f"\n{'what':<28}{'seconds':>10}{'orders/s':>12}  result")
    for what, seconds, per_second, note in rows:
        print(f"{what:<28}{seconds:>10.2f}{per_second:>12,.0f}  {note}")
    print(
        f"\norders in the database {created_after:,} (lines {line_count:,}); "
        f"reservation mismatches: {len(mismatches)}"
    )
    ok = (
        rate >= 2000
        and ratio <= 10
        and second.created == 0
        and speedup >= 5
        and created_after == args.orders
    )
    print(
        f"intake: {rate:,.0f} orders/s (target ≥ 2,000), {ratio:.1f}× COPY (target ≤ 10×), "
        f"second pass {speedup:.1f}× faster creating {second.created} (target ≥ 5×, 0): "
        f"{'OK' if ok else 'BELOW TARGET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main(sys.argv[1:]))
