"""Transfers (调拨) between the main warehouse and a store: one function per action.

draft → shipped: every line leaves its source location into the in-transit location (two
ledger rows per line, reason ``transfer``); shipped → received: each line's received quantity
leaves in transit into its destination, a shortfall leaves in transit as ``transfer_short``
with its reason. So the in-transit level of a product is always the sum of the lines of
shipped transfers (``selectors.transit_mismatches`` proves it), and every level its ledger.

Routes: main → a store (replenishment), a store → main or the defective warehouse (unsold
stock, faulty samples). A line marked ``sample`` uses the store's sample location
(``MD01:sample``) on the store's side. Drafts reserve nothing: shipping checks, under the
locks, that the source has the goods available (not reserved for an order).

Locks: the transfer row first, then the stock levels warehouse by warehouse in id order,
products in id order (the order of every stock change in ``inventory.services``), so two
transfers, orders and receipts cannot deadlock.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from core import clock

from . import services as stock
from .models import Product, StockMove, Transfer, TransferLine, Warehouse

Kind = Warehouse.Kind
PREFIX = "DB"  # 调拨


class TransferError(stock.StockError):
    """A transfer action refused; nothing was changed."""


def next_transfer_number() -> str:
    """Our own transfer number: DB + the Shanghai date + a database sequence (no race)."""
    with connection.cursor() as cur:
        cur.execute("SELECT nextval('inventory_transfer_no_seq')")
        (n,) = cur.fetchone()
    return f"{PREFIX}{timezone.localdate(clock.now()):%Y%m%d}{n:06d}"


def _location(value) -> Warehouse:
    if isinstance(value, Warehouse):
        return value
    found = Warehouse.objects.filter(code=value).first()
    if found is None:
        raise TransferError(_("no stock location with code %(code)s") % {"code": value})
    return found


def check_route(from_warehouse: Warehouse, to_warehouse: Warehouse) -> Warehouse:
    """Refuse a route that is not main → store or store → main/defective; returns the
    store's location."""
    if from_warehouse.kind == Kind.MAIN and to_warehouse.kind == Kind.STORE:
        return to_warehouse
    if from_warehouse.kind == Kind.STORE and to_warehouse.kind in (Kind.MAIN, Kind.DEFECTIVE):
        return from_warehouse
    raise TransferError(
        _(
            "a transfer goes from the main warehouse to a store, or from a store back to the "
            "main or the defective warehouse (not %(from)s → %(to)s)"
        )
        % {"from": from_warehouse.code, "to": to_warehouse.code}
    )


def sample_location(store: Warehouse) -> Warehouse:
    found = Warehouse.objects.filter(
        code=Warehouse.sample_code(store.code), kind=Kind.SAMPLE
    ).first()
    if found is None:
        raise TransferError(
            _("store %(code)s has no sample location %(sample)s")
            % {"code": store.code, "sample": Warehouse.sample_code(store.code)}
        )
    return found


def line_locations(transfer: Transfer, lines: Iterable[TransferLine]) -> dict[int, tuple[int, int]]:
    """{line id: (source location id, destination location id)}."""
    lines = list(lines)
    src, dst = transfer.from_warehouse, transfer.to_warehouse
    store = src if src.kind == Kind.STORE else dst
    sample = sample_location(store) if any(ln.sample for ln in lines) else None
    out = {}
    for ln in lines:
        s, d = src.id, dst.id
        if ln.sample:
            if src.id == store.id:
                s = sample.id
            else:
                d = sample.id
        out[ln.id] = (s, d)
    return out


def _clean_lines(lines) -> list[tuple[Product, Decimal, bool]]:
    cleaned, seen = [], set()
    for item in lines:
        product, quantity, *rest = item
        sample = bool(rest[0]) if rest else False
        if not isinstance(product, Product):
            product = Product.objects.get(pk=product)
        quantity = stock.qty(quantity)
        if quantity <= 0:
            raise TransferError(
                _("%(code)s: the quantity must be positive") % {"code": product.code}
            )
        if (product.id, sample) in seen:
            raise TransferError(_("%(code)s is listed twice") % {"code": product.code})
        seen.add((product.id, sample))
        cleaned.append((product, quantity, sample))
    if not cleaned:
        raise TransferError(_("a transfer needs at least one line"))
    return cleaned


