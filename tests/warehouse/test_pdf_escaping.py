"""Text from a platform, a file or a person is printed as it is, never read as ReportLab markup."""

import io
import re
from pathlib import Path

import pytest
from pypdf import PdfReader

from orders.models import PrintRecord
from orders.services import printing, waves

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
BROKEN = "a<b"
BIG = '<font size="40">big</font>'
FILE = '<img src="/etc/hostname"/>'


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


@pytest.fixture
def wave(make_order, stocked_product, worker):
    product = stocked_product(name=f"杯子{FILE}", spec="500ml")
    first = make_order([(product, 1, "10.00")], receiver_name=BROKEN, buyer_remark=BIG)
    second = make_order([(product, 2, "10.00")], receiver_name=FILE, buyer_nick=BIG)
    return waves.create_wave(orders=[first, second], actor=worker)


def test_markup_in_buyer_text_prints_literally_on_every_document_of_the_wave(wave, worker):
    orders = [item.order for item in wave.items.order_by("position")]
    documents = {
        "waybill": printing.print_waybills(wave=wave, actor=worker).pdf,
        "pick list": printing.print_pick_list(wave=wave, actor=worker).pdf,
        "delivery note": printing.print_order_documents(
            kind=PrintRecord.Kind.DELIVERY_NOTE, orders=orders, actor=worker
        ).pdf,
        "invoice": printing.print_order_documents(
            kind=PrintRecord.Kind.INVOICE, orders=orders, actor=worker
        ).pdf,
    }
    for name, pdf in documents.items():
        text = pdf_text(pdf)
        assert BROKEN in text, name
        assert "/etc/hostname" in text, name
    # As typed, whatever line the text wrapped at (the cells of the note and invoice wrap).
    notes, invoices = (
        " ".join(pdf_text(documents[d]).split()) for d in ("delivery note", "invoice")
    )
    assert BIG in notes  # the buyer remark, as typed
    assert BIG in invoices  # the buyer nick, as typed
    assert FILE in notes and FILE in invoices


def test_no_document_builds_a_paragraph_without_the_escaping_helper():
    """``orders.pdf.common.para`` is the one place Paragraphs are made: a new document that
    builds its own would be read as markup again."""
    offenders = []
    for path in ROOT.glob("*/pdf/*.py"):
        if path.name == "common.py":
            continue
        if re.search(r"\bParagraph\(", path.read_text()):
            offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []
