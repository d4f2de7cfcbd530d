"""The stock core: every change of on_hand or reserved goes through these functions.

Rules (docs/design.md, Stock):
- on_hand changes only together with a ledger row (``StockMove``), so a level always equals the
  sum of its ledger;
- a reservation never makes reserved exceed on_hand: the levels are locked (SELECT … FOR UPDATE)
  in product-id order before anything is decided, so concurrent workers cannot oversell and
  cannot deadlock;
- every function runs in one transaction and takes the actor explicitly.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone

from core.db import retrying

from .models import Reservation, StockLevel, StockMove, Warehouse
from .signals import stock_changed

Q4 = Decimal("0.0001")


def qty(value) -> Decimal:
    """A quantity as Decimal with 4 places (refuses floats: they are never exact)."""
    if isinstance(value, float):
        raise TypeError("quantities are Decimal, never float")
    return Decimal(value).quantize(Q4)


class StockError(Exception):
    pass


class SampleLocationError(StockError):
    """Samples (a store's try-on location) are never reserved, sold or shipped to a buyer."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code

    def __str__(self):
        from django.utils.translation import gettext as _

        return _(
            "%(code)s is a sample location: samples are never reserved or sold "
            "(only a transfer moves them)"
        ) % {"code": self.code}


@dataclass
class Shortage:
    product_id: int
    requested: Decimal
    available: Decimal


@dataclass
class InsufficientStock(StockError):
    shortages: list[Shortage] = field(default_factory=list)

    def __str__(self):
        return "; ".join(
            f"product {s.product_id}: requested {s.requested}, available {s.available}"
            for s in self.shortages
        )


def _sum_items(items: Iterable[tuple[int, Decimal]]) -> dict[int, Decimal]:
    # Called once per order by bulk allocation: a plain dict and qty() inlined (4× faster than
    # a defaultdict with a lambda per call).
    totals: dict[int, Decimal] = {}
    for product_id, quantity in items:
        if isinstance(quantity, float):
            raise TypeError("quantities are Decimal, never float")
        q = Decimal(quantity).quantize(Q4)
        p = int(product_id)
        totals[p] = totals[p] + q if p in totals else q
    return totals


def _actor_id(actor) -> int | None:
    return getattr(actor, "pk", actor)


def _lock_levels(
    warehouse_id: int, product_ids: list[int]
) -> dict[int, tuple[int, Decimal, Decimal]]:
    """Lock (creating when missing) the levels of these products, in product-id order.

    Returns {product_id: (level_id, on_hand, reserved)}.
    """
    product_ids = sorted(set(product_ids))
    with connection.cursor() as cur:
        cur.execute(
            "SELECT product_id, id, on_hand, reserved FROM inventory_stocklevel "
            "WHERE warehouse_id = %s AND product_id = ANY(%s) ORDER BY product_id FOR UPDATE",
            [warehouse_id, product_ids],
        )
        rows = {r[0]: (r[1], r[2], r[3]) for r in cur.fetchall()}
        missing = [p for p in product_ids if p not in rows]
        if missing:
            cur.execute(
                "INSERT INTO inventory_stocklevel (warehouse_id, product_id, on_hand, reserved, "
                "updated_at) SELECT %s, p, 0, 0, now() FROM unnest(%s::bigint[]) AS p "
                "ON CONFLICT (warehouse_id, product_id) DO NOTHING",
                [warehouse_id, missing],
            )
            cur.execute(
                "SELECT product_id, id, on_hand, reserved FROM inventory_stocklevel "
                "WHERE warehouse_id = %s AND product_id = ANY(%s) ORDER BY product_id FOR UPDATE",
                [warehouse_id, product_ids],
            )
            rows = {r[0]: (r[1], r[2], r[3]) for r in cur.fetchall()}
    return rows


def _update_levels(updates: list[tuple[int, Decimal, Decimal]]) -> None:
    """Add (on_hand delta, reserved delta) to levels by id, in one statement."""
    if not updates:
        return
    ids = [u[0] for u in updates]
    on_hand = [u[1] for u in updates]
    reserved = [u[2] for u in updates]
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE inventory_stocklevel AS l SET on_hand = l.on_hand + v.dh, "
            "reserved = l.reserved + v.dr, updated_at = now() "
            "FROM unnest(%s::bigint[], %s::numeric[], %s::numeric[]) AS v(id, dh, dr) "
            "WHERE l.id = v.id",
            [ids, on_hand, reserved],
        )


