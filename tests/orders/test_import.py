from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.urls import reverse

from channels.services import import_sku_relations
from inventory import services as stock
from inventory.imports import import_products
from orders.models import HoldReason, Order, OrderComponent

pytestmark = pytest.mark.django_db
DATA = Path(__file__).resolve().parent.parent / "data"
SAMPLE = DATA / "orders-standard-format.csv"


@pytest.fixture
def sample_master_data(make_shop, main_warehouse):
    make_shop("MGJ01", "mogujie")
    make_shop("FN01", "feiniu")
    import_products(source=DATA / "products.csv", actor=None)
    import_sku_relations(source=DATA / "sku-relations.csv", actor=None)
    from inventory.models import Product

    for product in Product.objects.all():
        stock.adjust(
            warehouse_id=main_warehouse.id, product_id=product.id, quantity=100, actor=None
        )


def run(*args):
    import io

    from django.utils import translation

    out, err = io.StringIO(), io.StringIO()
    try:
        with translation.override("en"):  # the messages' English msgids, for readable asserts
            call_command("import_orders", *args, stdout=out, stderr=err)
        code = 0
    except SystemExit as exc:
        code = exc.code
    return code, out.getvalue(), err.getvalue()


def test_the_sample_file_imports_cleanly_after_the_sample_master_data(sample_master_data):
    code, out, err = run(str(SAMPLE))

    assert (code, err) == (0, "")
    assert "created MGJ01 MGJ20261111000101" in out
    assert Order.objects.count() == 3
    gift_order = Order.objects.get(platform_order_no="MGJ20261111000101")
    assert gift_order.lines.count() == 2 and gift_order.buyer_remark == "请尽快发货"
    assert gift_order.goods_amount == Decimal("246.00")
    tea = OrderComponent.objects.filter(line__order=gift_order, product__code="P-TEA-LJ")
    assert sorted(c.quantity for c in tea) == [Decimal("0.5"), Decimal("0.5")]
    assert not Order.objects.filter(on_hold=True).exists()
    assert all(o.allocated_at for o in Order.objects.all())
    paid = Order.objects.get(platform_order_no="FN1111000888").paid_at
    assert paid.isoformat() == "2026-11-11T01:30:00+00:00"  # 09:30 in Shanghai


def test_importing_the_same_file_again_creates_nothing(sample_master_data):
    run(str(SAMPLE))
    code, out, _err = run(str(SAMPLE))

    assert code == 0 and "created" not in out.replace("created 0", "")
    assert Order.objects.count() == 3


def test_a_dry_run_writes_nothing(sample_master_data):
    code, out, _err = run(str(SAMPLE), "--dry-run")
    assert code == 0 and "created MGJ01 MGJ20261111000102" in out
    assert Order.objects.count() == 0


def test_bad_rows_are_each_reported_and_nothing_is_imported(sample_master_data, tmp_path):
    text = SAMPLE.read_text(encoding="utf-8").splitlines()
    text[1] = text[1].replace(",2,59.00,", ",0,59.00,")
    text[4] = text[4].replace("FN01,", "XX01,")
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join(text) + "\n", encoding="utf-8")

    code, _out, err = run(str(bad))

    assert code == 1
    assert "row 2: 数量: must be greater than 0" in err
    assert "row 5: 店铺: no shop with code XX01" in err
    assert Order.objects.count() == 0


def test_a_gb18030_file_with_english_headers_imports(sample_master_data, tmp_path):
    english = (
        "shop,platform_order_no,buyer_nick,receiver_name,receiver_phone,province,city,district,"
        "address,platform_sku,quantity,unit_price,paid_at,buyer_remark,seller_remark\n"
        "FN01,FN-1,,赵敏,13900001111,江苏省,南京市,,中山北路 1 号,UNKNOWN-SKU,1,9.90,"
        "2026-11-11 10:00:00,,\n"
    )
    path = tmp_path / "orders.csv"
    path.write_bytes(english.encode("gb18030"))

    code, out, err = run(str(path))

    assert code == 0, err
    order = Order.objects.get(platform_order_no="FN-1")
    assert order.receiver_name == "赵敏"
    assert order.holds.get().reason == HoldReason.SKU_UNMAPPED


def test_an_unreadable_file_exits_2(tmp_path):
    path = tmp_path / "x.csv"
    path.write_bytes(b"\x00\x01\x02")
    code, _out, err = run(str(path))
    assert code == 2 and err.strip()


def test_the_admin_previews_then_imports(sample_master_data, client, django_user_model):
    admin_user = django_user_model.objects.create_superuser("boss", password="pw-boss-123")
    client.force_login(admin_user)
    url = reverse("admin:orders_order_import")
    with SAMPLE.open("rb") as f:
        preview = client.post(url, {"import_file": f, "format": "0", "resource": "0"})

    assert preview.status_code == 200
    assert Order.objects.count() == 0
    assert "MGJ20261111000101" in preview.content.decode()
    confirm = preview.context["confirm_form"]
    data = {k: v for k, v in confirm.initial.items()}
    done = client.post(reverse("admin:orders_order_process_import"), data)

    assert done.status_code == 302
    assert Order.objects.count() == 3


def test_row_errors_read_in_chinese_by_default(sample_master_data, tmp_path):
    import io

    text = SAMPLE.read_text(encoding="utf-8").replace("FN01,", "XX01,")
    bad = tmp_path / "bad.csv"
    bad.write_text(text, encoding="utf-8")
    err = io.StringIO()

    with pytest.raises(SystemExit):
        call_command("import_orders", str(bad), stdout=io.StringIO(), stderr=err)

    assert "row 5: 店铺: 没有编码为 XX01 的店铺" in err.getvalue()


def test_the_import_page_lists_the_columns_a_file_may_have(client, django_user_model):
    from orders.imports import ORDER_COLUMNS

    client.force_login(django_user_model.objects.create_superuser("boss", password="pw-b-123"))
    page = client.get(reverse("admin:orders_order_import"))

    rows = page.content.decode().split('id="import-columns"')[1].split("</table>")[0]
    for column in ORDER_COLUMNS:  # every column of docs/import-formats.md, both headers
        assert f"<td>{column.zh}</td><td><code>{column.key}</code></td>" in rows
    assert "北京时间" in rows  # what to put in 付款时间
    assert rows.count("<td>是</td>") == sum(c.required for c in ORDER_COLUMNS)


def test_the_preview_shows_the_paid_time_in_beijing_time_as_in_the_file(
    sample_master_data, client, django_user_model, tmp_path
):
    text = SAMPLE.read_text(encoding="utf-8")
    assert "2026-11-11 00:03:12" in text  # Beijing time, just after midnight (16:03 UTC before)
    client.force_login(django_user_model.objects.create_superuser("boss", password="pw-b-123"))
    with SAMPLE.open("rb") as f:
        preview = client.post(
            reverse("admin:orders_order_import"), {"import_file": f, "format": "0"}
        )

    html = preview.content.decode()
    assert "2026-11-11 00:03:12" in html
    assert "2026-11-10" not in html and "+08:00" not in html and "T00:03" not in html
