"""The handover list (交接清单) of one handover batch: what the carrier's courier takes away.

A4 pages: the carrier, the batch number, the time and the parcel count on top; one row per
parcel with its tracking number, a Code 128 barcode of it, the order number and the shop; and
signature boxes for the warehouse and the courier at the end. Reprints are marked.
"""

from __future__ import annotations

import io

from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from .common import FONT, T, local_now_text, register_fonts
from .waybill import barcode_for

MARGIN = 12 * mm
ROW = 15 * mm


def render_handover_list(batch, orders, *, reprint: bool = False) -> bytes:
    register_fonts()
    width, height = A4
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1)
    canvas.setTitle(_("Handover list"))
    printed = local_now_text()
    created = timezone.localtime(batch.created_at).strftime("%Y-%m-%d %H:%M")
    orders = list(orders)
    # Rows start 29 mm under the top margin and stop 8 mm above the bottom one; the signature
    # block needs 42 mm under the last row, else it goes on a page of its own.
    per_page = int((height - 2 * MARGIN - 37 * mm) // ROW)
    with_signatures = int((height - 2 * MARGIN - 79 * mm) // ROW)
    row_pages = max(1, -(-len(orders) // per_page))
    on_last = len(orders) - (row_pages - 1) * per_page
    pages = row_pages + (1 if on_last > with_signatures else 0)

    def header(page: int) -> float:
        top = height - MARGIN
        canvas.setFont(FONT, 16)
        canvas.drawString(MARGIN, top - 6 * mm, _("Handover list") + f"  {batch.carrier.name}")
        canvas.setFont(FONT, 10)
        if reprint:
            canvas.drawRightString(width - MARGIN, top - 6 * mm, _("REPRINT"))
        canvas.drawString(MARGIN, top - 13 * mm, f"{capfirst(_('handover no.'))}: {batch.number}")
        canvas.drawString(MARGIN + 70 * mm, top - 13 * mm, f"{_('Created at')}: {created}")
        canvas.drawString(MARGIN, top - 19 * mm, _("Parcels: %(count)d") % {"count": len(orders)})
        canvas.drawRightString(
            width - MARGIN,
            top - 19 * mm,
            _("Page %(page)d of %(pages)d") % {"page": page, "pages": pages},
        )
        canvas.setFont(FONT, 9)
        y = top - 27 * mm
        canvas.drawString(MARGIN, y, "#")
        canvas.drawString(MARGIN + 10 * mm, y, T["Tracking no."])
        canvas.drawString(MARGIN + 105 * mm, y, T["Order no."])
        canvas.drawString(MARGIN + 145 * mm, y, T["Shop"])
        canvas.line(MARGIN, y - 2 * mm, width - MARGIN, y - 2 * mm)
        return y - 2 * mm

    page = 1
    y = header(page)
    for i, order in enumerate(orders, 1):
        if y - ROW < MARGIN + 8 * mm:
            canvas.showPage()
            page += 1
            y = header(page)
        row_top = y
        canvas.setFont(FONT, 9)
        canvas.drawString(MARGIN, row_top - 6 * mm, str(i))
        barcode = barcode_for(order.tracking_no, width=70 * mm, height=8 * mm)
        barcode.drawOn(canvas, MARGIN + 8 * mm, row_top - 10.5 * mm)
        canvas.setFont(FONT, 8)
        canvas.drawString(MARGIN + 14 * mm, row_top - 13.5 * mm, order.tracking_no)
        canvas.setFont(FONT, 9)
        canvas.drawString(MARGIN + 105 * mm, row_top - 6 * mm, order.order_no)
        canvas.drawString(MARGIN + 145 * mm, row_top - 6 * mm, order.shop.name[:16])
        y = row_top - ROW
        canvas.setLineWidth(0.3)
        canvas.line(MARGIN, y, width - MARGIN, y)

    # Count, time and signature boxes.
    if y - 42 * mm < MARGIN + 8 * mm:
        canvas.showPage()
        page += 1
        y = header(page)
    canvas.setFont(FONT, 10)
    canvas.drawString(MARGIN, y - 7 * mm, _("Total: %(count)d parcels") % {"count": len(orders)})
    box_w = (width - 2 * MARGIN - 10 * mm) / 2
    for n, title in enumerate((_("Handed over by (warehouse)"), _("Received by (courier)"))):
        x = MARGIN + n * (box_w + 10 * mm)
        canvas.setLineWidth(0.8)
        canvas.rect(x, y - 40 * mm, box_w, 28 * mm)
        canvas.setFont(FONT, 9)
        canvas.drawString(x + 2 * mm, y - 17 * mm, title)
        canvas.drawString(x + 2 * mm, y - 37 * mm, _("Date and time") + ":")
    canvas.setFont(FONT, 7)
    canvas.drawString(MARGIN, MARGIN, f"{T['Printed at']} {printed}")
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
