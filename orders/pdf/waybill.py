"""Express waybill (快递单): one 100 × 180 mm page per order, drawn straight on the canvas."""

from __future__ import annotations

import io

from django.utils.translation import gettext as _
from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm
from reportlab.pdfgen.canvas import Canvas

from .common import (
    FONT,
    T,
    fmt_qty,
    full_address,
    local_now_text,
    order_items,
    register_fonts,
    wrap,
)
from .common import sender as get_sender

PAGE = (100 * mm, 180 * mm)
MARGIN = 4 * mm


def render_waybills(orders, *, reprint_ids=frozenset()) -> bytes:
    """One page per order (in the given order); orders in ``reprint_ids`` are marked reprints.

    Each carrier's ``waybill_layout`` picks the drawing function from ``LAYOUTS`` (a carrier's
    own pre-printed form can be added there); unknown layouts fall back to "standard".
    """
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE, pageCompression=1)
    canvas.setTitle(_("Express waybills"))
    origin = get_sender()
    printed = local_now_text()
    for order in orders:
        layout = order.carrier.waybill_layout if order.carrier_id else "standard"
        draw = LAYOUTS.get(layout, _draw_page)
        draw(canvas, order, origin, printed, reprint=order.pk in reprint_ids)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _box(canvas, top: float, height: float) -> float:
    width, _height = PAGE
    canvas.rect(MARGIN, top - height, width - 2 * MARGIN, height)
    return top - height


def _draw_page(canvas, order, origin: dict, printed: str, *, reprint: bool) -> None:
    width, height = PAGE
    inner = width - 2 * MARGIN
    canvas.setLineWidth(0.8)
    top = height - MARGIN

    # Header: carrier and reprint mark.
    canvas.setFont(FONT, 16)
    carrier = order.carrier.name if order.carrier_id else ""
    canvas.drawString(MARGIN + 2 * mm, top - 8 * mm, carrier)
    if reprint:
        canvas.setFont(FONT, 12)
        canvas.drawRightString(width - MARGIN - 2 * mm, top - 8 * mm, _("REPRINT"))
    top = _box(canvas, top, 11 * mm)

    # Tracking number barcode.
    barcode = Code128(order.tracking_no, barHeight=18 * mm, barWidth=0.33 * mm, quiet=False)
    if barcode.width > inner - 4 * mm:
        barcode = Code128(
            order.tracking_no,
            barHeight=18 * mm,
            barWidth=0.33 * mm * (inner - 4 * mm) / barcode.width,
            quiet=False,
        )
    barcode.drawOn(canvas, (width - barcode.width) / 2, top - 21 * mm)
    canvas.setFont(FONT, 11)
    canvas.drawCentredString(width / 2, top - 26 * mm, order.tracking_no)
    top = _box(canvas, top, 29 * mm)

    # Receiver.
    block = 34 * mm
    canvas.setFont(FONT, 9)
    canvas.drawString(MARGIN + 2 * mm, top - 5 * mm, _("Receiver"))
    canvas.setFont(FONT, 14)
    canvas.drawString(MARGIN + 2 * mm, top - 11 * mm, order.receiver_name)
    canvas.drawRightString(width - MARGIN - 2 * mm, top - 11 * mm, order.receiver_phone)
    canvas.setFont(FONT, 11)
    y = top - 17 * mm
    for line in wrap(full_address(order), inner - 4 * mm, 11)[:4]:
        canvas.drawString(MARGIN + 2 * mm, y, line)
        y -= 5 * mm
    top = _box(canvas, top, block)

    # Sender.
    canvas.setFont(FONT, 9)
    canvas.drawString(MARGIN + 2 * mm, top - 5 * mm, _("Sender"))
    canvas.drawString(MARGIN + 14 * mm, top - 5 * mm, f"{origin['name']}  {origin['phone']}")
    y = top - 10 * mm
    for line in wrap(origin["address"], inner - 4 * mm, 9)[:2]:
        canvas.drawString(MARGIN + 2 * mm, y, line)
        y -= 4 * mm
    top = _box(canvas, top, 17 * mm)

    # Order numbers.
    canvas.setFont(FONT, 9)
    canvas.drawString(MARGIN + 2 * mm, top - 5 * mm, f"{T['Order no.']}: {order.order_no}")
    canvas.drawString(
        MARGIN + 2 * mm, top - 10 * mm, f"{T['Platform order no.']}: {order.platform_order_no}"
    )
    canvas.drawString(MARGIN + 2 * mm, top - 15 * mm, f"{T['Shop']}: {order.shop.name}")
    top = _box(canvas, top, 18 * mm)

    # Item summary.
    canvas.setFont(FONT, 9)
    canvas.drawString(MARGIN + 2 * mm, top - 5 * mm, _("Items"))
    items = order_items(order)
    y = top - 10 * mm
    bottom = MARGIN + 12 * mm
    shown = 0
    for entry in items:
        if y < bottom:
            break
        product = entry["product"]
        text = f"{product.name} {product.spec}".strip()
        label = wrap(text, inner - 20 * mm, 9)[0]
        canvas.drawString(MARGIN + 2 * mm, y, label)
        canvas.drawRightString(width - MARGIN - 2 * mm, y, f"× {fmt_qty(entry['quantity'])}")
        y -= 4.5 * mm
        shown += 1
    if shown < len(items):
        canvas.drawString(
            MARGIN + 2 * mm, y, _("… and %(count)d more") % {"count": len(items) - shown}
        )
    _box(canvas, top, top - MARGIN - 8 * mm)

    # Footer.
    canvas.setFont(FONT, 7)
    canvas.drawString(MARGIN + 1 * mm, MARGIN + 3 * mm, f"{T['Printed at']} {printed}")
    if reprint:
        canvas.drawRightString(width - MARGIN - 1 * mm, MARGIN + 3 * mm, _("REPRINT"))


LAYOUTS = {"standard": _draw_page}
