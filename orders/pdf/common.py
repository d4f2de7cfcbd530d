"""Fonts and small drawing helpers shared by the documents."""

from __future__ import annotations

from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from xml.sax.saxutils import escape

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext, gettext_noop
from reportlab import rl_config
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph

from core import clock

FONT = "WenQuanYiMicroHei"
FONT_PATH = Path(__file__).resolve().parent / "fonts" / "wqy-microhei.ttc"

DEFAULT_SENDER = {
    "name": "统仓电商总仓",
    "phone": "400-000-0000",
    "address": "上海市松江区示范路1号统仓物流园",
}


@lru_cache(maxsize=1)
def register_fonts() -> str:
    """Register the embedded CJK font once per process; returns its name."""
    pdfmetrics.registerFont(TTFont(FONT, str(FONT_PATH), subfontIndex=0))
    # Binary (deflated) streams instead of ASCII85 text: smaller files, and without ReportLab's
    # optional C accelerator the ASCII85 encoder is the slowest part of a 1,000-page print.
    rl_config.useA85 = 0
    return FONT


def safe(text) -> str:
    """Text for a Paragraph, escaped: ReportLab reads Paragraph text as markup, so a receiver
    name ``a<b`` would break the document and ``<img src=…>`` would open a server file."""
    return escape("" if text is None else str(text))


def para(text, style) -> Paragraph:
    """The one way to put text into a Paragraph: every text is escaped, whatever its source."""
    return Paragraph(safe(text), style)


def sender() -> dict:
    """Who sends the parcels: settings.TONGCANG_SENDER (name, phone, address) or the default."""
    return {**DEFAULT_SENDER, **getattr(settings, "TONGCANG_SENDER", {})}


def wrap(text: str, width: float, size: float, font: str = FONT) -> list[str]:
    """Split text into lines no wider than ``width`` points (CJK text has no spaces to break at)."""
    lines, current, used = [], "", 0.0
    for char in text or "":
        if char == "\n":
            lines.append(current)
            current, used = "", 0.0
            continue
        char_width = pdfmetrics.stringWidth(char, font, size)
        if current and used + char_width > width:
            lines.append(current)
            current, used = char, char_width
        else:
            current += char
            used += char_width
    if current:
        lines.append(current)
    return lines


def fmt_qty(value: Decimal) -> str:
    """4-place quantities shown without needless zeros: 2.0000 → 2, 0.5000 → 0.5."""
    text = format(Decimal(value).normalize(), "f")
    return text


def fmt_money(value: Decimal) -> str:
    return f"{Decimal(value):,.2f}"


def local_now_text() -> str:
    return timezone.localtime(clock.now()).strftime("%Y-%m-%d %H:%M")


def full_address(order) -> str:
    return "".join(p for p in (order.province, order.city, order.district, order.address) if p)


def order_items(order) -> list[dict]:
    """The products an order ships, summed over its lines: [{product, quantity}] by product code."""
    totals: dict[int, dict] = {}
    for line in order.lines.all():
        for component in line.components.all():
            entry = totals.setdefault(
                component.product_id, {"product": component.product, "quantity": Decimal(0)}
            )
            entry["quantity"] += component.quantity
    return sorted(totals.values(), key=lambda e: e["product"].code)


class _Labels:
    """Labels used inside f-strings (xgettext cannot see calls there): ``T["Order no."]``."""

    MSGIDS = (
        gettext_noop("Address"),
        gettext_noop("Buyer"),
        gettext_noop("Buyer remark"),
        gettext_noop("Carrier"),
        gettext_noop("Checked by"),
        gettext_noop("Date"),
        gettext_noop("Order no."),
        gettext_noop("Orders"),
        gettext_noop("Paid at"),
        gettext_noop("Picked by"),
        gettext_noop("Platform order no."),
        gettext_noop("Printed at"),
        gettext_noop("Products"),
        gettext_noop("Quantity"),
        gettext_noop("REPRINT"),
        gettext_noop("Received by"),
        gettext_noop("Receiver"),
        gettext_noop("Seller"),
        gettext_noop("Shop"),
        gettext_noop("Total in words"),
        gettext_noop("Total quantity"),
        gettext_noop("Tracking no."),
    )

    def __getitem__(self, msgid: str) -> str:
        return gettext(msgid)


T = _Labels()
