"""The delivery note and the retail invoice go into the parcel: they name products (never a
platform's SKU code), fill their A4 page, and only their warehouse stub says 补打 (reprint)."""

import io
import subprocess

import pytest
from PIL import Image
from pypdf import PdfReader

from orders.models import PrintRecord
from orders.services import printing

pytestmark = pytest.mark.django_db

DELIVERY, INVOICE = PrintRecord.Kind.DELIVERY_NOTE, PrintRecord.Kind.INVOICE


def texts_with_height(pdf: bytes, page=0) -> list[tuple[str, float]]:
    """The text pieces of a page with their height on the page (points from the bottom)."""
    found = []

    def visit(text, cm, tm, _font, _size):
        if text.strip():
            found.append((text.strip(), tm[4] * cm[1] + tm[5] * cm[3] + cm[5]))

    PdfReader(io.BytesIO(pdf)).pages[page].extract_text(visitor_text=visit)
    return found


def height_of(pieces, word) -> list[float]:
    return [y for text, y in pieces if word in text]


@pytest.fixture
def order(make_order, stocked_product):
    cup = stocked_product("保温杯", spec="500ml 白色")
    tea = stocked_product("西湖龙井茶", spec="250克")
    return make_order([(cup, 2, "59.00"), (tea, 1, "128.00")], buyer_remark="请放门口")


@pytest.fixture
def imported_order(flow, stocked_product):
    """An order of a file platform, as the standard-format file brings it: platform SKU codes
    and no titles."""
    from orders.imports import import_orders

    shop = flow.shop_of("FN01", "feiniu", name="飞牛旗舰店")
    cup = stocked_product("保温杯", spec="500ml 白色")
    tea = stocked_product("西湖龙井茶", spec="250克")
    flow.sku("FN-CUP-500", cup, shop=shop)
    flow.sku("FN-TEA-2", (tea, 2), shop=shop)  # one unit of the line: two packs of tea
    header = "店铺,平台订单号,收货人,联系电话,省,市,详细地址,平台商品编码,数量,单价,付款时间\n"
    rows = [
        "FN01,FN-1001,李四,13800138000,浙江省,杭州市,文三路 1 号,FN-CUP-500,2,59.00,2026-11-11 09:30:00",
        "FN01,FN-1001,李四,13800138000,浙江省,杭州市,文三路 1 号,FN-TEA-2,1,200.00,2026-11-11 09:30:00",
    ]
    import_orders(source=(header + "\n".join(rows)).encode(), filename="fn.csv")
    order = shop.orders.get(platform_order_no="FN-1001")
    assert not any(line.title for line in order.lines.all())
    return order


@pytest.mark.parametrize("kind", [DELIVERY, INVOICE])
def test_the_documents_name_the_products_not_the_platforms_sku_codes(imported_order, worker, kind):
    pdf = printing.print_order_documents(kind=kind, orders=[imported_order], actor=worker).pdf

    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "保温杯" in text and "西湖龙井茶" in text
    assert "FN-CUP-500" not in text and "FN-TEA-2" not in text


def test_the_invoice_says_how_much_one_unit_of_a_pack_holds(imported_order, worker):
    pdf = printing.print_order_documents(kind=INVOICE, orders=[imported_order], actor=worker).pdf

    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "保温杯 500ml 白色" in text  # one unit, one product: its name
    assert "西湖龙井茶 × 2" in text  # a pack of two: the product and how many


@pytest.mark.parametrize("kind", [DELIVERY, INVOICE])
def test_only_the_warehouse_stub_of_a_reprint_says_reprint(order, worker, kind):
    first = printing.print_order_documents(kind=kind, orders=[order], actor=worker)
    again = printing.print_order_documents(kind=kind, orders=[order], actor=worker)

    assert "补打" not in PdfReader(io.BytesIO(first.pdf)).pages[0].extract_text()
    pieces = texts_with_height(again.pdf)
    (cut,) = height_of(pieces, "沿虚线剪开")
    marks = height_of(pieces, "补打")
    assert again.record.reprint and len(marks) == 1
    assert marks[0] < cut  # under the cut line: the part the warehouse keeps
    (customer_title,) = [
        y for y in height_of(pieces, "出库发货单" if kind == DELIVERY else "零售发票") if y > cut
    ]
    assert customer_title > cut


def ink_box(pdf: bytes, tmp_path) -> tuple[float, float, float, float]:
    """Left, top, right, bottom of what is printed on page 1, as shares of the page."""
    (tmp_path / "doc.pdf").write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-r", "40", "-gray", "-png", "-singlefile", "doc.pdf", "page"],
        cwd=tmp_path,
        check=True,
    )
    image = Image.open(tmp_path / "page.png").point(lambda v: 255 if v < 200 else 0)
    left, top, right, bottom = image.getbbox()
    return left / image.width, top / image.height, right / image.width, bottom / image.height


@pytest.mark.parametrize("kind", [DELIVERY, INVOICE])
def test_a_short_order_still_uses_its_page(order, worker, kind, tmp_path):
    pdf = printing.print_order_documents(kind=kind, orders=[order], actor=worker).pdf

    left, top, right, bottom = ink_box(pdf, tmp_path)
    assert left < 0.08 and right > 0.92  # from margin to margin, not a table in a corner
    assert top < 0.08 and bottom > 0.9  # the stub at the foot of the page
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 1


def test_the_delivery_note_does_not_add_kilograms_to_pieces(make_order, stocked_product, worker):
    rice = stocked_product("东北大米", unit="kg", spec="散装")
    cup = stocked_product("保温杯", unit="件")
    order = make_order([(rice, "1.5", "12.00"), (cup, 2, "59.00")])

    pdf = printing.print_order_documents(kind=DELIVERY, orders=[order], actor=worker).pdf

    text = PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert "1.5 kg、2 件" in text.replace("\n", "") or "2 件、1.5 kg" in text.replace("\n", "")
    assert "3.5" not in text
