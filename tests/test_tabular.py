"""config.tabular: the one reader of the files people import (docs/import-formats.md)."""

import datetime as dt
import io
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.utils import translation
from openpyxl import Workbook

from config.tabular import (
    Column,
    FileUnreadable,
    RowError,
    RowErrors,
    parse_datetime_shanghai,
    parse_decimal,
    parse_money,
    parse_positive_int,
    read_table,
)

DATA = Path(__file__).parent / "data"

RELATION_COLUMNS = [
    Column("shop", "店铺"),
    Column("platform_sku", "平台商品编码"),
    Column("product_code", "商品编码"),
    Column("quantity", "数量"),
]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def xlsx_bytes(rows):
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def test_the_sample_sku_relation_file_reads_with_chinese_headers():
    rows = read_table(DATA / "sku-relations.csv", columns=RELATION_COLUMNS)
    assert len(rows) == 6
    assert rows[0] == (
        2,
        {
            "shop": "MGJ01",
            "platform_sku": "MGJ-TEA-250",
            "product_code": "P-TEA-LJ",
            "quantity": "0.2500",
        },
    )
    assert rows[-1][0] == 7


def test_english_headers_in_any_order_with_spaces_and_a_bom_read_the_same():
    text = "\ufeff quantity ,Product_Code,shop, platform_sku\n2,P1,TM01,SKU-1\n"
    rows = read_table(text.encode("utf-8"), columns=RELATION_COLUMNS)
    assert rows == [
        (2, {"shop": "TM01", "platform_sku": "SKU-1", "product_code": "P1", "quantity": "2"})
    ]


def test_gb18030_csv_as_chinese_excel_saves_it_reads():
    text = "店铺,平台商品编码,商品编码,数量\r\n天猫01,SKU-茶,P1,1\r\n"
    rows = read_table(text.encode("gb18030"), columns=RELATION_COLUMNS)
    assert rows[0][1]["shop"] == "天猫01"
    assert rows[0][1]["platform_sku"] == "SKU-茶"


def test_blank_rows_are_skipped_and_row_numbers_stay_those_of_the_spreadsheet():
    text = "店铺,平台商品编码,商品编码,数量\n\nTM01,A,P1,1\n , , , \nTM01,B,P2,2\n"
    rows = read_table(text.encode(), columns=RELATION_COLUMNS)
    assert [number for number, _values in rows] == [3, 5]


def test_an_optional_column_absent_from_the_file_reads_as_empty():
    columns = [Column("code", "商品编码"), Column("spec", "规格", required=False)]
    rows = read_table("商品编码\nP1\n".encode(), columns=columns)
    assert rows == [(2, {"code": "P1", "spec": ""})]


def test_the_table_knows_each_header_as_written_in_the_file():
    rows = read_table(
        "店铺,平台商品编码,商品编码,数量\nA,B,C,1\n".encode(), columns=RELATION_COLUMNS
    )
    assert rows.header("shop") == "店铺"
    assert str(RowError(row=2, column=rows.header("quantity"), reason="x")) == "row 2: 数量: x"


def test_xlsx_cells_become_text_without_float_noise():
    data = xlsx_bytes(
        [
            ["店铺", "平台商品编码", "商品编码", "数量", "付款时间"],
            ["TM01", 12345, 6901234500017, 0.1 + 0.2, dt.datetime(2026, 11, 11, 9, 30)],
            ["TM01", "B", "P2", 2.0, None],
            [None, None, None, None, None],
            ["TM01", "C", "P3", Decimal("0.2500"), dt.date(2026, 1, 2)],
        ]
    )
    columns = [*RELATION_COLUMNS, Column("paid_at", "付款时间", required=False)]
    rows = read_table(io.BytesIO(data), columns=columns)
    assert rows[0] == (
        2,
        {
            "shop": "TM01",
            "platform_sku": "12345",
            "product_code": "6901234500017",
            "quantity": "0.3",
            "paid_at": "2026-11-11 09:30:00",
        },
    )
    assert rows[1][1]["quantity"] == "2"
    assert rows[2][0] == 5
    assert rows[2][1]["quantity"] in {"0.25", "0.2500"}
    assert rows[2][1]["paid_at"] == "2026-01-02 00:00:00"


