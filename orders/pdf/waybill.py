"""Express waybills (快递单), one page per order, drawn straight on the canvas.

Two layouts, chosen per carrier (``Carrier.waybill_layout``): the 100 × 180 mm label, and the
standard one-part electronic waybill label of 76 × 130 mm (一联单) with the routing data the
waybill service returned (大头笔 destination code, 集包地 consolidation hub, 三段码 sorting code).
Both carry a Code 128 barcode of the tracking number. Text from platforms and people is drawn
with drawString (plain text, never markup).
"""

from __future__ import annotations

import io
from dataclasses import dataclass

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
ONE_PART_PAGE = (76 * mm, 130 * mm)
MARGIN = 4 * mm


@dataclass
class Label:
    """What one label prints beyond the order: the receiver in clear from the waybill service
    (encrypted orders: the order only holds masked text) and the routing data."""

    name: str = ""
    phone: str = ""
    address: str = ""  # the full address, province to house number
    short_address: str = ""  # 大头笔
    package_center: str = ""  # 集包地
    package_center_code: str = ""
    sort_code: str = ""  # 三段码


def label_of(order, labels=None) -> Label:
    """The label data of an order: given by the printing service, else the order's own
    receiver and the routing data kept with its live tracking number."""
    given = (labels or {}).get(order.pk)
    if given is not None:
        return given
    label = Label(name=order.receiver_name, phone=order.receiver_phone, address=full_address(order))
    for number in order.tracking_numbers.all():
        if number.voided_at is None and number.number == order.tracking_no:
            label.short_address = number.short_address
            label.package_center = number.package_center
            label.package_center_code = number.package_center_code
            label.sort_code = number.sort_code
    return label


def render_waybills(orders, *, reprint_ids=frozenset(), labels=None) -> bytes:
    """One page per order (in the given order); orders in ``reprint_ids`` are marked reprints.

    Each carrier's ``waybill_layout`` picks the page size and drawing function from
    ``LAYOUTS``; unknown layouts fall back to "standard". ``labels``: order pk → Label.
    """
    register_fonts()
    buffer = io.BytesIO()
    canvas = Canvas(buffer, pagesize=PAGE, pageCompression=1)
    canvas.setTitle(_("Express waybills"))
    origin = get_sender()
    printed = local_now_text()
    for order in orders:
        layout = order.carrier.waybill_layout if order.carrier_id else "standard"
        size, draw = LAYOUTS.get(layout, LAYOUTS["standard"])
        canvas.setPageSize(size)
        draw(
            canvas,
            order,
            origin,
            printed,
            reprint=order.pk in reprint_ids,
            label=label_of(order, labels),
        )
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


def _box(canvas, top: float, height: float, width: float = PAGE[0]) -> float:
    canvas.rect(MARGIN, top - height, width - 2 * MARGIN, height)
    return top - height


def barcode_for(number: str, *, width: float, height: float) -> Code128:
    """Code 128 of ``number`` no wider than ``width`` (quiet zones included), bars at least
    0.25 mm so a 203 dpi label printer still draws every module."""
    barcode = Code128(number, barHeight=height, barWidth=0.33 * mm, quiet=True)
    if barcode.width > width:
        bar = max(0.25 * mm, 0.33 * mm * width / barcode.width)
        barcode = Code128(number, barHeight=height, barWidth=bar, quiet=True)
    return barcode


def _draw_page(canvas, order, origin: dict, printed: str, *, reprint: bool, label: Label) -> None:
    width, height = PAGE
    inner = width - 2 * MARGIN
    canvas.setLineWidth(0.8)
    top = height - MARGIN

    # Header: carrier and reprint mark.
    canvas.setFont(FONT, 16)
    carrier = order.carrier.name if order.carrier_id else ""
    canvas.drawString(MARGIN + 2 * mm, top - 8 * mm, carrier)
    if label.short_address:
        canvas.drawRightString(width - MARGIN - 2 * mm, top - 8 * mm, label.short_address)
    if reprint:
        canvas.setFont(FONT, 12)
        canvas.drawCentredString(width / 2, top - 8 * mm, _("REPRINT"))
    top = _box(canvas, top, 11 * mm)

    # Tracking number barcode.
    barcode = barcode_for(order.tracking_no, width=inner - 2 * mm, height=18 * mm)
    barcode.drawOn(canvas, (width - barcode.width) / 2, top - 21 * mm)
    canvas.setFont(FONT, 11)
    canvas.drawCentredString(width / 2, top - 26 * mm, order.tracking_no)
    top = _box(canvas, top, 29 * mm)

    # Receiver.
    block = 34 * mm
    canvas.setFont(FONT, 9)
    canvas.drawString(MARGIN + 2 * mm, top - 5 * mm, _("Receiver"))
    canvas.setFont(FONT, 14)
    canvas.drawString(MARGIN + 2 * mm, top - 11 * mm, label.name)
    canvas.drawRightString(width - MARGIN - 2 * mm, top - 11 * mm, label.phone)
    canvas.setFont(FONT, 11)
    y = top - 17 * mm
    for line in wrap(label.address, inner - 4 * mm, 11)[:4]:
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


