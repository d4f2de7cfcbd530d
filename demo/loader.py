"""Demo data for `manage.py load_demo` (docs/commands.md).

One shop per platform (TB01 TM01 JD01 WM01 FN01 YHD01 MGJ01 OT01, each also its unit code),
the sample products and SKU relations of the import contract, 240 more products with barcodes
and Chinese names, SKU relations per shop (one-to-one, bundles and fractional ones), stock on
hand received through the stock services, and a few carriers.

Deterministic and idempotent: everything is created only when missing, and the initial stock
is received once (ledger document ``demo:initial``), so running it again changes nothing.
"""

from __future__ import annotations

import random
from decimal import Decimal

from django.db import transaction
from simple_history.utils import bulk_create_with_history

DEMO_STOCK_DOCUMENT = "demo:initial"
SANDBOX_URL = "http://127.0.0.1:8001"

SHOPS = [
    ("TB01", "taobao", "统仓淘宝店"),
    ("TM01", "tmall", "统仓天猫旗舰店"),
    ("JD01", "jd", "统仓京东自营店"),
    ("WM01", "weimob", "统仓微盟商城"),
    ("FN01", "feiniu", "统仓飞牛店"),
    ("YHD01", "yhd", "统仓一号店"),
    ("MGJ01", "mogujie", "统仓蘑菇街店"),
    ("OT01", "other", "统仓其他渠道"),
]

CARRIERS = [
    ("SF", "顺丰速运"),
    ("ZTO", "中通快递"),
    ("YTO", "圆通速递"),
    ("YD", "韵达快递"),
    ("EMS", "中国邮政 EMS"),
]

# The sample files of docs/import-formats.md, loaded through the import services.
SAMPLE_PRODUCTS = """商品编码,商品名称,条码,单位,规格,重量,零售价
P-TEA-LJ,西湖龙井 散装,6901234500017,千克,明前特级,1.000,398.00
P-CUP-01,玻璃品茗杯,6901234500024,个,150ml,0.120,18.00
P-BOX-RED,红色礼盒,6901234500031,个,大号,0.350,12.00
P-HONEY-500,土蜂蜜 500g,6901234500048,瓶,500g,0.560,26.00
"""
SAMPLE_RELATIONS = """店铺,平台商品编码,商品编码,数量
MGJ01,MGJ-TEA-250,P-TEA-LJ,0.2500
MGJ01,MGJ-TEA-500,P-TEA-LJ,0.5000
MGJ01,MGJ-GIFTBOX,P-TEA-LJ,0.5000
MGJ01,MGJ-GIFTBOX,P-CUP-01,2
MGJ01,MGJ-GIFTBOX,P-BOX-RED,1
FN01,FN-HONEY-1KG,P-HONEY-500,2
"""

# (code prefix, unit, name, specs with weight kg and price)
FAMILIES = [
    (
        "TEA",
        "盒",
        [
            "西湖龙井",
            "碧螺春",
            "安溪铁观音",
            "云南普洱",
            "武夷大红袍",
            "福鼎白茶",
            "祁门红茶",
            "茉莉花茶",
            "黄山毛峰",
            "六安瓜片",
        ],
        [("100g", "0.150", "88.00"), ("250g", "0.320", "198.00"), ("500g", "0.600", "368.00")],
    ),
    (
        "HON",
        "瓶",
        ["土蜂蜜", "洋槐蜜", "枣花蜜", "椴树蜜", "百花蜜"],
        [("250g", "0.300", "32.00"), ("500g", "0.560", "58.00"), ("1kg", "1.100", "108.00")],
    ),
    (
        "NUT",
        "袋",
        ["每日坚果", "手剥山核桃", "碧根果", "夏威夷果", "开心果", "巴旦木", "腰果", "松子"],
        [("200g", "0.220", "39.90"), ("500g", "0.520", "89.00"), ("1kg", "1.030", "168.00")],
    ),
    (
        "CUP",
        "个",
        ["玻璃公道杯", "汝窑茶杯", "建盏", "紫砂壶", "白瓷盖碗", "旅行茶具"],
        [("小号", "0.150", "29.00"), ("中号", "0.300", "59.00"), ("大号", "0.500", "99.00")],
    ),
    (
        "SNK",
        "盒",
        ["桂花糕", "绿豆糕", "凤梨酥", "蛋黄酥", "牛轧糖", "芝麻片", "山楂条", "红枣夹核桃"],
        [("6枚装", "0.250", "19.90"), ("12枚装", "0.480", "36.00")],
    ),
    (
        "DRY",
        "袋",
        ["宁夏枸杞", "新疆红枣", "桂圆干", "黑木耳", "香菇干", "银耳"],
        [("250g", "0.270", "25.00"), ("500g", "0.530", "45.00"), ("1kg", "1.050", "85.00")],
    ),
    (
        "GFT",
        "套",
        ["中秋礼盒", "新春礼盒", "端午礼盒", "茶礼套装"],
        [("标准装", "1.200", "168.00"), ("豪华装", "2.000", "298.00")],
    ),
    (
        "RIC",
        "袋",
        ["五常大米", "小米", "黑米", "糙米"],
        [("2.5kg", "2.550", "49.00"), ("5kg", "5.100", "89.00")],
    ),
    (
        "SAU",
        "瓶",
        ["生抽酱油", "老抽", "山西老陈醋", "蚝油", "料酒", "芝麻油", "花椒油", "辣椒酱"],
        [("250ml", "0.300", "9.90"), ("500ml", "0.560", "16.80"), ("1L", "1.080", "29.90")],
    ),
    (
        "SEA",
        "袋",
        ["紫菜", "海带", "虾皮", "干贝", "鱿鱼丝", "小鱼干"],
        [("50g", "0.060", "12.00"), ("100g", "0.110", "22.00"), ("250g", "0.270", "49.00")],
    ),
    (
        "NOD",
        "袋",
        ["手工挂面", "荞麦面", "过桥米线", "龙口粉丝", "意大利面"],
        [("500g", "0.520", "8.80"), ("1kg", "1.030", "15.80"), ("2.5kg", "2.560", "36.00")],
    ),
    (
        "DRK",
        "箱",
        ["天然矿泉水", "苏打水", "椰子水", "酸梅汤", "凉茶", "豆奶"],
        [("12瓶装", "6.500", "36.00"), ("24瓶装", "12.800", "66.00")],
    ),
]


def ean13(serial: int) -> str:
    """A valid EAN-13 barcode in the 690 (China) range."""
    body = f"6909{serial:08d}"
    total = sum(int(d) * (3 if i % 2 else 1) for i, d in enumerate(body))
    return body + str((10 - total % 10) % 10)


def demo_products() -> list[dict]:
    products = []
    serial = 1
    # A bin for each product (aisle per family, shelf per product, level per size), so the
    # demo's pick lists show the walk through the warehouse.
    for aisle, (prefix, unit, names, specs) in enumerate(FAMILIES):
        for n, name in enumerate(names, start=1):
            for s, (spec, weight, price) in enumerate(specs, start=1):
                products.append(
                    {
                        "code": f"{prefix}-{n:02d}-{s}",
                        "name": f"{name} {spec}",
                        "barcode": ean13(serial),
                        "unit": unit,
                        "spec": spec,
                        "weight_kg": Decimal(weight),
                        "list_price": Decimal(price),
                        "location": f"{chr(ord('A') + aisle)}-{n:02d}-{s}",
                    }
                )
                serial += 1
    # Bulk goods sold by weight: platforms sell halves and quarters of them.
    for n, name in enumerate(["散装龙井", "散装红茶", "散装枸杞", "散装核桃", "散装红枣"], 1):
        products.append(
            {
                "code": f"BULK-{n:02d}",
                "name": f"{name}（按千克）",
                "barcode": ean13(9000 + n),
                "unit": "千克",
                "spec": "1kg",
                "weight_kg": Decimal("1.000"),
                "list_price": Decimal("120.00") + n * 10,
                "location": f"Z-{n:02d}-1",
            }
        )
    return products


def is_loaded() -> bool:
    from channels.models import Shop
    from inventory.models import StockMove

    return (
        Shop.objects.filter(code="TB01").exists()
        and StockMove.objects.filter(document=DEMO_STOCK_DOCUMENT).exists()
    )


