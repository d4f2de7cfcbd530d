"""Store business rules (体验店): devices, in-store orders, payment, hand-over, pick-up codes.

- A store order is an ordinary ``orders.Order`` of the store's shop, created by the ONE order
  writer, ``orders.intake.intake_orders``, which here reserves in the location the fulfilment
  needs: take-away in the store (refused, nothing written, when the store lacks it), pick-up in
  the store when it has everything, else in the main warehouse, delivery in the main warehouse.
- Prices come only from ``promotions.quote.quote``; the quote is frozen on the order and each
  line's amount is its net amount. What a device sends is products and quantities, nothing more.
- A new order is held "awaiting payment" (``HoldReason.UNPAID``) until the counter takes the
  whole amount; unpaid after ``STORE_UNPAID_MINUTES`` it is cancelled and its stock released.
- Take-away: paid, then handed over = shipped from the store's location. Pick-up: paid and in
  the store = ready, with an 8-digit code unique among the store's open orders; the code and
  the phone's last 4 digits hand it over once; wrong codes lock the order.
- Every function locks the order row first (a code verified 16 times at once hands over once)
  and writes an order event with its actor; refusals raise ``StoreError`` and change nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from channels.types import NormalizedLine, NormalizedOrder
from core import clock
from core.money import money
from inventory import services as stock
from inventory.models import Product, Reservation, StockLevel, Warehouse
from orders.intake import intake_orders
from orders.models import Fulfilment, HoldReason, Order
from orders.services.events import record_event
from orders.services.holds import active_reasons, release_hold
from orders.services.payments import PaymentError, record_payment
from promotions.quote import CartLine, Quote

from .models import KioskDevice, PickupAttempt, Store, StoreMember

S = Order.Status
MAX_LINES = 50
MAX_QUANTITY = 99


class StoreError(Exception):
    """A refused store action; ``message`` is meant for the person (or kiosk) who asked."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


def _user(actor):
    return actor if getattr(actor, "pk", None) and hasattr(actor, "get_username") else None


# --- stores ---------------------------------------------------------------------------------


def create_store(
    *,
    code: str,
    name: str,
    province: str,
    city: str,
    address: str,
    district: str = "",
    phone: str = "",
    actor=None,
) -> Store:
    """A new store: its shop (platform ``store``, unit code = code) and its two locations,
    ``<code>`` (sellable in the store) and ``<code>:sample`` (try-on samples, never sold)."""
    from channels.models import Platform, Shop

    code = (code or "").strip()
    if not code or ":" in code:
        raise StoreError("bad_code", _("A store code is letters and digits, e.g. MD01."))
    with transaction.atomic():
        shop = Shop.objects.create(
            code=code,
            name=name,
            unit_code=code,
            platform=Platform.objects.get(code="store"),
            stock_ratio=Decimal("0"),  # online platforms never sell a store's stock
        )
        location = Warehouse.objects.create(
            code=code, name=f"{name}", kind=Warehouse.Kind.STORE, sellable=True
        )
        samples = Warehouse.objects.create(
            code=f"{code}:sample",
            name=f"{name} " + _("samples"),
            kind=Warehouse.Kind.SAMPLE,
            sellable=False,
        )
        return Store.objects.create(
            shop=shop,
            location=location,
            sample_location=samples,
            province=province,
            city=city,
            district=district,
            address=address,
            phone=phone,
        )


def add_staff(*, store: Store, user, role: str, staff_code: str = "") -> None:
    """Make ``user`` a guide (``store_guide``) or manager (``store_manager``) of the store."""
    from django.contrib.auth.models import Group

    if role not in ("store_guide", "store_manager"):
        raise StoreError("bad_role", _("A store's staff are guides or managers."))
    with transaction.atomic():
        user.groups.add(Group.objects.get(name=role))
        StoreMember.objects.get_or_create(
            store=store, user=user, defaults={"staff_code": staff_code[:32]}
        )


# --- devices --------------------------------------------------------------------------------


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def register_device(*, store: Store, name: str, actor) -> tuple[KioskDevice, str]:
    """Register a kiosk for the store; returns (device, token). The token is shown only now."""
    name = (name or "").strip()
    if not name:
        raise StoreError("bad_name", _("Give the device a name."))
    token = secrets.token_urlsafe(24)
    device = KioskDevice.objects.create(
        store=store,
        name=name[:64],
        token_hash=hash_token(token),
        token_hint=token[:6],
        created_by=_user(actor),
        created_at=clock.now(),
    )
    return device, token


def revoke_device(*, device: KioskDevice, actor) -> KioskDevice:
    with transaction.atomic():
        device = KioskDevice.objects.select_for_update().get(pk=device.pk)
        if device.revoked_at is None:
            device.revoked_at = clock.now()
            device.revoked_by = _user(actor)
            device.save(update_fields=["revoked_at", "revoked_by"])
    return device


