"""Red packets (红包): earned on a paid store order, issued after the after-sales window,
spent once on a later order, taken back by returns.

- One packet per order: ``RedPacket.order_ref`` is unique, so earning twice (a task run twice,
  two workers) gives one packet; the ledger's lifecycle entries are unique per packet too.
- A member's wallet is the append-only ``WalletEntry`` ledger; a packet's row carries its state.
- Issued only when the caller says the goods were handed over or delivered at least
  ``PROMOTIONS_RED_PACKET_WINDOW_DAYS`` ago and no return is open (the store app knows; this
  app only knows order references).
- Spent whole on one order (the quote spends at most the order's total; what is left of a
  packet larger than the order lapses), under a row lock: spent once.
- A return takes back the cash-back in proportion to the refunded net, cumulatively (after
  every return of an order, ``earned × refunded so far / order net``, so the returns of a whole
  order take back exactly what was earned). Taken from the packet while it is unspent; once it
  is spent, deducted from the refund (``preview_clawback`` tells the guide before confirming).
  A rejected return gives back what it took (``restore_cashback``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from core.clock import now
from core.money import ZERO, money

from ..errors import PromotionError
from ..models import Member, RedPacket, WalletEntry
from ..quote import Quote

Status = RedPacket.Status
Kind = WalletEntry.Kind


def _user(actor):
    return actor if getattr(actor, "pk", None) and hasattr(actor, "has_perm") else None


def earn_red_packet(
    *, member: Member, order_ref: str, store_code: str, quote: Quote
) -> RedPacket | None:
    """Record the cash-back ``quote`` earned on the paid order ``order_ref`` (pending until
    issued). Once per order: a second call returns the same packet."""
    if quote.cashback <= 0:
        return None
    existing = RedPacket.objects.filter(order_ref=order_ref).first()
    if existing is not None:
        return existing
    at = now()
    try:
        with transaction.atomic():
            packet = RedPacket.objects.create(
                member=member,
                order_ref=order_ref,
                store_code=store_code,
                order_net=quote.total,
                earned=quote.cashback,
                earned_at=at,
            )
            WalletEntry.objects.create(
                member=member, packet=packet, kind=Kind.EARNED, amount=ZERO,
                order_ref=order_ref, created_at=at,
            )  # fmt: skip
    except IntegrityError:
        return RedPacket.objects.get(order_ref=order_ref)
    return packet


def record_paid_order(
    *, member: Member, order_ref: str, store_code: str, quote: Quote
) -> RedPacket | None:
    """At payment of a store order: count its net towards the member's level and record the
    cash-back it earned. Both once per order."""
    from .members import record_member_spend

    with transaction.atomic():
        record_member_spend(
            member=member, order_ref=order_ref, store_code=store_code, amount=quote.total
        )
        return earn_red_packet(
            member=member, order_ref=order_ref, store_code=store_code, quote=quote
        )


@dataclass(frozen=True)
class OrderFacts:
    """What the store app tells us about an order before its packet is issued."""

    handed_over_at: dt.datetime | None  # handed over (take-away, pick-up) or delivered
    return_open: bool


def issue_red_packet(*, order_ref: str, facts: OrderFacts) -> RedPacket | None:
    """Put the order's packet into the wallet when its window has passed with no return open.
    Returns the packet when it was issued now; None when not yet (or already issued)."""
    at = now()
    window = dt.timedelta(days=settings.PROMOTIONS_RED_PACKET_WINDOW_DAYS)
    if facts.handed_over_at is None or facts.return_open or at < facts.handed_over_at + window:
        return None
    with transaction.atomic():
        packet = RedPacket.objects.select_for_update().filter(order_ref=order_ref).first()
        if packet is None or packet.status != Status.PENDING:
            return None
        if packet.balance <= 0:
            packet.status = Status.VOID
            packet.save(update_fields=["status"])
            return None
        packet.status = Status.ISSUED
        packet.issued_at = at
        packet.save(update_fields=["status", "issued_at"])
        WalletEntry.objects.create(
            member_id=packet.member_id, packet=packet, kind=Kind.ISSUED, amount=packet.balance,
            order_ref=order_ref, created_at=at,
        )  # fmt: skip
    return packet


def pending_order_refs() -> list[str]:
    return list(
        RedPacket.objects.filter(status=Status.PENDING)
        .order_by("pk")
        .values_list("order_ref", flat=True)
    )


def issue_due_red_packets(
    *, order_facts: Callable[[list[str]], dict[str, OrderFacts]], batch: int = 500
) -> int:
    """The scheduled task's body: ask ``order_facts`` (the store app's selector: order refs →
    ``OrderFacts``; a ref it does not know is skipped) about every pending packet, issue those
    that are due. Safe to run twice at once: each packet is issued under its row lock."""
    refs = pending_order_refs()
    issued = 0
    for start in range(0, len(refs), batch):
        chunk = refs[start : start + batch]
        facts = order_facts(chunk)
        for ref in chunk:
            if ref in facts and issue_red_packet(order_ref=ref, facts=facts[ref]) is not None:
                issued += 1
    return issued


def lock_red_packet(*, ref: str) -> RedPacket | None:
    """Lock the packet ``ref`` until the caller's transaction ends (None when there is no such
    packet). A caller that will both release an order and spend a packet takes this first, so
    that every transaction locks a packet before promotions, as ``reserve_usage`` and
    ``release_order`` do."""
    from ..selectors import packet_by_ref

    found = packet_by_ref(ref)
    if found is None:
        return None
    return RedPacket.objects.select_for_update().filter(pk=found.pk).first()


def spend_red_packet(*, ref: str, member: Member | None, order_ref: str, amount: Decimal):
    """Spend the packet ``ref`` on ``order_ref`` (inside the order's transaction; once)."""
    from ..selectors import packet_by_ref

    amount = money(amount)
    found = packet_by_ref(ref)
    with transaction.atomic():
        packet = (
            RedPacket.objects.select_for_update().filter(pk=found.pk).first() if found else None
        )
        if packet is None or member is None or packet.member_id != member.pk:
            raise PromotionError("red_packet", _("This red packet is not in the member's wallet."))
        if packet.status != Status.ISSUED:
            raise PromotionError("red_packet", _("This red packet was already spent."))
        if amount <= 0 or amount > packet.balance:
            raise PromotionError("red_packet", _("The red packet is worth less than that."))
        at = now()
        packet.status = Status.SPENT
        packet.spent_on = order_ref
        packet.spent_amount = amount
        packet.spent_at = at
        packet.save(update_fields=["status", "spent_on", "spent_amount", "spent_at"])
        WalletEntry.objects.create(
            member=member, packet=packet, kind=Kind.SPENT, amount=-amount, order_ref=order_ref,
            created_at=at,
        )  # fmt: skip
    return packet


def return_spent_packet(*, order_ref: str, actor=None) -> tuple[str, Decimal]:
    """The order ``order_ref`` was cancelled: the packet spent on it is back in the wallet,
    whole (ref, amount); ("", 0) when none was spent on it or it was given back already."""
    with transaction.atomic():
        packet = (
            RedPacket.objects.select_for_update()
            .filter(spent_on=order_ref, status=Status.SPENT)
            .first()
        )
        if packet is None:
            return "", ZERO
        amount = packet.spent_amount
        packet.status = Status.ISSUED if packet.balance > 0 else Status.VOID
        packet.spent_on, packet.spent_amount, packet.spent_at = "", ZERO, None
        packet.save(update_fields=["status", "spent_on", "spent_amount", "spent_at"])
        WalletEntry.objects.create(
            member_id=packet.member_id, packet=packet, kind=Kind.RETURNED, amount=amount,
            order_ref=order_ref, created_at=now(), actor=_user(actor),
        )  # fmt: skip
    return packet.ref, amount


def void_cashback(*, order_ref: str, actor=None) -> Decimal:
    """The paid order ``order_ref`` was cancelled before its goods were handed over: the
    cash-back it earned (still pending) will never be issued; it is void. Returns what was
    voided (0 when there was none, or it was voided already)."""
    with transaction.atomic():
        packet = (
            RedPacket.objects.select_for_update()
            .filter(order_ref=order_ref, status=Status.PENDING)
            .first()
        )
        if packet is None:
            return ZERO
        amount = packet.balance
        packet.status = Status.VOID
        packet.taken_back = packet.earned
        packet.save(update_fields=["status", "taken_back"])
        WalletEntry.objects.create(
            member_id=packet.member_id, packet=packet, kind=Kind.VOIDED, amount=-amount,
            order_ref=order_ref, created_at=now(), actor=_user(actor),
        )  # fmt: skip
    return amount


@dataclass(frozen=True)
class Clawback:
    """What a return takes back of the cash-back its order earned."""

    from_packet: Decimal  # taken out of the (unspent) packet
    from_refund: Decimal  # deducted from this refund (the packet was spent already)

    @property
    def total(self) -> Decimal:
        return self.from_packet + self.from_refund


NOTHING = Clawback(ZERO, ZERO)


def _clawback(packet: RedPacket, refunded_net: Decimal, refund_amount: Decimal) -> Clawback:
    from ..selectors import clawed_back

    refunded = min(packet.refunded_net + money(refunded_net), packet.order_net)
    if packet.order_net <= 0:
        target = packet.earned
    elif refunded >= packet.order_net:
        target = packet.earned
    else:
        target = money(packet.earned * refunded / packet.order_net)
    due = max(ZERO, target - clawed_back(packet))
    if packet.status in (Status.PENDING, Status.ISSUED):
        from_packet = min(due, packet.balance)
        return Clawback(from_packet, min(due - from_packet, money(refund_amount)))
    return Clawback(ZERO, min(due, money(refund_amount)))


def preview_clawback(*, order_ref: str, refunded_net: Decimal, refund_amount: Decimal) -> Clawback:
    """What ``take_back_cashback`` would take, shown to the guide before the refund is confirmed:
    ``from_refund`` is what the customer gets less."""
    packet = RedPacket.objects.filter(order_ref=order_ref).first()
    if packet is None:
        return NOTHING
    return _clawback(packet, refunded_net, refund_amount)


def take_back_cashback(
    *, order_ref: str, return_ref: str, refunded_net: Decimal, refund_amount: Decimal, actor=None
) -> Clawback:
    """Take back the cash-back for the return ``return_ref`` of ``order_ref`` (call it in the
    return's transaction, with the net of the returned lines and the refund before deduction).
    Once per return: a second call returns what the first took."""
    if not return_ref:
        raise ValueError("a return reference is needed")
    with transaction.atomic():
        packet = RedPacket.objects.select_for_update().filter(order_ref=order_ref).first()
        if packet is None:
            return NOTHING
        done = {e.kind: -e.amount for e in packet.entries.filter(return_ref=return_ref)}
        if done:
            return Clawback(done.get(Kind.TAKEN_BACK, ZERO), done.get(Kind.DEDUCTED, ZERO))
        claw = _clawback(packet, refunded_net, refund_amount)
        at = now()
        packet.refunded_net = min(packet.refunded_net + money(refunded_net), packet.order_net)
        fields = ["refunded_net"]
        if claw.from_packet:
            packet.taken_back += claw.from_packet
            fields.append("taken_back")
            if packet.balance <= 0 and packet.status in (Status.PENDING, Status.ISSUED):
                packet.status = Status.VOID
                fields.append("status")
        packet.save(update_fields=fields)
        for kind, amount in (
            (Kind.TAKEN_BACK, claw.from_packet),
            (Kind.DEDUCTED, claw.from_refund),
        ):
            if amount:
                WalletEntry.objects.create(
                    member_id=packet.member_id, packet=packet, kind=kind, amount=-amount,
                    order_ref=order_ref, return_ref=return_ref, created_at=at,
                    actor=_user(actor),
                )  # fmt: skip
    return claw


def restore_cashback(
    *, order_ref: str, return_ref: str, refunded_net: Decimal, actor=None
) -> Clawback:
    """The return ``return_ref`` of ``order_ref`` was rejected: what it took back is given back
    (in the rejection's transaction; ``refunded_net``: the net of its lines, as counted when it
    took back). What came from the packet is in the packet again (a packet voided by it is
    pending or issued again); what was deducted from its refund is moot, no refund being paid.
    The net it counted no longer counts towards later returns. Once per return; returns what
    was given back (nothing when the return took nothing)."""
    with transaction.atomic():
        packet = RedPacket.objects.select_for_update().filter(order_ref=order_ref).first()
        if packet is None:
            return NOTHING
        done = {e.kind: -e.amount for e in packet.entries.filter(return_ref=return_ref)}
        if not done or Kind.RESTORED in done:
            return NOTHING
        claw = Clawback(done.get(Kind.TAKEN_BACK, ZERO), done.get(Kind.DEDUCTED, ZERO))
        packet.refunded_net = max(ZERO, packet.refunded_net - money(refunded_net))
        fields = ["refunded_net"]
        if claw.from_packet:
            packet.taken_back -= claw.from_packet
            fields.append("taken_back")
            if packet.status == Status.VOID and packet.balance > 0:
                packet.status = Status.ISSUED if packet.issued_at else Status.PENDING
                fields.append("status")
        packet.save(update_fields=fields)
        WalletEntry.objects.create(
            member_id=packet.member_id, packet=packet, kind=Kind.RESTORED, amount=claw.total,
            order_ref=order_ref, return_ref=return_ref, created_at=now(), actor=_user(actor),
        )  # fmt: skip
    return claw