def _draw_one_part(
    canvas, order, origin: dict, printed: str, *, reprint: bool, label: Label
) -> None:
    """The 76 × 130 mm one-part label (一联单): routing data first, as sorting centres read it."""
    width, height = ONE_PART_PAGE
    inner = width - 2 * MARGIN
    left = MARGIN + 1.5 * mm
    canvas.setLineWidth(0.8)
    top = height - MARGIN

    # Carrier, reprint mark, and the destination code (大头笔) large.
    canvas.setFont(FONT, 9)
    canvas.drawString(left, top - 4 * mm, order.carrier.name if order.carrier_id else "")
    if reprint:
        canvas.drawRightString(width - MARGIN - 1.5 * mm, top - 4 * mm, _("REPRINT"))
    canvas.setFont(FONT, 20)
    canvas.drawCentredString(width / 2, top - 12.5 * mm, label.short_address or label.address[:8])
    top = _box(canvas, top, 15 * mm, width)

    # Consolidation hub (集包地) and its code.
    canvas.setFont(FONT, 12)
    hub = " ".join(p for p in (label.package_center_code, label.package_center) if p)
    canvas.drawString(left, top - 6 * mm, hub)
    top = _box(canvas, top, 9 * mm, width)

    # Tracking number barcode and the sorting code (三段码).
    barcode = barcode_for(order.tracking_no, width=inner, height=15 * mm)
    barcode.drawOn(canvas, (width - barcode.width) / 2, top - 17 * mm)
    canvas.setFont(FONT, 10)
    canvas.drawCentredString(width / 2, top - 21 * mm, order.tracking_no)
    top = _box(canvas, top, 23 * mm, width)
    canvas.setFont(FONT, 16)
    canvas.drawCentredString(width / 2, top - 7 * mm, label.sort_code)
    top = _box(canvas, top, 10 * mm, width)

    # Receiver (from the waybill service for encrypted orders) and sender.
    canvas.setFont(FONT, 7)
    canvas.drawString(left, top - 3.5 * mm, _("Receiver"))
    canvas.setFont(FONT, 11)
    canvas.drawString(left, top - 8 * mm, f"{label.name}  {label.phone}")
    canvas.setFont(FONT, 9)
    y = top - 12.5 * mm
    for line in wrap(label.address, inner - 3 * mm, 9)[:3]:
        canvas.drawString(left, y, line)
        y -= 4 * mm
    top = _box(canvas, top, 24 * mm, width)
    canvas.setFont(FONT, 7)
    canvas.drawString(left, top - 3.5 * mm, f"{_('Sender')}  {origin['name']}  {origin['phone']}")
    for i, line in enumerate(wrap(origin["address"], inner - 3 * mm, 7)[:2]):
        canvas.drawString(left, top - 7 * mm - i * 3 * mm, line)
    top = _box(canvas, top, 13 * mm, width)

    # Order and items, small.
    canvas.setFont(FONT, 7)
    canvas.drawString(left, top - 3.5 * mm, f"{T['Order no.']}: {order.order_no}")
    canvas.drawString(left, top - 6.5 * mm, f"{T['Shop']}: {order.shop.name}")
    items = order_items(order)
    summary = "；".join(f"{e['product'].name}×{fmt_qty(e['quantity'])}" for e in items)
    for i, line in enumerate(wrap(summary[:90], inner - 3 * mm, 7)[:3]):
        canvas.drawString(left, top - 9.5 * mm - i * 3 * mm, line)
    canvas.drawString(left, MARGIN + 1.5 * mm, f"{T['Printed at']} {printed}")
    _box(canvas, top, top - MARGIN, width)


LAYOUTS = {"standard": (PAGE, _draw_page), "one_part": (ONE_PART_PAGE, _draw_one_part)}