def device_for_token(token: str | None) -> KioskDevice | None:
    """The active device holding this token, or None (unknown or revoked)."""
    if not token or len(token) > 200:
        return None
    return (
        KioskDevice.objects.select_related("store__shop", "store__location")
        .filter(token_hash=hash_token(token), revoked_at__isnull=True)
        .first()
    )


# --- pricing --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CartItem:
    product: Product
    quantity: Decimal


def parse_cart(lines) -> list[CartItem]:
    """[{"code": product code, "quantity": n}] → products and quantities (prices never read)."""
    if not isinstance(lines, list) or not lines:
        raise StoreError("empty", _("The cart is empty."))
    if len(lines) > MAX_LINES:
        raise StoreError("too_many", _("Too many lines in the cart."))
    wanted: dict[str, Decimal] = {}
    for line in lines:
        if not isinstance(line, dict):
            raise StoreError("bad_line", _("A cart line is not readable."))
        code = str(line.get("code") or "").strip()
        try:
            q = Decimal(str(line.get("quantity")))
        except (InvalidOperation, ValueError):
            raise StoreError("bad_quantity", _("Quantities are whole numbers.")) from None
        if not code or q != q.to_integral_value() or q <= 0 or q > MAX_QUANTITY:
            raise StoreError("bad_quantity", _("Quantities are whole numbers from 1 to 99."))
        wanted[code] = wanted.get(code, Decimal(0)) + q
    products = {p.code: p for p in Product.objects.filter(code__in=list(wanted), active=True)}
    missing = [c for c in wanted if c not in products]
    if missing:
        raise StoreError(
            "unknown_product", _("Not sold here: %(codes)s") % {"codes": ", ".join(missing)}
        )
    unpriced = [c for c in wanted if products[c].list_price is None]
    if unpriced:
        raise StoreError("no_price", _("No price for: %(codes)s") % {"codes": ", ".join(unpriced)})
    return [CartItem(products[c], q.quantize(Decimal("0.0001"))) for c, q in wanted.items()]


def member_for(member_phone: str):
    """The member recognised by this phone (promotions), or None."""
    from promotions.selectors import find_member

    return find_member(member_phone) if member_phone else None


def price_cart(
    *, store: Store, items: list[CartItem], member_phone: str = "", at=None, member=None
) -> Quote:
    """The one way a store cart is priced: the promotions' ``price_cart`` (the member's prices,
    the store's running promotions, then the pure ``promotions.quote.quote``) on the list
    prices read here."""
    from promotions.pricing import price_cart as promotions_price_cart

    cart = [
        CartLine(
            key=str(i),
            product_code=item.product.code,
            quantity=item.quantity,
            unit_price=item.product.list_price,
            style_code=item.product.style_code,
        )
        for i, item in enumerate(items, 1)
    ]
    if member is None:
        member = member_for(member_phone)
    return promotions_price_cart(
        lines=cart, store_code=store.code, at=at or clock.now(), member=member
    )


# --- placing an order -----------------------------------------------------------------------


def _clean_phone(phone: str) -> str:
    digits = "".join(ch for ch in str(phone or "") if ch.isdigit())
    return digits[:20]


def _available(warehouse_id: int, items: list[CartItem]) -> bool:
    """Whether the location has every item available now (a hint: the reservation decides)."""
    levels = {
        pid: on_hand - reserved
        for pid, on_hand, reserved in StockLevel.objects.filter(
            warehouse_id=warehouse_id, product_id__in=[i.product.pk for i in items]
        ).values_list("product_id", "on_hand", "reserved")
    }
    return all(levels.get(i.product.pk, 0) >= i.quantity for i in items)


def _ensure_mappings(store: Store, items: list[CartItem]) -> None:
    """Each product sold by the store is a SKU of its shop (platform SKU = product code), so the
    intake maps store orders like any other. Written once, race-free (ON CONFLICT)."""
    from django.db import connection

    codes = [i.product.code for i in items]
    pids = [i.product.pk for i in items]
    with connection.cursor() as cur:
        # One statement: the mappings this statement creates get their component; one that
        # exists (or that a concurrent order just created) has it already.
        cur.execute(
            "WITH v AS (SELECT * FROM unnest(%s::text[], %s::bigint[]) AS v(c, p)), "
            "m AS (INSERT INTO channels_skumapping (shop_id, platform_sku, created_at, updated_at) "
            "SELECT %s, v.c, now(), now() FROM v "
            "ON CONFLICT (shop_id, platform_sku) DO NOTHING RETURNING id, platform_sku) "
            "INSERT INTO channels_skucomponent (mapping_id, product_id, quantity) "
            "SELECT m.id, v.p, 1 FROM m JOIN v ON v.c = m.platform_sku",
            [codes, pids, store.shop_id],
        )


ADDRESS_FIELDS = ("name", "phone", "province", "city", "district", "address")