def create_transfer(
    *, from_warehouse, to_warehouse, lines, actor, note: str = "", now=None
) -> Transfer:
    """A draft transfer of ``lines`` [(product, quantity[, sample])]. Reserves nothing."""
    from_warehouse, to_warehouse = _location(from_warehouse), _location(to_warehouse)
    store = check_route(from_warehouse, to_warehouse)
    cleaned = _clean_lines(lines)
    if any(sample for _p, _q, sample in cleaned):
        sample_location(store)
    with transaction.atomic():
        transfer = Transfer.objects.create(
            number=next_transfer_number(),
            from_warehouse=from_warehouse,
            to_warehouse=to_warehouse,
            note=note[:255],
            created_at=now or clock.now(),
            created_by=actor,
        )
        TransferLine.objects.bulk_create(
            [
                TransferLine(transfer=transfer, product=p, quantity=q, sample=s)
                for p, q, s in cleaned
            ]
        )
    return transfer


def _locked(transfer: Transfer, status: str, action: str) -> Transfer:
    locked = (
        Transfer.objects.select_for_update()
        .select_related("from_warehouse", "to_warehouse")
        .get(pk=transfer.pk)
    )
    if locked.status != status:
        raise TransferError(
            _("transfer %(no)s is %(status)s: it cannot be %(action)s")
            % {"no": locked.number, "status": locked.get_status_display(), "action": action}
        )
    return locked


def _lock_all(keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], tuple]:
    """Lock the levels of (warehouse, product) pairs: warehouses in id order, products in id
    order. {(warehouse, product): (level id, on_hand, reserved)}."""
    per_wh: dict[int, set[int]] = defaultdict(set)
    for w, p in keys:
        per_wh[w].add(p)
    levels = {}
    for w in sorted(per_wh):
        for p, lv in stock._lock_levels(w, list(per_wh[w])).items():
            levels[(w, p)] = lv
    return levels


def ship_transfer(*, transfer: Transfer, actor, now=None) -> Transfer:
    """Draft → shipped: the goods leave their source (available stock only) into in transit."""
    with transaction.atomic():
        transfer = _locked(transfer, Transfer.Status.DRAFT, _("shipped"))
        lines = list(transfer.lines.select_related("product").order_by("id"))
        if not lines:
            raise TransferError(_("transfer %(no)s has no lines") % {"no": transfer.number})
        where = line_locations(transfer, lines)
        transit = Warehouse.transit().id
        need: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
        for ln in lines:
            need[(where[ln.id][0], ln.product_id)] += ln.quantity
        levels = _lock_all([*need, *((transit, p) for _w, p in need)])
        short = []
        for (w, p), q in sorted(need.items()):
            _id, on_hand, reserved = levels[(w, p)]
            if on_hand - reserved < q:
                code = next(ln.product.code for ln in lines if ln.product_id == p)
                short.append(
                    _("%(code)s: %(q)s to ship, %(available)s available")
                    % {"code": code, "q": q, "available": on_hand - reserved}
                )
        if short:
            raise TransferError(
                _("transfer %(no)s cannot be shipped: %(short)s")
                % {"no": transfer.number, "short": "; ".join(short)}
            )
        moves = []
        for ln in lines:
            source = where[ln.id][0]
            note = f"{transfer.from_warehouse.code} → {transfer.to_warehouse.code}"
            moves.append(
                stock.Move(
                    source,
                    ln.product_id,
                    -ln.quantity,
                    StockMove.Reason.TRANSFER,
                    transfer.document,
                    note,
                )
            )
            moves.append(
                stock.Move(
                    transit,
                    ln.product_id,
                    ln.quantity,
                    StockMove.Reason.TRANSFER,
                    transfer.document,
                    note,
                )
            )
        stock.apply_moves(moves, actor=actor)
        transfer.status = Transfer.Status.SHIPPED
        transfer.shipped_at = now or clock.now()
        transfer.shipped_by = actor
        transfer.save(update_fields=["status", "shipped_at", "shipped_by"])
    return transfer


