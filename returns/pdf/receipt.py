"""The return receipt (退货入库单): what came back on a return order and where it went."""

from __future__ import annotations

from decimal import Decimal
from io import BytesIO

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from reportlab.graphics.barcode import createBarcodeDrawing
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import SimpleDocTemplate, Spacer, Table, TableStyle

from core import clock
from orders.pdf.common import para, register_fonts
from returns import selectors
from returns.models import ReturnOrder


def _when(value) -> str:
    if not value:
        return "—"
    return date_format(timezone.localtime(value), "Y-m-d H:i")


def _num(value: Decimal) -> str:
    text = f"{value:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def render_return_receipt(return_order: ReturnOrder) -> bytes:
    """The receipt as PDF bytes, in the active language, with the CJK font embedded."""
    font = register_fonts()  # the project's embedded CJK font (orders/pdf/fonts/)
    ro = selectors.return_orders().get(pk=return_order.pk)
    items = selectors.receivable_items(ro)

    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10)
    title = ParagraphStyle("title", parent=body, fontSize=18, leading=24, alignment=1)

    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=15 * mm,
        title=f"{_('Return receipt')} {ro.return_no}",
        author="tongcang",
    )

    def p(text, style=body):
        return para(text, style)

    story = [p(_("Return receipt"), title), Spacer(1, 3 * mm)]
    # The return number's barcode with the number under it, readable when a scanner is not
    # at hand (and what a person types into the search box).
    number = ParagraphStyle("number", parent=body, fontSize=11, leading=14, alignment=1)
    barcode = Table(
        [
            [
                createBarcodeDrawing(
                    "Code128",
                    value=ro.return_no,
                    barHeight=10 * mm,
                    barWidth=0.3 * mm,
                    humanReadable=False,
                )
            ],
            [p(ro.return_no, number)],
        ],
        hAlign="CENTER",
    )
    barcode.setStyle(
        TableStyle(
            [
                ("ALIGN", (0, 0), (-1, -1), "CENTER"),
                ("TOPPADDING", (0, 0), (-1, -1), 0),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
            ]
        )
    )
    header = [
        [_("Return no."), ro.return_no, _("Status"), ro.get_status_display()],
        [_("Order no."), ro.order.order_no, _("Platform order no."), ro.order.platform_order_no],
        [_("Shop"), str(ro.shop), _("Kind"), ro.get_kind_display()],
        [
            _("Return tracking no."),
            ro.return_tracking_no or "—",
            _("Refund amount"),
            f"¥{ro.refund_amount}",
        ],
        [_("Created at"), _when(ro.created_at), _("Received at"), _when(ro.received_at)],
        [_("Reason"), ro.reason or "—", "", ""],
    ]
    header_table = Table(
        [[p(cell) for cell in row] for row in header],
        colWidths=[28 * mm, 62 * mm, 28 * mm, 62 * mm],
    )
    header_table.setStyle(
        TableStyle(
            [
                ("SPAN", (1, 5), (3, 5)),
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.whitesmoke),
                ("BACKGROUND", (2, 0), (2, -2), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story += [barcode, Spacer(1, 3 * mm), header_table, Spacer(1, 5 * mm)]

    head = [
        "#",
        _("Product code"),
        _("Product name"),
        _("Platform SKU"),
        _("Expected back"),
        _("Main warehouse"),
        _("Defective warehouse"),
    ]
    rows = [[p(cell, small) for cell in head]]
    totals = [Decimal(0), Decimal(0), Decimal(0)]
    for n, item in enumerate(items, start=1):
        rows.append(
            [
                p(n, small),
                p(item.product.code, small),
                p(item.product.name, small),
                p(item.line.order_line.platform_sku, small),
                p(_num(item.expected), small),
                p(_num(item.received_main), small),
                p(_num(item.received_defective), small),
            ]
        )
        totals[0] += item.expected
        totals[1] += item.received_main
        totals[2] += item.received_defective
    rows.append(
        [p("", small), p(_("Total"), small), p("", small), p("", small)]
        + [p(_num(t), small) for t in totals]
    )
    lines_table = Table(
        rows,
        colWidths=[8 * mm, 28 * mm, 56 * mm, 32 * mm, 18 * mm, 19 * mm, 19 * mm],
        repeatRows=1,
    )
    lines_table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.5, colors.grey),
                ("BACKGROUND", (0, 0), (-1, 0), colors.lightgrey),
                ("BACKGROUND", (0, -1), (-1, -1), colors.whitesmoke),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
            ]
        )
    )
    story += [lines_table, Spacer(1, 10 * mm)]

    receivers = sorted(
        {
            r.received_by.get_username()
            for r in selectors.receipts_of(ro)
            if r.received_by is not None
        }
    )
    received_by = pgettext("return receipt", "Received by")
    checked_by = _("Checked by")
    printed_at = _("Printed at")
    sign = Table(
        [
            [
                p(f"{received_by}: {', '.join(receivers) or '________'}"),
                p(f"{checked_by}: ________"),
                p(f"{printed_at}: {_when(clock.now())}"),
            ]
        ],
        colWidths=[60 * mm, 60 * mm, 60 * mm],
    )
    story.append(sign)
    doc.build(story)
    return buffer.getvalue()
