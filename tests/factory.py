"""Test data made the way production makes it: through the real intake and the real services.

Orders arrive as ``channels.types.NormalizedOrder`` values through ``orders.intake.intake_orders``
(or from the platform sandbox through ``platformsync.sync``), so their lines, components and
reservations have exactly the shape the intake gives them (component quantities per LINE, not
per unit). They move on with the services a reviewer, a packer or after-sales staff would use:
approve, wave, print waybills, scan-verify, ship, split, merge, create/approve/receive returns.
Products and SKU relations go through their import services.

Use it through the ``flow`` fixture (tests/conftest.py)::

    tea = flow.product("TEA")
    flow.sku("SKU-TEA", tea)                       # 1 × TEA per unit
    flow.stock(tea, 10)
    order = flow.shipped(flow.order([("SKU-TEA", 3)]))
"""

from __future__ import annotations

import csv
import io
import itertools
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from django.contrib.auth.models import Group, User

from channels.models import Platform, Shop
from channels.types import NormalizedLine, NormalizedOrder

D = Decimal
T0 = datetime(2026, 11, 11, 0, 0, tzinfo=UTC)
_numbers = itertools.count(1)


def _csv(header: list[str], rows: list[list]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode()


class Flow:
    """Builds and moves test data through the project's own entry points."""

    def __init__(self, shop_code: str = "TM01", platform: str = "tmall", *, shop=None):
        self._shop_spec = (shop_code, platform)
        self._shop: Shop | None = shop
        self._users: dict[str, User] = {}
        self._carrier = None

    # --- master data ------------------------------------------------------------------------

    def shop_of(self, code: str, platform: str, **kwargs) -> Shop:
        """A shop (shops are master data kept in the admin: there is no import for them)."""
        kwargs.setdefault("name", f"{code} 店铺")
        kwargs.setdefault("unit_code", code)
        kwargs.setdefault("stock_ratio", D("1"))
        shop, _ = Shop.objects.get_or_create(
            code=code, defaults={"platform": Platform.objects.get(code=platform), **kwargs}
        )
        return shop

    @property
    def shop(self) -> Shop:
        if self._shop is None:
            self._shop = self.shop_of(*self._shop_spec)
        return self._shop

    def user(self, name: str, *groups: str) -> User:
        """A staff user in the given role groups (created once per test)."""
        if name not in self._users:
            from config.roles import sync_role_permissions

            if not all(
                Group.objects.filter(name=g, permissions__isnull=False).exists() for g in groups
            ):
                sync_role_permissions()  # a transactional test may have flushed them
            user, _ = User.objects.get_or_create(username=name, defaults={"is_staff": True})
            user.groups.add(*Group.objects.filter(name__in=groups))
            self._users[name] = user
        return self._users[name]

    def products(self, *specs):
        """Products through the product import: specs are codes or (code, name, barcode, price)."""
        from inventory.imports import import_products
        from inventory.models import Product

        rows = []
        for spec in specs:
            code, name, barcode, price = (
                (spec, "", "", "") if isinstance(spec, str) else (tuple(spec) + ("",) * 3)[:4]
            )
            rows.append([code, name or f"商品{code}", barcode, "个", "", "", price])
        import_products(
            source=_csv(["商品编码", "商品名称", "条码", "单位", "规格", "重量", "零售价"], rows),
            actor=None,
            filename="products.csv",
        )
        codes = [row[0] for row in rows]
        found = {p.code: p for p in Product.objects.filter(code__in=codes)}
        return [found[c] for c in codes]

    def product(self, code: str, name: str = "", barcode: str = "", price="") -> object:
        return self.products((code, name, barcode, str(price)))[0]

    def sku(self, platform_sku: str, *components, shop: Shop | None = None):
        """A SKU relation through its import: components are products (1 each) or
        (product, quantity per unit)."""
        from channels.models import SkuMapping
        from channels.services import import_sku_relations

        shop = shop or self.shop
        rows = []
        for comp in components:
            product, per = (comp, 1) if not isinstance(comp, tuple) else comp
            rows.append([shop.code, platform_sku, product.code, str(per)])
        import_sku_relations(
            source=_csv(["店铺", "平台商品编码", "商品编码", "数量"], rows),
            actor=None,
            filename="sku-relations.csv",
        )
        return SkuMapping.objects.get(shop=shop, platform_sku=platform_sku)

    def stock(self, product, quantity, warehouse=None) -> None:
        """Put goods on hand (a stock adjustment, written to the ledger)."""
        from inventory import services as stock
        from inventory.models import Warehouse

        warehouse = warehouse or Warehouse.main()
        stock.adjust(
            warehouse_id=warehouse.id, product_id=product.id, quantity=D(str(quantity)), actor=None
        )

    def carrier(self):
        """A carrier with a pool of tracking numbers (imported as a range)."""
        from orders.models import Carrier
        from orders.services.tracking import import_tracking_ranges

        if self._carrier is None:
            self._carrier, created = Carrier.objects.get_or_create(
                code="SF", defaults={"name": "顺丰速运"}
            )
            if created or not self._carrier.ranges.exists():
                import_tracking_ranges(carrier=self._carrier, text="SF,1000000,1099999", actor=None)
        return self._carrier

    # --- orders in --------------------------------------------------------------------------

    def normalized(self, lines, *, number=None, minutes=None, **kwargs) -> NormalizedOrder:
        """A platform order as a connector would hand it over: lines of (sku, qty[, price
        [, line id]])."""
        n = next(_numbers)
        number = number or f"TB{n:010d}"
        kwargs.setdefault("receiver_name", "王小丽")
        kwargs.setdefault("receiver_phone", "13812345678")
        kwargs.setdefault("province", "浙江省")
        kwargs.setdefault("city", "杭州市")
        kwargs.setdefault("district", "西湖区")
        kwargs.setdefault("address", "文三路 90 号")
        kwargs.setdefault("paid_at", T0 + timedelta(minutes=n if minutes is None else minutes))
        kwargs.setdefault("platform_modified_at", kwargs["paid_at"])
        return NormalizedOrder(
            platform_order_no=number,
            lines=[
                NormalizedLine(
                    platform_sku=spec[0],
                    quantity=D(str(spec[1])),
                    unit_price=D(str(spec[2] if len(spec) > 2 else "10.00")),
                    platform_line_id=str(spec[3]) if len(spec) > 3 else f"{number}-{i}",
                    title=f"标题 {spec[0]}",
                )
                for i, spec in enumerate(lines, 1)
            ],
            **kwargs,
        )

    def intake(self, *orders: NormalizedOrder, shop: Shop | None = None):
        from orders.intake import intake_orders

        return intake_orders(shop=shop or self.shop, orders=list(orders))

    def order(self, lines, *, shop: Shop | None = None, **kwargs):
        """A new order through the intake; returns the Order."""
        from orders.models import Order

        shop = shop or self.shop
        normalized = self.normalized(lines, **kwargs)
        self.intake(normalized, shop=shop)
        return Order.objects.get(
            shop=shop, platform_order_no=normalized.platform_order_no, split_from__isnull=True
        )

    def pull(self, shop: Shop):
        """Pull an API shop's orders from the platform (the sandbox) through platformsync."""
        from platformsync import sync

        return sync.pull_orders(shop=shop, actor="test")

    # --- moving orders ----------------------------------------------------------------------

    def reviewer(self) -> User:
        return self.user("factory-reviewer", "reviewer")

    def packer(self) -> User:
        return self.user("factory-packer", "warehouse")

    def approve(self, order):
        from orders.services.review import approve_orders

        approved, refused = approve_orders(orders=[order], actor=self.reviewer())
        assert not refused, refused
        return self.fresh(order)

    def printed(self, order, *, wave: bool = True):
        """Reviewed (approved when pending), in a wave, its waybill printed."""
        from orders.models import Order
        from orders.services.printing import print_waybills
        from orders.services.review import set_carrier
        from orders.services.waves import create_wave

        order = self.fresh(order)
        if order.status == Order.Status.PENDING_REVIEW:
            order = self.approve(order)
        if order.carrier_id is None:
            set_carrier(orders=[order], carrier=self.carrier(), actor=self.reviewer())
        if wave:
            made = create_wave(orders=[order], actor=self.packer())
            print_waybills(wave=made, actor=self.packer())
        else:
            print_waybills(orders=[order], actor=self.packer())
        return self.fresh(order)

    def verified(self, order):
        """Printed, then every expected item scanned (the scan page's verify)."""
        from orders.models import Order
        from orders.selectors import expected_items
        from orders.services.scanning import verify_order

        order = self.fresh(order)
        if order.status in (Order.Status.PENDING_REVIEW, Order.Status.REVIEWED):
            order = self.printed(order)
        tally = {e["code"]: e["expected"] for e in expected_items(order)}
        verify_order(order=order, scanned=tally, actor=self.packer())
        return self.fresh(order)

    def shipped(self, order, *, at=None):
        """All the way: approved, waved, printed, verified, shipped (``at``: the shipping time,
        on the frozen clock)."""
        import contextlib

        from core.clock import frozen
        from orders.models import Order
        from orders.services.shipping import ship_order

        order = self.fresh(order)
        if order.status != Order.Status.VERIFIED:
            order = self.verified(order)
        with frozen(at) if at is not None else contextlib.nullcontext():
            ship_order(order=order, actor=self.packer())
        return self.fresh(order)

    def cancelled(self, order):
        from orders.services.review import cancel_order

        cancel_order(order=order, actor=self.reviewer())
        return self.fresh(order)

    def moved_to(self, order, status):
        """Move an order taken in by the intake on to ``status`` with the services."""
        from orders.models import Order

        S = Order.Status
        moves = {
            S.PENDING_REVIEW: self.fresh,
            S.REVIEWED: self.approve,
            S.PRINTED: self.printed,
            S.VERIFIED: self.verified,
            S.SHIPPED: self.shipped,
            S.CANCELLED: self.cancelled,
        }
        return moves[status](order)

    def order_of(self, lines, *, shop: Shop | None = None, status=None, stock=True, **kwargs):
        """An order of ``[(platform_sku, quantity, unit_price, [(product, per_unit)])]``: the SKU
        relations imported as given, the stock it needs put on hand (``stock``), taken in by
        the intake and moved on to ``status`` (default: shipped) by the services."""
        from orders.models import Order

        shop = shop or self.shop
        need: dict = {}
        for sku, quantity, _price, components in lines:
            self.sku(sku, *[(p, per) for p, per in components], shop=shop)
            for product, per in components:
                need[product] = need.get(product, D(0)) + D(str(quantity)) * D(str(per))
        if stock:
            for product, q in need.items():
                self.stock(product, q)
        order = self.order([(sku, q, price) for sku, q, price, _c in lines], shop=shop, **kwargs)
        return self.moved_to(order, status or Order.Status.SHIPPED)

    def split(self, order, quantities: dict):
        """Split ``{platform_sku: quantity}`` off into a new order; returns the new order."""
        from orders.services.split_merge import split_order

        order = self.fresh(order)
        by_sku = {line.platform_sku: line.pk for line in order.lines.all()}
        return split_order(
            order=order,
            quantities={by_sku[sku]: D(str(q)) for sku, q in quantities.items()},
            actor=self.reviewer(),
        )

    def merge(self, *orders):
        from orders.services.split_merge import merge_orders

        return merge_orders(orders=list(orders), actor=self.reviewer())

    @staticmethod
    def fresh(order):
        from orders.models import Order

        return Order.objects.select_related("shop", "carrier").get(pk=order.pk)

    # --- after-sales ------------------------------------------------------------------------

    def after_sales(self) -> User:
        return self.user("factory-after-sales", "after_sales")

    def after_sales_reviewer(self) -> User:
        return self.user("factory-after-sales-reviewer", "after_sales_reviewer")

    def return_order(self, order, returned: dict, *, refund=None, reason="质量问题", kind=None):
        """A return order of ``{platform_sku: quantity}`` created by after-sales staff; each
        line's amount is what the buyer paid for that part (orders.selectors.paid_for)."""
        from orders.selectors import paid_for
        from returns.models import ReturnOrder
        from returns.selectors import returned_quantities
        from returns.services import create_return

        before = returned_quantities(order)
        lines = []
        for line in order.lines.order_by("pk"):
            if line.platform_sku in returned:
                q = D(str(returned[line.platform_sku]))
                lines.append((line, q, paid_for(line, q, returned_before=before.get(line.pk, 0))))
        amount = sum((a for _l, _q, a in lines), D("0")) if refund is None else D(str(refund))
        return create_return(
            order=order,
            lines=lines,
            kind=kind or ReturnOrder.Kind.RETURN_GOODS,
            reason=reason,
            refund_amount=amount,
            actor=self.after_sales(),
        )

    def approve_return(self, return_order):
        from returns.services import approve_return

        return approve_return(return_order=return_order, actor=self.after_sales_reviewer())

    def receive(self, return_order, receipts=None, *, defective=False, finish=True):
        """Receive ``{(platform_sku, product code): quantity}`` (default: everything still
        expected) into the main (or the defective) warehouse."""
        from returns.selectors import receivable_items
        from returns.services import receive_return

        rows = []
        for item in receivable_items(return_order):
            key = (item.line.order_line.platform_sku, item.product.code)
            q = item.remaining if receipts is None else receipts.get(key)
            if q:
                q = D(str(q))
                rows.append(
                    (item.line, item.product, D(0) if defective else q, q if defective else D(0))
                )
        return receive_return(
            return_order=return_order, receipts=rows, actor=self.after_sales(), finish=finish
        )

    def returned(self, order, returned: dict, **kwargs):
        """Created, approved and received in full into the main warehouse."""
        ro = self.return_order(order, returned, **kwargs)
        self.approve_return(ro)
        self.receive(ro)
        ro.refresh_from_db()
        return ro