def receive_transfer(
    *,
    transfer: Transfer,
    actor,
    received: dict[int, tuple[Decimal, str]] | None = None,
    now=None,
) -> Transfer:
    """Shipped → received. ``received``: {line id: (quantity received, reason of the
    shortfall)}; a line not given arrived in full. A shortfall needs a reason; more than
    shipped is refused (a surplus is a stock adjustment, with its own reason)."""
    received = received or {}
    with transaction.atomic():
        transfer = _locked(transfer, Transfer.Status.SHIPPED, _("received"))
        lines = list(transfer.lines.select_related("product").order_by("id"))
        unknown = set(received) - {ln.id for ln in lines}
        if unknown:
            raise TransferError(
                _("transfer %(no)s has no line %(line)s")
                % {"no": transfer.number, "line": min(unknown)}
            )
        where = line_locations(transfer, lines)
        transit = Warehouse.transit().id
        errors = []
        for ln in lines:
            got, reason = received.get(ln.id, (ln.quantity, ""))
            got, reason = stock.qty(got), (reason or "").strip()
            if got < 0 or got > ln.quantity:
                errors.append(
                    _("%(code)s: received %(got)s, shipped %(q)s")
                    % {"code": ln.product.code, "got": got, "q": ln.quantity}
                )
            elif got < ln.quantity and not reason:
                errors.append(
                    _("%(code)s: %(short)s short, give the reason")
                    % {"code": ln.product.code, "short": ln.quantity - got}
                )
            ln.received_quantity, ln.shortfall_reason = got, reason[:255]
        if errors:
            raise TransferError(
                _("transfer %(no)s cannot be received: %(errors)s")
                % {"no": transfer.number, "errors": "; ".join(errors)}
            )
        _lock_all(
            [(transit, ln.product_id) for ln in lines]
            + [(where[ln.id][1], ln.product_id) for ln in lines]
        )
        note = f"{transfer.from_warehouse.code} → {transfer.to_warehouse.code}"
        moves = []
        for ln in lines:
            doc = transfer.document
            if ln.received_quantity:
                moves.append(
                    stock.Move(
                        transit,
                        ln.product_id,
                        -ln.received_quantity,
                        StockMove.Reason.TRANSFER,
                        doc,
                        note,
                    )
                )
                moves.append(
                    stock.Move(
                        where[ln.id][1],
                        ln.product_id,
                        ln.received_quantity,
                        StockMove.Reason.TRANSFER,
                        doc,
                        note,
                    )
                )
            if ln.shortfall:
                moves.append(
                    stock.Move(
                        transit,
                        ln.product_id,
                        -ln.shortfall,
                        StockMove.Reason.TRANSFER_SHORT,
                        doc,
                        ln.shortfall_reason,
                    )
                )
        stock.apply_moves(moves, actor=actor)
        TransferLine.objects.bulk_update(lines, ["received_quantity", "shortfall_reason"])
        transfer.status = Transfer.Status.RECEIVED
        transfer.received_at = now or clock.now()
        transfer.received_by = actor
        transfer.save(update_fields=["status", "received_at", "received_by"])
    return transfer


def cancel_transfer(*, transfer: Transfer, actor, now=None) -> Transfer:
    """A draft is cancelled (nothing had moved)."""
    with transaction.atomic():
        transfer = _locked(transfer, Transfer.Status.DRAFT, _("cancelled"))
        transfer.status = Transfer.Status.CANCELLED
        transfer.cancelled_at = now or clock.now()
        transfer.cancelled_by = actor
        transfer.save(update_fields=["status", "cancelled_at", "cancelled_by"])
    return transfer


def ensure_store_locations(*, code: str, name: str) -> tuple[Warehouse, Warehouse]:
    """A store's two locations: its sellable stock (code = the store's unit code) and its
    try-on samples (``<code>:sample``); created when missing, idempotent."""
    if not code or ":" in code:
        raise TransferError(_("a store code is needed, without ':'"))
    with transaction.atomic():
        store, _c = Warehouse.objects.get_or_create(
            code=code, defaults={"name": name, "kind": Kind.STORE, "sellable": True}
        )
        sample, _c = Warehouse.objects.get_or_create(
            code=Warehouse.sample_code(code),
            defaults={
                "name": _("%(name)s samples") % {"name": name},
                "kind": Kind.SAMPLE,
                "sellable": False,
            },
        )
        if store.kind != Kind.STORE or sample.kind != Kind.SAMPLE:
            raise TransferError(_("location %(code)s exists with another kind") % {"code": code})
    return store, sample
