"""Replenishment of a store (补货建议): what to send from the main warehouse, and the draft
transfer the store manager makes of it.

Per product of the store's rules (a rule per product, or per style for each of its colours
and sizes; a product's own rule wins over its style's):
- position = available in the store + in transit to it + in draft transfers to it;
- sold = what left the store's location as sales (ledger, reason ``ship``) in the last N days;
- when the position is below the minimum, send enough to reach the target, or the last N
  days' sales when they were higher: ``max(target, sold) − position``;
- a product of those rules without a sample (none in the sample location, none on its way)
  gets one sample;
- never more than the main warehouse has available (the sample first).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from django.db import transaction
from django.db.models import Sum
from django.utils.translation import gettext as _

from core import clock

from . import transfers
from .models import (
    Product,
    ReplenishmentRule,
    StockLevel,
    StockMove,
    Transfer,
    TransferLine,
    Warehouse,
)

ZERO = Decimal("0.0000")
ONE = Decimal("1.0000")
DEFAULT_DAYS = 14


@dataclass
class SuggestionLine:
    product: Product
    sample: bool
    minimum: Decimal
    target: Decimal
    available: Decimal  # in the store (or its sample location for a sample line)
    in_transit: Decimal  # shipped to it, not yet received
    drafted: Decimal  # in draft transfers to it
    sold: Decimal  # in the last N days
    main_available: Decimal
    wanted: Decimal  # what the rule asks for
    quantity: Decimal  # what the main warehouse can send of it

    @property
    def position(self) -> Decimal:
        return self.available + self.in_transit + self.drafted


def _rules(store: Warehouse) -> dict[int, ReplenishmentRule]:
    """{product id: its rule} (a product's own rule wins over its style's)."""
    rules = list(ReplenishmentRule.objects.filter(warehouse=store).select_related("product"))
    by_product: dict[int, ReplenishmentRule] = {}
    styles = {r.style_code: r for r in rules if r.style_code}
    if styles:
        for p in Product.objects.filter(style_code__in=list(styles), active=True):
            by_product[p.id] = styles[p.style_code]
    for r in rules:
        if r.product_id:
            by_product[r.product_id] = r
    return by_product


def _incoming(location_ids: list[int], sample: bool, status: str) -> dict[tuple[int, int], Decimal]:
    """{(destination location id, product id): quantity} of transfers in this status."""
    out: dict[tuple[int, int], Decimal] = defaultdict(Decimal)
    lines = TransferLine.objects.filter(
        transfer__status=status,
        transfer__to_warehouse_id__in=location_ids,
        sample=sample,
    ).values("transfer__to_warehouse_id", "product_id", "quantity")
    for ln in lines:
        out[(ln["transfer__to_warehouse_id"], ln["product_id"])] += ln["quantity"]
    return out


def suggestion(*, store: Warehouse, days: int = DEFAULT_DAYS, now=None) -> list[SuggestionLine]:
    """The replenishment suggestion of a store location (see the module's docstring)."""
    if store.kind != Warehouse.Kind.STORE:
        raise transfers.TransferError(_("%(code)s is not a store location") % {"code": store.code})
    now = now or clock.now()
    rules = _rules(store)
    if not rules:
        return []
    pids = list(rules)
    main = Warehouse.main()
    sample_loc = Warehouse.objects.filter(
        code=Warehouse.sample_code(store.code), kind=Warehouse.Kind.SAMPLE
    ).first()
    loc_ids = [main.id, store.id] + ([sample_loc.id] if sample_loc else [])
    levels = {
        (lv.warehouse_id, lv.product_id): lv
        for lv in StockLevel.objects.filter(warehouse_id__in=loc_ids, product_id__in=pids)
    }

    def available(wid, pid):
        lv = levels.get((wid, pid))
        return lv.available if lv else ZERO

    def on_hand(wid, pid):
        lv = levels.get((wid, pid))
        return lv.on_hand if lv else ZERO

    sold = dict(
        StockMove.objects.filter(
            warehouse=store,
            product_id__in=pids,
            reason=StockMove.Reason.SHIP,
            created_at__gt=now - timedelta(days=days),
            created_at__lte=now,
        )
        .values("product_id")
        .annotate(total=Sum("quantity"))
        .values_list("product_id", "total")
    )
    shipped = _incoming([store.id], False, Transfer.Status.SHIPPED)
    drafted = _incoming([store.id], False, Transfer.Status.DRAFT)
    samples_shipped = _incoming([store.id], True, Transfer.Status.SHIPPED)
    samples_drafted = _incoming([store.id], True, Transfer.Status.DRAFT)
    products = {p.id: p for p in Product.objects.filter(pk__in=pids)}
    out: list[SuggestionLine] = []
    for pid in sorted(pids, key=lambda p: products[p].code):
        rule, product = rules[pid], products[pid]
        main_left = available(main.id, pid)
        sample_line = None
        if sample_loc is not None:
            has = (
                on_hand(sample_loc.id, pid)
                + samples_shipped.get((store.id, pid), ZERO)
                + samples_drafted.get((store.id, pid), ZERO)
            )
            if has <= 0:  # the sample comes first: without it nobody tries the garment on
                sample_line = SuggestionLine(
                    product=product,
                    sample=True,
                    minimum=ZERO,
                    target=ONE,
                    available=ZERO,
                    in_transit=samples_shipped.get((store.id, pid), ZERO),
                    drafted=samples_drafted.get((store.id, pid), ZERO),
                    sold=ZERO,
                    main_available=main_left,
                    wanted=ONE,
                    quantity=ONE if main_left >= ONE else ZERO,
                )
        line = SuggestionLine(
            product=product,
            sample=False,
            minimum=rule.minimum,
            target=rule.target,
            available=available(store.id, pid),
            in_transit=shipped.get((store.id, pid), ZERO),
            drafted=drafted.get((store.id, pid), ZERO),
            sold=-sold.get(pid, ZERO),
            main_available=main_left,
            wanted=ZERO,
            quantity=ZERO,
        )
        if line.position < rule.minimum:
            left = main_left - (sample_line.quantity if sample_line else ZERO)
            line.wanted = max(rule.target, line.sold) - line.position
            line.quantity = max(ZERO, min(line.wanted, left))
        out.append(line)
        if sample_line is not None:
            out.append(sample_line)
    return out


def create_replenishment_transfer(
    *, store: Warehouse, actor, days: int = DEFAULT_DAYS, now=None
) -> Transfer | None:
    """The manager's action: a draft transfer main → store of the suggestion's quantities
    (None when there is nothing to send)."""
    with transaction.atomic():
        # One suggestion turned into a draft at a time per store: a second click waits, then
        # sees the first draft in its position and suggests nothing twice.
        store = Warehouse.objects.select_for_update().get(pk=store.pk)
        lines = [
            (ln.product, ln.quantity, ln.sample)
            for ln in suggestion(store=store, days=days, now=now)
            if ln.quantity > 0
        ]
        if not lines:
            return None
        return transfers.create_transfer(
            from_warehouse=Warehouse.main(),
            to_warehouse=store,
            lines=lines,
            actor=actor,
            note=_("replenishment suggestion, sales of the last %(days)s days") % {"days": days},
            now=now,
        )
