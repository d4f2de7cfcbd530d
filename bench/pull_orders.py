"""Benchmark: pulling orders from the platform sandbox through a TOP shop, end to end (issue 5).

The sandbox runs as its own process (``manage.py channel_sandbox``) and holds N paid orders
(1 to 3 lines, bundles and half units among the SKUs, a few refunds and closed trades) modified
over the last 20 hours. One ``pull_orders`` of a fresh TOP shop reads them: list pages from the
last back, one ``taobao.trade.fullinfo.get`` per trade, then the intake service (mapping,
reservation, holds). Printed: orders/s, and the share of time waiting on HTTP versus in intake.

    python -m bench pull_orders                   # the issue's size: 10,000 orders
    python bench/pull_orders.py --orders 500      # smaller, while iterating

Runs in a database of its own (<name>_bench_pull), created and dropped here.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from bench.benchdb import bench_database

ROOT = Path(__file__).resolve().parent.parent


def _setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def sandbox_process():
    """The sandbox in a process of its own, as `make run` starts it."""
    import requests

    port = free_port()
    proc = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "channel_sandbox",
            "--port",
            str(port),
            "--orders-per-minute",
            "0",
            "--no-adopt",
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                requests.get(f"{url}/_sandbox/state", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            raise RuntimeError("the sandbox did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def make_shop(url: str, detail_workers: int = 4):
    """A TOP shop mapping every sandbox SKU (a bundle and a half unit among them)."""
    from channels.models import Platform, Shop, SkuComponent, SkuMapping
    from channels.sandbox.state import DEFAULT_APPS, DEFAULT_CATALOGUE
    from inventory import services
    from inventory.models import Product, Warehouse

    shop = Shop.objects.create(
        code="BENCH-TB",
        name="bench",
        unit_code="BENCH-TB",
        platform=Platform.objects.get(code="taobao"),
        api_base_url=url,
        credentials={**DEFAULT_APPS["top"], "timeout": 30, "detail_workers": detail_workers},
    )
    main = Warehouse.objects.get(kind=Warehouse.Kind.MAIN)
    products = {}
    for code in ("TEA", "TEA2", "CUP", "LOOSE", "POT"):
        products[code] = Product.objects.create(code=f"B-{code}", name=f"bench {code}")
        services.adjust(
            warehouse_id=main.id, product_id=products[code].id, quantity=10_000_000, actor=None
        )
    recipe = {
        "TEA-001": [("TEA", "1")],
        "TEA-002": [("TEA2", "1")],
        "CUP-001": [("CUP", "1")],
        "CUP-SET2": [("CUP", "2")],
        "GIFT-01": [("TEA", "1"), ("CUP", "2")],
        "HALF-001": [("LOOSE", "0.5")],
        "POT-001": [("POT", "1")],
    }
    assert set(recipe) == set(DEFAULT_CATALOGUE)
    for sku, parts in recipe.items():
        mapping = SkuMapping.objects.create(shop=shop, platform_sku=sku)
        for code, qty in parts:
            SkuComponent.objects.create(
                mapping=mapping, product=products[code], quantity=Decimal(qty)
            )
    return shop


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench pull_orders")
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument(
        "--detail-workers", type=int, default=4, help="trade detail calls in flight at once"
    )
    args = parser.parse_args(argv)
    _setup_django()
    import requests

    from channels.connectors.top import TopConnector
    from orders.models import Order
    from platformsync.sync import pull_orders

    with bench_database("bench_pull"), sandbox_process() as url:
        shop = make_shop(url, args.detail_workers)
        end = datetime.now(UTC) - timedelta(minutes=5)
        requests.post(
            f"{url}/_sandbox/generate",
            json={
                "platform": "top",
                "count": args.orders,
                "start": (end - timedelta(hours=20)).isoformat(),
                "end": end.isoformat(),
                "refund_share": 0.05,
                "cancel_share": 0.02,
            },
            timeout=120,
        ).raise_for_status()
        print(f"sandbox holds {args.orders} TOP orders; pulling…", flush=True)

        connector = TopConnector(shop)
        started = time.perf_counter()
        result = pull_orders(shop=shop, connector=connector)
        wall = time.perf_counter() - started
        taken = Order.objects.filter(shop=shop).count()
        held = Order.objects.filter(shop=shop, on_hold=True).count()

        http, intake = result.http_seconds, result.intake_seconds
        other = max(0.0, wall - http - intake)
        rows = [
            ("orders in the sandbox", f"{args.orders}"),
            ("orders taken in", f"{taken} ({held} held: refunds, closed trades)"),
            (
                "HTTP calls",
                f"{connector.http_calls} (list pages + one detail per trade, "
                f"{args.detail_workers} at once)",
            ),
            ("wall time", f"{wall:.1f} s"),
            ("orders per second", f"{taken / wall:.0f}"),
            ("waiting on HTTP", f"{http:.1f} s  ({100 * http / wall:.0f} %)"),
            ("in intake", f"{intake:.1f} s  ({100 * intake / wall:.0f} %)"),
            ("normalizing, bookkeeping", f"{other:.1f} s  ({100 * other / wall:.0f} %)"),
            ("HTTP wall time per call", f"{1000 * http / max(1, connector.http_calls):.2f} ms"),
        ]
        width = max(len(k) for k, _ in rows)
        for key, value in rows:
            print(f"{key:<{width}}  {value}")
        ok = result.error == "" and taken == args.orders
        print(
            f"pull_orders: {taken} orders in {wall:.1f} s = {taken / wall:.0f} orders/s; "
            f"HTTP {100 * http / wall:.0f} %, intake {100 * intake / wall:.0f} %"
            + ("" if ok else f"; INCOMPLETE ({result.error or 'count mismatch'})")
        )
        return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))
