"""After-sales (售后) business rules: every change of a return order goes through these functions.

States: submitted (待审核) → approved (已审核) or rejected (已驳回) → goods received (已入库) →
closed (已关闭). A refund without goods closes on approval.

- A return order refers to a SHIPPED order; its lines never take more than was shipped minus
  what the order's earlier return orders (rejected ones excluded) already took.
- Reviewing (approve, reject) needs the review permission, and nobody reviews a return order they
  created themselves (separation of duties, the admin included).
- Receipt puts each product of each line into the main warehouse (sellable again) or the
  defective warehouse (次品仓) with a ledger row referring to ``return:<id>``; never more than
  the returned units' share of what the line shipped (``selectors.returned_components``: the
  intake stores component quantities per line) minus what was received before. The return order row is
  locked first, so two receipts of the same return cannot over-receive.
- Every change writes a ``ReturnEvent`` (actor and time) in the same transaction.

Refusals raise ``ReturnError`` with a message for a person, and change nothing.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from core import clock
from inventory import services as stock
from inventory.models import Product, StockMove, Warehouse
from orders.models import Order, OrderLine
from orders.services.events import actor_fields, record_event
from orders.services.kernel import actor_user

from . import selectors
from .models import ReturnEvent, ReturnLine, ReturnOrder, ReturnReceipt

Q4 = Decimal("0.0001")
Q2 = Decimal("0.01")
ZERO = Decimal("0")

Status = ReturnOrder.Status
Kind = ReturnOrder.Kind


class ReturnError(Exception):
    """A refused after-sales action; the message is meant for the person who asked."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- small helpers ----------------------------------------------------------------------------


def _quantity(value, what: str) -> Decimal:
    if isinstance(value, float):
        raise ReturnError(_("%(what)s must be an exact decimal, not a float.") % {"what": what})
    try:
        result = Decimal(str(value)).quantize(Q4)
    except (InvalidOperation, TypeError, ValueError):
        raise ReturnError(
            _("%(what)s is not a number: %(value)s") % {"what": what, "value": value}
        ) from None
    if not result.is_finite():
        raise ReturnError(_("%(what)s is not a number: %(value)s") % {"what": what, "value": value})
    return result


def _money(value, what: str) -> Decimal:
    amount = _quantity(value, what).quantize(Q2)
    if amount < 0:
        raise ReturnError(_("%(what)s cannot be negative.") % {"what": what})
    return amount


def _snapshot(ro: ReturnOrder) -> dict:
    return {
        "status": ro.status,
        "kind": ro.kind,
        "reason": ro.reason,
        "refund_amount": str(ro.refund_amount),
        "return_tracking_no": ro.return_tracking_no,
        "platform_status": ro.platform_status,
        "lines": [
            {"order_line": line.order_line_id, "quantity": str(line.quantity)}
            for line in ro.lines.order_by("order_line_id")
        ],
    }


def _event(ro: ReturnOrder, kind: str, actor, message: str = "", before=None, after=None):
    return ReturnEvent.objects.create(
        return_order=ro,
        kind=kind,
        message=str(message)[:500],
        before=before,
        after=after,
        **actor_fields(actor),
    )


def _next_return_no() -> str:
    """Our own return number: RT + the Shanghai date + a database sequence (unique, no race)."""
    with connection.cursor() as cur:
        cur.execute("SELECT nextval('returns_return_no_seq')")
        (n,) = cur.fetchone()
    return f"RT{timezone.localtime(clock.now()):%Y%m%d}{n:06d}"


def _lock(return_order: ReturnOrder) -> ReturnOrder:
    """Lock the order, then the return order: the same order as creation and platform pulls
    (order first), so that no two after-sales actions can deadlock."""
    order_id = ReturnOrder.objects.values_list("order_id", flat=True).get(pk=return_order.pk)
    order = Order.objects.select_for_update().get(pk=order_id)
    ro = ReturnOrder.objects.select_for_update().get(pk=return_order.pk)
    ro.order = order
    return ro


def _require_perm(actor, perm: str, action: str) -> None:
    user = actor_user(actor)
    if user is None or not user.has_perm(perm):
        raise ReturnError(
            _("You are not allowed to %(action)s return orders.") % {"action": action}
        )


