"""The sellable quantity of each shop SKU (design.md, Stock):

    floor( min over components c of ( max(0, available_c − safety) × shop.stock_ratio / q_c ) )

in the main warehouse only. Computed in one SQL statement for every mapping that uses any of
the given products, and written to ``channels.SellableQuantity`` only where it changed; the
rows whose quantity differs from the last pushed value are what the platforms must be sent.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

_SQL = """
WITH touched AS (
    SELECT DISTINCT mapping_id FROM channels_skucomponent WHERE {where}
), calc AS (
    SELECT c.mapping_id,
           FLOOR(MIN(GREATEST(0, COALESCE(sl.on_hand - sl.reserved, 0) - s.safety_stock)
                     * s.stock_ratio / c.quantity))::integer AS qty
    FROM touched t
    JOIN channels_skucomponent c ON c.mapping_id = t.mapping_id
    JOIN channels_skumapping m ON m.id = c.mapping_id
    JOIN channels_shop s ON s.id = m.shop_id
    LEFT JOIN inventory_stocklevel sl
           ON sl.product_id = c.product_id AND sl.warehouse_id = %(main)s
    GROUP BY c.mapping_id
)
INSERT INTO channels_sellablequantity AS sq (mapping_id, quantity, computed_at)
SELECT mapping_id, qty, now() FROM calc
ON CONFLICT (mapping_id) DO UPDATE
   SET quantity = EXCLUDED.quantity, computed_at = EXCLUDED.computed_at
   WHERE sq.quantity IS DISTINCT FROM EXCLUDED.quantity
RETURNING mapping_id
"""


def recompute_sellable(product_ids: Iterable[int] | None = None) -> list[int]:
    """Recompute the sellable quantity of every mapping using these products (all when None).

    Returns the ids of the mappings whose sellable quantity changed.
    """
    from .services import main_warehouse_id

    params: dict = {"main": main_warehouse_id()}
    if product_ids is None:
        where = "TRUE"
    else:
        params["products"] = sorted({int(p) for p in product_ids})
        if not params["products"]:
            return []
        where = "product_id = ANY(%(products)s)"
    # One statement: atomic on its own, or part of the caller's transaction.
    with connection.cursor() as cur:
        cur.execute(_SQL.format(where=where), params)
        return [row[0] for row in cur.fetchall()]


def recompute_dirty() -> list[int]:
    """Recompute the sellable quantities of the products reservations marked since the last
    call (SellableDirty), and clear the marks, in one transaction. Run before sellable
    quantities are read for pushing. Returns the ids of the mappings whose quantity changed.

    A mark committed while this runs is not seen by the DELETE, so it stays for the next call:
    nothing is lost. Two callers at once take disjoint marks.
    """
    with transaction.atomic(), connection.cursor() as cur:
        cur.execute("DELETE FROM inventory_sellabledirty RETURNING product_id")
        product_ids = [row[0] for row in cur.fetchall()]
        if not product_ids:
            return []
        return recompute_sellable(product_ids)
