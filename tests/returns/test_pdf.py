import io
import shutil
import subprocess
from decimal import Decimal as D

import pytest
from django.utils import translation
from pypdf import PdfReader

from returns.models import ReturnOrder
from returns.pdf.receipt import render_return_receipt
from returns.services import approve_return, create_return, receive_return

pytestmark = pytest.mark.django_db


@pytest.fixture
def received(simple_order, after_sales, reviewer):
    ro = create_return(
        order=simple_order,
        lines=[(simple_order.line_a, D("2"), D("20")), (simple_order.line_bundle, D("1"), D("50"))],
        kind=ReturnOrder.Kind.RETURN_GOODS,
        reason="尺码偏小 & 颜色不符",
        refund_amount=D("70"),
        return_tracking_no="SF1234567890",
        actor=after_sales,
    )
    approve_return(return_order=ro, actor=reviewer)
    line_a, line_bundle = ro.lines.order_by("order_line_id")
    a, b, c = (simple_order.products[k] for k in "ABC")
    receive_return(
        return_order=ro,
        receipts=[
            (line_a, a, D("1"), D("1")),
            (line_bundle, b, D("2"), D("0")),
            (line_bundle, c, D("0"), D("1")),
        ],
        actor=after_sales,
    )
    return ro


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_the_return_receipt_prints_in_chinese_with_what_came_back(received):
    with translation.override("zh-hans"):
        pdf = render_return_receipt(received)
    text = text_of(pdf)
    assert "退货入库单" in text
    assert received.return_no in text and received.order.order_no in text
    assert "SF1234567890" in text and "尺码偏小 & 颜色不符" in text
    assert "次品仓" in text and "电商总仓" in text
    for code in ("A001", "B001", "C001"):
        assert code in text
    assert "商品A001" in text  # the product name, in Chinese
    assert "入库人: shouhou" in text  # who received it


def test_the_return_receipt_embeds_its_cjk_font(received):
    pdf = render_return_receipt(received)
    reader = PdfReader(io.BytesIO(pdf))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    descriptors = [fonts[name].get_object() for name in fonts]
    embedded = []
    for font in descriptors:
        descriptor = font.get("/FontDescriptor")
        if descriptor is not None:
            embedded.append("/FontFile2" in descriptor.get_object())
    assert embedded and all(embedded)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="poppler-utils not installed")
def test_the_return_receipt_renders_to_an_image(received, tmp_path):
    pdf_path = tmp_path / "receipt.pdf"
    pdf_path.write_bytes(render_return_receipt(received))
    subprocess.run(
        [
            "pdftoppm",
            "-png",
            "-r",
            "60",
            "-f",
            "1",
            "-l",
            "1",
            str(pdf_path),
            str(tmp_path / "page"),
        ],
        check=True,
    )
    (png,) = tmp_path.glob("page*.png")
    assert png.stat().st_size > 5000


def test_the_return_number_is_readable_under_its_barcode(received, tmp_path):
    """A scanner reads the barcode; a person reads the same number printed right under it."""
    import zxingcpp
    from PIL import Image
    from reportlab.pdfbase import pdfmetrics

    from orders.pdf.common import FONT

    with translation.override("zh-hans"):
        pdf = render_return_receipt(received)
    (tmp_path / "r.pdf").write_bytes(pdf)
    dpi = 200
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-png", "-singlefile", "r.pdf", "r"],
        cwd=tmp_path,
        check=True,
    )
    with Image.open(tmp_path / "r.png") as image:
        (code,) = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.Code128)
    assert code.text == received.return_no
    bars_bottom = max(code.position.bottom_left.y, code.position.bottom_right.y) * 72 / dpi
    bars_left = code.position.top_left.x * 72 / dpi
    bars_right = code.position.top_right.x * 72 / dpi

    page = PdfReader(io.BytesIO(pdf)).pages[0]
    height = float(page.mediabox.height)
    under = []

    def visit(text, cm, tm, _font, size):
        if text.strip() == received.return_no:
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            centre = x + pdfmetrics.stringWidth(received.return_no, FONT, size) / 2
            y_from_top = height - (tm[4] * cm[1] + tm[5] * cm[3] + cm[5])
            under.append((centre, y_from_top))

    page.extract_text(visitor_text=visit)
    mm = 72 / 25.4
    near = [
        (centre, y)
        for centre, y in under
        if 0 < y - bars_bottom < 6 * mm and abs(centre - (bars_left + bars_right) / 2) < 3 * mm
    ]
    assert near, f"no {received.return_no} centred right under the barcode: {under}"
