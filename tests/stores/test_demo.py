"""load_demo's experience store: MD01 with its samples and stock, a kiosk whose token is
printed once (and then works), a guide; running it again prints no token and changes nothing."""

import io
import re

import pytest
from django.core.management import call_command
from django.test import Client

from inventory.models import Product, StockLevel, StockMove
from stores.demo import clothing_rows
from stores.models import KioskDevice, Store

pytestmark = pytest.mark.django_db


def load(*args):
    out = io.StringIO()
    call_command("load_demo", *args, stdout=out)
    return out.getvalue()


def test_the_demo_store_has_samples_stock_a_kiosk_and_a_guide():
    out = load()
    store = Store.objects.get(shop__code="MD01")
    assert store.shop.platform.code == "store" and store.shop.unit_code == "MD01"
    codes = [r["code"] for r in clothing_rows()]
    assert len(codes) == 14
    samples = StockLevel.objects.filter(warehouse=store.sample_location, on_hand=1)
    assert set(samples.values_list("product__code", flat=True)) == set(codes)
    assert StockLevel.objects.filter(warehouse=store.location, on_hand__gt=0).count() == 14
    assert Product.objects.get(code="LY2602-02-L").style_code == "LY2602"
    token = re.search(r"^kiosk token: (\S+)$", out, re.M).group(1)
    assert KioskDevice.objects.get(store=store).token_hash != token
    assert store.members.get().user.username == "guide"
    kiosk = Client()
    assert kiosk.get(f"/store/kiosk/start/?token={token}").status_code == 302
    assert "LY2602" in kiosk.get("/store/kiosk/").content.decode()


def test_running_it_again_prints_no_token_and_changes_nothing():
    load()
    moves = StockMove.objects.count()
    again = load()
    once = load("--once")
    assert "kiosk token" not in again + once
    assert StockMove.objects.count() == moves
    assert KioskDevice.objects.count() == 1
