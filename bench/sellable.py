"""Benchmark: sellable quantities of 100,000 SKU mappings over 10 shops after a change of
stock to 10,000 products (issue 2; target under 5 s).

    python -m bench.sellable [--mappings 100000] [--shops 10] [--changed 10000]

The stock change itself goes through ``inventory.services.receive`` (ledger and levels); the
recomputation is ``channels.sellable.recompute_sellable(changed product ids)``, the same call
the application makes after a commit. Both are timed; the target is for the recomputation.
"""

from __future__ import annotations

import argparse
import random
import time
from decimal import Decimal

from bench.benchdb import bench_database


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(prog="bench.sellable", description=__doc__.split("\n")[0])
    parser.add_argument("--mappings", type=int, default=100_000)
    parser.add_argument("--shops", type=int, default=10)
    parser.add_argument("--changed", type=int, default=10_000)
    args = parser.parse_args(argv)
    products_count = max(args.changed * 2, args.mappings // 2)
    per_shop = args.mappings // args.shops

    with bench_database():
        from django.db import connection

        from channels.receivers import recompute_after_stock_change
        from channels.sellable import recompute_sellable
        from inventory import services
        from inventory.signals import stock_changed

        main_id = services.main_warehouse_id()
        rows = []
        print(f"setting up {args.mappings} SKU mappings over {args.shops} shops…", flush=True)
        started = time.perf_counter()
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO channels_shop (code, name, platform_id, unit_code, stock_ratio, "
                "safety_stock, enabled, api_base_url, credentials, sync_state, "
                "auto_review_enabled) SELECT 'S' || s, 'shop ' || s, "
                "(SELECT id FROM channels_platform WHERE code = 'other'), 'U' || s, 0.8, "
                "s %% 3, true, '', '{}', '{}', false FROM generate_series(1, %s) s",
                [args.shops],
            )
            cur.execute(
                "INSERT INTO inventory_product (code, name, barcode, unit, spec, active, "
                "created_at, updated_at) SELECT 'B' || i, '商品' || i, '69' || lpad(i::text, 11, "
                "'0'), '个', '', true, now(), now() FROM generate_series(1, %s) i",
                [products_count],
            )
            cur.execute(
                "INSERT INTO inventory_stocklevel (warehouse_id, product_id, on_hand, reserved, "
                "updated_at) SELECT %s, id, (id %% 200), (id %% 7), now() FROM inventory_product",
                [main_id],
            )
            cur.execute(
                "INSERT INTO channels_skumapping (shop_id, platform_sku, created_at, updated_at) "
                "SELECT s.id, s.code || '-' || i, now(), now() FROM channels_shop s, "
                "generate_series(1, %s) i",
                [per_shop],
            )
            # One component each; every tenth mapping a bundle (2 × A + 1 × B); every seventh
            # a fractional one (0.5).
            cur.execute(
                "INSERT INTO channels_skucomponent (mapping_id, product_id, quantity) "
                "SELECT m.id, p.id, CASE WHEN m.id %% 7 = 0 THEN 0.5 WHEN m.id %% 10 = 0 THEN 2 "
                "ELSE 1 END FROM channels_skumapping m JOIN inventory_product p "
                "ON p.code = 'B' || (1 + (m.id * 7919) %% %s)",
                [products_count],
            )
            cur.execute(
                "INSERT INTO channels_skucomponent (mapping_id, product_id, quantity) "
                "SELECT m.id, p.id, 1 FROM channels_skumapping m JOIN inventory_product p "
                "ON p.code = 'B' || (1 + (m.id * 104729 + 1) %% %s) WHERE m.id %% 10 = 0 "
                "ON CONFLICT DO NOTHING",
                [products_count],
            )
            cur.execute("ANALYZE")
            cur.execute("SELECT count(*) FROM channels_skumapping")
            mappings = cur.fetchone()[0]
        rows.append(("set-up (SQL)", mappings, time.perf_counter() - started))

        print("computing every sellable quantity, changing stock, recomputing…", flush=True)
        started = time.perf_counter()
        changed_all = recompute_sellable(None)
        rows.append(
            ("first computation, all SKUs", len(changed_all), time.perf_counter() - started)
        )

        rng = random.Random(1)
        with connection.cursor() as cur:
            cur.execute("SELECT id FROM inventory_product ORDER BY id")
            product_ids = [r[0] for r in cur.fetchall()]
        chosen = rng.sample(product_ids, args.changed)
        stock_changed.disconnect(dispatch_uid="inventory_recompute_sellable")
        try:
            started = time.perf_counter()
            services.receive(
                warehouse_id=main_id,
                items=[(pid, Decimal(rng.randint(1, 50))) for pid in chosen],
                actor=None,
                document="bench:receive",
            )
            rows.append(("stock change (ledger)", len(chosen), time.perf_counter() - started))
        finally:
            stock_changed.connect(
                recompute_after_stock_change, dispatch_uid="inventory_recompute_sellable"
            )
        started = time.perf_counter()
        changed = recompute_sellable(chosen)
        recompute_seconds = time.perf_counter() - started
        rows.append(("recompute after change", len(changed), recompute_seconds))

    print(f"{'step':<30} {'rows':>9} {'seconds':>9}")
    for step, count, seconds in rows:
        print(f"{step:<30} {count:>9} {seconds:>9.2f}")
    ok = recompute_seconds < 5
    print(
        f"sellable: {args.mappings} mappings over {args.shops} shops, {args.changed} products "
        f"changed: recomputed in {recompute_seconds:.2f} s, {len(changed)} figures changed "
        f"(target < 5 s): {'met' if ok else 'NOT met'}"
    )
    return {"rows": rows, "seconds": recompute_seconds, "met": ok}


if __name__ == "__main__":
    main()