_coalescing = threading.local()


@contextmanager
def coalesced_stock_signals():
    """Collect the stock_changed signals of many calls and send ONE when the block succeeds.

    Bulk work (order intake reserving thousands of orders) wraps itself in this so the
    receivers (sellable recompute, stock-short retry) run once per batch, not once per call.
    The single signal is sent on commit of the enclosing transaction (or at once outside one).
    """
    if getattr(_coalescing, "pending", None) is not None:
        yield  # already coalescing: the outermost block sends
        return
    pending = _coalescing.pending = {"products": set(), "warehouses": set(), "grew": False}
    try:
        yield
    finally:
        _coalescing.pending = None
    _notify(
        pending["products"],
        pending["warehouses"],
        pending["grew"],
        sellable_deferred=pending.get("sellable_deferred", False),
    )


def _notify(
    product_ids: Iterable[int],
    warehouse_ids: Iterable[int],
    grew: bool,
    sellable_deferred: bool = False,
) -> None:
    """Send stock_changed once the transaction commits. ``sellable_deferred``: the sellable
    quantities need no recompute right now: the products were marked in SellableDirty (for the
    next push), or the change left on_hand − reserved as it was (a shipment)."""
    product_ids = set(product_ids)
    warehouse_ids = set(warehouse_ids)
    if not product_ids:
        return
    pending = getattr(_coalescing, "pending", None)
    if pending is not None:
        pending["products"] |= product_ids
        pending["warehouses"] |= warehouse_ids
        pending["grew"] = pending["grew"] or grew
        pending["sellable_deferred"] = pending.get("sellable_deferred", True) and sellable_deferred
        return
    transaction.on_commit(
        lambda: stock_changed.send(
            sender=StockLevel,
            product_ids=product_ids,
            warehouse_ids=warehouse_ids,
            grew=grew,
            sellable_deferred=sellable_deferred,
        )
    )


_MAIN_WAREHOUSE: dict[str, int] = {}
# Set while a transaction that changed warehouses is open (or was rolled back): the id is then
# looked up every time, so a rolled-back change can never leave a wrong id in the cache.
_MAIN_WAREHOUSE_SUSPENDED = {"value": False}


def main_warehouse_id() -> int:
    """The id of the main warehouse (looked up once per database: it never changes)."""
    key = connection.settings_dict["NAME"]
    if _MAIN_WAREHOUSE_SUSPENDED["value"]:
        return Warehouse.objects.only("id").get(kind=Warehouse.Kind.MAIN).id
    if key not in _MAIN_WAREHOUSE:
        _MAIN_WAREHOUSE[key] = Warehouse.objects.only("id").get(kind=Warehouse.Kind.MAIN).id
    return _MAIN_WAREHOUSE[key]


def forget_main_warehouse() -> None:
    """Warehouses changed: drop the cached id (until the change commits, when inside a
    transaction)."""
    _MAIN_WAREHOUSE.clear()
    if connection.in_atomic_block:
        _MAIN_WAREHOUSE_SUSPENDED["value"] = True

        def resume():
            _MAIN_WAREHOUSE.clear()
            _MAIN_WAREHOUSE_SUSPENDED["value"] = False

        transaction.on_commit(resume)


def resolve_warehouse_id(warehouse=None, warehouse_id: int | None = None) -> int:
    """The id of a location given as a Warehouse, its code (``"main"``, ``"MD01"``,
    ``"MD01:sample"``), its id, or nothing (the main warehouse)."""
    if warehouse is None:
        return warehouse_id or main_warehouse_id()
    if warehouse_id is not None:
        raise TypeError("give warehouse or warehouse_id, not both")
    if isinstance(warehouse, Warehouse):
        return warehouse.pk
    if isinstance(warehouse, int):
        return warehouse
    try:
        return Warehouse.objects.only("id").get(code=warehouse).id
    except Warehouse.DoesNotExist:
        raise StockError(f"no stock location with code {warehouse!r}") from None


def refuse_samples(warehouse_ids: Iterable[int]) -> None:
    """Raise SampleLocationError when any of these locations holds samples (one small query,
    skipped for the main warehouse: the hot path of online orders pays nothing)."""
    ids = set(warehouse_ids)
    if not ids or ids == {main_warehouse_id()}:
        return
    code = (
        Warehouse.objects.filter(pk__in=ids, kind=Warehouse.Kind.SAMPLE)
        .values_list("code", flat=True)
        .first()
    )
    if code is not None:
        raise SampleLocationError(code)