def test_a_missing_required_column_makes_the_file_unreadable_naming_it():
    with pytest.raises(FileUnreadable) as info:
        read_table("店铺,平台商品编码,数量\nA,B,1\n".encode(), columns=RELATION_COLUMNS)
    assert "商品编码 (product_code)" in str(info.value)
    assert "\n" not in str(info.value)


def test_an_empty_file_has_no_header():
    with pytest.raises(FileUnreadable, match="no header"):
        read_table(b"  \n\n", columns=RELATION_COLUMNS)


def test_a_binary_file_that_is_not_csv_or_xlsx_is_unreadable():
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    with pytest.raises(FileUnreadable, match="neither a CSV"):
        read_table(png, columns=RELATION_COLUMNS)


def test_text_in_an_unknown_encoding_is_unreadable():
    with pytest.raises(FileUnreadable, match="UTF-8 or GB18030"):
        read_table(b"abc,\xff\xff\x80\n", columns=RELATION_COLUMNS)


def test_an_old_xls_or_damaged_xlsx_is_unreadable():
    with pytest.raises(FileUnreadable, match=".xls"):
        read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 50, columns=RELATION_COLUMNS)
    with pytest.raises(FileUnreadable, match="damaged"):
        read_table(b"PK\x03\x04garbage", columns=RELATION_COLUMNS)


def test_a_header_without_any_known_column_is_unreadable():
    with pytest.raises(FileUnreadable, match="no known column"):
        read_table(b"a,b,c\n1,2,3\n", columns=RELATION_COLUMNS)


def test_row_errors_are_listed_in_row_order():
    errors = RowErrors([RowError(5, "数量", "bad"), RowError(3, "店铺", "unknown")])
    assert [str(e) for e in errors] == ["row 3: 店铺: unknown", "row 5: 数量: bad"]


def test_parse_decimal_keeps_places_and_refuses_more():
    assert parse_decimal("0.25", 4) == Decimal("0.2500")
    assert parse_decimal("1,234.5", 2) == Decimal("1234.50")
    with pytest.raises(ValueError, match="more than 4 decimal places"):
        parse_decimal("0.12345", 4)
    with pytest.raises(ValueError, match="not a number"):
        parse_decimal("abc", 4)
    with pytest.raises(ValueError, match="greater than 0"):
        parse_decimal("0", 4, positive=True)
    with pytest.raises(ValueError, match="not a number"):
        parse_decimal("NaN", 4)


def test_parse_money_and_positive_int():
    assert parse_money("¥59.00") == Decimal("59.00")
    with pytest.raises(ValueError, match="negative"):
        parse_money("-1")
    with pytest.raises(ValueError):
        parse_money("1.005")
    assert parse_positive_int("3") == 3
    assert parse_positive_int("3.0") == 3
    for bad in ("0", "-2", "1.5", "x", ""):
        with pytest.raises(ValueError):
            parse_positive_int(bad)


def test_parse_datetime_reads_shanghai_time_unless_an_offset_is_given():
    shanghai = ZoneInfo("Asia/Shanghai")
    assert parse_datetime_shanghai("2026-11-11 00:03:12") == dt.datetime(
        2026, 11, 11, 0, 3, 12, tzinfo=shanghai
    )
    assert parse_datetime_shanghai("2026/1/5 9:03") == dt.datetime(
        2026, 1, 5, 9, 3, tzinfo=shanghai
    )
    assert parse_datetime_shanghai("2026-11-10T16:03:12Z") == dt.datetime(
        2026, 11, 11, 0, 3, 12, tzinfo=shanghai
    )
    assert parse_datetime_shanghai("2026-11-11T00:03:12+08:00").utcoffset() == dt.timedelta(hours=8)
    for bad in ("yesterday", "2026-13-01 00:00:00", ""):
        with pytest.raises(ValueError):
            parse_datetime_shanghai(bad)


