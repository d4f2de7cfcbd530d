"""A4 documents built with platypus: pick list (拣货单), delivery note (出库发货单), retail invoice
(零售发票). The delivery note and the invoice go into the parcel: they speak of products by name
and fill their page, with the warehouse's stub (仓库联) at its foot."""

from __future__ import annotations

import io
from decimal import Decimal

from django.utils import timezone
from django.utils.translation import gettext as _
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER, TA_RIGHT
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.platypus import Flowable, SimpleDocTemplate, Spacer, Table, TableStyle

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
from .waybill import barcode_for

CHUNK = 400  # rows per table: platypus splits very long tables slowly


def _styles():
    register_fonts()
    return {
        "title": ParagraphStyle("title", fontName=FONT, fontSize=16, leading=20, spaceAfter=4),
        "title_centred": ParagraphStyle(
            "title_centred", fontName=FONT, fontSize=20, leading=26, alignment=TA_CENTER
        ),
        "shop": ParagraphStyle("shop", fontName=FONT, fontSize=12, leading=16),
        "h2": ParagraphStyle("h2", fontName=FONT, fontSize=12, leading=16, spaceBefore=6),
        "h3": ParagraphStyle("h3", fontName=FONT, fontSize=10, leading=14, spaceAfter=2),
        "body": ParagraphStyle("body", fontName=FONT, fontSize=9, leading=12),
        "cell": ParagraphStyle("cell", fontName=FONT, fontSize=10, leading=13, wordWrap="CJK"),
        "label": ParagraphStyle("label", fontName=FONT, fontSize=9.5, leading=13),
        "right": ParagraphStyle(
            "right", fontName=FONT, fontSize=10, leading=13, alignment=TA_RIGHT
        ),
        "centred": ParagraphStyle(
            "centred", fontName=FONT, fontSize=10, leading=13, alignment=TA_CENTER
        ),
    }


def _table(rows, widths, *, header=True, extra=(), size=8.5):
    table = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
    style = [
        ("FONTNAME", (0, 0), (-1, -1), FONT),
        ("FONTSIZE", (0, 0), (-1, -1), size),
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


# --- the warehouse's stub ---------------------------------------------------------------


class StubAtBottom(Flowable):
    """The warehouse's copy (仓库联) of a document: at the foot of the page, under a dashed
    cut line, so the customer's part above fills the page and the stub is torn off and kept.

    It takes the rest of the frame and draws its table at the bottom; when the rest is too
    short it goes to the next page (the customer's part never shares a line with it). Only
    this part says 补打 (reprint): the customer is never shown that a document was printed
    twice."""

    CUT = 7 * mm

    def __init__(self, table: Table, cut_label: str):
        super().__init__()
        self.table = table
        self.cut_label = cut_label

    def wrap(self, avail_width, avail_height):
        _w, h = self.table.wrap(avail_width, avail_height)
        self.table_height = h
        self.width = avail_width
        self.height = max(avail_height, h + self.CUT)
        return self.width, self.height

    def split(self, avail_width, avail_height):
        return []  # never split: the whole stub on this page, or on the next

    def draw(self):
        canvas = self.canv
        self.table.drawOn(canvas, 0, 0)
        y = self.table_height + self.CUT / 2
        canvas.saveState()
        canvas.setDash(3, 2)
        canvas.setLineWidth(0.6)
        canvas.setStrokeColor(colors.grey)
        label_width = pdfmetrics.stringWidth(self.cut_label, FONT, 8) + 6 * mm
        middle = self.width / 2
        canvas.line(0, y, middle - label_width / 2, y)
        canvas.line(middle + label_width / 2, y, self.width, y)
        canvas.setFont(FONT, 8)
        canvas.setFillColor(colors.grey)
        canvas.drawCentredString(middle, y - 1 * mm, self.cut_label)
        canvas.restoreState()


def _stub(
    order, *, document: str, reprint: bool, facts: list[tuple[str, str]], signatures=True
) -> StubAtBottom:
    """The warehouse's stub of one order's document: its name, the order's barcode and number,
    the given facts, when printed, the signatures and, on a reprint, 补打."""
    styles = _styles()
    copy = _("warehouse copy")
    heading = f"{document} · {copy}"
    if reprint:
        heading += f"  【{T['REPRINT']}】"
    left = [
        para(heading, styles["h3"]),
        barcode_for(order.order_no, width=70 * mm, height=10 * mm),
        para(order.order_no, styles["body"]),
    ]
    right = [para(f"{label}: {value}", styles["body"]) for label, value in facts]
    right.append(para(f"{T['Printed at']}: {local_now_text()}", styles["body"]))
    if signatures:
        right.append(Spacer(1, 3 * mm))
        right.append(
            para(
                f"{T['Picked by']}: ________　{T['Checked by']}: ________　"
                f"{T['Received by']}: ________",
                styles["body"],
            )
        )
    table = Table([[left, right]], colWidths=[78 * mm, 108 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOX", (0, 0), (-1, -1), 0.6, colors.grey),
                ("LEFTPADDING", (0, 0), (-1, -1), 3 * mm),
                ("TOPPADDING", (0, 0), (-1, -1), 2 * mm),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2 * mm),
            ]
        )
    )
    return StubAtBottom(table, _("cut here: the warehouse keeps the part below"))


