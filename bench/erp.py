"""Benchmarks of the offline ERP's API (issue 7), end to end over HTTP on a real socket.

    python -m bench erp                       # the issue's sizes
    python -c "import bench.erp as b; b.main(['--products', '5000', '--orders', '500'])"

Targets: a full snapshot of 100,000 products < 10 s; an incremental message of 1,000 products
< 0.5 s; extraction (batch + ack) of 10,000 shipped orders in batches of 500 < 20 s.

Works in a database of its own (``<configured name>_bench``: created, migrated, dropped).
The server is Django's WSGI application behind a threaded wsgiref server in this process.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import threading
import time
from contextlib import contextmanager
from datetime import datetime
from decimal import Decimal
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server
from zoneinfo import ZoneInfo

from bench.benchdb import bench_database

SHANGHAI = ZoneInfo("Asia/Shanghai")


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, *args):
        pass


class _ThreadedServer(WSGIServer):
    daemon_threads = True

    def process_request(self, request, client_address):
        def run():
            try:
                self.finish_request(request, client_address)
            finally:
                from django.db import connections

                connections.close_all()
                self.shutdown_request(request)

        threading.Thread(target=run, daemon=True).start()


@contextmanager
def serve():
    from django.core.wsgi import get_wsgi_application

    server = make_server(
        "127.0.0.1",
        0,
        get_wsgi_application(),
        server_class=_ThreadedServer,
        handler_class=_QuietHandler,
    )
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()


class Erp:
    def __init__(self, url, key_id, secret):
        import requests

        self.url, self.key_id, self.secret = url, key_id, secret
        self.http = requests.Session()

    def call(self, method, path, body=None):
        from erpbridge import auth

        full = "/api/erp/v1/" + path
        raw = b"" if body is None else json.dumps(body).encode()
        headers = auth.signed_headers(
            key_id=self.key_id, secret=self.secret, method=method, path=full, body=raw
        )
        headers["Content-Type"] = "application/json"
        response = self.http.request(method, self.url + full, data=raw or None, headers=headers)
        if response.status_code >= 400:
            raise RuntimeError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json()


def checkpoint():
    """Start each measurement clean: write back what the previous step dirtied."""
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute("CHECKPOINT")


def _now_iso():
    return datetime.now(SHANGHAI).isoformat()


def _seed(products: int, orders: int, shops: int, out) -> None:
    """Products with stock in the main warehouse (through the ledger), SKU relations in a
    few shops, and shipped orders (a third with a 2-product bundle line)."""
    from decimal import Decimal

    from django.db import connection
    from django.utils import timezone

    from channels.models import Platform, Shop
    from inventory import services as stock
    from inventory.models import Product, StockMove
    from orders.models import Order, OrderComponent, OrderLine

    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO inventory_product (code, name, unit, spec, list_price, active, "
            "created_at, updated_at) SELECT 'B' || lpad(i::text, 6, '0'), '商品' || i, '件', '', "
            "(i %% 90 + 10)::numeric, true, now(), now() FROM generate_series(1, %s) AS i",
            [products],
        )
    ids = list(Product.objects.order_by("id").values_list("id", flat=True))
    stock.apply_deltas(
        warehouse_id=stock.main_warehouse_id(),
        deltas={pid: Decimal(i % 50 + 20) for i, pid in enumerate(ids)},
        reason=StockMove.Reason.ADJUST,
        note="bench",
    )
    platforms = list(Platform.objects.order_by("code"))
    shop_objs = []
    for n in range(shops):
        shop_objs.append(
            Shop.objects.create(
                code=f"BS{n:02d}",
                name=f"bench {n}",
                platform=platforms[n % len(platforms)],
                unit_code=f"BU{n:02d}",
            )
        )
    with connection.cursor() as cur:
        for shop in shop_objs:
            cur.execute(
                "INSERT INTO channels_skumapping (shop_id, platform_sku, created_at, updated_at) "
                "SELECT %s, p.code, now(), now() FROM inventory_product p",
                [shop.id],
            )
            cur.execute(
                "INSERT INTO channels_skucomponent (mapping_id, product_id, quantity) "
                "SELECT m.id, p.id, 1 FROM channels_skumapping m "
                "JOIN inventory_product p ON p.code = m.platform_sku WHERE m.shop_id = %s",
                [shop.id],
            )
    from channels.sellable import recompute_sellable

    recompute_sellable(None)
    out(
        f"  seeded {products} products with stock and {shops} shops' SKU relations "
        f"in {time.perf_counter() - t0:.1f} s"
    )

    t0 = time.perf_counter()
    shop = shop_objs[0]
    rng = random.Random(7)
    now = timezone.now()
    order_rows = [
        Order(
            order_no=f"BO{i:07d}",
            shop=shop,
            platform_order_no=f"BP{i:07d}",
            status=Order.Status.SHIPPED,
            receiver_name="王五",
            receiver_phone="1",
            province="上海",
            city="上海",
            address="x",
            shipped_at=now,
        )
        for i in range(orders)
    ]
    Order.objects.bulk_create(order_rows, batch_size=2000)
    lines, comps = [], []
    for i, order in enumerate(order_rows):
        a, b = rng.sample(ids, 2)
        line = OrderLine(
            order=order,
            platform_sku="x",
            quantity=Decimal(2),
            unit_price=Decimal("49.99"),
            amount=Decimal("99.98"),
        )
        lines.append(line)
        comps.append((line, a))
        if i % 3 == 0:
            comps.append((line, b))
    OrderLine.objects.bulk_create(lines, batch_size=2000)
    OrderComponent.objects.bulk_create(
        [OrderComponent(line=line, product_id=pid, quantity=Decimal(2)) for line, pid in comps],
        batch_size=5000,
    )
    with connection.cursor() as cur:
        cur.execute("ANALYZE")  # as a database in use would have its statistics
    out(
        f"  seeded {orders} shipped orders ({len(comps)} components) "
        f"in {time.perf_counter() - t0:.1f} s"
    )


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench.erp", description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--incremental", type=int, default=1_000)
    parser.add_argument("--orders", type=int, default=10_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--shops", type=int, default=2, help="shops mapping every product")
    args = parser.parse_args(argv or [])

    def out(line):
        print(line, flush=True)

    rows = []
    with bench_database() as dbname:
        out(f"bench/erp: database {dbname}")
        from channels.sellable import recompute_sellable
        from erpbridge import services
        from erpbridge.models import RetailRecord
        from inventory.models import Product, StockMove
        from inventory.selectors import ledger_mismatches

        _seed(args.products, args.orders, args.shops, out)
        client, secret = services.create_client(name="bench")
        codes = list(Product.objects.order_by("id").values_list("code", flat=True))
        rng = random.Random(11)
        # Time the sellable recompute that inventory runs on commit of each stock change.
        import channels.receivers as receivers

        recompute_time: list[float] = []
        original_recompute = receivers.recompute_sellable

        def timed_recompute(product_ids):
            t = time.perf_counter()
            try:
                return original_recompute(product_ids)
            finally:
                recompute_time.append(time.perf_counter() - t)

        receivers.recompute_sellable = timed_recompute
        with serve() as url:
            erp = Erp(url, client.key_id, secret)

            # 1. Every quantity differs from tongcang's: a ledger row and a level per product.
            checkpoint()
            book = {c: rng.randint(0, 500) for c in codes}
            items = [{"product_code": c, "quantity": f"{q}.0000"} for c, q in book.items()]
            t0 = time.perf_counter()
            answer = erp.call(
                "POST",
                "stock/full",
                {"message_id": "BENCH-FULL-1", "as_of": _now_iso(), "items": items},
            )
            rows.append(
                (
                    "full snapshot, every quantity new",
                    len(items),
                    time.perf_counter() - t0,
                    10.0,
                    f"{answer['applied']} applied",
                )
            )
            rows.append(
                (
                    "  of which: sellable recompute",
                    len(items),
                    recompute_time.pop(),
                    None,
                    "(inventory, on commit)",
                )
            )
            recompute_time.clear()

            # 2. Incremental messages of products picked at random (median of 5).
            checkpoint()
            times = []
            for n in range(5):
                sample = rng.sample(codes, min(args.incremental, len(codes)))
                for c in sample:
                    book[c] += 1
                inc = [{"product_code": c, "quantity": f"{book[c]}.0000"} for c in sample]
                t0 = time.perf_counter()
                answer = erp.call(
                    "POST",
                    "stock/incremental",
                    {"message_id": f"BENCH-INC-{n}", "as_of": _now_iso(), "items": inc},
                )
                times.append(time.perf_counter() - t0)
            rows.append(
                (
                    "incremental message (median of 5)",
                    len(inc),
                    statistics.median(times),
                    0.5,
                    f"{answer['applied']} applied; max {max(times):.2f} s",
                )
            )

            # 3. Extraction of the shipped orders, batch after batch, each acknowledged.
            checkpoint()
            t0 = time.perf_counter()
            extracted, batches = 0, 0
            while True:
                batch = erp.call(
                    "POST",
                    "retail-batches",
                    {"unit_code": "BU00", "kind": "sales", "limit": args.batch},
                )
                if not batch["records"]:
                    break
                for record in batch["records"]:
                    for line in record["lines"]:
                        book[line["product_code"]] -= int(Decimal(line["quantity"]))
                erp.call("POST", f"retail-batches/{batch['batch_id']}/ack")
                extracted += len(batch["records"])
                batches += 1
            rows.append(
                (
                    "extraction (batch + ack)",
                    extracted,
                    time.perf_counter() - t0,
                    20.0,
                    f"{batches} batches",
                )
            )

            # 4. The nightly snapshot: the ERP's book, 2% of it changed since.
            checkpoint()
            for c in rng.sample(codes, len(codes) // 50):
                book[c] += 5
            items = [{"product_code": c, "quantity": f"{q}.0000"} for c, q in book.items()]
            before = StockMove.objects.count()
            t0 = time.perf_counter()
            erp.call(
                "POST",
                "stock/full",
                {"message_id": "BENCH-FULL-2", "as_of": _now_iso(), "items": items},
            )
            rows.append(
                (
                    "full snapshot, 2% changed (nightly)",
                    len(items),
                    time.perf_counter() - t0,
                    10.0,
                    f"{StockMove.objects.count() - before} ledger rows",
                )
            )

            # For scale: the sellable recompute (inventory, run on commit) over every product.
            t0 = time.perf_counter()
            changed = len(recompute_sellable(list(Product.objects.values_list("id", flat=True))))
            rows.append(
                (
                    "(sellable recompute of all products)",
                    len(codes),
                    time.perf_counter() - t0,
                    None,
                    f"{changed} changed (0 expected)",
                )
            )
        receivers.recompute_sellable = original_recompute
        assert RetailRecord.objects.filter(acked_at__isnull=True).count() == 0
        mismatches = len(ledger_mismatches())

    out("")
    out(f"{'step':38} {'items':>8} {'seconds':>8} {'target':>7}  result")
    ok = True
    for step, n, secs, target, result in rows:
        met = "" if target is None else ("ok" if secs < target else "SLOW")
        ok = ok and met != "SLOW"
        tgt = "" if target is None else f"<{target:g}"
        out(f"{step:38} {n:>8} {secs:>8.2f} {tgt:>7}  {result} {met}")
    out(f"ledger mismatches: {mismatches}")
    out(
        f"bench/erp: full {rows[0][2]:.2f} s (all new) / {rows[4][2]:.2f} s (nightly) for "
        f"{rows[0][1]} products, incremental {rows[2][2]:.3f} s for {rows[2][1]}, extraction "
        f"{rows[3][2]:.2f} s for {rows[3][1]} orders; "
        + ("all targets met" if ok and not mismatches else "TARGET MISSED")
    )
    return 0 if ok and not mismatches else 1


if __name__ == "__main__":
    import sys

    sys.exit(main(sys.argv[1:]))