def test_excel_unicode_text_utf16_with_tabs_reads():
    text = "店铺\t平台商品编码\t商品编码\t数量\r\nTM01\tA\tP1\t1\r\n"
    rows = read_table(text.encode("utf-16"), columns=RELATION_COLUMNS)
    assert rows == [
        (2, {"shop": "TM01", "platform_sku": "A", "product_code": "P1", "quantity": "1"})
    ]


def test_a_text_file_named_xls_as_platforms_export_them_reads_as_csv():
    text = "店铺\t平台商品编码\t商品编码\t数量\nTM01\tA\tP1\t2\n"
    rows = read_table(text.encode("gb18030"), columns=RELATION_COLUMNS, filename="export.xls")
    assert rows[0][1]["quantity"] == "2"


# --- workbooks made to take the machine's memory ------------------------------------------------


def wide_workbook(rows: int) -> bytes:
    """The issue's workbook: a normal header, then one cell in column XFD (16,384) per row."""
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(["店铺", "平台商品编码", "商品编码", "数量"])
    for n in range(rows):
        sheet.append(["MGJ01", f"SKU{n}", "P-TEA-LJ", "1"])
    out = io.BytesIO()
    workbook.save(out)
    # Add a cell in XFD to every data row by rewriting the sheet XML (openpyxl's writer would
    # need 16,384 cells per row to get there).
    import zipfile

    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    result = io.BytesIO()
    with zipfile.ZipFile(result, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.startswith("xl/worksheets/sheet"):
                text = data.decode()
                for n in range(2, rows + 2):
                    text = text.replace(
                        f'<c r="D{n}" t="inlineStr"><is><t>1</t></is></c></row>',
                        f'<c r="D{n}" t="inlineStr"><is><t>1</t></is></c>'
                        f'<c r="{get_column_letter(16384)}{n}" t="n"><v>1</v></c></row>',
                        1,
                    )
                assert text.count("XFD") == rows
                data = text.encode()
            target.writestr(info, data)
    return result.getvalue()


def peak_bytes(function):
    import tracemalloc

    tracemalloc.start()
    try:
        result = function()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_workbook_with_a_cell_in_column_xfd_per_row_reads_in_bounded_memory():
    data = wide_workbook(1000)
    assert len(data) < 40_000

    rows, peak = peak_bytes(lambda: read_table(data, columns=RELATION_COLUMNS))

    assert len(rows) == 1000
    assert rows[999] == (
        1001,
        {"shop": "MGJ01", "platform_sku": "SKU999", "product_code": "P-TEA-LJ", "quantity": "1"},
    )
    # Each row padded to 16,384 cells took 130 MB; the header's width takes a few MB.
    assert peak < 20 * 1024 * 1024


def test_a_workbook_with_more_rows_than_allowed_is_refused_clearly(settings):
    settings.IMPORT_MAX_ROWS = 500
    data = wide_workbook(600)

    with pytest.raises(FileUnreadable, match="more than 500 rows"):
        peak_bytes(lambda: read_table(data, columns=RELATION_COLUMNS))


def test_a_workbook_at_the_row_limit_reads():
    rows = read_table(wide_workbook(20), columns=RELATION_COLUMNS)
    assert len(rows) == 20


def test_a_csv_with_more_rows_than_allowed_is_refused_clearly(settings):
    settings.IMPORT_MAX_ROWS = 3
    data = "店铺,平台商品编码,商品编码,数量\n" + "MGJ01,S,P,1\n" * 4
    with pytest.raises(FileUnreadable, match="more than 3 rows"):
        read_table(data.encode(), columns=RELATION_COLUMNS)


def test_a_workbook_that_unzips_beyond_the_limit_is_refused_before_it_is_opened(settings):
    import zipfile

    settings.IMPORT_MAX_UNZIPPED_BYTES = 1024 * 1024
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        with zipfile.ZipFile(io.BytesIO(xlsx_bytes([["店铺"]]))) as source:
            for info in source.infolist():
                archive.writestr(info, source.read(info))
        archive.writestr("xl/sharedStrings2.xml", b" " * (8 * 1024 * 1024))
    data = bomb.getvalue()
    assert len(data) < 100_000

    with pytest.raises(FileUnreadable, match="unpacks to 8 MB, more than the 1 MB allowed"):
        read_table(data, columns=RELATION_COLUMNS)