def _facts(rows, styles, widths):
    """A two-column grid of label: value pairs, as wide as the page."""
    cells = []
    for i in range(0, len(rows), 2):
        pair = rows[i : i + 2] + [("", "")] * (2 - len(rows[i : i + 2]))
        cells.append(
            [
                para(pair[0][0], styles["label"]),
                para(pair[0][1], styles["cell"]),
                para(pair[1][0], styles["label"]),
                para(pair[1][1], styles["cell"]),
            ]
        )
    table = Table(cells, colWidths=widths)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                ("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f2f2")),
                ("BACKGROUND", (2, 0), (2, -1), colors.HexColor("#f2f2f2")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
            ]
        )
    )
    return table


def _quantity(value, unit: str) -> str:
    return f"{fmt_qty(value)} {unit}".strip()


def _per_unit_totals(items) -> str:
    """ "7 件、1.5 kg": the quantities summed per unit, never kilograms added to pieces."""
    totals: dict[str, Decimal] = {}
    for e in items:
        unit = e["product"].unit or ""
        totals[unit] = totals.get(unit, Decimal(0)) + e["quantity"]
    return "、".join(_quantity(q, unit) for unit, q in totals.items())


def _paid_text(order) -> str:
    return timezone.localtime(order.paid_at).strftime("%Y-%m-%d %H:%M") if order.paid_at else ""


# --- delivery note --------------------------------------------------------------------------


def render_delivery_notes(orders, *, reprint_ids=frozenset()) -> bytes:
    """One A4 page per order (more when its list is long): the customer's part, large enough to
    read, and the warehouse's stub at the foot of the page, the only part marked 补打."""
    styles = _styles()
    story = []
    for order in orders:
        items = order_items(order)
        carrier = order.carrier.name if order.carrier_id else ""
        head = Table(
            [
                [
                    [
                        para(order.shop.name, styles["shop"]),
                        para(_("Delivery note"), styles["title"]),
                    ],
                    [
                        barcode_for(order.order_no, width=70 * mm, height=12 * mm),
                        para(order.order_no, styles["centred"]),
                    ],
                ]
            ],
            colWidths=[106 * mm, 80 * mm],
        )
        head.setStyle(
            TableStyle(
                [
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("ALIGN", (1, 0), (1, 0), "CENTER"),
                    ("LEFTPADDING", (0, 0), (0, 0), 0),
                ]
            )
        )
        facts = [
            (T["Order no."], order.order_no),
            (T["Platform order no."], order.platform_order_no),
            (T["Paid at"], _paid_text(order)),
            (T["Printed at"], local_now_text()),
            (T["Carrier"], carrier),
            (T["Tracking no."], order.tracking_no),
            (T["Receiver"], f"{order.receiver_name}　{order.receiver_phone}"),
            (T["Address"], full_address(order)),
        ]
        header = [
            "#",
            _("Product name"),
            _("Spec"),
            _("Barcode"),
            _("Product code"),
            _("Quantity"),
        ]
        rows = [
            [
                str(i),
                para(e["product"].name, styles["cell"]),
                para(e["product"].spec, styles["cell"]),
                e["product"].barcode or "",
                e["product"].code,
                _quantity(e["quantity"], e["product"].unit),
            ]
            for i, e in enumerate(items, 1)
        ]
        total = _("Total") + f": {_per_unit_totals(items)}"
        rows.append(["", para(total, styles["right"]), "", "", "", ""])
        last = len(rows)
        story += [
            head,
            Spacer(1, 4 * mm),
            _facts(facts, styles, [24 * mm, 69 * mm, 24 * mm, 69 * mm]),
            Spacer(1, 6 * mm),
            _table(
                [header, *rows],
                [9 * mm, 65 * mm, 24 * mm, 32 * mm, 30 * mm, 26 * mm],
                size=10,
                extra=[
                    ("ALIGN", (-1, 1), (-1, -1), "RIGHT"),
                    ("SPAN", (1, last), (-1, last)),
                    ("TOPPADDING", (0, 0), (-1, -1), 4),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ],
            ),
        ]
        if order.buyer_remark:
            story += [
                Spacer(1, 4 * mm),
                para(f"{T['Buyer remark']}: {order.buyer_remark}", styles["cell"]),
            ]
        story += [
            Spacer(1, 8 * mm),
            para(
                _(
                    "Thank you for your order. For an exchange or a return, contact "
                    "%(shop)s's customer service with the order number %(no)s."
                )
                % {"shop": order.shop.name, "no": order.platform_order_no or order.order_no},
                styles["cell"],
            ),
            _stub(
                order,
                document=_("Delivery note"),
                reprint=order.pk in reprint_ids,
                facts=[
                    (T["Carrier"], f"{carrier} {order.tracking_no}".strip()),
                    (T["Receiver"], order.receiver_name),
                    (T["Quantity"], _per_unit_totals(items)),
                ],
            ),
        ]
    return _build(story, title=_("Delivery note"))