def _require_status(ro: ReturnOrder, allowed: Iterable[str], action: str) -> None:
    if ro.status not in allowed:
        raise ReturnError(
            _("Return order %(no)s is %(status)s: you cannot %(action)s it.")
            % {"no": ro.return_no, "status": ro.get_status_display(), "action": action}
        )


def _require_shipped(order: Order) -> None:
    if order.status != Order.Status.SHIPPED:
        raise ReturnError(
            _(
                "Order %(no)s has not been shipped (it is %(status)s): a return order needs a "
                "shipped order. A refund asked for before shipping holds the order instead."
            )
            % {"no": order.order_no, "status": order.get_status_display()}
        )


def _line_label(line: OrderLine) -> str:
    return line.platform_sku


def _normalize_lines(order: Order, lines) -> list[tuple[OrderLine, Decimal, Decimal]]:
    """Check (order line, quantity, amount) triples against the order; refuse bad input.

    The order line is an OrderLine, its id, or (from a connector) its platform line id.
    """
    order_lines = {line.id: line for line in order.lines.all()}
    seen = set()
    out = []
    for entry in lines or []:
        try:
            order_line, quantity, amount = entry
        except (TypeError, ValueError):
            raise ReturnError(
                _("Each return line is (order line, quantity, amount): %(entry)r")
                % {"entry": entry}
            ) from None
        line_id = getattr(order_line, "pk", order_line)
        if isinstance(line_id, str):  # a connector may name the line by the platform's id
            by_platform_id = [
                line for line in order_lines.values() if line.platform_line_id == line_id
            ]
            line_id = by_platform_id[0].id if len(by_platform_id) == 1 else line_id
        if line_id not in order_lines:
            raise ReturnError(
                _("Order line %(line)s does not belong to order %(no)s.")
                % {"line": line_id, "no": order.order_no}
            )
        if line_id in seen:
            raise ReturnError(
                _("Order line %(line)s is listed twice.")
                % {"line": _line_label(order_lines[line_id])}
            )
        seen.add(line_id)
        line = order_lines[line_id]
        quantity = _quantity(quantity, _("Quantity of %(line)s") % {"line": _line_label(line)})
        if quantity <= 0:
            raise ReturnError(
                _("The quantity returned of %(line)s must be more than 0.")
                % {"line": _line_label(line)}
            )
        amount = _money(amount or 0, _("Amount of %(line)s") % {"line": _line_label(line)})
        out.append((line, quantity, amount))
    return out


def _check_returnable(order: Order, lines, *, exclude_return_id: int | None = None) -> None:
    taken = selectors.returned_quantities(order, exclude_return_id=exclude_return_id)
    problems = []
    for line, quantity, _amount in lines:
        left = line.quantity - taken.get(line.id, ZERO)
        if quantity > left:
            problems.append(
                _(
                    "%(line)s: %(quantity)s asked, but only %(left)s can still be returned "
                    "(shipped %(shipped)s, already returned %(taken)s)"
                )
                % {
                    "line": _line_label(line),
                    "quantity": quantity.normalize(),
                    "left": left.normalize(),
                    "shipped": line.quantity.normalize(),
                    "taken": taken.get(line.id, ZERO).normalize(),
                }
            )
    if problems:
        raise ReturnError(
            _("More than was shipped would come back. %(problems)s")
            % {"problems": "; ".join(problems)}
        )


def _check_kind(kind: str, lines) -> None:
    if kind not in Kind.values:
        raise ReturnError(_("Unknown return kind: %(kind)s") % {"kind": kind})
    if kind == Kind.RETURN_GOODS and not lines:
        raise ReturnError(_("A return with goods needs at least one line with a quantity."))


def _write_lines(ro: ReturnOrder, lines) -> None:
    ReturnLine.objects.bulk_create(
        [
            ReturnLine(return_order=ro, order_line=line, quantity=quantity, amount=amount)
            for line, quantity, amount in lines
        ]
    )


# --- creating ---------------------------------------------------------------------------------


