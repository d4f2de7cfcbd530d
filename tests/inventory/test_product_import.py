"""Importing the products file: all rows or none, every bad row reported, no duplicates."""

import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.utils import translation
from openpyxl import Workbook

from config.tabular import FileUnreadable, RowErrors
from inventory.imports import import_products
from inventory.models import Product

DATA = Path(__file__).parent.parent / "data"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def run(*args):
    out, err = io.StringIO(), io.StringIO()
    code = 0
    try:
        call_command(*args, stdout=out, stderr=err)
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_the_sample_products_file_imports_cleanly(admin_user):
    result = import_products(source=DATA / "products.csv", actor=admin_user)

    assert result.created == 4
    tea = Product.objects.get(code="P-TEA-LJ")
    assert (tea.name, tea.barcode, tea.unit, tea.spec) == (
        "西湖龙井 散装",
        "6901234500017",
        "千克",
        "明前特级",
    )
    assert tea.weight_kg == Decimal("1.000") and tea.list_price == Decimal("398.00")


def test_importing_the_same_file_again_creates_no_duplicates():
    import_products(source=DATA / "products.csv", actor=None)
    result = import_products(source=DATA / "products.csv", actor=None)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 4)
    assert Product.objects.count() == 4


def test_a_changed_row_updates_the_product_and_history_keeps_before_and_after(admin_user):
    import_products(source=DATA / "products.csv", actor=admin_user)
    changed = (
        "商品编码,商品名称,条码,单位,零售价\nP-CUP-01,玻璃品茗杯 新款,6901234500024,个,19.50\n"
    )

    result = import_products(source=changed.encode(), filename="cups.csv", actor=admin_user)

    assert result.updated == 1
    assert result.rows[0].changes["list_price"] == ("18.00", "19.50")
    cup = Product.objects.get(code="P-CUP-01")
    latest, previous = cup.history.all()[:2]
    assert latest.history_user == admin_user and latest.history_type == "~"
    delta = latest.diff_against(previous)
    assert {c.field: (c.old, c.new) for c in delta.changes}["list_price"] == (
        Decimal("18.00"),
        Decimal("19.50"),
    )
    assert "cups.csv" in latest.history_change_reason


def test_a_file_with_one_bad_row_imports_nothing_and_names_every_bad_cell():
    text = (
        "商品编码,商品名称,条码,单位,重量,零售价\n"
        "A1,好商品,111,个,0.5,10\n"
        ",无编码,112,个,,\n"
        "A3,价格错,113,个,abc,-1\n"
        "A1,重复,114,个,,\n"
    )
    with pytest.raises(RowErrors) as info:
        import_products(source=text.encode(), actor=None)

    assert [str(e) for e in info.value.errors] == [
        "row 3: 商品编码: a value is required",
        "row 4: 重量: 'abc' is not a number",
        "row 4: 零售价: an amount cannot be negative",
        "row 5: 商品编码: A1 appears again (first in row 2)",
    ]
    assert not Product.objects.exists()


def test_a_barcode_of_another_product_is_refused(make_product):
    make_product(code="OLD", barcode="6900000000001")
    text = "product_code,name,barcode,unit\nNEW,新品,6900000000001,个\n"

    with pytest.raises(
        RowErrors, match="row 2: barcode: barcode 6900000000001 already belongs to product OLD"
    ):
        import_products(source=text.encode(), actor=None)


def test_barcodes_can_move_between_products_of_the_same_file(make_product):
    make_product(code="A", barcode="111")
    make_product(code="B", barcode="222")
    text = "product_code,name,barcode,unit\nA,甲,222,个\nB,乙,111,个\n"

    import_products(source=text.encode(), actor=None)

    assert dict(Product.objects.values_list("code", "barcode")) == {"A": "222", "B": "111"}


def test_an_xlsx_products_file_with_numeric_barcodes_imports():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["商品编码", "商品名称", "条码", "单位", "重量", "零售价"])
    sheet.append(["X1", "木盒", 6901234500055, "个", 0.25, 9.9])
    data = io.BytesIO()
    workbook.save(data)

    import_products(source=data.getvalue(), filename="p.xlsx", actor=None)

    box = Product.objects.get(code="X1")
    assert box.barcode == "6901234500055"
    assert (box.weight_kg, box.list_price) == (Decimal("0.250"), Decimal("9.90"))


def test_the_command_prints_what_it_did_and_a_dry_run_writes_nothing():
    code, out, _err = run("import_products", str(DATA / "products.csv"), "--dry-run")
    assert code == 0 and "created 4" in out and "dry run" in out
    assert not Product.objects.exists()

    code, out, _err = run("import_products", str(DATA / "products.csv"))
    assert code == 0 and "created P-TEA-LJ" in out
    assert Product.objects.count() == 4


def test_the_command_exits_1_listing_bad_rows_and_2_for_an_unreadable_file(tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("商品编码,商品名称,条码,单位,零售价\nA,甲,1,个,1.234\n", encoding="gb18030")
    code, _out, err = run("import_products", str(bad))
    assert code == 1
    assert "row 2: 零售价: 1.234 has more than 2 decimal places" in err
    assert not Product.objects.exists()

    junk = tmp_path / "junk.xlsx"
    junk.write_bytes(b"PK\x03\x04not really a workbook")
    code, _out, err = run("import_products", str(junk))
    assert code == 2
    assert len(err.strip().splitlines()) == 1


def test_a_missing_file_is_unreadable(tmp_path):
    with pytest.raises(FileUnreadable):
        import_products(source=tmp_path / "nope.csv", actor=None)


def test_the_command_records_the_named_user_in_the_history(admin_user):
    code, _out, _err = run(
        "import_products", str(DATA / "products.csv"), "--user", admin_user.username
    )

    assert code == 0
    assert Product.objects.get(code="P-CUP-01").history.get().history_user == admin_user
    code, _out, err = run("import_products", str(DATA / "products.csv"), "--user", "nobody")
    assert code == 2 and "nobody" in err


@pytest.mark.parametrize("header", ["location", "库位"])
def test_the_bin_location_is_imported_under_its_english_or_chinese_header(header):
    text = f"product_code,name,barcode,unit,{header}\nLOC1,带库位的商品,,件,A-01-3\n"

    import_products(source=text.encode(), actor=None)

    assert Product.objects.get(code="LOC1").location == "A-01-3"