def _demo_waybills() -> None:
    """YTO prints electronic waybills (电子面单) from Cainiao through the demo Taobao shop's
    subscription at the sandbox, the 76 × 130 mm label, and the pool when the service is down;
    JD orders take JD's own waybills. Made once; an administrator's later edits stand."""
    from channels.models import Shop
    from orders.models import Carrier, WaybillSubscription

    yto = Carrier.objects.get(code="YTO")
    if yto.subscriptions.exists():
        return
    Carrier.objects.filter(pk=yto.pk).update(
        waybill_layout=Carrier.Layout.ONE_PART,
        number_source=Carrier.NumberSource.PROVIDER_THEN_POOL,
    )
    sender = {
        "sender_name": "统仓电商总仓",
        "sender_phone": "400-000-0000",
        "sender_province": "上海市",
        "sender_city": "上海市",
        "sender_district": "松江区",
        "sender_address": "示范路1号统仓物流园",
    }
    for service, code, shop in (("cainiao", "YTO", "TB01"), ("jd", "JD", "JD01")):
        account = Shop.objects.filter(code=shop).first()
        if account is None:
            continue
        WaybillSubscription.objects.create(
            carrier=yto,
            service=service,
            service_carrier_code=code,
            account_shop=account,
            branch_code="201600" if service == "cainiao" else "",
            branch_name="上海松江网点",
            customer_code="021K000001" if service == "jd" else "",
            settlement_code="YTO-SH-0001" if service == "cainiao" else "",
            **sender,
        )


