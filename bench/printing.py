"""Benchmark: express waybills for N orders in one PDF, the pick list of an N-order wave, and
N electronic waybills (电子面单) from the sandbox's Cainiao service over HTTP.

    python -m bench.printing [--orders 1000] [--keep-pdf DIR]

Runs against a database of its own, ``<configured database>_bench`` on the configured server
(created, migrated, and dropped at the end). Target (issues 4 and 16): under 10 s each for
1,000 orders; the electronic waybill run also says how much of it waited on the service.
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

    from channels.models import Platform, Shop
    from inventory import services as stock
    from inventory.models import Product, Warehouse
    from orders.models import Carrier, TrackingNumberRange

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
    orders = add_orders(count, shop=shop, carrier=carrier, products=products, prefix="B")
    return user, carrier, orders


def add_orders(count, *, shop, carrier, products, prefix, receivers=None):
    """``count`` reviewed orders of the shop for the carrier, stock reserved. ``receivers``:
    per order a dict of receiver fields (e.g. an encrypted order's masked text and id)."""
    from django.utils import timezone

    from inventory import services as stock
    from orders.models import Order, OrderComponent, OrderLine

    now = timezone.now()
    orders = Order.objects.bulk_create(
        [
            Order(
                **{
                    "order_no": f"TC{prefix}{i:07d}",
                    "shop": shop,
                    "platform_order_no": f"P{prefix}{i:09d}",
                    "status": Order.Status.REVIEWED,
                    "receiver_name": ["张三", "李四", "王小五", "欧阳娜娜"][i % 4],
                    "receiver_phone": f"138{i:08d}",
                    "province": "浙江省",
                    "city": "杭州市",
                    "district": "西湖区",
                    "address": f"文三路{i % 500}号{i % 9 + 1}幢{i % 30 + 101}室",
                    "carrier": carrier,
                    "paid_at": now,
                    "reviewed_at": now,
                    "total_amount": Decimal("99.00"),
                    **((receivers or {}).get(i) or {}),
                }
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
    return orders


def electronic_waybills(count: int, user, rows: list):
    """``count`` orders of a Taobao shop (half of them encrypted: masked receivers with the
    oaid), a YTO carrier numbered by the sandbox's Cainiao service over HTTP; print the wave.
    Returns (seconds, seconds waiting on the service, service calls)."""
    from channels.models import Platform, Shop
    from channels.sandbox import privacy, waybill
    from channels.sandbox.server import SandboxServer
    from channels.sandbox.state import DEFAULT_APPS
    from inventory.models import Product
    from orders.models import Carrier, WaybillSubscription
    from orders.services import printing, waves
    from orders.services import waybills as services

    server = SandboxServer()
    server.start_in_thread()
    try:
        state = server.state
        waybill.add_account(state, service="cainiao", cp_code="YTO", branch_code="571001")
        tids = state.generate(platform="top", count=count // 2, refund_share=0, cancel_share=0)
        shop = Shop.objects.create(
            code="BENCH-TB",
            name="淘宝店（压测）",
            platform=Platform.objects.get(code="taobao"),
            unit_code="BENCH-TB",
            api_base_url=server.url,
            credentials={**DEFAULT_APPS["top"], "timeout": 10},
        )
        carrier = Carrier.objects.create(
            code="YTO",
            name="圆通速递",
            waybill_layout=Carrier.Layout.ONE_PART,
            number_source=Carrier.NumberSource.PROVIDER,
        )
        WaybillSubscription.objects.create(
            carrier=carrier,
            service="cainiao",
            service_carrier_code="YTO",
            account_shop=shop,
            branch_code="571001",
            sender_name="同仓仓库",
            sender_phone="057188880000",
            sender_province="浙江省",
            sender_city="杭州市",
            sender_address="仓前街道1号",
        )
        receivers = {}
        for i, tid in enumerate(tids):
            o = state.orders["top"][tid]
            receivers[i] = {
                "platform_order_no": tid,
                "receiver_name": privacy.mask_name(o["receiver_name"]),
                "receiver_phone": privacy.mask_phone(o["receiver_mobile"]),
                "province": o["receiver_state"],
                "city": o["receiver_city"],
                "district": o["receiver_district"],
                "address": privacy.mask_address(o["receiver_address"]),
                "receiver_oaid": privacy.oaid("top", o),
            }
        products = list(Product.objects.order_by("code")[:200])
        add_orders(
            count, shop=shop, carrier=carrier, products=products, prefix="E", receivers=receivers
        )
        wave = waves.create_wave_by_filter(carrier=carrier, limit=count, actor=user)
        pdf, seconds = timed(
            f"print {count} electronic waybills (Cainiao sandbox over HTTP, PDF)",
            lambda: printing.print_waybills(wave=wave, actor=user).pdf,
            rows,
        )
        waited = sum(c.wait_seconds for c in services.LAST_CLIENTS)
        calls = state.calls[("top", "cainiao.waybill.ii.get")]
        issued = sum(1 for w in state.waybills.values() if w["status"] == "issued")
        print(
            f"  waiting on the waybill service: {waited:.2f} s of {seconds:.2f} s "
            f"({calls} calls, {issued} numbers issued)",
            flush=True,
        )
        return pdf, seconds, waited, calls
    finally:
        server.shutdown()
        server.server_close()


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
        print(f"creating {args.orders} orders for electronic waybills …", flush=True)
        ewaybills, ewaybill_s, waited, calls = electronic_waybills(args.orders, user, rows)
        if args.keep_pdf:
            args.keep_pdf.mkdir(parents=True, exist_ok=True)
            (args.keep_pdf / "waybills.pdf").write_bytes(waybills)
            (args.keep_pdf / "picklist.pdf").write_bytes(pick)
            (args.keep_pdf / "electronic-waybills.pdf").write_bytes(ewaybills)

    import io

    print()
    print(f"{'measure':<68} {'seconds':>8} {'pages':>6} {'size':>9}")
    for label, seconds, result in rows:
        if isinstance(result, bytes):
            pages = len(PdfReader(io.BytesIO(result)).pages)
            print(f"{label:<68} {seconds:>8.2f} {pages:>6} {len(result) / 1024:>7.0f}kB")
        else:
            print(f"{label:<68} {seconds:>8.2f} {'':>6} {'':>9}")
    ok = waybill_s < TARGET_SECONDS and pick_s < TARGET_SECONDS and ewaybill_s < TARGET_SECONDS
    print(
        f"printing: waybills for {args.orders} orders {waybill_s:.2f} s, pick list for a "
        f"{args.orders}-order wave {pick_s:.2f} s, {args.orders} electronic waybills "
        f"{ewaybill_s:.2f} s of which {waited:.2f} s waiting on the Cainiao sandbox "
        f"({calls} calls) (target < {TARGET_SECONDS:.0f} s each): "
        f"{'OK' if ok else 'TOO SLOW'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
