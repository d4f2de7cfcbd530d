"""Fixtures of the ERP bridge tests: a signed API client, and shipped orders and received
returns built directly with the ORM and the stock services (as the other apps would)."""

import itertools
import json
import secrets
import time
from decimal import Decimal

import pytest
from django.utils import timezone

from erpbridge import auth, services
from inventory import services as stock
from inventory.models import StockMove, Warehouse

API = "/api/erp/v1/"
_seq = itertools.count(1)


class ErpApi:
    """Talks to the API as the ERP does: every request signed with the client's secret."""

    def __init__(self, http, key_id, secret):
        self.http, self.key_id, self.secret = http, key_id, secret

    def request(
        self,
        method,
        path,
        body=None,
        *,
        timestamp=None,
        nonce=None,
        key_id=None,
        secret=None,
        sign_path=None,
        headers=None,
    ):
        full = path if path.startswith("/") else API + path
        if body is None:
            raw = b""
        elif isinstance(body, bytes):
            raw = body
        else:
            raw = json.dumps(body).encode()
        ts = str(int(time.time()) if timestamp is None else timestamp)
        nonce = nonce or secrets.token_hex(16)
        sig = auth.signature(secret or self.secret, method, sign_path or full, ts, nonce, raw)
        sent = {
            "X-Erp-Key": key_id or self.key_id,
            "X-Erp-Timestamp": ts,
            "X-Erp-Nonce": nonce,
            "X-Erp-Signature": sig,
        }
        sent.update(headers or {})
        sent = {k: v for k, v in sent.items() if v is not None}
        return self.http.generic(method, full, raw, content_type="application/json", headers=sent)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, body=None, **kw):
        return self.request("POST", path, body, **kw)


@pytest.fixture
def erp_client(db):
    client, secret = services.create_client(name="yonyou")
    client.secret = secret
    return client


@pytest.fixture
def api(client, erp_client):
    return ErpApi(client, erp_client.key_id, erp_client.secret)


@pytest.fixture
def shop(make_shop):
    return make_shop("TM01", "tmall")


@pytest.fixture
def stock_in(main_warehouse):
    def put(product, quantity, warehouse=None):
        stock.adjust(
            warehouse_id=(warehouse or main_warehouse).id,
            product_id=product.id,
            quantity=Decimal(str(quantity)),
            actor=None,
        )

    return put


def iso(dt):
    return timezone.localtime(dt).isoformat()


@pytest.fixture
def make_shipped_order(db, main_warehouse):
    """A shipped order: lines of (platform sku, quantity, amount, [(product, qty per unit)]).

    Stock is reserved and shipped through the stock services, so the ledger is right.
    """
    from orders.models import Order, OrderComponent, OrderLine

    def make(shop, lines, *, shipped_at=None, status=Order.Status.SHIPPED, ship_stock=True):
        n = next(_seq)
        order = Order.objects.create(
            order_no=f"SO{n:06d}",
            shop=shop,
            platform_order_no=f"PO{n:06d}",
            status=status,
            receiver_name="张三",
            receiver_phone="13800000000",
            province="浙江省",
            city="杭州市",
            address="文一西路1号",
            shipped_at=(shipped_at or timezone.now()) if status == Order.Status.SHIPPED else None,
        )
        items = []
        for sku, quantity, amount, components in lines:
            quantity, amount = Decimal(str(quantity)), Decimal(str(amount))
            line = OrderLine.objects.create(
                order=order,
                platform_sku=sku,
                quantity=quantity,
                unit_price=(amount / quantity).quantize(Decimal("0.01")),
                amount=amount,
            )
            for product, per_unit in components:
                q = quantity * Decimal(str(per_unit))
                OrderComponent.objects.create(line=line, product=product, quantity=q)
                items.append((product.id, q))
        if ship_stock and items:
            stock.reserve(document=order.document, items=items)
            if status == Order.Status.SHIPPED:
                stock.ship(document=order.document, actor=None)
        return order

    return make


@pytest.fixture
def make_received_return(db, main_warehouse, defective_warehouse):
    """A received return order of an order: [(order line, quantity, amount, [(product, qty,
    'main'|'defective')])], received into the warehouses through the stock services."""
    from returns.models import ReturnLine, ReturnOrder, ReturnReceipt

    def make(order, lines, *, refund="0", received_at=None, status=ReturnOrder.Status.RECEIVED):
        n = next(_seq)
        ret = ReturnOrder.objects.create(
            return_no=f"RT{n:06d}",
            order=order,
            shop=order.shop,
            kind=ReturnOrder.Kind.RETURN_GOODS,
            status=status,
            source=ReturnOrder.Source.MANUAL,
            refund_amount=Decimal(refund),
            received_at=received_at or timezone.now(),
        )
        for order_line, quantity, amount, receipts in lines:
            rline = ReturnLine.objects.create(
                return_order=ret,
                order_line=order_line,
                quantity=Decimal(str(quantity)),
                amount=Decimal(str(amount)),
            )
            for product, q, where in receipts:
                if isinstance(where, Warehouse):  # a store's location, say
                    wh = where
                else:
                    wh = main_warehouse if where == "main" else defective_warehouse
                ReturnReceipt.objects.create(
                    line=rline, product=product, warehouse=wh, quantity=Decimal(str(q))
                )
                stock.receive(
                    warehouse_id=wh.id,
                    items=[(product.id, Decimal(str(q)))],
                    actor=None,
                    document=f"return:{ret.pk}",
                    reason=StockMove.Reason.RETURN_IN,
                )
        return ret

    return make


def on_hand(product, kind=Warehouse.Kind.MAIN):
    from inventory.models import StockLevel

    level = StockLevel.objects.filter(product=product, warehouse__kind=kind).first()
    return level.on_hand if level else Decimal("0")