def place_order(
    *,
    store: Store,
    lines,
    fulfilment: str,
    member_phone: str = "",
    customer: dict | None = None,
    location: str = "",
    actor,
) -> Order:
    """Create an unpaid store order (kiosk or guide). Nothing is written when it is refused.

    ``lines``: [{"code", "quantity"}] — any price sent along is ignored. ``customer``: name,
    phone, and for delivery the address (province, city, district, address). ``location``: a
    stock location code the caller asks for (only the store's own sellable location is valid).
    ``actor``: the device label ("kiosk:<id>") or the guide (who is then the order's guide).
    """
    customer = {k: str((customer or {}).get(k) or "").strip() for k in ADDRESS_FIELDS}
    if fulfilment not in Fulfilment.values:
        raise StoreError("bad_fulfilment", _("Choose take-away, pick-up or delivery."))
    if location and location != store.location.code:
        if location == store.sample_location.code:
            raise StoreError("sample", _("Try-on samples are not for sale."))
        raise StoreError("other_location", _("This device orders for its own store only."))
    items = parse_cart(lines)
    member_phone = _clean_phone(member_phone)
    phone = _clean_phone(customer["phone"]) or member_phone
    if fulfilment == Fulfilment.PICKUP and len(phone) < 4:
        raise StoreError("no_phone", _("Enter the phone number for the pick-up."))
    if fulfilment == Fulfilment.DELIVERY:
        missing = [k for k in ("name", "province", "city", "address") if not customer[k]]
        if missing or len(phone) < 4:
            raise StoreError("bad_address", _("Fill in the delivery name, phone and address."))
        receiver = {
            "receiver_name": customer["name"],
            "province": customer["province"],
            "city": customer["city"],
            "district": customer["district"],
            "address": customer["address"],
        }
    else:  # handed over in the store: the store is the address
        receiver = {
            "receiver_name": customer["name"] or _("store customer"),
            "province": store.province,
            "city": store.city,
            "district": store.district,
            "address": store.address,
        }
    now = clock.now()
    member = member_for(member_phone)
    priced = price_cart(store=store, items=items, member=member, at=now)
    by_code = {line.product_code: line for line in priced.lines}
    guide = _user(actor)
    main_id = stock.main_warehouse_id()
    if fulfilment == Fulfilment.TAKEAWAY:
        warehouse_id = store.location_id
    elif fulfilment == Fulfilment.PICKUP:
        warehouse_id = store.location_id if _available(store.location_id, items) else main_id
    else:
        warehouse_id = main_id
    normalized = NormalizedOrder(
        platform_order_no=f"{store.code}-{uuid.uuid4().hex[:16].upper()}",
        receiver_phone=phone or store.phone or "-",
        lines=[
            NormalizedLine(
                platform_sku=item.product.code,
                quantity=item.quantity,
                unit_price=by_code[item.product.code].unit_price,
                amount=by_code[item.product.code].net_amount,
                title=item.product.name,
            )
            for item in items
        ],
        total_amount=priced.total,
        platform_created_at=now,
        platform_modified_at=now,
        platform_status="unpaid",
        raw={"source": "store", "actor": actor if isinstance(actor, str) else ""},
        **receiver,
    )
    fields = {
        "fulfilment": fulfilment,
        "member_phone": member_phone,
        "quote": priced.as_dict(),
        "payment_due_at": now + dt.timedelta(minutes=settings.STORE_UNPAID_MINUTES),
        "guide_id": guide.pk if guide else None,
    }

    def intake(warehouse_id):
        # A savepoint only where a shortage in the store is retried in the main warehouse.
        with transaction.atomic(savepoint=fulfilment == Fulfilment.PICKUP):
            result = intake_orders(
                shop=store.shop,
                orders=[normalized],
                actor=actor,
                warehouse_id=warehouse_id,
                fields=fields,
                holds=[(HoldReason.UNPAID, "")],
            )
            if result.stock_short and warehouse_id == store.location_id:
                raise _StoreShort  # nothing of this attempt is kept (the block rolls back)
            return result

    with transaction.atomic():
        _ensure_mappings(store, items)
        try:
            result = intake(warehouse_id)
        except _StoreShort:
            if fulfilment != Fulfilment.PICKUP:  # take-away needs the goods now
                raise StoreError(
                    "short",
                    _("The store does not have enough of this now: choose pick-up or delivery."),
                ) from None
            result = intake(main_id)  # taken meanwhile: the main warehouse sends it
        order = Order.objects.get(pk=result.order_ids[0])
        # The promotions' uses, budgets and red packet are taken with the order, or neither.
        from promotions.errors import PromotionError
        from promotions.services.usage import reserve_usage

        try:
            reserve_usage(quote=priced, member=member, order_ref=order.order_no)
        except PromotionError as exc:
            raise StoreError("promotion", exc.message) from None
    return order


class _StoreShort(Exception):
    pass


# --- the counter ----------------------------------------------------------------------------


