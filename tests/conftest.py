"""Shared fixtures. Tests run against real PostgreSQL (the embedded one, or DATABASE_URL)."""

import datetime as dt
import os
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client

from channels.models import Platform, Shop
from inventory.models import Product, Warehouse


@pytest.fixture
def main_warehouse(db):
    return Warehouse.objects.get(kind=Warehouse.Kind.MAIN)


@pytest.fixture
def defective_warehouse(db):
    return Warehouse.objects.get(kind=Warehouse.Kind.DEFECTIVE)


@pytest.fixture
def make_product(db):
    counter = {"n": 0}

    def make(code=None, **kwargs):
        counter["n"] += 1
        code = code or f"P{counter['n']:05d}"
        kwargs.setdefault("name", f"测试商品{counter['n']}")
        return Product.objects.create(code=code, **kwargs)

    return make


@pytest.fixture
def make_shop(db):
    def make(code="TM01", platform="tmall", **kwargs):
        kwargs.setdefault("name", f"{code} 店铺")
        kwargs.setdefault("unit_code", code)
        kwargs.setdefault("stock_ratio", Decimal("1"))
        return Shop.objects.create(
            code=code, platform=Platform.objects.get(code=platform), **kwargs
        )

    return make


# --- the clock: time-sensitive tests run at fixed times, never at the wall clock's ---------------

SHANGHAI = ZoneInfo("Asia/Shanghai")
FIXED_TIMES = {
    # the ERP simulator's nightly full snapshot is due between 03:00 and 04:00
    "03:30 Shanghai": dt.datetime(2026, 10, 14, 3, 30, tzinfo=SHANGHAI),
    # the last second of a day and of a month (in Shanghai; 15:59:59 UTC)
    "23:59:59 Shanghai, a month's end": dt.datetime(2026, 10, 31, 23, 59, 59, tzinfo=SHANGHAI),
    # an ordinary working morning
    "10:00 Shanghai": dt.datetime(2026, 10, 15, 10, 0, tzinfo=SHANGHAI),
}


@pytest.fixture(params=list(FIXED_TIMES))
def fixed_time(request):
    """Runs the test once at each of FIXED_TIMES, with ``core.clock`` frozen there (every
    thread, the live server's included). Use it for any test whose outcome could depend on the
    time of day or the date: ``pytestmark = pytest.mark.usefixtures("fixed_time")``."""
    from core.clock import frozen

    at = FIXED_TIMES[request.param]
    with frozen(at.astimezone(dt.UTC)):
        yield at


@pytest.fixture
def flow(db):
    """Test data through the real intake and services (tests/factory.py)."""
    from tests.factory import Flow

    return Flow()


@pytest.fixture
def orders_in(make_shop, make_product, main_warehouse):
    """Orders taken in through the intake: ``n`` paid ``hours_ago`` (relative to the home
    pages' frozen NOW) per shop, their SKU mapped to one product with ``on_hand`` in stock
    (too little: they are held stock short)."""
    from datetime import UTC, datetime, timedelta

    from channels.models import SkuComponent, SkuMapping
    from channels.types import NormalizedLine, NormalizedOrder
    from inventory import services as stock
    from orders.intake import intake_orders

    now = datetime(2026, 11, 30, 2, 30, tzinfo=UTC)
    shops = {}

    def make(shop_code, n, *, hours_ago=1, on_hand=100, sku="SKU-1"):
        if shop_code not in shops:
            shop = make_shop(shop_code, "tmall", name=f"{shop_code} 旗舰店")
            product = make_product(name=f"{shop_code} 商品")
            stock.adjust(
                warehouse_id=main_warehouse.id, product_id=product.id, quantity=on_hand, actor=None
            )
            mapping = SkuMapping.objects.create(shop=shop, platform_sku=sku)
            SkuComponent.objects.create(mapping=mapping, product=product, quantity=Decimal(1))
            shops[shop_code] = (shop, product)
        shop, _product = shops[shop_code]
        start = len(shop.orders.all())
        orders = [
            NormalizedOrder(
                platform_order_no=f"{shop_code}-{start + i}",
                lines=[
                    NormalizedLine(platform_sku=sku, quantity=Decimal(1), unit_price=Decimal(9))
                ],
                paid_at=now - timedelta(hours=hours_ago),
                receiver_name="王小丽",
                receiver_phone="13812345678",
                province="浙江省",
                city="杭州市",
                district="西湖区",
                address="文三路 90 号",
            )
            for i in range(n)
        ]
        intake_orders(shop=shop, orders=orders)
        return list(shop.orders.order_by("id"))

    return make


# --- browser tests: Debian's Chromium through Playwright ------------------------------------

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
    # still plain synchronous code.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def open_as(browser, live_server):
    """A browser page signed in as ``user`` at ``path`` (Chinese unless ``language`` is given).
    The browser asks for English (Accept-Language): the site must not listen to it."""
    contexts = []

    def open_(user, path="/admin/", language=None):
        client = Client()
        client.force_login(user)
        context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="en-US")
        cookies = [
            {
                "name": settings.SESSION_COOKIE_NAME,
                "value": client.cookies[settings.SESSION_COOKIE_NAME].value,
                "url": live_server.url,
            }
        ]
        if language:
            cookies.append(
                {"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}
            )
        context.add_cookies(cookies)
        contexts.append(context)
        page = context.new_page()
        page.goto(f"{live_server.url}{path}")
        return page

    yield open_
    for context in contexts:
        context.close()


def screenshot(page, name):
    """Keep a PNG of the page when TONGCANG_SCREENSHOTS names a folder (to look at it)."""
    folder = os.environ.get("TONGCANG_SCREENSHOTS")
    if folder:
        os.makedirs(folder, exist_ok=True)
        page.screenshot(path=os.path.join(folder, f"{name}.png"), full_page=True)