# --- retail invoice -------------------------------------------------------------------------


def line_item_name(line) -> str:
    """What the customer bought on one line, in words, never the platform's SKU code: the
    product's name when the line is one unit of one product; else the platform's title; else
    the products and how much of each one unit of the line holds."""
    components = list(line.components.all())
    if len(components) == 1 and components[0].quantity == line.quantity:
        product = components[0].product
        if product.spec and product.spec not in product.name:
            return f"{product.name} {product.spec}"
        return product.name
    if line.title:
        return line.title
    if components and line.quantity:
        return "、".join(
            f"{c.product.name} × {_quantity(c.quantity / line.quantity, c.product.unit)}"
            for c in components
        )
    return line.platform_sku  # a line not mapped yet (such an order is never printed)


def render_invoices(orders, *, reprint_ids=frozenset()) -> bytes:
    """One A4 page per order: the invoice for the customer, and the warehouse's stub at the
    foot of the page, the only part marked 补打."""
    styles = _styles()
    story = []
    for order in orders:
        story += [
            para(_("Retail invoice"), styles["title_centred"]),
            Spacer(1, 4 * mm),
            _facts(
                [
                    (T["Seller"], order.shop.name),
                    (
                        T["Buyer"],
                        order.receiver_name
                        + (f"（{order.buyer_nick}）" if order.buyer_nick else ""),
                    ),
                    (T["Order no."], order.order_no),
                    (T["Platform order no."], order.platform_order_no),
                    (T["Paid at"], _paid_text(order)),
                    (T["Date"], local_now_text()[:10]),
                ],
                styles,
                [24 * mm, 69 * mm, 24 * mm, 69 * mm],
            ),
            Spacer(1, 6 * mm),
        ]
        header = ["#", _("Item"), _("Quantity"), _("Unit price"), _("Amount")]
        rows = [
            [
                str(i),
                para(line_item_name(line), styles["cell"]),
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
        story += [
            _table(
                [header, *rows],
                [9 * mm, 99 * mm, 22 * mm, 26 * mm, 30 * mm],
                size=10,
                extra=[
                    ("ALIGN", (2, 1), (-1, -1), "RIGHT"),
                    ("SPAN", (1, last), (-1, last)),
                    ("ALIGN", (1, last), (-1, last), "LEFT"),
                    ("TOPPADDING", (0, 0), (-1, -1), 4),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 4),
                ],
            ),
            _stub(
                order,
                document=_("Retail invoice"),
                reprint=order.pk in reprint_ids,
                facts=[
                    (T["Buyer"], order.receiver_name),
                    (_("Total"), f"¥{fmt_money(order.total_amount)}"),
                ],
                signatures=False,
            ),
        ]
    return _build(story, title=_("Retail invoice"))
