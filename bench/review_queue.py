"""Benchmark: the review queue (审单) with 1,000,000 orders in the database (issue 3).

Fills a database of its own with orders (40 % waiting for review, the rest shipped), one line
and one component each, some held and some with remarks, then renders through the test
client, as a logged-in reviewer, the queue's first page and filtered or searched pages.
Prints the median and 95th percentile of each. Target: p95 under 300 ms.

    python -m bench review_queue
    python bench/review_queue.py --orders 100000 --requests 20
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time


def fill(orders: int) -> dict:
    """Orders, lines, components and holds written by PostgreSQL itself (generate_series)."""
    from django.db import connection

    from channels.models import Platform, Shop
    from inventory.models import Product

    shops = []
    for i, platform in enumerate(Platform.objects.order_by("code")):
        shops.append(
            Shop.objects.create(
                code=f"S{i:02d}", name=f"店铺 {i}", unit_code=f"S{i:02d}", platform=platform
            ).pk
        )
    Product.objects.bulk_create([Product(code=f"RP{i:05d}", name=f"商品 {i}") for i in range(200)])
    products = list(Product.objects.order_by("id").values_list("id", flat=True))
    provinces = ["浙江省", "江苏省", "上海市", "广东省", "北京市", "四川省", "湖北省", "山东省"]
    step = 100_000
    with connection.cursor() as cur:
        for start in range(1, orders + 1, step):
            end = min(start + step - 1, orders)
            cur.execute(
                """
                INSERT INTO orders_order (
                    order_no, shop_id, platform_order_no, status, on_hold, buyer_nick,
                    receiver_name, receiver_phone, province, city, district, address,
                    buyer_remark, seller_remark, goods_amount, shipping_fee, discount_amount,
                    total_amount, paid_at, platform_status, after_sales_pending, tracking_no,
                    raw, created_at, updated_at, allocated_at)
                SELECT 'BQ' || lpad(g::text, 10, '0'),
                       (%(shops)s::bigint[])[1 + g %% array_length(%(shops)s::bigint[], 1)],
                       'P' || g, CASE WHEN g %% 5 < 2 THEN 'pending_review' ELSE 'shipped' END,
                       g %% 20 = 0, 'nick' || g, '收货人' || (g %% 50000),
                       '139' || lpad(g::text, 8, '0'),
                       (%(provinces)s::text[])[1 + (g / 7) %% array_length(%(provinces)s::text[], 1)],
                       '某市', '某区', '某路 ' || g || ' 号',
                       CASE WHEN g %% 10 = 0 THEN '请尽快发货' ELSE '' END, '',
                       99.00, 0, 0, 99.00,
                       timestamptz '2026-01-01 00:00+08' + g * interval '20 seconds', '', false,
                       CASE WHEN g %% 5 >= 2 THEN 'SF' || g ELSE '' END,
                       '{}'::jsonb, now(), now(), now()
                FROM generate_series(%(start)s, %(end)s) AS g
                """,
                {"shops": shops, "provinces": provinces, "start": start, "end": end},
            )
            print(f"  {end:,} orders written", flush=True)
        cur.execute(
            """
            INSERT INTO orders_orderline (order_id, platform_line_id, platform_sku, title,
                quantity, unit_price, amount, refund_status)
            SELECT id, '', 'SKU-' || (id %% 400), '', 1, 99.00, 99.00, '' FROM orders_order
            """,
            {},
        )
        cur.execute(
            """
            INSERT INTO orders_ordercomponent (line_id, order_id, product_id, quantity)
            SELECT l.id, l.order_id, (%(products)s::bigint[])[1 + l.id %% 200], 1
            FROM orders_orderline l
            """,
            {"products": products},
        )
        cur.execute(
            """
            INSERT INTO orders_orderhold (order_id, reason, note, created_at, release_note)
            SELECT id, CASE WHEN id %% 40 = 0 THEN 'sku_unmapped' ELSE 'stock_short' END, '',
                   now(), ''
            FROM orders_order WHERE on_hold
            """,
            {},
        )
        cur.execute("ANALYZE")
    return {"shop": shops[3], "province": provinces[2], "product": "RP00041"}


def measure(client, url: str, params: dict, requests: int) -> tuple[float, float, int]:
    client.get(url, params)  # warm up
    times = []
    rows = 0
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(url, params)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, response.status_code
        rows = response.content.decode().count('name="_selected_action"')
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return statistics.median(times), p95, rows


def main(argv) -> int:
    parser = argparse.ArgumentParser(prog="bench/review_queue.py")
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=30, help="requests per page measured")
    args = parser.parse_args(argv)
    from bench.benchdb import bench_database, setup_django

    setup_django()
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.test import Client
    from django.urls import reverse

    with bench_database():
        started = time.perf_counter()
        values = fill(args.orders)
        print(f"filled {args.orders:,} orders in {time.perf_counter() - started:.0f} s", flush=True)
        user = get_user_model().objects.create_user("bench-reviewer", is_staff=True)
        user.groups.add(Group.objects.get(name="reviewer"))
        client = Client()
        client.force_login(user)
        url = reverse("admin:orders_reviewqueueorder_changelist")
        pages = [
            ("queue, first page", {}),
            ("filtered: shop + province", {"shop": values["shop"], "province": values["province"]}),
            ("filtered: held stock short", {"hold": "stock_short"}),
            ("filtered: has remark", {"remark": "yes"}),
            ("filtered: product", {"product": values["product"]}),
            ("search: phone", {"q": "13900000041"}),
            ("queue, page 20", {"p": "20"}),
        ]
        results = []
        for label, params in pages:
            p50, p95, rows = measure(client, url, params, args.requests)
            results.append((label, p50, p95, rows))
            print(f"  {label}: p50 {p50:.0f} ms, p95 {p95:.0f} ms", flush=True)

    print(f"\n{'page':<30}{'p50 ms':>9}{'p95 ms':>9}{'rows':>7}")
    for label, p50, p95, rows in results:
        print(f"{label:<30}{p50:>9.0f}{p95:>9.0f}{rows:>7}")
    worst = max(p95 for _l, _a, p95, _r in results)
    ok = worst < 300
    print(
        f"review queue with {args.orders:,} orders: worst p95 {worst:.0f} ms "
        f"(target < 300 ms): {'OK' if ok else 'ABOVE TARGET'}"
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    sys.exit(main(sys.argv[1:]))