RESERVE_ATTEMPTS = 5  # a deadlock or serialization failure is run again (core.db.retrying)


# --- reservations ---------------------------------------------------------------------------


# Reserving is one statement: lock the levels in product-id order, check that each has enough
# available, and only when all do, raise their reserved and write the document's reservation
# rows. It returns the products that are short (none when the reservation was made).
#
# Why one statement is safe under READ COMMITTED: the FOR UPDATE of ``locked`` waits for any
# concurrent reservation of the same rows and then reads their latest committed version; the
# shortage check (``short``, an init-plan evaluated before anything is written) reads the whole
# of ``locked``, so every lock is held before the first update; the UPDATE re-reads each locked
# row's latest version (EvalPlanQual) before adding to it. Locks are taken in product-id order,
# so two reservations cannot deadlock.
RESERVE_SQL = """
WITH req AS (
    SELECT * FROM unnest(%(products)s::bigint[], %(quantities)s::numeric[]) AS r(product_id, q)
), locked AS (
    SELECT l.id, l.product_id, l.on_hand - l.reserved AS available
    FROM inventory_stocklevel l
    WHERE l.warehouse_id = %(warehouse)s AND l.product_id = ANY(%(products)s::bigint[])
    ORDER BY l.product_id
    FOR UPDATE
), short AS (
    SELECT r.product_id, r.q, COALESCE(k.available, 0) AS available
    FROM req r LEFT JOIN locked k ON k.product_id = r.product_id
    WHERE COALESCE(k.available, 0) < r.q
), up AS (
    UPDATE inventory_stocklevel l SET reserved = l.reserved + r.q, updated_at = now()
    FROM locked k JOIN req r ON r.product_id = k.product_id
    WHERE l.id = k.id AND NOT EXISTS (SELECT 1 FROM short)
), ins AS (
    INSERT INTO inventory_reservation (document, warehouse_id, product_id, quantity, created_at)
    SELECT %(document)s, %(warehouse)s, r.product_id, r.q, now() FROM req r
    WHERE NOT EXISTS (SELECT 1 FROM short)
    ON CONFLICT (document, warehouse_id, product_id)
    DO UPDATE SET quantity = inventory_reservation.quantity + EXCLUDED.quantity
), dirty AS (
    -- the sellable quantities of these products are recomputed, coalesced, before the next push
    INSERT INTO inventory_sellabledirty (product_id, marked_at)
    SELECT r.product_id, now() FROM req r
    WHERE NOT EXISTS (SELECT 1 FROM short)
    ON CONFLICT (product_id) DO NOTHING
)
SELECT product_id, q, available FROM short ORDER BY product_id
"""


def reserve(
    *,
    document: str,
    items: Iterable[tuple[int, Decimal]],
    warehouse_id: int | None = None,
    warehouse=None,
) -> None:
    """Reserve every (product, quantity) for the document, or nothing.

    In the main warehouse unless ``warehouse`` (a Warehouse or its code) or ``warehouse_id``
    names another location; a sample location refuses (SampleLocationError).

    Raises InsufficientStock (and changes nothing) when any product lacks available stock.
    Reserving again for the same document adds to its reservation. The levels are locked in
    product-id order (see RESERVE_SQL), so concurrent reservations cannot oversell nor
    deadlock each other; should PostgreSQL still report a deadlock or a serialization failure
    (another code path locking in another order), the reservation is run again here when it is
    its own transaction, so the caller never sees it. Inside the caller's transaction it runs in
    a savepoint and such an error is the caller's to retry.
    """
    totals = _sum_items(items)
    if not totals:
        return
    if any(q <= 0 for q in totals.values()):
        raise StockError("reservation quantities must be positive")
    if warehouse is None and warehouse_id is None:
        warehouse_id = main_warehouse_id()  # the hot path of online orders: nothing to check
    else:
        warehouse_id = resolve_warehouse_id(warehouse, warehouse_id)
        refuse_samples([warehouse_id])
    if connection.in_atomic_block:
        with transaction.atomic():
            _reserve_locked(document, warehouse_id, totals)
        return
    # One statement in autocommit: a transaction of its own, one round trip.
    retrying(lambda: _reserve_locked(document, warehouse_id, totals), attempts=RESERVE_ATTEMPTS)


