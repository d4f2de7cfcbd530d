"""The sellable quantity of each shop SKU (docs/design.md, Stock):

    floor( min over components c of ( max(0, available_c − safety) × shop.stock_ratio / q_c ) )

in the main warehouse only. Computed in one SQL statement for every mapping that uses any of
the given products, and written to ``channels.SellableQuantity`` only where it changed; the
rows whose quantity differs from the last pushed value are what the platforms must be sent.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import connection, transaction

# ``{touched}`` selects the mappings to recompute. A figure that did not change is neither
# written nor locked (an ON CONFLICT upsert would lock every conflicting row, and take a
# speculative insertion per row): the rows that exist are updated through one join, only where
# the figure differs, and the statement also returns the figures of the mappings that have no
# row yet; those are inserted by a second statement (``_INSERT``).
#
# Inserting in this statement would mean reading channels_sellablequantity (which mappings lack
# a row) while writing it, and when its statistics say it is empty PostgreSQL rescans it for
# each row inserted: quadratic on a first computation.
_SQL = """
WITH calc AS (
    SELECT c.mapping_id,
           FLOOR(MIN(GREATEST(0, COALESCE(sl.on_hand - sl.reserved, 0) - s.safety_stock)
                     * s.stock_ratio / c.quantity))::integer AS qty
    FROM channels_skucomponent c
    JOIN channels_skumapping m ON m.id = c.mapping_id
    JOIN channels_shop s ON s.id = m.shop_id
    LEFT JOIN inventory_stocklevel sl
           ON sl.product_id = c.product_id AND sl.warehouse_id = %(main)s
    {touched}
    GROUP BY c.mapping_id
), updated AS (
    UPDATE channels_sellablequantity AS sq SET quantity = calc.qty, computed_at = now()
    FROM calc
    WHERE sq.mapping_id = calc.mapping_id AND sq.quantity IS DISTINCT FROM calc.qty
    RETURNING sq.mapping_id
)
SELECT mapping_id, NULL::integer FROM updated  -- changed, written
UNION ALL
SELECT calc.mapping_id, calc.qty FROM calc  -- no row yet: to insert
WHERE NOT EXISTS (
    SELECT 1 FROM channels_sellablequantity e WHERE e.mapping_id = calc.mapping_id
)
"""

# The figures of mappings that had no row. ON CONFLICT: another transaction may have inserted
# the row meanwhile; the figure computed here then replaces it (as an update would).
_INSERT = """
INSERT INTO channels_sellablequantity AS sq (mapping_id, quantity, computed_at)
SELECT v.mapping_id, v.qty, now()
FROM unnest(%s::bigint[], %s::integer[]) AS v(mapping_id, qty)
ON CONFLICT (mapping_id) DO UPDATE
   SET quantity = EXCLUDED.quantity, computed_at = EXCLUDED.computed_at
   WHERE sq.quantity IS DISTINCT FROM EXCLUDED.quantity
RETURNING sq.mapping_id
"""

# The mappings that use any of the given products. The ids are joined (unnest), not compared
# with ``= ANY(array)``: for a large set PostgreSQL can then hash them instead of probing the
# index once per id, and for a small one it still walks the product index.
_TOUCHED = """
    WHERE c.mapping_id IN (
        SELECT t.mapping_id FROM channels_skucomponent t
        JOIN unnest(%(products)s::bigint[]) AS p(id) ON t.product_id = p.id
    )
"""

# Before computing, the rows about to be recomputed are locked, in mapping order. Two
# recomputes of overlapping mappings (two parcels shipped at once) then neither deadlock (each
# takes the locks in the same order) nor write stale figures: the second one computes only
# once the first committed, so from stock at least as new as the first one's, never a figure
# read before the first one's change and written after it. A large set locks the table
# instead (EXCLUSIVE: readers go on; locking every row would write every row).
_LOCK_ROWS = """
SELECT sq.mapping_id FROM channels_sellablequantity sq
WHERE sq.mapping_id IN (
    SELECT t.mapping_id FROM channels_skucomponent t
    JOIN unnest(%(products)s::bigint[]) AS p(id) ON t.product_id = p.id
)
ORDER BY sq.mapping_id
FOR UPDATE OF sq
"""
_LOCK_TABLE = "LOCK TABLE channels_sellablequantity IN EXCLUSIVE MODE"

# Whether the given products include every product used by a mapping (one scan of the
# components, hashed against the ids); asked only for sets of at least this many products.
WHOLE_TABLE_CHECK_FROM = 10_000
_COVERS_ALL = """
SELECT NOT EXISTS (
    SELECT 1 FROM channels_skucomponent c
    LEFT JOIN unnest(%(products)s::bigint[]) AS p(id) ON p.id = c.product_id
    WHERE p.id IS NULL
)
"""


def recompute_sellable(product_ids: Iterable[int] | None = None) -> list[int]:
    """Recompute the sellable quantity of every mapping using these products (all when None).

    Returns the ids of the mappings whose sellable quantity changed.
    """
    from inventory.services import _int_array, main_warehouse_id

    params: dict = {"main": main_warehouse_id()}
    if product_ids is None:
        touched = ""
    else:
        wanted = sorted({int(p) for p in product_ids})
        if not wanted:
            return []
        # A text array literal: adapting 100,000 Python ints one by one is slow.
        params["products"] = _int_array(wanted)
        touched = _TOUCHED
    with transaction.atomic(), connection.cursor() as cur:
        if touched and len(wanted) >= WHOLE_TABLE_CHECK_FROM:
            # A large set (a full ERP snapshot) often holds every product used by a mapping:
            # then the mappings concerned are all of them, and the whole-table statement,
            # without the filter, gives the same result faster.
            cur.execute(_COVERS_ALL, params)
            if cur.fetchone()[0]:
                touched = ""
        if touched and len(wanted) < WHOLE_TABLE_CHECK_FROM:
            cur.execute(_LOCK_ROWS, params)
        else:
            cur.execute(_LOCK_TABLE)
        cur.execute(_SQL.format(touched=touched), params)
        rows = cur.fetchall()
        changed = [mapping_id for mapping_id, qty in rows if qty is None]
        missing = [(mapping_id, qty) for mapping_id, qty in rows if qty is not None]
        if missing:
            cur.execute(
                _INSERT,
                [_int_array(m for m, _ in missing), _int_array(q for _, q in missing)],
            )
            changed.extend(row[0] for row in cur.fetchall())
        return changed


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
