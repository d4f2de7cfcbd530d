"""Benchmark: express waybills for N orders in one PDF, and the pick list of an N-order wave.

    python -m bench.printing [--orders 1000] [--keep-pdf DIR]

Runs against a database of its own, ``<configured database>_bench`` on the configured server
(created, migrated, and dropped at the end). Target (issue 4): under 10 s each for 1,000 orders.
"""

from __future__ import annotations

import argparse
import sys
import time
from decimal import Decimal
from pathlib import Path

from bench.benchdb import bench_database
from bench.benchdb import setup_django as _setup_django

TARGET_SECONDS = 10.0


def make_orders(count: int):
    """``count`` reviewed orders (1 to 3 lines each) of one shop, stock reserved; a carrier with
    a pool; a warehouse user."""
    from django.contrib.auth.models import Group, User
    from django.utils import timezone

    from channels.models import Platform, Shop
    from inventory import services as stock
    from inventory.models import Product, Warehouse
    from orders.models import Carrier, Order, OrderComponent, OrderLine, TrackingNumberRange

    user = User.objects.create_user("bench-picker")
    user.groups.add(Group.objects.get(name="warehouse"))
    shop = Shop.objects.create(
        code="BENCH",
        name="天猫旗舰店（压测）",
        platform=Platform.objects.get(code="tmall"),
        unit_code="BENCH",
    )
    carrier = Carrier.objects.create(code="SF", name="顺丰速运")
    TrackingNumberRange.objects.create(
        carrier=carrier, prefix="SF", start=10**11, end=10**11 + 10 * count, next_value=10**11
    )
    products = Product.objects.bulk_create(
        [
            Product(
                code=f"B{i:05d}",
                name=f"压测商品{i} 不锈钢保温杯",
                barcode=f"69{i:011d}",
                spec=f"{300 + i % 5 * 100}ml",
            )
            for i in range(200)
        ]
    )
    main = Warehouse.objects.get(kind=Warehouse.Kind.MAIN)
    stock.receive(
        warehouse_id=main.id,
        items=[(p.id, Decimal(100000)) for p in products],
        actor=None,
        document="bench",
    )
    now = timezone.now()
    orders = Order.objects.bulk_create(
        [
            Order(
                order_no=f"TCB{i:07d}",
                shop=shop,
                platform_order_no=f"PB{i:09d}",
                status=Order.Status.REVIEWED,
                receiver_name=["张三", "李四", "王小五", "欧阳娜娜"][i % 4],
                receiver_phone=f"138{i:08d}",
                province="浙江省",
                city="杭州市",
                district="西湖区",
                address=f"文三路{i % 500}号{i % 9 + 1}幢{i % 30 + 101}室",
                carrier=carrier,
                paid_at=now,
                reviewed_at=now,
                total_amount=Decimal("99.00"),
            )
            for i in range(count)
        ]
    )
    lines, plan = [], []
    for i, order in enumerate(orders):
        for j in range(1 + i % 3):
            product = products[(i * 7 + j * 13) % len(products)]
            quantity = Decimal(1 + (i + j) % 2)
            lines.append(
                OrderLine(
                    order=order,
                    platform_line_id=f"{order.platform_order_no}-{j}",
                    platform_sku=f"SKU-{product.code}",
                    title=product.name,
                    quantity=quantity,
                    unit_price=Decimal("33.00"),
                    amount=quantity * Decimal("33.00"),
                )
            )
            plan.append((product, quantity))
    lines = OrderLine.objects.bulk_create(lines)
    OrderComponent.objects.bulk_create(
        [
            OrderComponent(line=line, product=product, quantity=quantity)
            for line, (product, quantity) in zip(lines, plan, strict=True)
        ]
    )
    by_order: dict[int, list] = {}
    for line, (product, quantity) in zip(lines, plan, strict=True):
        by_order.setdefault(line.order_id, []).append((product.id, quantity))
    for index, order in enumerate(orders, 1):
        stock.reserve(document=order.document, items=by_order[order.pk])
        if index % 250 == 0:
            print(f"  reserved {index}/{count} orders", flush=True)
    return user, carrier, orders


def timed(label, fn, rows):
    start = time.perf_counter()
    result = fn()
    seconds = time.perf_counter() - start
    rows.append((label, seconds, result))
    print(f"  {label}: {seconds:.2f} s", flush=True)
    return result, seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench.printing", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1000, help="orders in the wave (1000)")
    parser.add_argument("--keep-pdf", type=Path, help="write the PDFs into this directory")
    args = parser.parse_args(argv)

    _setup_django()
    from pypdf import PdfReader  # noqa: F401 - only to fail early when it is missing

    from orders import selectors
    from orders.pdf.documents import render_pick_list
    from orders.pdf.waybill import render_waybills
    from orders.services import printing, waves

    rows: list = []
    with bench_database():
        print(f"creating {args.orders} reviewed orders …", flush=True)
        user, carrier, orders = make_orders(args.orders)
        wave, _seconds = timed(
            f"create a wave by filter, {args.orders} orders",
            lambda: waves.create_wave_by_filter(carrier=carrier, limit=args.orders, actor=user),
            rows,
        )
        ids = list(wave.items.order_by("position").values_list("order_id", flat=True))

        waybills, waybill_s = timed(
            f"print waybills, {args.orders} orders (numbers, status, events, PDF)",
            lambda: printing.print_waybills(wave=wave, actor=user).pdf,
            rows,
        )
        loaded = selectors.orders_for_print(ids)
        timed(
            f"render waybills only, {args.orders} pages",
            lambda: render_waybills(loaded),
            rows,
        )
        pick, pick_s = timed(
            f"print pick list, {args.orders}-order wave (load, events, PDF)",
            lambda: printing.print_pick_list(wave=wave, actor=user).pdf,
            rows,
        )
        timed(
            f"render pick list only, {args.orders} orders",
            lambda: render_pick_list(wave, loaded),
            rows,
        )
        if args.keep_pdf:
            args.keep_pdf.mkdir(parents=True, exist_ok=True)
            (args.keep_pdf / "waybills.pdf").write_bytes(waybills)
            (args.keep_pdf / "picklist.pdf").write_bytes(pick)

    import io

    print()
    print(f"{'measure':<68} {'seconds':>8} {'pages':>6} {'size':>9}")
    for label, seconds, result in rows:
        if isinstance(result, bytes):
            pages = len(PdfReader(io.BytesIO(result)).pages)
            print(f"{label:<68} {seconds:>8.2f} {pages:>6} {len(result) / 1024:>7.0f}kB")
        else:
            print(f"{label:<68} {seconds:>8.2f} {'':>6} {'':>9}")
    ok = waybill_s < TARGET_SECONDS and pick_s < TARGET_SECONDS
    print(
        f"printing: waybills for {args.orders} orders {waybill_s:.2f} s, pick list for a "
        f"{args.orders}-order wave {pick_s:.2f} s (target < {TARGET_SECONDS:.0f} s each): "
        f"{'OK' if ok else 'TOO SLOW'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
