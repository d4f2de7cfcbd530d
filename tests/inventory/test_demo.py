"""load_demo: enough data to look real, and running it again changes nothing."""

import io
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db.models import Count

from channels.models import SellableQuantity, Shop, SkuComponent, SkuMapping
from inventory.models import Product, StockLevel, StockMove
from orders.models import Carrier

pytestmark = pytest.mark.django_db


def load(*args):
    out = io.StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def snapshot():
    return (
        Shop.objects.count(),
        Product.objects.count(),
        SkuMapping.objects.count(),
        SkuComponent.objects.count(),
        StockMove.objects.count(),
        Carrier.objects.count(),
        Product.history.count(),
        sorted(StockLevel.objects.values_list("product_id", "on_hand")),
    )


def test_the_demo_has_one_shop_per_platform_with_its_unit_code():
    load()
    shops = {s.code: s for s in Shop.objects.select_related("platform")}
    assert {code: s.platform.code for code, s in shops.items()} == {
        "TB01": "taobao",
        "TM01": "tmall",
        "JD01": "jd",
        "WM01": "weimob",
        "FN01": "feiniu",
        "YHD01": "yhd",
        "MGJ01": "mogujie",
        "OT01": "other",
        "MD01": "store",  # the experience store (stores/demo.py)
    }
    assert all(s.unit_code == s.code for s in shops.values())
    assert {c for c, s in shops.items() if s.api_base_url == "http://127.0.0.1:8001"} == {
        "TB01",
        "TM01",
        "JD01",
        "WM01",
    }


def test_the_demo_looks_real():
    load()
    assert Product.objects.count() >= 200
    assert not Product.objects.filter(barcode__isnull=True).exists()
    assert Product.objects.filter(name__regex=r"[\u4e00-\u9fff]").count() == Product.objects.count()
    bundles = SkuMapping.objects.annotate(n=Count("components")).filter(n__gt=1)
    assert bundles.count() >= 8 * 8
    assert SkuComponent.objects.filter(quantity__lt=1).exists()
    assert StockLevel.objects.filter(on_hand__gt=0).count() >= 150
    assert set(Carrier.objects.values_list("code", flat=True)) >= {"SF", "ZTO", "YTO", "YD"}
    gift = SkuMapping.objects.get(shop__code="MGJ01", platform_sku="MGJ-GIFTBOX")
    assert {c.product.code: c.quantity for c in gift.components.all()} == {
        "P-TEA-LJ": Decimal("0.5"),
        "P-CUP-01": Decimal("2"),
        "P-BOX-RED": Decimal("1"),
    }
    assert SellableQuantity.objects.count() == SkuMapping.objects.count()


def test_running_the_demo_again_changes_nothing():
    load()
    before = snapshot()

    again = load()
    once = load("--once")

    assert snapshot() == before
    assert "nothing changed" in again
    assert "nothing to do" in once


def test_every_demo_carrier_can_print_its_first_waybill_and_a_second_load_adds_no_range():
    from orders.models import TrackingNumberRange
    from orders.services.tracking import take_pool_numbers

    load()
    ranges = TrackingNumberRange.objects.count()
    assert ranges == Carrier.objects.count()

    for carrier in Carrier.objects.all():
        assert len(take_pool_numbers(carrier=carrier, count=1)) == 1

    load()
    assert TrackingNumberRange.objects.count() == ranges


def test_the_demo_stock_reads_in_words_in_the_ledger(client):
    from django.contrib.auth.models import User

    load()
    client.force_login(User.objects.create_superuser("boss", password="pw-boss-12345"))

    for document, words in [
        ("demo:initial", "演示数据：期初库存"),
        ("demo:store-stock", "演示数据：体验店库存"),
    ]:
        move = StockMove.objects.filter(document=document).first()
        html = client.get(f"/admin/inventory/stockmove/{move.pk}/change/").content.decode()
        assert words in html and "demo:" not in html


def test_every_demo_product_of_the_warehouse_has_its_own_bin():
    from demo.loader import demo_products

    load()

    codes = [p["code"] for p in demo_products()]
    bins = list(Product.objects.filter(code__in=codes).values_list("location", flat=True))
    assert len(bins) == len(codes) and all(bins)
    assert len(set(bins)) == len(bins)  # the pick list walks them one by one
