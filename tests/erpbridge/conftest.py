"""Fixtures of the ERP bridge tests: a signed API client, and shipped orders and received
returns made through the real intake and services (tests/factory.py)."""

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
def make_shipped_order(flow):
    """An order through the real intake and services: lines of (platform sku, quantity, line
    amount, [(product, qty per unit)]), the SKU relations imported as given; the stock must be
    on hand (``stock_in``). Moved on to ``status`` (shipped at ``shipped_at``)."""
    from orders.models import Order

    def make(shop, lines, *, shipped_at=None, status=Order.Status.SHIPPED, ship_stock=True, **kw):
        if not ship_stock:  # a store's take-away: the services cannot make one yet (stores)
            return hand_made_shipped_order(shop, lines, shipped_at=shipped_at, status=status)
        lines = [
            (sku, q, (Decimal(str(amount)) / Decimal(str(q))).quantize(Decimal("0.01")), comps)
            for sku, q, amount, comps in lines
        ]
        order = flow.order_of(
            lines, shop=shop, status=Order.Status.PENDING_REVIEW, stock=False, **kw
        )
        if status == Order.Status.SHIPPED:
            return flow.shipped(order, at=shipped_at)
        return flow.moved_to(order, status)

    return make


@pytest.fixture
def make_received_return(flow):
    """A return order of an order through the returns services: [(order line, quantity,
    amount, [(product, qty, 'main'|'defective')])], created, approved and received (unless
    ``status`` says approved only)."""
    from returns.models import ReturnOrder
    from returns.services import approve_return, create_return, receive_return

    def make(order, lines, *, refund="0", status=ReturnOrder.Status.RECEIVED):
        if any(not isinstance(where, str) for *_x, receipts in lines for *_y, where in receipts):
            # into a store's location: the returns services receive into main/defective only
            return hand_made_received_return(order, lines, refund=refund, status=status)
        ret = create_return(
            order=order,
            lines=[(line, Decimal(str(q)), Decimal(str(amount))) for line, q, amount, _r in lines],
            kind=ReturnOrder.Kind.RETURN_GOODS if lines else ReturnOrder.Kind.REFUND_ONLY,
            reason="质量问题",
            refund_amount=Decimal(refund),
            actor=flow.after_sales(),
        )
        approve_return(return_order=ret, actor=flow.after_sales_reviewer())
        if status == ReturnOrder.Status.RECEIVED and lines:
            by_line = {rl.order_line_id: rl for rl in ret.lines.all()}
            receive_return(
                return_order=ret,
                receipts=[
                    (
                        by_line[line.pk],
                        product,
                        Decimal(str(q)) if where == "main" else 0,
                        Decimal(str(q)) if where == "defective" else 0,
                    )
                    for line, _q, _a, receipts in lines
                    for product, q, where in receipts
                ],
                actor=flow.after_sales(),
            )
        ret.refresh_from_db()
        return ret

    return make


def hand_made_shipped_order(shop, lines, *, shipped_at=None, status="shipped"):
    """An order stored as shipped with no stock moved: only for the store flows the order
    services cannot build yet (a take-away shipped from the store's own stock)."""
    from orders.models import Order, OrderComponent, OrderLine

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
            OrderComponent.objects.create(line=line, order=order, product=product, quantity=q)
    return order


def hand_made_received_return(order, lines, *, refund="0", status="received"):
    """A return received into a store's location (a Warehouse): only for the store flows the
    returns services cannot do yet; quantities per line, as the intake stores them."""
    from returns.models import ReturnLine, ReturnOrder, ReturnReceipt

    n = next(_seq)
    ret = ReturnOrder.objects.create(
        return_no=f"RT{n:06d}",
        order=order,
        shop=order.shop,
        kind=ReturnOrder.Kind.RETURN_GOODS,
        status=status,
        source=ReturnOrder.Source.MANUAL,
        refund_amount=Decimal(refund),
        received_at=timezone.now(),
    )
    for order_line, quantity, amount, receipts in lines:
        rline = ReturnLine.objects.create(
            return_order=ret,
            order_line=order_line,
            quantity=Decimal(str(quantity)),
            amount=Decimal(str(amount)),
        )
        for product, q, wh in receipts:
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


def on_hand(product, kind=Warehouse.Kind.MAIN):
    from inventory.models import StockLevel

    level = StockLevel.objects.filter(product=product, warehouse__kind=kind).first()
    return level.on_hand if level else Decimal("0")