def _reserve_locked(document: str, warehouse_id: int, totals: dict[int, Decimal]) -> None:
    pids = sorted(totals)
    with connection.cursor() as cur:
        cur.execute(
            RESERVE_SQL,
            {
                "products": pids,
                "quantities": [totals[p] for p in pids],
                "warehouse": warehouse_id,
                "document": document,
            },
        )
        short = cur.fetchall()
    if short:
        raise InsufficientStock([Shortage(p, q, available) for p, q, available in short])
    _notify(pids, [warehouse_id], grew=False, sellable_deferred=True)


def reserve_many(
    requests: Iterable[tuple[str, Iterable[tuple[int, Decimal]]]],
    *,
    warehouse_id: int | None = None,
    warehouse=None,
    new_documents: bool = False,
) -> list[str]:
    """Reserve for many documents at once, in the order given, each all or nothing.

    ``new_documents``: the caller guarantees the documents hold no reservation yet (orders
    created in this very transaction): their rows are written with COPY instead of an
    add-to-existing upsert; should one exist after all, the unique index fails the call.

    Bulk allocation (order intake): the levels of every product concerned are locked once, in
    product-id order, then each document takes its whole need if available at its turn, or
    nothing. Returns the documents that could not be reserved (nothing reserved for them).
    """
    wanted = [(document, _sum_items(items)) for document, items in requests]
    wanted = [(d, t) for d, t in wanted if t]
    if not wanted:
        return []
    if any(q <= 0 for _d, t in wanted for q in t.values()):
        raise StockError("reservation quantities must be positive")
    warehouse_id = resolve_warehouse_id(warehouse, warehouse_id)
    refuse_samples([warehouse_id])
    with transaction.atomic():
        levels = _lock_levels(warehouse_id, list({p for _d, t in wanted for p in t}))
        available = {p: lv[1] - lv[2] for p, lv in levels.items()}
        taken: dict[int, Decimal] = defaultdict(Decimal)
        rows: list[tuple[str, int, Decimal]] = []
        short: list[str] = []
        for document, totals in wanted:
            if any(available[p] < q for p, q in totals.items()):
                short.append(document)
                continue
            for p, q in totals.items():
                available[p] -= q
                taken[p] += q
                rows.append((document, p, q))
        if rows:
            _update_levels([(levels[p][0], Decimal(0), q) for p, q in taken.items()])
            if new_documents:
                _copy_reservations(warehouse_id, rows)
            else:
                _add_reservations(warehouse_id, rows)
            # Sellable quantities count the main warehouse only: a store's reservation
            # changes none of them.
            _notify(
                list(taken),
                [warehouse_id],
                grew=False,
                sellable_deferred=warehouse_id != main_warehouse_id(),
            )
    return short


def _copy_reservations(warehouse_id: int, rows: list[tuple[str, int, Decimal]]) -> None:
    """COPY reservation rows of documents that hold none yet (a duplicate fails the unique
    index: nothing is ever silently added twice)."""
    now = timezone.now()
    with connection.cursor() as cur, connection.wrap_database_errors:
        with cur.cursor.copy(
            "COPY inventory_reservation (document, warehouse_id, product_id, quantity, "
            "created_at) FROM STDIN"
        ) as copy:
            for document, product_id, quantity in rows:
                copy.write_row((document, warehouse_id, product_id, quantity, now))


def _add_reservations(warehouse_id: int, rows: list[tuple[str, int, Decimal]]) -> None:
    with connection.cursor() as cur:
        cur.execute(
            "INSERT INTO inventory_reservation (document, warehouse_id, product_id, "
            "quantity, created_at) SELECT d, %s, p, q, now() "
            "FROM unnest(%s::text[], %s::bigint[], %s::numeric[]) AS v(d, p, q) "
            "ON CONFLICT (document, warehouse_id, product_id) "
            "DO UPDATE SET quantity = inventory_reservation.quantity + EXCLUDED.quantity",
            [
                warehouse_id,
                [r[0] for r in rows],
                [r[1] for r in rows],
                [r[2] for r in rows],
            ],
        )


def reserved_for(document: str) -> dict[tuple[int, int], Decimal]:
    """{(warehouse_id, product_id): quantity} reserved for a document."""
    return {
        (r.warehouse_id, r.product_id): r.quantity
        for r in Reservation.objects.filter(document=document)
    }


