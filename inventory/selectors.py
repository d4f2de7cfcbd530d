"""Reads of the stock core for screens, checks and APIs."""

from django.db import connection


def ledger_mismatches() -> list[dict]:
    """Levels whose on_hand differs from the sum of their ledger (should be none)."""
    sql = """
        SELECT w.code, p.code, COALESCE(l.on_hand, 0), COALESCE(m.total, 0)
        FROM inventory_stocklevel l
        FULL OUTER JOIN (
            SELECT warehouse_id, product_id, SUM(quantity) AS total
            FROM inventory_stockmove GROUP BY warehouse_id, product_id
        ) m ON m.warehouse_id = l.warehouse_id AND m.product_id = l.product_id
        JOIN inventory_warehouse w ON w.id = COALESCE(l.warehouse_id, m.warehouse_id)
        JOIN inventory_product p ON p.id = COALESCE(l.product_id, m.product_id)
        WHERE COALESCE(l.on_hand, 0) <> COALESCE(m.total, 0)
        ORDER BY w.code, p.code
    """
    with connection.cursor() as cur:
        cur.execute(sql)
        return [
            {"warehouse": w, "product": p, "on_hand": on_hand, "ledger": ledger}
            for w, p, on_hand, ledger in cur.fetchall()
        ]


def reservation_mismatches() -> list[dict]:
    """Levels whose reserved differs from the sum of their reservations (should be none)."""
    sql = """
        SELECT w.code, p.code, COALESCE(l.reserved, 0), COALESCE(r.total, 0)
        FROM inventory_stocklevel l
        FULL OUTER JOIN (
            SELECT warehouse_id, product_id, SUM(quantity) AS total
            FROM inventory_reservation GROUP BY warehouse_id, product_id
        ) r ON r.warehouse_id = l.warehouse_id AND r.product_id = l.product_id
        JOIN inventory_warehouse w ON w.id = COALESCE(l.warehouse_id, r.warehouse_id)
        JOIN inventory_product p ON p.id = COALESCE(l.product_id, r.product_id)
        WHERE COALESCE(l.reserved, 0) <> COALESCE(r.total, 0)
        ORDER BY w.code, p.code
    """
    with connection.cursor() as cur:
        cur.execute(sql)
        return [
            {"warehouse": w, "product": p, "reserved": reserved, "reservations": total}
            for w, p, reserved, total in cur.fetchall()
        ]
