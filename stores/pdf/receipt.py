"""The small-ticket receipt (小票): 80 mm wide, as long as its lines need, for a thermal printer.

Every text that came from a person or a product file (the customer, product names) goes into
Paragraphs escaped (``xml.sax.saxutils.escape``); the pick-up code is also a QR code.
"""

from __future__ import annotations

from io import BytesIO
from xml.sax.saxutils import escape

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from orders.pdf.common import register_fonts

WIDTH = 80 * mm
MARGIN = 4 * mm


def _qr(text: str, size: float) -> Drawing:
    widget = QrCodeWidget(text)
    x1, y1, x2, y2 = widget.getBounds()
    drawing = Drawing(size, size, transform=[size / (x2 - x1), 0, 0, size / (y2 - y1), 0, 0])
    drawing.add(widget)
    return drawing


def _when(value) -> str:
    return date_format(timezone.localtime(value), "Y-m-d H:i") if value else "—"


def receipt_pdf(order, store) -> bytes:
    font = register_fonts()
    body = ParagraphStyle("body", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
    big = ParagraphStyle("big", parent=body, fontSize=12, leading=15, alignment=1)
    right = ParagraphStyle("right", parent=body, alignment=2)
    flow = [
        Paragraph(escape(store.shop.name), big),
        Paragraph(escape(f"{store.city}{store.district}{store.address} {store.phone}"), body),
        Spacer(1, 2 * mm),
        Paragraph(escape(_("Order no.") + f": {order.order_no}"), body),
        Paragraph(escape(_("Time") + f": {_when(order.created_at)}"), body),
        Paragraph(escape(_("Fulfilment") + f": {order.get_fulfilment_display()}"), body),
    ]
    if order.guide_id:
        flow.append(Paragraph(escape(_("Guide") + f": {order.guide.get_username()}"), body))
    rows = [[Paragraph(escape(_("Item")), body), Paragraph(escape(_("Amount")), right)]]
    for line in order.lines.all().order_by("pk"):
        label = f"{line.title or line.platform_sku}\n{line.platform_sku} × {line.quantity.normalize():f}"
        rows.append(
            [
                Paragraph(escape(label).replace("\n", "<br/>"), body),
                Paragraph(f"{line.amount:.2f}", right),
            ]
        )
    table = Table(rows, colWidths=[WIDTH - 2 * MARGIN - 18 * mm, 18 * mm])
    table.setStyle(
        TableStyle(
            [
                ("LINEBELOW", (0, 0), (-1, 0), 0.5, "#000000"),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 0),
                ("RIGHTPADDING", (0, 0), (-1, -1), 0),
            ]
        )
    )
    flow += [Spacer(1, 2 * mm), table, Spacer(1, 2 * mm)]
    quote = order.quote or {}
    if quote.get("list_total") and quote.get("list_total") != str(order.total_amount):
        flow.append(Paragraph(escape(_("List price") + f": {quote['list_total']}"), right))
    flow.append(Paragraph(escape(_("Total") + f": {order.total_amount:.2f}"), big))
    for payment in order.payments.all():
        flow.append(
            Paragraph(
                escape(f"{payment.get_method_display()} {payment.amount:.2f} {payment.reference}"),
                right,
            )
        )
    if order.pickup_code:
        flow += [
            Spacer(1, 3 * mm),
            Paragraph(escape(_("Pick-up code") + f": {order.pickup_code}"), big),
            _qr(order.pickup_code, 30 * mm),
        ]
    flow += [Spacer(1, 3 * mm), Paragraph(escape(_("Thank you for your visit.")), big)]

    buffer = BytesIO()
    height = 120 * mm + 12 * mm * order.lines.count() + (40 * mm if order.pickup_code else 0)
    doc = SimpleDocTemplate(
        buffer,
        pagesize=(WIDTH, height),
        leftMargin=MARGIN,
        rightMargin=MARGIN,
        topMargin=MARGIN,
        bottomMargin=MARGIN,
        title=f"{order.order_no}",
    )
    doc.build(flow)
    return buffer.getvalue()