def release(
    *,
    document: str,
    items: Iterable[tuple[int, Decimal]] | None = None,
    warehouse=None,
    warehouse_id: int | None = None,
) -> None:
    """Release a document's reservation: all of it, or the given (product, quantity) items;
    in every location, or only in ``warehouse`` (a Warehouse or its code) / ``warehouse_id``."""
    only = None
    if warehouse is not None or warehouse_id is not None:
        only = resolve_warehouse_id(warehouse, warehouse_id)
    with transaction.atomic():
        reservations = Reservation.objects.select_for_update().filter(document=document)
        if only is not None:
            reservations = reservations.filter(warehouse_id=only)
        rows = list(reservations.order_by("warehouse_id", "product_id"))
        if not rows:
            return
        # What to release of each row: all, or the items taken row by row (a product held in
        # two locations, say the store and the main warehouse, is released once, not twice).
        wanted = None if items is None else _sum_items(items)
        left = None if wanted is None else dict(wanted)
        by_wh: dict[int, dict[int, Decimal]] = defaultdict(dict)
        for r in rows:
            if left is None:
                take = r.quantity
            else:
                take = min(r.quantity, left.get(r.product_id, Decimal(0)))
                if take > 0:
                    left[r.product_id] -= take
            if take > 0:
                by_wh[r.warehouse_id][r.product_id] = take
        if left is not None:
            for pid, q in left.items():
                if q > 0:
                    raise StockError(
                        f"document {document} holds less than {wanted[pid]} of product {pid}"
                    )
        touched = set()
        for warehouse_id, per_product in sorted(by_wh.items()):
            levels = _lock_levels(warehouse_id, list(per_product))
            _update_levels([(levels[p][0], Decimal(0), -q) for p, q in per_product.items()])
            touched |= set(per_product)
        for r in rows:
            take = by_wh.get(r.warehouse_id, {}).get(r.product_id)
            if take is None:
                continue
            if take >= r.quantity:
                r.delete()
            else:
                r.quantity -= take
                r.save(update_fields=["quantity"])
        _notify(touched, by_wh.keys(), grew=True)


def transfer_reservation(
    *, from_document: str, to_document: str, items: Iterable[tuple[int, Decimal]]
) -> None:
    """Move part of one document's reservation to another (a split moves lines)."""
    wanted = _sum_items(items)
    with transaction.atomic():
        rows = {
            r.product_id: r
            for r in Reservation.objects.select_for_update()
            .filter(document=from_document, product_id__in=list(wanted))
            .order_by("product_id")
        }
        for pid, q in wanted.items():
            if pid not in rows or rows[pid].quantity < q:
                raise StockError(f"document {from_document} holds less than {q} of product {pid}")
        for pid, q in sorted(wanted.items()):
            src = rows[pid]
            dst = (
                Reservation.objects.select_for_update()
                .filter(document=to_document, warehouse_id=src.warehouse_id, product_id=pid)
                .first()
            )
            if dst is None:  # created with its quantity: a reservation is never 0
                Reservation.objects.create(
                    document=to_document, warehouse_id=src.warehouse_id, product_id=pid, quantity=q
                )
            else:
                dst.quantity += q
                dst.save(update_fields=["quantity"])
            if src.quantity == q:
                src.delete()
            else:
                src.quantity -= q
                src.save(update_fields=["quantity"])


# --- on_hand changes (always with a ledger row) -------------------------------------------


@dataclass
class Move:
    warehouse_id: int
    product_id: int
    quantity: Decimal  # signed change of on_hand
    reason: str
    document: str = ""
    note: str = ""


def _locked_reservations(document: str, warehouse_id: int | None = None) -> list[Reservation]:
    """The document's reservation rows (only in ``warehouse_id`` when given), locked in
    (warehouse, product) order."""
    held = Reservation.objects.select_for_update().filter(document=document)
    if warehouse_id is not None:
        held = held.filter(warehouse_id=warehouse_id)
    return list(held.order_by("warehouse_id", "product_id"))


