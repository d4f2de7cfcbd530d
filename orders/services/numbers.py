"""Our own order numbers (订单号), drawn from a PostgreSQL sequence, many at a time."""

from __future__ import annotations

from django.db import connection

PREFIX = "SO"


def next_order_nos(count: int) -> list[str]:
    """``count`` new, never reused order numbers such as ``SO0000000042``."""
    if count <= 0:
        return []
    with connection.cursor() as cur:
        cur.execute(
            "SELECT nextval('orders_order_no_seq') FROM generate_series(1, %s)", [int(count)]
        )
        return [f"{PREFIX}{n:010d}" for (n,) in cur.fetchall()]
