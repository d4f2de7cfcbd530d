"""File platforms (feiniu, yhd, mogujie, other): no API, so staff update them by hand from
XLSX files tongcang exports per shop: the sellable stock of every mapped SKU, and the tracking
numbers of shipped orders. Orders come in through the standard orders file (orders app).

An export is a hand-over: the stock figures exported count as pushed (pushed_quantity), and the
shipment notices of a tracking file are marked sent once the file is delivered
(``confirm_tracking_export``: written to disk, or downloaded whole), so the next export shows
what is new and a file that never arrived loses nothing.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook

from channels.models import OutboxMessage, SellableQuantity, Shop
from channels.sellable import recompute_dirty
from core import clock
from core.cells import escape_row

FILE_PLATFORMS = {"feiniu", "yhd", "mogujie", "other"}


class NotAFileShop(ValueError):
    pass


@dataclass
class Export:
    filename: str
    content: bytes
    rows: int
    message_ids: list[int] = field(default_factory=list)  # the shipment notices in the file


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
        ws.append(escape_row(row))  # platform and buyer text is never run as a formula
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
        # locked in mapping order, as every writer of these rows locks them (no deadlock)
        rows = list(
            SellableQuantity.objects.select_for_update(of=("self",))
            .filter(mapping__shop=shop)
            .select_related("mapping")
            .order_by("mapping_id")
        )
        rows.sort(key=lambda r: r.mapping.platform_sku)
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
    """The tracking numbers not yet handed over, as a file. Nothing is marked here: a file
    that never reaches the person (a broken download, a full disk) must not lose its notices.
    ``confirm_tracking_export`` marks them sent once the file is delivered; until then the next
    export lists them again."""
    _check(shop)
    now = clock.now()
    messages = list(
        OutboxMessage.objects.filter(
            shop=shop, kind=OutboxMessage.Kind.SHIPMENT, status=OutboxMessage.Status.PENDING
        ).order_by("pk")
    )
    data = [
        [
            m.payload.get("order_no", ""),
            m.payload.get("platform_order_no", ""),
            m.payload.get("carrier", ""),
            m.payload.get("tracking_no", ""),
            ",".join(str(x) for x in m.payload.get("platform_line_ids") or []),
            _("yes") if m.payload.get("partial", m.payload.get("is_split")) else "",
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
    stamp = timezone.localtime(now).strftime("%Y%m%d-%H%M")
    return Export(
        f"tracking-{shop.code}-{stamp}.xlsx", content, len(data), [m.pk for m in messages]
    )


def confirm_tracking_export(*, export: Export, actor) -> int:
    """The file of ``export`` was delivered (written, or downloaded whole): its shipment
    notices count as sent. Returns how many were still pending (another export may have
    confirmed some meanwhile)."""
    now = clock.now()
    label = getattr(actor, "username", "") or str(actor or "")
    with transaction.atomic():
        return OutboxMessage.objects.filter(
            pk__in=export.message_ids,
            kind=OutboxMessage.Kind.SHIPMENT,
            status=OutboxMessage.Status.PENDING,
        ).update(
            status=OutboxMessage.Status.SENT,
            sent_at=now,
            last_attempt_at=now,
            last_error=_("exported to a file by %(who)s") % {"who": label or "-"},
        )