def apply_moves(
    moves: Iterable[Move],
    *,
    actor=None,
    consume_reservation: str | None = None,
    consume_only_in: int | None = None,
    reservations: list[Reservation] | None = None,
):
    """Apply on_hand changes with their ledger rows, in one transaction.

    With ``consume_reservation``, the document's reservation of the products moved out is
    turned into the deduction (reserved goes down with on_hand): that is shipping (only in
    location ``consume_only_in`` when given; ``reservations``: those rows, locked by the caller
    in this transaction, so they are not read twice). Levels are locked warehouse by warehouse
    in id order, products in id order: the one fixed order of every stock change. A shipment
    out of a sample location is refused (SampleLocationError).

    A change that leaves every level's on_hand − reserved as it was (a shipment of exactly what
    was reserved) leaves the sellable quantities as they were: ``stock_changed`` says so, and
    they are not recomputed.
    """
    moves = [m for m in moves if qty(m.quantity) != 0]
    if not moves:
        return []
    shipped_from = {m.warehouse_id for m in moves if m.reason == StockMove.Reason.SHIP}
    if shipped_from:
        refuse_samples(shipped_from)
    actor_id = _actor_id(actor)
    with transaction.atomic():
        per_wh: dict[int, dict[int, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for m in moves:
            per_wh[m.warehouse_id][m.product_id] += qty(m.quantity)
        reserved_drop: dict[tuple[int, int], Decimal] = {}
        if consume_reservation:
            if reservations is None:
                reservations = _locked_reservations(consume_reservation, consume_only_in)
            used_up = []
            for r in reservations:
                out = -per_wh.get(r.warehouse_id, {}).get(r.product_id, Decimal(0))
                take = min(r.quantity, max(out, Decimal(0)))
                if take > 0:
                    reserved_drop[(r.warehouse_id, r.product_id)] = take
                    if take == r.quantity:
                        used_up.append(r.pk)
                    else:
                        r.quantity -= take
                        r.save(update_fields=["quantity"])
            if used_up:
                Reservation.objects.filter(pk__in=used_up).delete()
        grew = False
        for warehouse_id in sorted(per_wh):
            deltas = per_wh[warehouse_id]
            levels = _lock_levels(warehouse_id, list(deltas))
            _update_levels(
                [
                    (
                        levels[p][0],
                        d,
                        -reserved_drop.get((warehouse_id, p), Decimal(0)),
                    )
                    for p, d in deltas.items()
                ]
            )
            grew = grew or any(d > 0 for d in deltas.values())
        created = StockMove.objects.bulk_create(
            [
                StockMove(
                    warehouse_id=m.warehouse_id,
                    product_id=m.product_id,
                    quantity=qty(m.quantity),
                    reason=m.reason,
                    document=m.document,
                    note=m.note[:255],
                    actor_id=actor_id,
                )
                for m in moves
            ]
        )
        free_unchanged = all(
            d == -reserved_drop.get((warehouse_id, p), Decimal(0))
            for warehouse_id, deltas in per_wh.items()
            for p, d in deltas.items()
        )
        _notify(
            {m.product_id for m in moves},
            per_wh.keys(),
            grew=grew,
            sellable_deferred=free_unchanged,
        )
    return created


def adjust(
    *,
    warehouse_id: int | None = None,
    product_id: int,
    quantity,
    actor,
    note: str = "",
    document: str = "",
    warehouse=None,
):
    """A manual stock adjustment (stocktake, damage…): on_hand changes by ``quantity``, in
    ``warehouse`` (a Warehouse or its code) / ``warehouse_id``, the main warehouse by default."""
    warehouse_id = resolve_warehouse_id(warehouse, warehouse_id)
    return apply_moves(
        [Move(warehouse_id, product_id, qty(quantity), StockMove.Reason.ADJUST, document, note)],
        actor=actor,
    )


def receive(
    *,
    warehouse_id: int | None = None,
    items: Iterable[tuple[int, Decimal]],
    actor,
    document: str,
    reason: str = StockMove.Reason.RECEIVE,
    note: str = "",
    warehouse=None,
):
    """Goods come in (a purchase receipt, a return): on_hand grows by each quantity, in
    ``warehouse`` (a Warehouse or its code) / ``warehouse_id``, the main warehouse by default."""
    warehouse_id = resolve_warehouse_id(warehouse, warehouse_id)
    moves = []
    for product_id, quantity in _sum_items(items).items():
        if quantity <= 0:
            raise StockError("received quantities must be positive")
        moves.append(Move(warehouse_id, product_id, quantity, reason, document, note))
    return apply_moves(moves, actor=actor)


def ship(*, document: str, actor, note: str = "", warehouse=None, warehouse_id=None):
    """The document's whole reservation leaves the warehouse: a ledger deduction per product.

    Every location it holds stock in, or only ``warehouse`` (a Warehouse or its code) /
    ``warehouse_id`` (a store order handed over in the store, say).
    """
    only = None
    if warehouse is not None or warehouse_id is not None:
        only = resolve_warehouse_id(warehouse, warehouse_id)
    with transaction.atomic():
        held = _locked_reservations(document, only)
        moves = [
            Move(r.warehouse_id, r.product_id, -r.quantity, StockMove.Reason.SHIP, document, note)
            for r in held
        ]
        return apply_moves(
            moves,
            actor=actor,
            consume_reservation=document,
            consume_only_in=only,
            reservations=held,
        )


# --- bulk path (large ERP snapshots) -------------------------------------------------------


def _int_array(values) -> str:
    """A PostgreSQL array literal of integers (adapting 100,000 Python ints one by one is slow)."""
    return "{" + ",".join(str(int(v)) for v in values) + "}"


_LOCK_BULK = (
    "SELECT l.product_id, l.on_hand FROM inventory_stocklevel l "
    "JOIN unnest(%s::bigint[]) AS v(p) ON l.product_id = v.p "
    "WHERE l.warehouse_id = %s ORDER BY l.product_id FOR UPDATE OF l"
)


def lock_levels(*, warehouse_id: int, product_ids: Iterable[int]) -> dict[int, Decimal]:
    """Lock (creating when missing) the levels of these products; {product_id: on_hand}.

    Call inside a transaction before reading anything the new levels depend on. Joins the ids
    instead of ``= ANY(array)``, which PostgreSQL may evaluate row × array for big arrays.
    """
    wanted = sorted({int(p) for p in product_ids})
    ids = _int_array(wanted)
    with connection.cursor() as cur:
        cur.execute(_LOCK_BULK, [ids, warehouse_id])
        levels = dict(cur.fetchall())
        missing = [p for p in wanted if p not in levels]
        if missing:
            cur.execute(
                "INSERT INTO inventory_stocklevel (warehouse_id, product_id, on_hand, reserved, "
                "updated_at) SELECT %s, v.p, 0, 0, now() FROM unnest(%s::bigint[]) AS v(p) "
                "ORDER BY v.p ON CONFLICT (warehouse_id, product_id) DO NOTHING",
                [warehouse_id, _int_array(missing)],
            )
            cur.execute(_LOCK_BULK, [_int_array(missing), warehouse_id])
            levels.update(cur.fetchall())
        return levels


def apply_deltas(
    *,
    warehouse_id: int,
    deltas: dict[int, Decimal],
    reason: str,
    actor=None,
    document: str = "",
    note: str = "",
    levels_locked: bool = False,
) -> int:
    """``apply_moves`` for many products of one warehouse at once, in set-based SQL.

    Same rules (a ledger row per change, levels locked in product-id order, ``stock_changed``
    on commit), without reservation consumption. Returns the number of ledger rows written.
    ``levels_locked``: the caller holds the locks already (``lock_levels`` in this transaction).
    """
    deltas = {int(p): qty(d) for p, d in deltas.items()}
    deltas = {p: d for p, d in deltas.items() if d != 0}
    if not deltas:
        return 0
    pids = sorted(deltas)
    amounts = [deltas[p] for p in pids]
    ids = _int_array(pids)
    amounts_text = "{" + ",".join(str(d) for d in amounts) + "}"
    with transaction.atomic():
        if not levels_locked:
            lock_levels(warehouse_id=warehouse_id, product_ids=pids)
        with connection.cursor() as cur:
            cur.execute(
                "UPDATE inventory_stocklevel AS l SET on_hand = l.on_hand + v.d, updated_at = now() "
                "FROM unnest(%s::bigint[], %s::numeric[]) AS v(p, d) "
                "WHERE l.warehouse_id = %s AND l.product_id = v.p",
                [ids, amounts_text, warehouse_id],
            )
            cur.execute(
                "INSERT INTO inventory_stockmove (warehouse_id, product_id, quantity, reason, "
                "document, note, actor_id, created_at) "
                "SELECT %s, v.p, v.d, %s, %s, %s, %s, now() "
                "FROM unnest(%s::bigint[], %s::numeric[]) AS v(p, d)",
                [
                    warehouse_id,
                    reason,
                    document[:64],
                    note[:255],
                    _actor_id(actor),
                    ids,
                    amounts_text,
                ],
            )
        _notify(pids, [warehouse_id], grew=any(d > 0 for d in amounts))
    return len(pids)
