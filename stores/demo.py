"""The demo store of contracts/commands.md: ``MD01`` 体验店 with the demo clothing (one try-on
sample of each item, a small stock in the store, stock in the main warehouse), one kiosk device
whose token is printed the first time (``kiosk token: <token>``) and a guide user.

Idempotent: a second run creates nothing and prints no token (only its hash is kept).
Members and promotions: ``promotions.demo.load_demo_promotions`` for this store.
"""

from __future__ import annotations

import csv
import secrets
from decimal import Decimal
from pathlib import Path

from django.db import transaction

CLOTHING = Path(__file__).resolve().parent / "data" / "products-clothing.csv"
STORE_CODE = "MD01"
STOCK_DOCUMENT = "demo:store-stock"
COLUMNS = {
    "商品编码": "code",
    "商品名称": "name",
    "条码": "barcode",
    "单位": "unit",
    "规格": "spec",
    "重量": "weight_kg",
    "零售价": "list_price",
    "款号": "style_code",
    "颜色": "colour",
    "尺码": "size",
}


def clothing_rows() -> list[dict]:
    with CLOTHING.open(encoding="utf-8-sig", newline="") as f:
        return [{COLUMNS[k]: v.strip() for k, v in row.items()} for row in csv.DictReader(f)]


def load_store_demo(*, stdout=None) -> str:
    from django.contrib.auth.models import User

    from inventory import services as stock
    from inventory.models import Product, StockMove, Warehouse

    from . import services
    from .models import Store

    def say(text):
        if stdout is not None:
            stdout.write(text)

    created = []
    with transaction.atomic():
        rows = clothing_rows()
        have = set(
            Product.objects.filter(code__in=[r["code"] for r in rows]).values_list(
                "code", flat=True
            )
        )
        for r in rows:
            if r["code"] in have:
                continue
            Product.objects.create(
                **{k: r[k] for k in ("code", "name", "barcode", "unit", "spec")},
                weight_kg=Decimal(r["weight_kg"]),
                list_price=Decimal(r["list_price"]),
                style_code=r["style_code"],
                colour=r["colour"],
                size=r["size"],
            )
            created.append("product")
        store = Store.objects.filter(shop__code=STORE_CODE).first()
        if store is None:
            store = services.create_store(
                code=STORE_CODE,
                name="体验店（静安）",
                province="上海市",
                city="上海市",
                district="静安区",
                address="南京西路1000号1层",
                phone="021-60000000",
            )
            created.append("store")
        if not StockMove.objects.filter(document=STOCK_DOCUMENT).exists():
            products = list(Product.objects.filter(code__in=[r["code"] for r in rows]))
            stock.receive(
                warehouse_id=store.sample_location_id,
                items=[(p.pk, Decimal(1)) for p in products],
                actor=None,
                document=STOCK_DOCUMENT,
                note="演示：试衣样衣",
            )
            stock.receive(
                warehouse_id=store.location_id,
                items=[(p.pk, Decimal(2 if p.size in ("M", "L") else 1)) for p in products],
                actor=None,
                document=STOCK_DOCUMENT,
                note="演示：门店库存",
            )
            stock.receive(
                warehouse_id=Warehouse.main().pk,
                items=[(p.pk, Decimal(20)) for p in products],
                actor=None,
                document=STOCK_DOCUMENT,
                note="演示：总仓库存",
            )
            created.append("stock")
        from promotions.demo import load_demo_promotions

        promotions = load_demo_promotions(STORE_CODE)  # two members, promotions (idempotent)
        if any(promotions.values()):
            created.append("promotions")
        guide = User.objects.filter(username="guide").first()
        if guide is None:
            password = secrets.token_urlsafe(9)
            guide = User.objects.create_user("guide", password=password, is_staff=True)
            services.add_staff(store=store, user=guide, role="store_guide", staff_code="G001")
            say(f"guide user: guide password: {password}")
            created.append("guide")
        if not store.devices.exists():
            _device, token = services.register_device(store=store, name="演示自助屏", actor=None)
            say(f"kiosk token: {token}")
            say(f"kiosk link: http://127.0.0.1:8000/store/kiosk/start/?token={token}")
            created.append("device")
    if not created:
        return "demo store already loaded: nothing changed"
    return f"demo store {STORE_CODE}: {len(created)} things created ({', '.join(sorted(set(created)))})"
