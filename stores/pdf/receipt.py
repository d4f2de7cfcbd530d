"""The small-ticket receipt (小票): 80 mm wide, as long as its lines need, for a thermal printer.

Every text that came from a person or a product file (product names, the guide, a promotion's
name in the explanation) goes into Paragraphs through ``orders.pdf.common.para``, which escapes
it; the pick-up code is also a QR code. Under each line, the steps of the quote frozen on the
order (which promotion, before → after); under the total, the red packet spent and the cash-back
to come.
"""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from reportlab.graphics.barcode.qr import QrCodeWidget
from reportlab.graphics.shapes import Drawing
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from orders.pdf.common import para, register_fonts
from promotions.explain import cashback_text, red_packet_text, step_text

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
        para((store.shop.name), big),
        para((f"{store.city}{store.district}{store.address} {store.phone}"), body),
        Spacer(1, 2 * mm),
        para((_("Order no.") + f": {order.order_no}"), body),
        para((_("Time") + f": {_when(order.created_at)}"), body),
        para((_("Fulfilment") + f": {order.get_fulfilment_display()}"), body),
    ]
    if order.guide_id:
        flow.append(para((_("Guide") + f": {order.guide.get_username()}"), body))
    small = ParagraphStyle("small", parent=body, fontSize=7, leading=9, textColor="#333333")
    quote = order.quote or {}
    # The quote frozen on the order: each line's steps (which promotion, before → after).
    steps = {line["product_code"]: line["steps"] for line in quote.get("lines", ())}
    rows = [[para((_("Item")), body), para((_("Amount")), right)]]
    for line in order.lines.all().order_by("pk"):
        rows.append(
            [
                [
                    para(line.title or line.platform_sku, body),
                    para(f"{line.platform_sku} × {line.quantity.normalize():f}", body),
                    *(para(step_text(step), small) for step in steps.get(line.platform_sku, ())),
                ],
                para(f"{line.amount:.2f}", right),
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
    if quote.get("list_total") and quote.get("list_total") != str(order.total_amount):
        flow.append(para((_("List price") + f": {quote['list_total']}"), right))
    if Decimal(quote.get("red_packet_spent") or 0) > 0:
        flow.append(para(red_packet_text(quote["red_packet_spent"]), right))
    if Decimal(quote.get("adjustment") or 0) > 0:
        flow.append(
            para(
                _("Adjusted by the guide: %(amount)s (%(reason)s)")
                % {"amount": quote["adjustment"], "reason": quote.get("adjustment_reason", "")},
                right,
            )
        )
    flow.append(para((_("Total") + f": {order.total_amount:.2f}"), big))
    if Decimal(quote.get("cashback") or 0) > 0:
        flow.append(para(cashback_text(quote["cashback"]), body))
    for payment in order.payments.all():
        flow.append(
            para(
                (f"{payment.get_method_display()} {payment.amount:.2f} {payment.reference}"),
                right,
            )
        )
    if order.pickup_code:
        flow += [
            Spacer(1, 3 * mm),
            para((_("Pick-up code") + f": {order.pickup_code}"), big),
            _qr(order.pickup_code, 30 * mm),
        ]
    flow += [Spacer(1, 3 * mm), para((_("Thank you for your visit.")), big)]

    buffer = BytesIO()
    step_count = sum(len(line_steps) for line_steps in steps.values())
    height = (
        130 * mm
        + 12 * mm * order.lines.count()
        + 5 * mm * step_count
        + (40 * mm if order.pickup_code else 0)
    )
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
