"""A4 documents built with platypus: pick list (拣货单), delivery note (出库发货单), retail invoice
(零售发票)."""

from __future__ import annotations

import io
from decimal import Decimal

from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, SimpleDocTemplate, Spacer, Table, TableStyle

from .amount import amount_in_words
from .common import (
    FONT,
    T,
    fmt_money,
    fmt_qty,
    full_address,
    local_now_text,
    order_items,
    para,
    register_fonts,
)

CHUNK = 400  # rows per table: platypus splits very long tables slowly


def _styles():
    register_fonts()
    return {
        "title": ParagraphStyle("title", fontName=FONT, fontSize=16, leading=20, spaceAfter=4),
        "h2": ParagraphStyle("h2", fontName=FONT, fontSize=12, leading=16, spaceBefore=6),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12),
    }


def _table(rows, widths, *, header=True, extra=()):
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), 8.5),
        ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    if header:
        style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")))
    table.setStyle(TableStyle(style + list(extra)))
    return table


def _chunks(header, rows, widths, extra_for=None):
    for start in range(0, max(len(rows), 1), CHUNK):
        part = rows[start : start + CHUNK]
        extra = extra_for(part) if extra_for else ()
        yield _table([header, *part], widths, extra=extra)


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _build(story, *, title: str) -> bytes:
    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=14 * mm,
        title=title,
    )

    def footer(canvas, doc_):
        canvas.setFont(FONT, 7)
        canvas.drawRightString(A4[0] - 12 * mm, 8 * mm, _("Page %(page)d") % {"page": doc_.page})

    doc.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()


# --- pick list ------------------------------------------------------------------------------


def render_pick_list(wave, orders, *, reprint: bool = False) -> bytes:
    """Products summed over the wave (what to fetch), then each order (how to sort it)."""
    styles = _styles()
    title = _("Pick list")
    heading = f"{title} {wave.number}" + (f"  【{T['REPRINT']}】" if reprint else "")
    story = [
        para(heading, styles["title"]),
        para(
            f"{T['Carrier']}: {wave.carrier.name}　{T['Orders']}: {len(orders)}　"
            f"{T['Printed at']}: {local_now_text()}",
            styles["body"],
        ),
        para(_("Products summed"), styles["h2"]),
    ]
    totals: dict[int, dict] = {}
    per_order = []
    for order in orders:
        items = order_items(order)
        per_order.append((order, items))
        for entry in items:
            total = totals.setdefault(
                entry["product"].pk, {"product": entry["product"], "quantity": Decimal(0)}
            )
            total["quantity"] += entry["quantity"]
    # In the order a picker walks: by bin location (products without one last), then code.
    summary = sorted(
        totals.values(),
        key=lambda e: (not e["product"].location, e["product"].location, e["product"].code),
    )
    header = [
        "#",
        _("Bin"),
        _("Product code"),
        _("Barcode"),
        _("Product name"),
        _("Spec"),
        _("Quantity"),
        "✓",
    ]
    widths = [8 * mm, 18 * mm, 26 * mm, 30 * mm, 56 * mm, 24 * mm, 18 * mm, 8 * mm]
    rows = [
        [
            str(i),
            e["product"].location,
            e["product"].code,
            e["product"].barcode or "",
            _clip(e["product"].name, 26),
            _clip(e["product"].spec, 10),
            # Each product in its own unit (件, kg): quantities of different units never add up.
            f"{fmt_qty(e['quantity'])} {e['product'].unit}".strip(),
            "",
        ]
        for i, e in enumerate(summary, 1)
    ]
    story.extend(_chunks(header, rows, widths))
    story.append(para(f"{T['Products']}: {len(summary)}", styles["body"]))

    story.append(para(_("By order"), styles["h2"]))
    header = [_("Order no."), _("Barcode"), _("Product name"), _("Spec"), _("Quantity")]
    widths = [46 * mm, 34 * mm, 60 * mm, 30 * mm, 16 * mm]
    rows, order_rows = [], []
    for order, items in per_order:
        order_rows.append(len(rows))
        rows.append(
            [
                f"{order.order_no}  {order.tracking_no}  {order.receiver_name}",
                "",
                "",
                "",
                "",
            ]
        )
        for entry in items:
            rows.append(
                [
                    "",
                    entry["product"].barcode or entry["product"].code,
                    _clip(entry["product"].name, 26),
                    _clip(entry["product"].spec, 12),
                    fmt_qty(entry["quantity"]),
                ]
            )

    offset = {"start": 0}

    def order_header_style(part):
        start = offset["start"]
        offset["start"] += len(part)
        marks = [i - start + 1 for i in order_rows if start <= i < start + len(part)]
        style = []
        for r in marks:
            style += [
                ("SPAN", (0, r), (-1, r)),
                ("BACKGROUND", (0, r), (-1, r), colors.HexColor("#f4f4f4")),
            ]
        return style

    story.extend(_chunks(header, rows, widths, extra_for=order_header_style))
    return _build(story, title=heading)


