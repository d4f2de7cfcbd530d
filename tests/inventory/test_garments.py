"""Products as garments: style code, colour and size from the products file; a style's
colour × size grid with the stock of each location."""

from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import translation

from config.tabular import RowErrors
from inventory import services
from inventory.imports import import_products
from inventory.models import Product
from inventory.selectors import style_grid

DATA = Path(__file__).parent.parent / "data"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def test_the_clothing_sample_imports_as_two_styles():
    result = import_products(source=DATA / "products-clothing.csv", actor=None)

    assert result.created == 14
    tee = Product.objects.get(code="TX2601-02-XL")
    assert (tee.style_code, tee.colour, tee.size) == ("TX2601", "黑色", "XL")
    assert Product.objects.filter(style_code="LY2602").count() == 6
    again = import_products(source=DATA / "products-clothing.csv", actor=None)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 14)


def test_english_headers_work_too():
    text = (
        "product_code,name,barcode,unit,style_code,colour,size\nK1-RED-M,Knit red M,,pc,K1,red,M\n"
    )
    import_products(source=text.encode(), filename="k.csv", actor=None)
    assert Product.objects.get(code="K1-RED-M").size == "M"


def test_style_colour_and_size_go_together_or_the_file_imports_nothing():
    text = (
        "商品编码,商品名称,条码,单位,款号,颜色,尺码\n"
        "A-1,上衣,,件,A,红色,M\n"
        "A-2,上衣,,件,A,,L\n"
        "B-1,杯子,,个,,,\n"
    )
    with pytest.raises(RowErrors) as bad:
        import_products(source=text.encode(), filename="x.csv", actor=None)

    assert [str(e) for e in bad.value.errors] == [
        "row 3: 颜色: style code, colour and size go together: all three or none"
    ]
    assert not Product.objects.exists()


def test_a_colour_and_size_of_a_style_belongs_to_one_product():
    import_products(source=DATA / "products-clothing.csv", actor=None)
    text = "商品编码,商品名称,条码,单位,款号,颜色,尺码\nTX-COPY,复制,,件,TX2601,白色,S\n"

    with pytest.raises(RowErrors) as bad:
        import_products(source=text.encode(), filename="x.csv", actor=None)

    assert [str(e) for e in bad.value.errors] == [
        "row 2: 尺码: TX2601 白色 S already belongs to product TX2601-01-S"
    ]


def test_a_style_grid_shows_every_colour_and_size_with_stock_per_location(store_locations):
    import_products(source=DATA / "products-clothing.csv", actor=None)
    black_m = Product.objects.get(code="TX2601-02-M")
    services.receive(items=[(black_m.id, 8)], actor=None, document="t")
    services.receive(warehouse="MD01", items=[(black_m.id, 2)], actor=None, document="t")
    services.receive(warehouse="MD01:sample", items=[(black_m.id, 1)], actor=None, document="t")
    services.reserve(document="order:1", items=[(black_m.id, 1)], warehouse="MD01")

    grid = style_grid("TX2601", locations=["MD01", "MD01:sample", "main"])

    assert grid.colours == ["白色", "黑色"]
    assert grid.sizes == ["S", "M", "L", "XL"]
    cell = grid.cell("黑色", "M")
    assert cell.product == black_m
    assert cell.stock["MD01"].available == Decimal(1)
    assert cell.stock["MD01:sample"].on_hand == Decimal(1)
    assert cell.stock["main"].available == Decimal(8)
    assert grid.cell("白色", "XL").stock["MD01"].available == 0
    assert [c for c, _cells in grid.rows()] == ["白色", "黑色"]


def test_a_style_without_products_is_not_found():
    with pytest.raises(Product.DoesNotExist):
        style_grid("NOPE")
