"""Importing and exporting in the admin: preview first, only for allowed roles, safe export."""

from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from channels.models import SkuComponent, SkuMapping
from inventory.imports import import_products
from inventory.models import Product

DATA = Path(__file__).parent.parent / "data"
pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def reviewer(client, make_shop):
    make_shop(code="MGJ01", platform="mogujie")
    make_shop(code="FN01", platform="feiniu")
    import_products(source=DATA / "products.csv", actor=None)
    user = User.objects.create_user(username="rev", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="reviewer"))
    client.force_login(user)
    return user


def upload(client, name, content):
    client.cookies["django_language"] = "en"
    return client.post(
        reverse("admin:channels_skumapping_import"),
        {"import_file": SimpleUploadedFile(name, content), "format": "0"},
    )


def test_the_admin_shows_a_preview_and_writes_only_after_confirmation(client, reviewer):
    preview = upload(client, "sku-relations.csv", (DATA / "sku-relations.csv").read_bytes())

    assert preview.status_code == 200
    assert "confirm_form" in preview.context
    assert "MGJ-GIFTBOX" in preview.content.decode()
    assert "P-TEA-LJ × 0.5, P-CUP-01 × 2, P-BOX-RED × 1" in preview.content.decode()
    assert not SkuMapping.objects.exists()

    confirm = preview.context["confirm_form"].initial
    done = client.post(reverse("admin:channels_skumapping_process_import"), confirm)

    assert done.status_code == 302
    assert SkuMapping.objects.count() == 4
    assert SkuComponent.history.filter(history_user=reviewer).count() == 6


def test_a_bad_file_shows_every_bad_row_and_offers_no_confirmation(client, reviewer):
    content = "店铺,平台商品编码,商品编码,数量\nMGJ01,A,P-NONE,1\nXX,B,P-CUP-01,1\n".encode()

    response = upload(client, "bad.csv", content)

    assert response.status_code == 200
    assert "confirm_form" not in response.context
    text = response.content.decode()
    assert "no product with code P-NONE" in text and "no shop with code XX" in text
    assert not SkuMapping.objects.exists()


def test_an_unreadable_file_is_one_clear_message(client, reviewer):
    response = upload(client, "x.xlsx", b"PK\x03\x04broken")

    text = response.content.decode()
    assert "the XLSX workbook cannot be opened" in text
    assert "Traceback" not in text
    assert "confirm_form" not in response.context


def test_an_upload_over_the_size_limit_is_refused(client, reviewer, settings):
    settings.IMPORT_MAX_UPLOAD_BYTES = 100
    response = upload(client, "big.csv", (DATA / "sku-relations.csv").read_bytes())

    assert response.status_code == 200
    assert "are refused" in response.content.decode()
    assert not SkuMapping.objects.exists()


def test_exported_cells_that_a_spreadsheet_would_run_are_escaped(client, admin_user):
    Product.objects.create(code="=1+2", name="@SUM(A1)", unit="-x", spec="\tx")
    Product.objects.create(code="SAFE", name="安全", unit="个", list_price="-0")
    client.force_login(admin_user)

    response = client.post(reverse("admin:inventory_product_export"), {"format": "0"})

    text = response.content.decode("utf-8-sig")
    assert "'=1+2" in text and "'@SUM(A1)" in text and "'-x" in text and "'\tx" in text
    assert "SAFE,安全" in text
    lines = text.splitlines()
    assert lines[0].startswith("商品编码,商品名称,条码,单位")


def test_an_exported_sku_relation_file_imports_again(client, reviewer):
    from channels.services import import_sku_relations

    import_sku_relations(source=DATA / "sku-relations.csv", actor=None)
    response = client.post(reverse("admin:channels_skumapping_export"), {"format": "0"})
    exported = response.content

    result = import_sku_relations(source=exported, actor=None)

    assert (result.created, result.updated, result.unchanged) == (0, 0, 4)


def test_the_import_page_lists_the_columns_of_the_file(client, reviewer):
    client.cookies["django_language"] = "en"
    page = client.get(reverse("admin:channels_skumapping_import")).content.decode()

    for zh, en in [
        ("店铺", "shop"),
        ("平台商品编码", "platform_sku"),
        ("商品编码", "product_code"),
        ("数量", "quantity"),
    ]:
        assert f"<td>{zh}</td><td><code>{en}</code></td>" in page
    assert "the ERP&#x27;s product code" in page  # what goes in the column, in words


def test_an_xlsx_export_escapes_formulae_and_reads_back_without_duplicates(client, admin_user):
    import io

    from openpyxl import load_workbook

    Product.objects.create(code="X-1", name="=cmd|' /C calc'!A0", unit="个", list_price="9.90")
    client.force_login(admin_user)

    response = client.post(reverse("admin:inventory_product_export"), {"format": "1"})

    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:2] == ("商品编码", "商品名称")
    assert rows[1][1] == "'=cmd|' /C calc'!A0"
    again = import_products(source=response.content, actor=None)
    assert (again.created, len(again.rows)) == (0, 1)


def test_an_upload_over_the_limit_is_refused_while_it_streams(client, reviewer, settings):
    """The handlers after the limit never receive more than the limit: nothing is written whole
    to a temporary file before the form sees its size."""
    from django.core.files.uploadhandler import TemporaryFileUploadHandler

    settings.IMPORT_MAX_UPLOAD_BYTES = 200 * 1024
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 0  # straight to a temporary file
    written = []
    original = TemporaryFileUploadHandler.receive_data_chunk

    def counting(self, raw_data, start):
        written.append(len(raw_data))
        return original(self, raw_data, start)

    TemporaryFileUploadHandler.receive_data_chunk = counting
    try:
        response = upload(client, "big.csv", b"x" * (3 * 1024 * 1024))
    finally:
        TemporaryFileUploadHandler.receive_data_chunk = original

    assert response.status_code == 200
    assert "files over 200.0\xa0KB are refused" in response.content.decode()
    assert sum(written) <= 200 * 1024
    assert not SkuMapping.objects.exists()
