"""The ERP reconciliation as history grows (issue 11): 1,000,000 shipped orders, 99% of them
extracted by the ERP long ago, and the ERP's stock messages reconciled against the rest.

    python -m bench erp_history                                   # the issue's size
    python -c "import bench.erp_history as b; b.main(['--orders', '100000'])"

Measures ``erpbridge.services.reconciled_deltas`` (the one statement behind every stock
message) for an incremental message and a full snapshot, with the partial index
``order_shipped_unextracted`` and, for comparison, the statement before it (a join of every
shipped order with its retail record); prints EXPLAIN of the new statement and the sizes of
the index and the table. Works in a database of its own (``<name>_bench``).
"""

from __future__ import annotations

import argparse
import random
import statistics
import time

from bench.benchdb import bench_database

# The statement before issue 11: every shipped order ever, joined with its retail record.
OLD_SHIPPED = """
shipped AS (
    SELECT oc.product_id AS p, SUM(oc.quantity) AS q
    FROM orders_ordercomponent oc
    JOIN v ON v.p = oc.product_id
    JOIN orders_orderline ol ON ol.id = oc.line_id
    JOIN orders_order o ON o.id = ol.order_id
    LEFT JOIN erpbridge_retailrecord rr ON rr.order_id = o.id
    WHERE o.status = 'shipped' AND (rr.acked_at IS NULL OR rr.acked_at > %(as_of)s)
    GROUP BY oc.product_id
),"""


def _seed(products: int, orders: int, extracted_share: float, out) -> None:
    from django.db import connection

    from channels.models import Platform, Shop
    from inventory import services as stock
    from inventory.models import Product, StockMove
    from orders.models import Order, OrderComponent, OrderLine

    t0 = time.perf_counter()
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO inventory_product (code, name, unit, spec, list_price, active, "
            "created_at, updated_at) SELECT 'H' || lpad(i::text, 6, '0'), '商品' || i, '件', '', "
            "10, true, now(), now() FROM generate_series(1, %s) AS i",
            [products],
        )
    ids = list(Product.objects.order_by("id").values_list("id", flat=True))
    stock.apply_deltas(
        warehouse_id=stock.main_warehouse_id(),
        deltas={pid: 1000 for pid in ids},
        reason=StockMove.Reason.ADJUST,
        note="bench",
    )
    shop = Shop.objects.create(
        code="HS01",
        name="bench",
        platform=Platform.objects.order_by("code").first(),
        unit_code="HU01",
    )
    template = Order.objects.create(
        order_no="HO-T",
        shop=shop,
        platform_order_no="HP-T",
        status=Order.Status.SHIPPED,
        receiver_name="王五",
        receiver_phone="1",
        province="上海",
        city="上海",
        address="x",
    )
    line = OrderLine.objects.create(
        order=template, platform_sku="x", quantity=1, unit_price=10, amount=10
    )
    OrderComponent.objects.create(line=line, order=template, product_id=ids[0], quantity=1)

    def columns(table, skip):
        with connection.cursor() as cur:
            cur.execute(
                "SELECT column_name FROM information_schema.columns WHERE table_name = %s "
                "ORDER BY ordinal_position",
                [table],
            )
            return [c for (c,) in cur.fetchall() if c not in skip]

    order_cols = columns("orders_order", {"id", "order_no", "platform_order_no", "shipped_at"})
    line_cols = columns("orders_orderline", {"id", "order_id", "platform_line_id"})
    with connection.cursor() as cur:
        cur.execute(
            f"INSERT INTO orders_order (order_no, platform_order_no, shipped_at, "
            f"{', '.join(order_cols)}) "
            f"SELECT 'HO' || g, 'HP' || g, now() - make_interval(secs => g), "
            f"{', '.join('t.' + c for c in order_cols)} "
            "FROM orders_order t, generate_series(1, %s) AS g WHERE t.id = %s",
            [orders - 1, template.pk],
        )
        cur.execute(
            f"INSERT INTO orders_orderline (order_id, platform_line_id, {', '.join(line_cols)}) "
            f"SELECT o.id, o.order_no, {', '.join('t.' + c for c in line_cols)} "
            "FROM orders_order o, orders_orderline t WHERE t.id = %s AND o.id <> %s",
            [line.pk, template.pk],
        )
        cur.execute(
            "INSERT INTO orders_ordercomponent (line_id, order_id, product_id, quantity) "
            "SELECT l.id, l.order_id, (%s::bigint[])[1 + l.id %% %s], 1 "
            "FROM orders_orderline l WHERE l.id <> %s",
            ["{" + ",".join(map(str, ids)) + "}", len(ids), line.pk],
        )
        out(f"  seeded {orders:,} shipped orders in {time.perf_counter() - t0:.1f} s")
        t0 = time.perf_counter()
        # 99% extracted a day ago, in batches of 1,000 (as the ERP's acknowledgements left them).
        cur.execute(
            "CREATE TEMP TABLE done AS SELECT id, row_number() OVER (ORDER BY id) AS n "
            "FROM orders_order WHERE random() < %s",
            [extracted_share],
        )
        cur.execute(
            "INSERT INTO erpbridge_retailbatch (batch_id, unit_code, kind, records, "
            "record_count, created_at, acked_at) SELECT 'rb_h' || b, 'HU01', 'sales', '[]', "
            "1000, now() - interval '1 day', now() - interval '1 day' "
            "FROM generate_series(0, (SELECT max(n) FROM done) / 1000) AS b"
        )
        cur.execute(
            "INSERT INTO erpbridge_retailrecord (batch_id, kind, order_id, acked_at) "
            "SELECT rb.id, 'sales', d.id, rb.acked_at FROM done d "
            "JOIN erpbridge_retailbatch rb ON rb.batch_id = 'rb_h' || (d.n / 1000)"
        )
        cur.execute(
            "UPDATE orders_order o SET erp_extracted_at = now() - interval '1 day' "
            "FROM done d WHERE d.id = o.id"
        )
        cur.execute("SELECT count(*) FROM done")
        extracted = cur.fetchone()[0]
        # The seeding inserted every order unextracted first; a database in use reached its
        # 1% gradually, so its partial index holds only those: rebuild it as such.
        cur.execute("REINDEX INDEX order_shipped_unextracted")
        cur.execute("REINDEX INDEX order_erp_extracted_at")
        cur.execute("ANALYZE")
    out(f"  {extracted:,} of them extracted, in {time.perf_counter() - t0:.1f} s")


