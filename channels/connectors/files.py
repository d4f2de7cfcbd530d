"""File platforms (feiniu, yhd, mogujie, other): no API, so staff update them by hand from
XLSX files tongcang exports per shop: the sellable stock of every mapped SKU, and the tracking
numbers of shipped orders. Orders come in through the standard orders file (orders app).

An export is a hand-over: the stock figures exported count as pushed (pushed_quantity), and the
shipment notices exported are marked sent, so the next export shows what is new.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from channels.models import OutboxMessage, SellableQuantity, Shop
from channels.sellable import recompute_dirty

FILE_PLATFORMS = {"feiniu", "yhd", "mogujie", "other"}


class NotAFileShop(ValueError):
    pass


@dataclass
class Export:
    filename: str
    content: bytes
    rows: int


def _check(shop: Shop) -> None:
    if shop.platform.code not in FILE_PLATFORMS:
        raise NotAFileShop(
            _("Shop %(shop)s is on an API platform: its stock and shipments are sent directly.")
            % {"shop": shop.code}
        )


def _workbook(title: str, header: list[str], rows: list[list]) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = title[:31]
    ws.append(header)
    for row in rows:
        ws.append(row)
    for column, width in zip("ABCDEFG", (24, 24, 14, 22, 22, 30, 10), strict=False):
        ws.column_dimensions[column].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def export_stock(*, shop: Shop, actor, changed_only: bool = False) -> Export:
    """Every mapped SKU of the shop with its sellable quantity (whole units)."""
    _check(shop)
    recompute_dirty()
    now = timezone.now()
    with transaction.atomic():
        rows = list(
            SellableQuantity.objects.select_for_update(of=("self",))
            .filter(mapping__shop=shop)
            .select_related("mapping")
            .order_by("mapping__platform_sku")
        )
        if changed_only:
            rows = [r for r in rows if r.needs_push]
        data = [
            [
                r.mapping.platform_sku,
                max(0, r.quantity),
                "" if r.pushed_quantity is None else r.pushed_quantity,
                timezone.localtime(r.computed_at).strftime("%Y-%m-%d %H:%M"),
            ]
            for r in rows
        ]
        content = _workbook(
            _("stock"),
            [_("platform SKU"), _("sellable quantity"), _("previous export"), _("computed at")],
            data,
        )
        # rows are locked: the quantity written is the one exported
        SellableQuantity.objects.filter(pk__in=[r.pk for r in rows]).update(
            pushed_quantity=F("quantity"), pushed_at=now
        )
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    return Export(f"stock-{shop.code}-{stamp}.xlsx", content, len(data))


def export_tracking(*, shop: Shop, actor) -> Export:
    """The tracking numbers not exported yet; each is exported once (marked sent)."""
    _check(shop)
    now = timezone.now()
    label = getattr(actor, "username", "") or str(actor or "")
    with transaction.atomic():
        messages = list(
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(
                shop=shop, kind=OutboxMessage.Kind.SHIPMENT, status=OutboxMessage.Status.PENDING
            )
            .order_by("pk")
        )
        data = [
            [
                m.payload.get("order_no", ""),
                m.payload.get("platform_order_no", ""),
                m.payload.get("carrier", ""),
                m.payload.get("tracking_no", ""),
                ",".join(str(x) for x in m.payload.get("platform_line_ids") or []),
                _("yes") if m.payload.get("is_split") else "",
            ]
            for m in messages
        ]
        content = _workbook(
            _("tracking numbers"),
            [
                _("order no."),
                _("platform order no."),
                _("carrier"),
                _("tracking no."),
                _("platform line ids"),
                _("split shipment"),
            ],
            data,
        )
        OutboxMessage.objects.filter(pk__in=[m.pk for m in messages]).update(
            status=OutboxMessage.Status.SENT,
            sent_at=now,
            last_attempt_at=now,
            last_error=_("exported to a file by %(who)s") % {"who": label or "-"},
        )
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    return Export(f"tracking-{shop.code}-{stamp}.xlsx", content, len(data))
