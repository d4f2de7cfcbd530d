"""Importing the SKU relation table: mappings replaced, all rows or none, sellable follows."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation

from channels.models import SellableQuantity, SkuMapping
from channels.services import import_sku_relations
from config.tabular import RowErrors
from inventory import services
from inventory.imports import import_products

DATA = Path(__file__).parent.parent / "data"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def sample_shops_and_products(make_shop):
    make_shop(code="MGJ01", platform="mogujie")
    make_shop(code="FN01", platform="feiniu")
    import_products(source=DATA / "products.csv", actor=None)


def components(shop, sku):
    mapping = SkuMapping.objects.get(shop__code=shop, platform_sku=sku)
    return {c.product.code: c.quantity for c in mapping.components.all()}


def test_the_sample_sku_relation_file_imports_cleanly(sample_shops_and_products, admin_user):
    result = import_sku_relations(source=DATA / "sku-relations.csv", actor=admin_user)

    assert result.created == 4
    assert components("MGJ01", "MGJ-GIFTBOX") == {
        "P-TEA-LJ": Decimal("0.5"),
        "P-CUP-01": Decimal("2"),
        "P-BOX-RED": Decimal("1"),
    }
    assert components("MGJ01", "MGJ-TEA-250") == {"P-TEA-LJ": Decimal("0.25")}


def test_importing_again_creates_no_duplicates(sample_shops_and_products):
    import_sku_relations(source=DATA / "sku-relations.csv", actor=None)
    result = import_sku_relations(source=DATA / "sku-relations.csv", actor=None)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 4)
    assert SkuMapping.objects.count() == 4


def test_importing_a_mapping_replaces_its_components(sample_shops_and_products, admin_user):
    import_sku_relations(source=DATA / "sku-relations.csv", actor=None)
    text = "shop,platform_sku,product_code,quantity\nMGJ01,MGJ-GIFTBOX,P-TEA-LJ,1\n"

    result = import_sku_relations(source=text.encode(), actor=admin_user)

    assert result.updated == 1
    assert result.rows[0].changes["components"] == (
        "P-TEA-LJ × 0.5, P-CUP-01 × 2, P-BOX-RED × 1",
        "P-TEA-LJ × 1",
    )
    assert components("MGJ01", "MGJ-GIFTBOX") == {"P-TEA-LJ": Decimal("1")}
    removed = SkuMapping.objects.get(platform_sku="MGJ-GIFTBOX").components.model.history.filter(
        history_type="-"
    )
    assert removed.count() == 2 and {h.history_user for h in removed} == {admin_user}


def test_a_bad_row_imports_nothing_and_every_bad_cell_is_reported(sample_shops_and_products):
    text = (
        "店铺,平台商品编码,商品编码,数量\n"
        "MGJ01,OK-1,P-CUP-01,1\n"
        "NOPE,X,P-CUP-01,1\n"
        "MGJ01,Y,P-NONE,0\n"
        "MGJ01,Z,P-CUP-01,0.12345\n"
        "MGJ01,OK-1,P-CUP-01,2\n"
    )
    with pytest.raises(RowErrors) as info:
        import_sku_relations(source=text.encode(), actor=None)

    assert [str(e) for e in info.value.errors] == [
        "row 3: 店铺: no shop with code NOPE",
        "row 4: 商品编码: no product with code P-NONE",
        "row 4: 数量: must be greater than 0",
        "row 5: 数量: 0.12345 has more than 4 decimal places",
        "row 6: 商品编码: P-CUP-01 appears again for this platform SKU (first in row 2)",
    ]
    assert not SkuMapping.objects.exists()


def test_sellable_quantities_follow_the_imported_relations(
    sample_shops_and_products, main_warehouse
):
    from inventory.models import Product

    tea = Product.objects.get(code="P-TEA-LJ")
    services.adjust(
        warehouse_id=main_warehouse.id, product_id=tea.id, quantity=Decimal("3.3"), actor=None
    )

    import_sku_relations(source=DATA / "sku-relations.csv", actor=None)

    sellable = {
        s.mapping.platform_sku: s.quantity
        for s in SellableQuantity.objects.select_related("mapping")
    }
    assert sellable["MGJ-TEA-250"] == 13  # floor(3.3 / 0.25)
    assert sellable["MGJ-TEA-500"] == 6
    assert sellable["MGJ-GIFTBOX"] == 0  # no cups, no boxes


def test_the_command_exits_1_on_bad_rows_and_2_on_an_unreadable_file(
    sample_shops_and_products, tmp_path
):
    bad = tmp_path / "bad.csv"
    bad.write_text("店铺,平台商品编码,商品编码,数量\nMGJ01,A,P-CUP-01,-1\n", encoding="utf-8-sig")
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_sku_relations", str(bad), stdout=io.StringIO(), stderr=err)
    assert exit_info.value.code == 1
    assert "row 2: 数量: must be greater than 0" in err.getvalue()

    headerless = tmp_path / "headerless.csv"
    headerless.write_text("店铺,数量\nMGJ01,1\n")
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_sku_relations", str(headerless), stdout=io.StringIO(), stderr=err)
    assert exit_info.value.code == 2
    assert "平台商品编码 (platform_sku)" in err.getvalue()