# --- delivery note --------------------------------------------------------------------------


def render_delivery_notes(orders, *, reprint_ids=frozenset()) -> bytes:
    styles = _styles()
    story = []
    for index, order in enumerate(orders):
        if index:
            story.append(PageBreak())
        title = _("Delivery note")
        if order.pk in reprint_ids:
            title += f"  【{T['REPRINT']}】"
        story += [
            para(title, styles["title"]),
            para(
                f"{T['Shop']}: {order.shop.name}　{T['Order no.']}: {order.order_no}　"
                f"{T['Platform order no.']}: {order.platform_order_no}",
                styles["body"],
            ),
            para(
                f"{T['Carrier']}: {order.carrier.name if order.carrier_id else ''}　"
                f"{T['Tracking no.']}: {order.tracking_no}　{T['Printed at']}: {local_now_text()}",
                styles["body"],
            ),
            para(
                f"{T['Receiver']}: {order.receiver_name}　{order.receiver_phone}　"
                f"{full_address(order)}",
                styles["body"],
            ),
            Spacer(1, 4 * mm),
        ]
        header = [
            "#",
            _("Product code"),
            _("Barcode"),
            _("Product name"),
            _("Spec"),
            _("Quantity"),
        ]
        items = order_items(order)
        rows = [
            [
                str(i),
                e["product"].code,
                e["product"].barcode or "",
                _clip(e["product"].name, 30),
                _clip(e["product"].spec, 12),
                fmt_qty(e["quantity"]),
            ]
            for i, e in enumerate(items, 1)
        ]
        total = sum((e["quantity"] for e in items), Decimal(0))
        rows.append(["", "", "", _("Total quantity"), "", fmt_qty(total)])
        story.append(
            _table([header, *rows], [10 * mm, 30 * mm, 36 * mm, 66 * mm, 26 * mm, 18 * mm])
        )
        if order.buyer_remark:
            story.append(para(f"{T['Buyer remark']}: {order.buyer_remark}", styles["body"]))
        story += [
            Spacer(1, 10 * mm),
            para(
                f"{T['Picked by']}: ________　{T['Checked by']}: ________　"
                f"{T['Received by']}: ________",
                styles["body"],
            ),
        ]
    return _build(story, title=_("Delivery note"))


# --- retail invoice -------------------------------------------------------------------------


def render_invoices(orders, *, reprint_ids=frozenset()) -> bytes:
    styles = _styles()
    story = []
    for index, order in enumerate(orders):
        if index:
            story.append(PageBreak())
        title = _("Retail invoice")
        if order.pk in reprint_ids:
            title += f"  【{T['REPRINT']}】"
        story += [
            para(title, styles["title"]),
            para(f"{T['Seller']}: {order.shop.name}", styles["body"]),
            para(
                f"{T['Buyer']}: {order.receiver_name}"
                + (f"（{order.buyer_nick}）" if order.buyer_nick else ""),
                styles["body"],
            ),
            para(
                f"{T['Order no.']}: {order.order_no}　{T['Platform order no.']}: "
                f"{order.platform_order_no}　{T['Date']}: {local_now_text()[:10]}",
                styles["body"],
            ),
            Spacer(1, 4 * mm),
        ]
        header = ["#", _("Item"), _("Quantity"), _("Unit price"), _("Amount")]
        rows = [
            [
                str(i),
                _clip(line.title or line.platform_sku, 40),
                fmt_qty(line.quantity),
                fmt_money(line.unit_price),
                fmt_money(line.amount),
            ]
            for i, line in enumerate(order.lines.all(), 1)
        ]
        rows.append(["", _("Shipping fee"), "", "", fmt_money(order.shipping_fee)])
        if order.discount_amount:
            rows.append(["", _("Discount"), "", "", f"-{fmt_money(order.discount_amount)}"])
        rows.append(["", _("Total"), "", "", f"¥{fmt_money(order.total_amount)}"])
        rows.append(
            ["", f"{T['Total in words']}: {amount_in_words(order.total_amount)}", "", "", ""]
        )
        last = len(rows)
        story.append(
            _table(
                [header, *rows],
                [10 * mm, 96 * mm, 22 * mm, 28 * mm, 30 * mm],
                extra=[
                    ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
                    ("SPAN", (1, last), (-1, last)),
                    ("ALIGN", (1, last), (-1, last), "LEFT"),
                ],
            )
        )
    return _build(story, title=_("Retail invoice"))