def load_demo(*, stdout=None, once=False) -> str:
    """Load the demo data; returns a one-line summary."""
    from channels.models import Platform, Shop, SkuComponent, SkuMapping
    from channels.sellable import recompute_sellable
    from channels.services import import_sku_relations
    from inventory import services
    from inventory.imports import import_products
    from inventory.models import Product, StockMove, Warehouse
    from orders.models import Carrier

    def say(text):
        if stdout is not None:
            stdout.write(text)

    from stores.demo import load_store_demo

    if once and is_loaded():
        # The demo store came later than the rest: a database loaded before gets it now.
        store = load_store_demo(stdout=stdout)
        return f"demo data already loaded: nothing to do; {store}"

    counts = {"shops": 0, "products": 0, "mappings": 0, "carriers": 0, "stock": 0}
    with transaction.atomic():
        platforms = {p.code: p for p in Platform.objects.all()}
        for code, platform_code, name in SHOPS:
            platform = platforms[platform_code]
            api = platform.integration == Platform.Integration.API
            _shop, created = Shop.objects.get_or_create(
                code=code,
                defaults={
                    "name": name,
                    "platform": platform,
                    "unit_code": code,
                    "stock_ratio": Decimal("0.8000") if api else Decimal("1.0000"),
                    "safety_stock": Decimal("2") if api else Decimal("0"),
                    "api_base_url": SANDBOX_URL if api else "",
                    "credentials": {"app_key": f"demo-{code.lower()}", "app_secret": "sandbox"}
                    if api
                    else {},
                },
            )
            counts["shops"] += created
        say(f"shops: {counts['shops']} created")

        from orders.services.tracking import import_tracking_ranges

        for n, (code, name) in enumerate(CARRIERS, 1):
            carrier, created = Carrier.objects.get_or_create(code=code, defaults={"name": name})
            counts["carriers"] += created
            # A number range per demo carrier, so a new user's first 打印快递单 works (once:
            # a range overlapping one already imported would be refused).
            if not carrier.ranges.exists():
                start = 10_000_000 * n
                import_tracking_ranges(
                    carrier=carrier,
                    text=f"DEMO{code},{start},{start + 99_999}",
                    actor=None,
                    source="demo",
                )
        _demo_waybills()

        # The samples go in only once: a product or relation edited since is left as it is.
        if not Product.objects.filter(code="P-TEA-LJ").exists():
            sample = import_products(source=SAMPLE_PRODUCTS.encode(), filename="demo", actor=None)
            counts["products"] += sample.created
        wanted = demo_products()
        existing = set(
            Product.objects.filter(code__in=[p["code"] for p in wanted]).values_list(
                "code", flat=True
            )
        )
        new = [Product(**p) for p in wanted if p["code"] not in existing]
        bulk_create_with_history(new, Product, batch_size=500)
        counts["products"] += len(new)
        say(f"products: {counts['products']} created")

        if not SkuMapping.objects.filter(platform_sku="MGJ-TEA-250").exists():
            relations = import_sku_relations(
                source=SAMPLE_RELATIONS.encode(), filename="demo", actor=None
            )
            counts["mappings"] += relations.created
        products = {
            p.code: p.id for p in Product.objects.filter(code__in=[w["code"] for w in wanted])
        }
        shops = {s.code: s for s in Shop.objects.filter(code__in=[s[0] for s in SHOPS])}
        plan: list[tuple[str, str, list[tuple[str, Decimal]]]] = []
        codes = [w["code"] for w in wanted if not w["code"].startswith("BULK")]
        for shop_index, (shop_code, _platform, _name) in enumerate(SHOPS):
            rng = random.Random(2026 + shop_index)
            for code in rng.sample(codes, 80):
                plan.append((shop_code, f"{shop_code}-{code}", [(code, Decimal(1))]))
            for b in range(8):  # bundles: 2 × A + 1 × B (+ 1 × C)
                parts = rng.sample(codes, 3 if b % 2 else 2)
                items = [(parts[0], Decimal(2))] + [(p, Decimal(1)) for p in parts[1:]]
                plan.append((shop_code, f"{shop_code}-SET-{b + 1:02d}", items))
            for n in range(1, 6):  # fractional: half and quarter kilos of bulk goods
                plan.append(
                    (
                        shop_code,
                        f"{shop_code}-BULK-{n:02d}-500G",
                        [(f"BULK-{n:02d}", Decimal("0.5"))],
                    )
                )
                plan.append(
                    (
                        shop_code,
                        f"{shop_code}-BULK-{n:02d}-250G",
                        [(f"BULK-{n:02d}", Decimal("0.25"))],
                    )
                )
        have = set(
            SkuMapping.objects.filter(shop__code__in=shops).values_list(
                "shop__code", "platform_sku"
            )
        )
        todo = [p for p in plan if (p[0], p[1]) not in have]
        mappings = bulk_create_with_history(
            [SkuMapping(shop=shops[shop], platform_sku=sku) for shop, sku, _items in todo],
            SkuMapping,
            batch_size=500,
        )
        by_key = {(m.shop.code, m.platform_sku): m for m in mappings}
        components = [
            SkuComponent(mapping=by_key[(shop, sku)], product_id=products[code], quantity=q)
            for shop, sku, items in todo
            for code, q in items
        ]
        bulk_create_with_history(components, SkuComponent, batch_size=1000)
        counts["mappings"] += len(todo)
        say(f"SKU relations: {counts['mappings']} created")

        if not StockMove.objects.filter(document=DEMO_STOCK_DOCUMENT).exists():
            rng = random.Random(7)
            items = []
            for product in Product.objects.order_by("code"):
                if product.unit == "千克":
                    quantity = Decimal(rng.randint(5, 60)) + Decimal("0.5")
                else:
                    quantity = Decimal(rng.choice([0, 3, 8, 20, 50, 120, 300]))
                if quantity:
                    items.append((product.id, quantity))
            services.receive(
                warehouse_id=Warehouse.main().id,
                items=items,
                actor=None,
                document=DEMO_STOCK_DOCUMENT,
                note="演示数据期初库存",
            )
            counts["stock"] = len(items)
            # Every SKU gets its sellable figure, those of products without stock included.
            recompute_sellable(None)
        say(f"stock: {counts['stock']} products received into the main warehouse")

    store = load_store_demo(stdout=stdout)
    if not any(counts.values()):
        return f"demo data already loaded: nothing changed; {store}"
    return (
        f"{counts['shops']} shops, {counts['products']} products, {counts['mappings']} SKU "
        f"relations, {counts['carriers']} carriers created; stock received for "
        f"{counts['stock']} products; {store}"
    )