def _lock(order: Order, store: Store | None = None) -> Order:
    try:
        locked = (
            Order.objects.select_for_update(of=("self",)).select_related("shop").get(pk=order.pk)
        )
    except Order.DoesNotExist:
        raise StoreError("not_found", _("Order not found.")) from None
    if store is not None and locked.shop_id != store.shop_id:
        raise StoreError("other_store", _("This order belongs to another store."))
    if not locked.fulfilment:
        raise StoreError("not_store_order", _("This is not a store order."))
    return locked


def reserved_in_store(order: Order) -> bool:
    return (
        Reservation.objects.filter(document=order.document)
        .exclude(warehouse__kind=Warehouse.Kind.MAIN)
        .exists()
    )


def amount_paid(order: Order) -> Decimal:
    return money(sum((p.amount for p in order.payments.all()), Decimal(0)))


def take_payment(
    *, order: Order, store: Store, method: str, amount, reference: str = "", actor
) -> Order:
    """Record a payment taken at the counter; once the whole total is paid the order goes on:
    take-away waits for the hand-over, pick-up in the store becomes ready, the rest enter the
    warehouse's flow. The guide who takes it is the order's guide unless one is attached."""
    with transaction.atomic():
        order = _lock(order, store)
        if order.status == S.CANCELLED:
            raise StoreError("cancelled", _("This order was cancelled (not paid in time)."))
        if order.paid_at is not None:
            raise StoreError("paid", _("This order is paid already."))
        due = order.total_amount - amount_paid(order)
        try:
            if money(amount) > due:
                raise StoreError(
                    "too_much", _("Only %(due)s is still to pay.") % {"due": f"{due:.2f}"}
                )
            payment = record_payment(
                order=order, method=method, amount=amount, reference=reference, actor=actor
            )
        except PaymentError as exc:
            raise StoreError(exc.code, exc.message) from None
        except (InvalidOperation, ValueError, TypeError):
            raise StoreError("bad_amount", _("Enter the amount paid.")) from None
        record_event(
            order=order,
            kind="payment",
            actor=actor,
            after={"method": payment.method, "amount": str(payment.amount)},
        )
        if order.guide_id is None and _user(actor):
            order.guide = actor
            order.save(update_fields=["guide", "updated_at"])
        if payment.amount < due:
            return order
        now = clock.now()
        order.paid_at = now
        order.platform_status = "paid"
        order.save(update_fields=["paid_at", "platform_status", "updated_at"])
        record_event(order=order, kind="paid", actor=actor, after={"paid_at": now.isoformat()})
        release_hold(order=order, reason=HoldReason.UNPAID, actor=actor, note="paid")
        _record_paid_for_member(order, store)
        if order.fulfilment == Fulfilment.PICKUP and reserved_in_store(order):
            _make_ready(order, actor)
        elif not reserved_in_store(order):
            from orders.services.autoreview import maybe_auto_approve

            maybe_auto_approve(order=order)
    return order


def _member_of(order: Order):
    """The member the order's frozen quote was made for (None: not a member's order, or the
    member was erased)."""
    from promotions.selectors import member_by_ref

    ref = (order.quote or {}).get("member_ref")
    member = member_by_ref(ref) if ref else None
    return member if member is not None and member.erased_at is None else None


def _record_paid_for_member(order: Order, store: Store) -> None:
    """Paid in full: the promotions count the net towards the member's level and record the
    cash-back the frozen quote earned (a pending red packet: issued by their daily task once
    the goods were handed over and the after-sales window passed with no return open)."""
    from promotions.services import record_paid_order

    member = _member_of(order)
    if member is not None:
        record_paid_order(
            member=member,
            order_ref=order.order_no,
            store_code=store.code,
            quote=Quote.from_dict(order.quote),
        )


def attach_guide(*, order: Order, store: Store, actor) -> Order:
    with transaction.atomic():
        order = _lock(order, store)
        before = order.guide_id
        order.guide = _user(actor)
        order.save(update_fields=["guide", "updated_at"])
        record_event(
            order=order,
            kind="guide",
            actor=actor,
            before={"guide": before},
            after={"guide": order.guide_id},
        )
    return order


def member_red_packets(order: Order) -> list:
    """The red packets the order's member could spend on it now (the counter offers them while
    the order is unpaid and nothing has been spent on it yet)."""
    from promotions.selectors import spendable_red_packets

    quote = order.quote or {}
    if (
        order.paid_at is not None
        or order.status == S.CANCELLED
        or Decimal(str(quote.get("red_packet_spent") or 0)) > 0
    ):
        return []
    return spendable_red_packets(_member_of(order))