def _time(fn, repeat=5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="bench.erp_history", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--products", type=int, default=2_000)
    parser.add_argument("--incremental", type=int, default=100)
    parser.add_argument("--extracted", type=float, default=0.99)
    args = parser.parse_args(argv or [])

    def out(line):
        print(line, flush=True)

    with bench_database() as dbname:
        out(f"bench/erp_history: database {dbname}")
        from django.db import connection
        from django.utils import timezone

        from erpbridge import services
        from inventory import services as stock
        from inventory.models import Product

        _seed(args.products, args.orders, args.extracted, out)
        main_id = stock.main_warehouse_id()
        ids = list(Product.objects.values_list("id", flat=True))
        rng = random.Random(5)
        as_of = timezone.now()
        few = {p: 5 for p in rng.sample(ids, args.incremental)}
        every = {p: 5 for p in ids}
        new_sql = services._CURRENT
        start = new_sql.index("unextracted AS (")
        end = new_sql.index("returned AS (")
        old_sql = new_sql[:start] + OLD_SHIPPED.strip() + "\n" + new_sql[end:]

        def run(sql, targets):
            def go():
                services._CURRENT = sql
                try:
                    services.reconciled_deltas(targets=targets, as_of=as_of, main_id=main_id)
                finally:
                    services._CURRENT = new_sql

            return go

        rows = [
            ("incremental", len(few), _time(run(new_sql, few)), _time(run(old_sql, few), 3)),
            (
                "full snapshot",
                len(every),
                _time(run(new_sql, every)),
                _time(run(old_sql, every), 3),
            ),
        ]
        with connection.cursor() as cur:
            cur.execute(
                "EXPLAIN " + new_sql.format(levels=services._LEVELS_LOOKUP),
                {"pids": stock._int_array(few), "as_of": as_of, "main": main_id},
            )
            plan = "\n".join(r[0] for r in cur.fetchall())
            cur.execute(
                "SELECT pg_relation_size('order_shipped_unextracted'), "
                "pg_relation_size('order_erp_extracted_at'), pg_relation_size('orders_order')"
            )
            small, by_time, table = cur.fetchone()
        out("\nEXPLAIN (incremental):")
        out(plan)
        out(f"\n{'statement':<16}{'products':>10}{'with index':>14}{'before':>12}")
        for name, n, new, old in rows:
            out(f"{name:<16}{n:>10,}{new:>13.3f}s{old:>11.3f}s")
        out(
            f"\nindex order_shipped_unextracted {small / 1024:,.0f} KB, order_erp_extracted_at "
            f"{by_time / 1024:,.0f} KB, table orders_order {table / 1024 / 1024:,.0f} MB"
        )
        uses = "order_shipped_unextracted" in plan
        out(
            f"bench/erp_history: {args.orders:,} shipped orders, {args.extracted:.0%} extracted: "
            f"incremental {rows[0][2]:.3f} s (before {rows[0][3]:.3f} s), full "
            f"{rows[1][2]:.3f} s (before {rows[1][3]:.3f} s); partial index "
            f"{small / 1024:,.0f} KB, {'used' if uses else 'NOT used'}"
        )
    return 0
