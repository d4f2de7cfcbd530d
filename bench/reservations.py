"""Benchmark: reservations per second for 2-line orders on 20 hot products.

Django (``inventory.services.reserve``, signals and all) with one worker and with two
concurrent workers, beside the same locking and updates (the same single statement) sent as raw
SQL through psycopg, and the ratio. Targets (issue 2): ≥ 1,000 orders/s for one worker; within 3× of raw SQL.

    python -m bench.reservations [--orders 5000] [--hot 20] [--rounds 5]

--orders is per implementation and worker count, split over the rounds.
"""

from __future__ import annotations

import argparse
import random
import statistics
import threading
import time
from decimal import Decimal

from bench.benchdb import bench_conninfo, bench_database


def _reserve_sql():
    # The very statement inventory.services.reserve runs: the same locks, checks and writes.
    from inventory.services import RESERVE_SQL

    return RESERVE_SQL


def make_orders(prefix: str, count: int, product_ids: list[int], seed: int):
    rng = random.Random(seed)
    return [
        (f"{prefix}:{i}", [(pid, Decimal(1)) for pid in rng.sample(product_ids, 2)])
        for i in range(count)
    ]


def django_worker(orders):
    from django.db import connection

    from inventory.services import reserve

    try:
        for document, items in orders:
            reserve(document=document, items=items)
    finally:
        connection.close()


def raw_worker(orders, warehouse_id: int):
    import psycopg

    sql = _reserve_sql()
    with psycopg.connect(**bench_conninfo(), autocommit=True) as conn:
        for document, items in orders:
            pids = sorted(p for p, _q in items)
            wanted = dict(items)
            short = conn.execute(
                sql,
                {
                    "products": pids,
                    "quantities": [wanted[p] for p in pids],
                    "warehouse": warehouse_id,
                    "document": document,
                },
            ).fetchall()
            if short:
                raise RuntimeError("bench stock ran out")


def timed(target, batches, *extra) -> float:
    threads = [threading.Thread(target=target, args=(batch, *extra)) for batch in batches]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - started


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="bench.reservations", description=__doc__.split("\n")[0])
    parser.add_argument("--orders", type=int, default=5000, help="orders per run (default 5000)")
    parser.add_argument("--hot", type=int, default=20, help="hot products (default 20)")
    parser.add_argument("--rounds", type=int, default=5, help="interleaved rounds (default 5)")
    args = parser.parse_args(argv)

    with bench_database():
        from inventory import services
        from inventory.models import Product, Warehouse

        main_id = Warehouse.main().id
        products = Product.objects.bulk_create(
            [Product(code=f"HOT-{i:02d}", name=f"热销商品{i}") for i in range(args.hot)]
        )
        ids = [p.id for p in products]
        services.receive(
            warehouse_id=main_id,
            items=[(pid, Decimal(args.orders * 10)) for pid in ids],
            actor=None,
            document="bench:stock",
        )
        # Warm up connections and caches.
        django_worker(make_orders("warm", 50, ids, 0))

        from channels.receivers import recompute_after_stock_change
        from inventory.signals import stock_changed

        def without_sellable(orders):
            stock_changed.disconnect(dispatch_uid="inventory_recompute_sellable")
            try:
                django_worker(orders)
            finally:
                stock_changed.connect(
                    recompute_after_stock_change, dispatch_uid="inventory_recompute_sellable"
                )

        # "django" is reserve() as the application runs it: after each commit the sellable
        # quantities of the two products are recomputed (channels.receivers). The last line
        # is the same without that recomputation, to show what it costs (single worker only:
        # the signal is process-wide).
        variants = [
            ("django", django_worker, (), (1, 2)),
            ("raw psycopg", raw_worker, (main_id,), (1, 2)),
            ("django, no sellable", without_sellable, (), (1,)),
        ]
        # The machine may be shared: the variants run interleaved in rounds, and each is
        # reported by its best round (least disturbed) and its median round.
        per_round = max(1, args.orders // args.rounds)
        samples: dict[tuple[str, int], list[float]] = {}
        for round_no in range(args.rounds):
            print(f"round {round_no + 1} of {args.rounds}…", flush=True)
            for label, target, extra, worker_counts in variants:
                for workers in worker_counts:
                    orders = make_orders(f"{label}-{workers}-{round_no}", per_round, ids, round_no)
                    batches = [orders[w::workers] for w in range(workers)]
                    seconds = timed(target, batches, *extra)
                    samples.setdefault((label, workers), []).append(per_round / seconds)
        rows = [
            (label, workers, per_round * len(rates), max(rates), statistics.median(rates))
            for (label, workers), rates in samples.items()
        ]

        from inventory.selectors import reservation_mismatches

        assert reservation_mismatches() == [], "benchmark left levels and reservations apart"

    rate = {(label, workers): best for label, workers, _n, best, _median in rows}
    print(f"{'implementation':<20} {'workers':>7} {'orders':>8} {'best/s':>9} {'median/s':>9}")
    for label, workers, count, best, median in rows:
        print(f"{label:<20} {workers:>7} {count:>8} {best:>9.0f} {median:>9.0f}")
    ratios = {w: rate[("raw psycopg", w)] / rate[("django", w)] for w in (1, 2)}
    for w, ratio in ratios.items():
        print(f"raw SQL / django, {w} worker(s), best rounds: {ratio:.2f}×")
    one = rate[("django", 1)]
    ok = one >= 1000 and max(ratios.values()) <= 3
    print(
        f"reservations: {one:.0f} orders/s one worker, {rate[('django', 2)]:.0f} orders/s two "
        f"workers; raw SQL {max(ratios.values()):.2f}× at most "
        f"(targets ≥1000/s and ≤3×): {'met' if ok else 'NOT met'}"
    )
    return {"rows": rows, "ratios": ratios, "met": ok}


if __name__ == "__main__":
    main()