def spend_red_packet(*, order: Order, store: Store, ref: str, actor) -> Order:
    """At the counter, before any payment: the member spends one of their red packets on this
    order. The order is priced again as it was placed (its list prices, its time, the member),
    now with the packet, in one transaction: the promotions' uses are given back and taken
    again with the packet (spent once, under its lock), the lines' net amounts, the total and
    the frozen quote are rewritten. Refused, changing nothing, when the order is paid (even in
    part), already has a packet, or the promotions it got are no longer what they were."""
    from promotions.errors import PromotionError
    from promotions.pricing import manual_adjustment
    from promotions.pricing import price_cart as promotions_price_cart
    from promotions.rules import CASHBACK
    from promotions.services import lock_red_packet, release_order, reserve_usage

    with transaction.atomic():
        order = _lock(order, store)
        if order.status == S.CANCELLED:
            raise StoreError("cancelled", _("This order was cancelled (not paid in time)."))
        if order.paid_at is not None or amount_paid(order) > 0:
            raise StoreError(
                "paid", _("A payment was taken already: a red packet is spent before paying.")
            )
        if not order.quote:
            raise StoreError("no_quote", _("This order was not priced by the promotions."))
        old = Quote.from_dict(order.quote)
        if old.red_packet_spent > 0:
            raise StoreError("red_packet", _("A red packet was spent on this order already."))
        member = _member_of(order)
        if member is None:
            raise StoreError("no_member", _("Only a member's order can spend a red packet."))
        adjustment = None
        if old.adjustment > 0:
            adjustment = manual_adjustment(
                old.adjustment, old.adjustment_reason, by=old.adjustment_by
            )
        # The packet first (every transaction locks a packet before promotions), then give
        # back what the order took and price it again with the packet: a limited promotion
        # this order used up is available to it again within this transaction.
        lock_red_packet(ref=str(ref or ""))
        release_order(order_ref=order.order_no, actor=actor)
        new = promotions_price_cart(
            lines=[
                CartLine(
                    key=line.key,
                    product_code=line.product_code,
                    quantity=line.quantity,
                    unit_price=line.unit_price,
                    style_code=line.style_code,
                )
                for line in old.lines
            ],
            store_code=store.code,
            at=old.priced_at or order.created_at,
            member=member,
            red_packet_ref=str(ref or ""),
            adjustment=adjustment,
        )
        if new.red_packet_spent <= 0:
            raise StoreError(
                "red_packet", _("This red packet is not in the member's wallet any more.")
            )

        def discounts(q):
            return [(p.code, p.amount) for p in q.promotions if p.kind != CASHBACK]

        if new.list_total != old.list_total or discounts(new) != discounts(old):
            raise StoreError(
                "repriced",
                _(
                    "The promotions have changed since this order was placed: place it again "
                    "to spend the red packet."
                ),
            )
        try:
            reserve_usage(quote=new, member=member, order_ref=order.order_no)
        except PromotionError as exc:
            raise StoreError("promotion", exc.message) from None
        net = {line.product_code: line.net_amount for line in new.lines}
        for line in order.lines.all():
            if line.platform_sku in net and line.amount != net[line.platform_sku]:
                line.amount = net[line.platform_sku]
                line.save(update_fields=["amount"])
        before = order.total_amount
        order.total_amount = order.goods_amount = new.total
        order.quote = new.as_dict()
        order.save(update_fields=["total_amount", "goods_amount", "quote", "updated_at"])
        record_event(
            order=order,
            kind="lines_changed",
            actor=actor,
            message=_("Red packet %(ref)s spent: %(amount)s")
            % {"ref": new.red_packet_ref, "amount": new.red_packet_spent},
            before={"total": str(before)},
            after={
                "total": str(new.total),
                "red_packet": new.red_packet_ref,
                "red_packet_spent": str(new.red_packet_spent),
            },
        )
    return order


def _new_code(order: Order) -> str:
    for _attempt in range(20):
        code = f"{secrets.randbelow(10**8):08d}"
        open_orders = Order.objects.filter(
            shop_id=order.shop_id,
            pickup_code=code,
            handed_over_at__isnull=True,
            cancelled_at__isnull=True,
        )
        if not open_orders.exists():
            return code
    raise StoreError("no_code", _("Could not draw a pick-up code; try again."))


def _make_ready(order: Order, actor) -> None:
    """The goods are in the store: give the order its pick-up code (unique among the store's
    open orders: the partial unique index is the guarantee, the look-up avoids the retry)."""
    for _attempt in range(5):
        code = _new_code(order)
        try:
            with transaction.atomic():
                Order.objects.filter(pk=order.pk).update(
                    pickup_code=code, pickup_ready_at=clock.now()
                )
        except IntegrityError:
            continue
        order.pickup_code, order.pickup_ready_at = code, clock.now()
        record_event(order=order, kind="ready_for_pickup", actor=actor)
        return
    raise StoreError("no_code", _("Could not draw a pick-up code; try again."))


def receive_pickup_parcel(*, order: Order, store: Store, actor) -> Order:
    """A pick-up order the main warehouse shipped to the store has arrived: ready for pick-up."""
    with transaction.atomic():
        order = _lock(order, store)
        if order.fulfilment != Fulfilment.PICKUP or order.status != S.SHIPPED:
            raise StoreError("not_in_transit", _("This order is not on its way to the store."))
        if order.pickup_ready_at is not None:
            raise StoreError("ready", _("This order is ready for pick-up already."))
        _make_ready(order, actor)
    return order