def create_return(
    *,
    order: Order,
    lines,
    kind: str,
    reason: str,
    refund_amount,
    return_tracking_no: str = "",
    actor,
) -> ReturnOrder:
    """After-sales staff open a return order (售后单) on a shipped order.

    ``lines``: (order line, quantity, amount) triples, quantities in the platform line's units.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ReturnError(_("Give the reason for the return."))
    refund_amount = _money(refund_amount, _("The refund amount"))
    with transaction.atomic():
        # The order row is the lock under which its returnable quantities are decided.
        order = (
            Order.objects.select_for_update(of=("self",)).select_related("shop").get(pk=order.pk)
        )
        _require_shipped(order)
        lines = _normalize_lines(order, lines)
        _check_kind(kind, lines)
        _check_returnable(order, lines)
        left = order.total_amount - selectors.refunded_amount(order)
        if refund_amount > left:
            raise ReturnError(
                _(
                    "The refund amount %(amount)s is more than what is left of the order's "
                    "total (%(left)s)."
                )
                % {"amount": refund_amount, "left": left}
            )
        ro = ReturnOrder.objects.create(
            return_no=_next_return_no(),
            order=order,
            shop=order.shop,
            kind=kind,
            source=ReturnOrder.Source.MANUAL,
            reason=reason[:255],
            refund_amount=refund_amount,
            return_tracking_no=(return_tracking_no or "").strip()[:64],
            created_by=actor_user(actor),
        )
        _write_lines(ro, lines)
        _event(ro, ReturnEvent.Kind.CREATED, actor, after=_snapshot(ro))
        record_event(
            order=order,
            kind="return_created",
            actor=actor,
            message=_("Return order %(no)s created") % {"no": ro.return_no},
        )
    return ro


def upsert_platform_return(
    *,
    shop,
    order: Order,
    platform_refund_id: str,
    kind: str,
    lines,
    reason: str,
    refund_amount,
    return_tracking_no: str = "",
    platform_status: str = "",
    actor="platform",
) -> tuple[ReturnOrder, bool]:
    """A refund or return an API platform reports: create it once, update it on later pulls.

    Unique per (shop, platform refund id): pulling it again never duplicates it. A later pull
    updates what can still change: while submitted everything (kind, lines, reason, amount);
    after review only the return tracking number and the platform's status.
    Returns (return order, created).
    """
    platform_refund_id = (platform_refund_id or "").strip()
    if not platform_refund_id:
        raise ReturnError(_("A platform return needs the platform's refund id."))
    if order.shop_id != shop.pk:
        raise ReturnError(
            _("Order %(no)s is not an order of shop %(shop)s.")
            % {"no": order.order_no, "shop": shop}
        )
    refund_amount = _money(refund_amount, _("The refund amount"))
    reason = (reason or "").strip()[:255]
    return_tracking_no = (return_tracking_no or "").strip()[:64]
    platform_status = (platform_status or "").strip()[:64]
    with transaction.atomic():
        order = (
            Order.objects.select_for_update(of=("self",)).select_related("shop").get(pk=order.pk)
        )
        ro = (
            ReturnOrder.objects.select_for_update()
            .filter(shop=shop, platform_refund_id=platform_refund_id)
            .first()
        )
        if ro is None:
            _require_shipped(order)
            lines = _normalize_lines(order, lines)
            _check_kind(kind, lines)
            _check_returnable(order, lines)
            ro = ReturnOrder.objects.create(
                return_no=_next_return_no(),
                order=order,
                shop=shop,
                kind=kind,
                source=ReturnOrder.Source.PLATFORM,
                platform_refund_id=platform_refund_id[:64],
                platform_status=platform_status,
                reason=reason,
                refund_amount=refund_amount,
                return_tracking_no=return_tracking_no,
            )
            _write_lines(ro, lines)
            _event(ro, ReturnEvent.Kind.CREATED, actor, after=_snapshot(ro))
            record_event(
                order=order,
                kind="return_created",
                actor=actor,
                message=_("Return order %(no)s created from platform refund %(id)s")
                % {"no": ro.return_no, "id": platform_refund_id},
            )
            return ro, True

        if ro.order_id != order.pk:
            raise ReturnError(
                _("Platform refund %(id)s belongs to order %(other)s, not to %(no)s.")
                % {"id": platform_refund_id, "other": ro.order.order_no, "no": order.order_no}
            )
        before = _snapshot(ro)
        fields = []
        if platform_status and platform_status != ro.platform_status:
            ro.platform_status = platform_status
            fields.append("platform_status")
        if return_tracking_no and return_tracking_no != ro.return_tracking_no:
            ro.return_tracking_no = return_tracking_no
            fields.append("return_tracking_no")
        lines_changed = False
        if ro.status == Status.SUBMITTED:
            new_lines = _normalize_lines(order, lines)
            _check_kind(kind, new_lines)
            for name, value in (
                ("kind", kind),
                ("reason", reason),
                ("refund_amount", refund_amount),
            ):
                if getattr(ro, name) != value:
                    setattr(ro, name, value)
                    fields.append(name)
            old = {(line.order_line_id, line.quantity, line.amount) for line in ro.lines.all()}
            new = {(line.id, quantity, amount) for line, quantity, amount in new_lines}
            if old != new:
                _check_returnable(order, new_lines, exclude_return_id=ro.pk)
                ro.lines.all().delete()
                _write_lines(ro, new_lines)
                lines_changed = True
        if not fields and not lines_changed:
            return ro, False
        ro.save(update_fields=[*fields, "updated_at"])
        _event(ro, ReturnEvent.Kind.UPDATED, actor, before=before, after=_snapshot(ro))
        return ro, False


# --- review -----------------------------------------------------------------------------------


def _require_reviewer(ro: ReturnOrder, actor, action: str) -> None:
    _require_perm(actor, "returns.review_returnorder", action)
    if ro.created_by_id is not None and ro.created_by_id == actor.pk:
        raise ReturnError(
            _("You created return order %(no)s yourself: another reviewer must %(action)s it.")
            % {"no": ro.return_no, "action": action}
        )


def approve_return(*, return_order: ReturnOrder, actor, note: str = "") -> ReturnOrder:
    """The after-sales reviewer approves (审核). A refund without goods is then closed."""
    with transaction.atomic():
        ro = _lock(return_order)
        _require_status(ro, [Status.SUBMITTED], pgettext("return action", "approve"))
        _require_reviewer(ro, actor, pgettext("return action", "approve"))
        now = timezone.now()
        ro.status = Status.APPROVED
        ro.reviewed_by = actor
        ro.reviewed_at = now
        fields = ["status", "reviewed_by", "reviewed_at", "updated_at"]
        ro.save(update_fields=fields)
        _event(
            ro,
            ReturnEvent.Kind.APPROVED,
            actor,
            message=note,
            before={"status": Status.SUBMITTED},
            after={"status": Status.APPROVED},
        )
        if ro.kind == Kind.REFUND_ONLY:
            ro.status = Status.CLOSED
            ro.closed_at = now
            ro.save(update_fields=["status", "closed_at", "updated_at"])
            _event(
                ro,
                ReturnEvent.Kind.CLOSED,
                actor,
                message=_("A refund without goods closes on approval."),
                before={"status": Status.APPROVED},
                after={"status": Status.CLOSED},
            )
    return ro


def reject_return(*, return_order: ReturnOrder, actor, reason: str) -> ReturnOrder:
    """The after-sales reviewer rejects (驳回), saying why. Its quantities become free again."""
    reason = (reason or "").strip()
    if not reason:
        raise ReturnError(_("Give the reason for the rejection."))
    with transaction.atomic():
        ro = _lock(return_order)
        _require_status(ro, [Status.SUBMITTED], pgettext("return action", "reject"))
        _require_reviewer(ro, actor, pgettext("return action", "reject"))
        ro.status = Status.REJECTED
        ro.reviewed_by = actor
        ro.reviewed_at = timezone.now()
        ro.reject_reason = reason[:255]
        ro.save(
            update_fields=["status", "reviewed_by", "reviewed_at", "reject_reason", "updated_at"]
        )
        _event(
            ro,
            ReturnEvent.Kind.REJECTED,
            actor,
            message=reason,
            before={"status": Status.SUBMITTED},
            after={"status": Status.REJECTED},
        )
        # A return of a member's order took back part of its cash-back: given back.
        from promotions.services import restore_cashback

        net = sum((line.amount for line in ro.lines.all()), ZERO)
        restore_cashback(
            order_ref=ro.order.order_no, return_ref=ro.return_no, refunded_net=net, actor=actor
        )
    return ro


# --- receipt ----------------------------------------------------------------------------------


def receive_return(
    *,
    return_order: ReturnOrder,
    receipts,
    actor,
    finish: bool = True,
    sellable_warehouse: Warehouse | None = None,
) -> list[ReturnReceipt]:
    """The returned goods arrive (退货入库).

    ``receipts``: (return line, product, main quantity, defective quantity) per line and product;
    the main quantity goes back into the main warehouse (sellable again), the defective quantity
    into the defective warehouse. A line may be split between the two.

    With ``finish`` (the default) the return order is then "goods received" (and handed to the
    offline ERP); ``finish=False`` records a partial receipt and keeps it open for the rest.
    Receiving everything always finishes it.

    ``sellable_warehouse``: where the sellable ("main") quantity goes instead of the main
    warehouse — an experience store receiving a return into its own location.
    """
    receipts = list(receipts or [])
    if not receipts:
        raise ReturnError(_("Nothing to receive: give at least one line with a quantity."))
    with transaction.atomic():
        ro = _lock(return_order)
        _require_status(ro, [Status.APPROVED], pgettext("return action", "receive"))
        if ro.kind != Kind.RETURN_GOODS:
            raise ReturnError(_("A refund without goods has no goods to receive."))
        _require_perm(actor, "returns.receive_returnorder", pgettext("return action", "receive"))

        lines = {line.id: line for line in ro.lines.select_related("order_line")}
        # What may still come back, per (return line, product): the selector's own figures, so
        # the screen and the check can never disagree.
        allowed_left: dict[tuple[int, int], Decimal] = {}
        for item in selectors.receivable_items(ro):
            key = (item.line.id, item.component.product_id)
            allowed_left[key] = allowed_left.get(key, ZERO) + item.expected - item.received

        wanted: dict[tuple[int, int], list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        for entry in receipts:
            try:
                line, product, main_qty, defective_qty = entry
            except (TypeError, ValueError):
                raise ReturnError(
                    _(
                        "Each receipt is (return line, product, main quantity, defective "
                        "quantity): %(entry)r"
                    )
                    % {"entry": entry}
                ) from None
            line_id = getattr(line, "pk", line)
            product_id = getattr(product, "pk", product)
            if line_id not in lines:
                raise ReturnError(
                    _("Line %(line)s is not a line of return order %(no)s.")
                    % {"line": line_id, "no": ro.return_no}
                )
            order_line = lines[line_id].order_line
            if (line_id, product_id) not in allowed_left:
                raise ReturnError(
                    _("Product %(product)s is not part of %(line)s.")
                    % {"product": _product_label(product), "line": _line_label(order_line)}
                )
            main_qty = _quantity(main_qty or 0, _("The quantity for the main warehouse"))
            defective_qty = _quantity(
                defective_qty or 0, _("The quantity for the defective warehouse")
            )
            if main_qty < 0 or defective_qty < 0:
                raise ReturnError(_("Received quantities cannot be negative."))
            wanted[(line_id, product_id)][0] += main_qty
            wanted[(line_id, product_id)][1] += defective_qty
        wanted = {key: q for key, q in wanted.items() if q[0] + q[1] > 0}
        if not wanted:
            raise ReturnError(_("Nothing to receive: give at least one line with a quantity."))

        problems = []
        for (line_id, product_id), (main_qty, defective_qty) in sorted(wanted.items()):
            allowed = allowed_left[(line_id, product_id)]
            if main_qty + defective_qty > allowed:
                problems.append(
                    _("%(product)s of %(line)s: %(asked)s asked, at most %(allowed)s more")
                    % {
                        "product": _product_label(product_id),
                        "line": _line_label(lines[line_id].order_line),
                        "asked": (main_qty + defective_qty).normalize(),
                        "allowed": max(allowed, ZERO).normalize(),
                    }
                )
        if problems:
            raise ReturnError(
                _(
                    "More would be received than return order %(no)s allows (what its lines "
                    "shipped, minus what was received before). %(problems)s"
                )
                % {"no": ro.return_no, "problems": "; ".join(problems)}
            )

        main = sellable_warehouse or Warehouse.main()
        if main.kind not in (Warehouse.Kind.MAIN, Warehouse.Kind.STORE):
            raise ReturnError(_("Returned goods go back to the main warehouse or a store."))
        defective = Warehouse.defective()
        user = actor_user(actor)
        per_warehouse = {main.id: [], defective.id: []}
        rows = []
        for (line_id, product_id), (main_qty, defective_qty) in sorted(wanted.items()):
            for warehouse, quantity in ((main, main_qty), (defective, defective_qty)):
                if quantity > 0:
                    per_warehouse[warehouse.id].append((product_id, quantity))
                    rows.append(
                        ReturnReceipt(
                            line_id=line_id,
                            product_id=product_id,
                            warehouse=warehouse,
                            quantity=quantity,
                            received_by=user,
                        )
                    )
        for warehouse_id, items in per_warehouse.items():
            if items:
                stock.receive(
                    warehouse_id=warehouse_id,
                    items=items,
                    actor=user,
                    document=ro.document,
                    reason=StockMove.Reason.RETURN_IN,
                    note=ro.return_no,
                )
        created = ReturnReceipt.objects.bulk_create(rows)

        complete = all(
            allowed_left[key] - sum(wanted.get(key, [ZERO, ZERO]), ZERO) <= 0
            for key in allowed_left
        )
        summary = {
            "receipts": [
                {
                    "line": r.line_id,
                    "product": r.product_id,
                    "warehouse": r.warehouse.kind,
                    "quantity": str(r.quantity),
                }
                for r in rows
            ]
        }
        if finish or complete:
            ro.status = Status.RECEIVED
            ro.received_at = timezone.now()
            ro.save(update_fields=["status", "received_at", "updated_at"])
            _event(
                ro,
                ReturnEvent.Kind.RECEIVED,
                actor,
                message="" if complete else _("received less than the return order allows"),
                before={"status": Status.APPROVED},
                after={"status": Status.RECEIVED, **summary},
            )
            record_event(
                order=ro.order,
                kind="return_received",
                actor=actor,
                message=_("Goods of return order %(no)s received") % {"no": ro.return_no},
            )
        else:
            ro.save(update_fields=["updated_at"])
            _event(ro, ReturnEvent.Kind.PARTIALLY_RECEIVED, actor, after=summary)
    return created


def _product_label(product) -> str:
    if isinstance(product, Product):
        return product.code
    found = Product.objects.filter(pk=product).values_list("code", flat=True).first()
    return found or str(product)


# --- closing ----------------------------------------------------------------------------------


def close_return(*, return_order: ReturnOrder, actor, note: str = "") -> ReturnOrder:
    """Close a return order: after its goods were received, or when they will not come back.

    Closing an approved return whose goods never (fully) arrived needs a note; what did arrive
    counts as received (the offline ERP gets it).
    """
    note = (note or "").strip()
    with transaction.atomic():
        ro = _lock(return_order)
        _require_status(ro, [Status.APPROVED, Status.RECEIVED], pgettext("return action", "close"))
        _require_perm(actor, "returns.close_returnorder", pgettext("return action", "close"))
        before = {"status": ro.status}
        now = timezone.now()
        fields = ["status", "closed_at", "updated_at"]
        if ro.status == Status.APPROVED:
            if not note:
                raise ReturnError(
                    _("The goods of %(no)s were not received: say why it is closed anyway.")
                    % {"no": ro.return_no}
                )
            if ReturnReceipt.objects.filter(line__return_order=ro).exists():
                ro.received_at = now
                fields.append("received_at")
        ro.status = Status.CLOSED
        ro.closed_at = now
        ro.save(update_fields=fields)
        _event(
            ro,
            ReturnEvent.Kind.CLOSED,
            actor,
            message=note,
            before=before,
            after={"status": ro.status},
        )
    return ro
