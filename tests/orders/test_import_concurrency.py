"""Four imports of the same file at once: 150 orders in all, and each says what IT created."""

import threading
from pathlib import Path

import pytest
from django.db import connection

from channels.services import import_sku_relations
from inventory import services as stock
from inventory.imports import import_products
from inventory.models import Product
from orders.imports import import_orders
from orders.models import Order

pytestmark = pytest.mark.django_db(transaction=True)
DATA = Path(__file__).resolve().parent.parent / "data"
HEADER = "店铺,平台订单号,买家昵称,收货人,联系电话,省,市,区县,详细地址,平台商品编码,数量,单价,付款时间,买家留言,卖家备注"


@pytest.fixture
def orders_file(tmp_path, make_shop, main_warehouse):
    make_shop("MGJ01", "mogujie")
    make_shop("FN01", "feiniu")
    import_products(source=DATA / "products.csv", actor=None)
    import_sku_relations(source=DATA / "sku-relations.csv", actor=None)
    for product in Product.objects.all():
        stock.adjust(
            warehouse_id=main_warehouse.id, product_id=product.id, quantity=1000, actor=None
        )
    rows = [HEADER] + [
        f"MGJ01,MGJ-C{n:04d},买家{n},王小丽,13812345678,浙江省,杭州市,西湖区,文三路{n}号,"
        f"MGJ-TEA-250,1,59.00,2026-11-11 00:{n // 60:02d}:{n % 60:02d},,"
        for n in range(150)
    ]
    path = tmp_path / "orders.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def test_four_concurrent_imports_create_150_orders_and_each_reports_only_its_own(orders_file):
    barrier = threading.Barrier(4)
    results, errors = [], []

    def job():
        try:
            barrier.wait()
            results.append(import_orders(source=orders_file, filename="orders.csv"))
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=job) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    assert errors == []
    assert Order.objects.count() == 150
    assert sum(r.created for r in results) == 150
    assert all(r.created + r.unchanged == 150 for r in results)
    created = [row.label for r in results for row in r.rows if row.action == "new"]
    assert len(created) == len(set(created)) == 150


def test_an_import_after_another_reports_nothing_created(orders_file):
    first = import_orders(source=orders_file, filename="orders.csv")
    second = import_orders(source=orders_file, filename="orders.csv")
    assert (first.created, second.created, second.unchanged) == (150, 0, 150)