def _ship_from_store(order: Order, actor) -> None:
    now = clock.now()
    if order.status != S.SHIPPED:
        stock.ship(document=order.document, actor=_user(actor), note=order.order_no)
        before = order.status
        order.status, order.shipped_at = S.SHIPPED, now
    else:
        before = S.SHIPPED
    order.handed_over_at = now
    order.save(update_fields=["status", "shipped_at", "handed_over_at", "updated_at"])
    record_event(
        order=order,
        kind="handed_over",
        actor=actor,
        before={"status": before},
        after={"status": S.SHIPPED, "handed_over_at": now.isoformat()},
    )


def hand_over(*, order: Order, store: Store, actor) -> Order:
    """Hand a paid take-away order to the customer: shipped from the store's location."""
    with transaction.atomic():
        order = _lock(order, store)
        if order.fulfilment != Fulfilment.TAKEAWAY:
            raise StoreError("not_takeaway", _("Pick-up orders are handed over with their code."))
        _check_can_hand_over(order)
        _ship_from_store(order, actor)
    return order


def _check_can_hand_over(order: Order) -> None:
    if order.handed_over_at is not None:
        raise StoreError("handed_over", _("This order was handed over already."))
    if order.status == S.CANCELLED:
        raise StoreError("cancelled", _("This order was cancelled."))
    if order.paid_at is None:
        raise StoreError("unpaid", _("This order is not paid yet."))


def verify_pickup(*, order: Order, store: Store, code: str, phone_last4: str, actor) -> Order:
    """Check a pick-up code and the phone's last 4 digits; right: handed over (once).

    Every try is recorded; ``STORE_PICKUP_MAX_WRONG`` wrong ones within the window lock the
    order (a manager unlocks it). The wrong try is kept even though the call is refused.
    """
    outcome: StoreError | None = None
    with transaction.atomic():
        order = _lock(order, store)
        if order.fulfilment != Fulfilment.PICKUP:
            raise StoreError("not_pickup", _("This is not a pick-up order."))
        _check_can_hand_over(order)
        if order.pickup_locked_at is not None:
            raise StoreError("locked", _("Too many wrong codes: the order is locked."))
        if order.pickup_ready_at is None:
            raise StoreError("not_ready", _("This order is not ready for pick-up yet."))
        now = clock.now()
        ok = secrets.compare_digest(str(code or "").strip(), order.pickup_code) and (
            len(str(phone_last4 or "").strip()) == 4
            and _clean_phone(order.receiver_phone).endswith(str(phone_last4).strip())
        )
        PickupAttempt.objects.create(order=order, ok=ok, actor=_user(actor), created_at=now)
        if ok:
            _ship_from_store(order, actor)
            return order
        window = now - dt.timedelta(minutes=settings.STORE_PICKUP_WRONG_WINDOW_MINUTES)
        wrong = PickupAttempt.objects.filter(order=order, ok=False, created_at__gt=window).count()
        record_event(order=order, kind="pickup_code_wrong", actor=actor)
        if wrong >= settings.STORE_PICKUP_MAX_WRONG:
            order.pickup_locked_at = now
            order.save(update_fields=["pickup_locked_at", "updated_at"])
            record_event(order=order, kind="pickup_locked", actor=actor)
            outcome = StoreError("locked", _("Too many wrong codes: the order is locked."))
        else:
            outcome = StoreError(
                "wrong_code", _("Wrong pick-up code or phone digits (%(n)s tried).") % {"n": wrong}
            )
    raise outcome


def unlock_pickup(*, order: Order, store: Store, actor) -> Order:
    """A manager unlocks an order locked by wrong codes (after checking the customer)."""
    with transaction.atomic():
        order = _lock(order, store)
        if order.pickup_locked_at is not None:
            order.pickup_locked_at = None
            order.save(update_fields=["pickup_locked_at", "updated_at"])
            record_event(order=order, kind="pickup_unlocked", actor=actor)
    return order


# --- returns in the store -------------------------------------------------------------------


@dataclass(frozen=True)
class ReturnPreview:
    """What a store return will refund, shown to the guide before it is confirmed."""

    lines: list  # (order line, quantity, net refunded for it)
    refunded_net: Decimal  # the returned lines' net amounts
    from_packet: Decimal  # cash-back taken back from the customer's (unspent) red packet
    from_refund: Decimal  # cash-back deducted from this refund (the packet was spent)
    red_packet_ref: str  # the packet the order earned, or ""
    refund_amount: Decimal  # what the customer gets back: refunded_net − from_refund


def _line_paid_for(line, units: Decimal) -> Decimal:
    """What ``units`` of the order line were paid: its net (amount − its share of order-level
    discounts) shared by quantity, largest remainder."""
    from core.money import allocate

    net = line.amount - line.discount
    if units >= line.quantity:
        return net
    return allocate(net, [units, line.quantity - units])[0]


def _return_preview(store: Store, order: Order, lines) -> ReturnPreview:
    from promotions.selectors import packet_earned_on
    from promotions.services import preview_clawback
    from returns.selectors import returned_quantities

    if order.shop_id != store.shop_id and not order.shop.store_returns_allowed:
        raise StoreError("other_shop", _("This shop's orders are not returned in the stores."))
    returned = returned_quantities(order)
    triples = []
    for order_line, quantity in lines:
        try:
            quantity = Decimal(str(quantity))
        except InvalidOperation:
            raise StoreError("bad_quantity", _("Quantities are whole numbers.")) from None
        before = returned.get(order_line.pk, Decimal(0))
        if (
            order_line.order_id != order.pk
            or not quantity.is_finite()
            or quantity <= 0
            or quantity != quantity.to_integral_value()
            or before + quantity > order_line.quantity
        ):
            raise StoreError("bad_line", _("Return at most what the order line still holds."))
        # Cumulative: the returns of a line, in any parts, refund exactly its net amount.
        amount = _line_paid_for(order_line, before + quantity) - _line_paid_for(order_line, before)
        triples.append((order_line, quantity, amount))
    if not triples:
        raise StoreError("empty", _("Enter the quantity returned of at least one line."))
    net = money(sum((t[2] for t in triples), Decimal(0)))
    claw = preview_clawback(order_ref=order.order_no, refunded_net=net, refund_amount=net)
    packet = packet_earned_on(order.order_no)
    return ReturnPreview(
        lines=triples,
        refunded_net=net,
        from_packet=claw.from_packet,
        from_refund=claw.from_refund,
        red_packet_ref=packet.ref if packet else "",
        refund_amount=net - claw.from_refund,
    )


def preview_store_return(*, store: Store, order: Order, lines) -> ReturnPreview:
    """What returning ``lines`` ([(order line, quantity)]) would refund and take back of the
    red packet the order earned; nothing is written."""
    order = Order.objects.select_related("shop").get(pk=order.pk)
    return _return_preview(store, order, lines)


def create_store_return(
    *, store: Store, order: Order, lines, reason: str, actor, expected_refund=None
):
    """A guide or manager opens a return (with goods) for an order brought to the store: one of
    the store's own orders, or an online order whose shop accepts returns in the stores.

    ``lines``: [(order line, quantity)]. Each line is refunded its net amount (the line's
    amount is net of every promotion; a part of a line, its share by largest remainder,
    cumulatively over the line's returns), so a return refunds exactly what its lines were
    paid. When the order earned a red packet, the return takes back the cash-back in proportion
    to the refunded net: from the packet while it is unspent, otherwise deducted from the
    refund (``preview_store_return`` shows it first; ``expected_refund``: the refund the guide
    was shown; when it is no longer what would be refunded, nothing is written). Review and
    receipt are the after-sales ones (``returns.services``); see ``receive_store_return``.
    """
    from promotions.services import take_back_cashback
    from returns.services import ReturnError, create_return

    with transaction.atomic():
        # The order row is the lock under which its returns and its packet are decided.
        order = (
            Order.objects.select_for_update(of=("self",)).select_related("shop").get(pk=order.pk)
        )
        preview = _return_preview(store, order, lines)
        if expected_refund is not None:
            try:
                expected = money(expected_refund)
            except (InvalidOperation, ValueError, TypeError):
                expected = None
            if expected != preview.refund_amount:
                raise StoreError(
                    "changed",
                    _("The refund is now %(amount)s, not what was shown: check it again.")
                    % {"amount": preview.refund_amount},
                )
        try:
            ro = create_return(
                order=order,
                lines=preview.lines,
                kind="return_goods",
                reason=reason,
                refund_amount=preview.refund_amount,
                actor=actor,
            )
        except ReturnError as exc:
            raise StoreError("return", exc.message) from None
        if preview.red_packet_ref:
            taken = take_back_cashback(
                order_ref=order.order_no,
                return_ref=ro.return_no,
                refunded_net=preview.refunded_net,
                refund_amount=preview.refunded_net,
                actor=actor,
            )
            if (taken.from_packet, taken.from_refund) != (preview.from_packet, preview.from_refund):
                # The packet was spent meanwhile (its lock is taken only now): all rolls back.
                raise StoreError(
                    "changed", _("The red packet changed meanwhile: check the return again.")
                )
    return ro


def receive_store_return(*, store: Store, return_order, actor, into: str = "store", receipts=None):
    """Receive an approved return at the store: everything still to receive (or ``receipts``:
    (return line, product, sellable quantity, defective quantity)), the sellable goods into the
    store's location (``into="store"``) or on to the main warehouse (``"main"``); with
    ``into="defective"`` all of it goes to the defective warehouse."""
    from returns import selectors as return_selectors
    from returns.services import ReturnError, receive_return

    if into not in ("store", "main", "defective"):
        raise StoreError(
            "bad_destination", _("Receive into the store, the main or the defective warehouse.")
        )
    staff = set(store.members.values_list("user_id", flat=True))
    if return_order.shop_id != store.shop_id and return_order.created_by_id not in staff:
        raise StoreError("other_store", _("This return belongs to another store."))
    if receipts is None:
        received = return_selectors.received_quantities(return_order)
        receipts = []
        for line in return_order.lines.all():
            for comp in line.order_line.components.all():
                # An order component holds the whole line's quantity: per unit, times returned.
                per_unit = comp.quantity / line.order_line.quantity
                left = (line.quantity * per_unit).quantize(Decimal("0.0001")) - sum(
                    received.get((line.pk, comp.product_id), {}).values(), Decimal(0)
                )
                if left > 0:
                    sellable, defective = (0, left) if into == "defective" else (left, 0)
                    receipts.append((line, comp.product_id, sellable, defective))
    try:
        return receive_return(
            return_order=return_order,
            receipts=receipts,
            actor=actor,
            sellable_warehouse=store.location if into == "store" else None,
        )
    except ReturnError as exc:
        raise StoreError("return", exc.message) from None


# --- scheduled: unpaid orders expire, uncollected pick-ups ----------------------------------


def _cancel(order: Order, actor, note: str) -> None:
    from orders.services.review import cancel_order

    cancel_order(order=order, actor=actor, note=note)


def expire_unpaid_orders(*, limit: int = 500) -> int:
    """Cancel store orders still unpaid after their pay-by time (stock released). Idempotent:
    each order is re-read under its lock, and a paid or cancelled one is left alone."""
    now = clock.now()
    ids = list(
        Order.objects.filter(
            paid_at__isnull=True, payment_due_at__lte=now, status__in=(S.PENDING_REVIEW, S.REVIEWED)
        )
        .order_by("payment_due_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    expired = 0
    for pk in ids:
        with transaction.atomic():
            order = Order.objects.select_for_update(skip_locked=True).filter(pk=pk).first()
            if (
                order is None
                or order.paid_at is not None
                or order.status not in (S.PENDING_REVIEW, S.REVIEWED)
                or HoldReason.UNPAID not in active_reasons(order)
            ):
                continue
            _cancel(order, "task:store_expiry", "not paid in time")
            expired += 1
    return expired


def uncollected_pickups(*, limit: int = 500) -> tuple[int, int]:
    """Pick-ups ready for ``STORE_PICKUP_DAYS``: the store is told (listed on its counter page,
    an event); ``STORE_PICKUP_GRACE_DAYS`` later the ones still in the store are cancelled and
    their stock released. Returns (told, cancelled)."""
    now = clock.now()
    told = cancelled = 0
    tell = Order.objects.filter(
        fulfilment=Fulfilment.PICKUP,
        pickup_ready_at__lte=now - dt.timedelta(days=settings.STORE_PICKUP_DAYS),
        pickup_reminded_at__isnull=True,
        handed_over_at__isnull=True,
        cancelled_at__isnull=True,
    ).values_list("pk", flat=True)[:limit]
    for pk in list(tell):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=pk)
            if order.pickup_reminded_at is not None or order.handed_over_at is not None:
                continue
            order.pickup_reminded_at = now
            order.save(update_fields=["pickup_reminded_at", "updated_at"])
            record_event(order=order, kind="pickup_uncollected", actor="task:store_pickup")
            told += 1
    cancel = Order.objects.filter(
        fulfilment=Fulfilment.PICKUP,
        pickup_reminded_at__lte=now - dt.timedelta(days=settings.STORE_PICKUP_GRACE_DAYS),
        handed_over_at__isnull=True,
        cancelled_at__isnull=True,
        status__in=(S.PENDING_REVIEW, S.REVIEWED),
    ).values_list("pk", flat=True)[:limit]
    for pk in list(cancel):
        with transaction.atomic():
            order = Order.objects.select_for_update().get(pk=pk)
            if order.handed_over_at is not None or order.status not in (
                S.PENDING_REVIEW,
                S.REVIEWED,
            ):
                continue
            _cancel(order, "task:store_pickup", "not collected")
            cancelled += 1
    return told, cancelled


__all__ = [
    "StoreError",
    "add_staff",
    "create_store",
    "attach_guide",
    "create_store_return",
    "member_red_packets",
    "preview_store_return",
    "spend_red_packet",
    "receive_store_return",
    "expire_unpaid_orders",
    "hand_over",
    "place_order",
    "price_cart",
    "receive_pickup_parcel",
    "register_device",
    "revoke_device",
    "take_payment",
    "uncollected_pickups",
    "unlock_pickup",
    "verify_pickup",
]
