"""Limits taken inside the caller's order transaction.

``reserve_usage(quote=…, member=…, order_ref=…)`` is called by the store app in the SAME
transaction that creates the order, as its LAST step (the locks are held until the commit).
It locks the rows of the limited promotions the quote used with ``SELECT … FOR NO KEY UPDATE``
in primary-key order (two checkouts lock in the same order, so they cannot deadlock; other
checkouts' usage rows, whose foreign-key checks take KEY SHARE locks, are not blocked by it),
then, holding the locks, checks and takes:

- total uses (``uses + 1 ≤ max_uses``) and the budget (``given + amount ≤ budget``), checked
  on what the counting ``UPDATE … RETURNING`` wrote (an UPDATE always works on the row's latest
  version, whatever the lock's SELECT returned); the
  counters ``uses``/``given`` are kept (in one statement) for promotions with a limit only:
  those without one are not locked at all, so busy unlimited promotions never serialise
  checkouts; their usage rows are their record;
- uses per member: counted from the usage rows after the lock; a concurrent checkout's rows
  are committed before it releases the lock, so two checkouts of one member see each other
  (READ COMMITTED: each statement after the lock sees what the previous holder committed);
- the red packet spent: its row locked, it must still be in the member's wallet (spent once).

A refused limit raises ``PromotionError`` (codes ``exhausted``, ``budget``, ``per_member``,
``inactive``, ``red_packet``) and the caller's transaction rolls back: nothing is taken.

``release_order(order_ref=…)`` gives it all back when the order is cancelled (an unpaid store
order expired, or any cancellation): its usage rows are marked released (they count towards no
limit any more; the row stays as the record), the counters of the limited promotions go down
by what the order took, the red packet spent on it is back in the wallet, and the cash-back it
earned (if it was paid) is void. Exactly once: the ``UPDATE … WHERE released_at IS NULL``
that marks the rows is the claim, so a second release (the expiry run twice, two workers)
finds nothing left to give back. Lock order as in ``reserve_usage`` for the promotions (by pk).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection, transaction
from django.db.models import Count
from django.utils.translation import gettext as _

from core.clock import now

from ..errors import PromotionError
from ..models import LIMITED, Member, Promotion, PromotionUsage
from ..quote import Quote
from .redpackets import return_spent_packet, spend_red_packet, void_cashback


def _split_key(key: str) -> tuple[str, int]:
    code, _sep, version = key.rpartition(".v")
    if not code or not version.isdigit():
        raise PromotionError("unknown", _("Unknown promotion %(code)s.") % {"code": key})
    return code, int(version)


def reserve_usage(*, quote: Quote, member: Member | None, order_ref: str) -> list[PromotionUsage]:
    """Take the uses, budgets and red packet of ``quote`` for the order ``order_ref``."""
    if not connection.in_atomic_block:
        raise RuntimeError("reserve_usage must run inside the order's transaction")
    if quote.member_ref and (member is None or member.ref != quote.member_ref):
        raise PromotionError("member", _("The quote was made for another member."))
    at = now()
    usages: list[PromotionUsage] = []
    applied = list(quote.promotions)
    if applied:
        # 1. Plain reads: the versions by code; each must still be active.
        wanted = {a.code for a in applied}
        codes = {_split_key(a.code)[0] for a in applied}
        rows = {p.key: p for p in Promotion.objects.filter(code__in=codes) if p.key in wanted}
        for item in applied:
            _check_active(rows.get(item.code), item.code, at)
            p = rows[item.code]
            if p.max_uses_per_member is not None and member is None:
                raise PromotionError(
                    "per_member", _("%(name)s is for members only.") % {"name": p.name}
                )
        # 2. Lock the promotions with a limit, in pk order (FOR NO KEY UPDATE: the usage rows'
        #    foreign-key checks of other checkouts are not blocked by it).
        limited = sorted(p.pk for p in rows.values() if p.is_limited)
        if limited:
            fresh = {
                p.pk: p
                for p in Promotion.objects.select_for_update(no_key=True, of=("self",))
                .filter(pk__in=limited)
                .order_by("pk")
            }
            for item in applied:
                if rows[item.code].pk in fresh:
                    _check_active(fresh[rows[item.code].pk], item.code, at)
            # 3. Count the use and the amount, and check the limits on what the UPDATE wrote
            #    (it always works on the row's latest version).
            after = _count(
                [(rows[a.code].pk, a.amount) for a in applied if rows[a.code].pk in fresh]
            )
            for pk, (uses, given) in after.items():
                p = fresh[pk]
                if p.max_uses is not None and uses > p.max_uses:
                    raise PromotionError(
                        "exhausted", _("%(name)s has been used up.") % {"name": p.name}
                    )
                if p.budget is not None and given > p.budget:
                    raise PromotionError(
                        "budget", _("%(name)s has no budget left.") % {"name": p.name}
                    )
            # 4. Uses per member, counted while holding the lock (each statement now sees
            #    what the previous holder committed).
            counted = [pk for pk in limited if fresh[pk].max_uses_per_member is not None]
            if counted:
                per_member = dict(
                    PromotionUsage.objects.filter(
                        promotion_id__in=counted, member=member, released_at__isnull=True
                    )
                    .values_list("promotion_id")
                    .annotate(n=Count("id"))
                )
                for pk in counted:
                    p = fresh[pk]
                    if per_member.get(pk, 0) + 1 > p.max_uses_per_member:
                        raise PromotionError(
                            "per_member",
                            _("This member has already used %(name)s.") % {"name": p.name},
                        )
        # 5. The usage rows.
        usages = PromotionUsage.objects.bulk_create(
            [
                PromotionUsage(promotion=rows[a.code], member=member, order_ref=order_ref,
                               amount=a.amount, created_at=at)
                for a in applied
            ]
        )  # fmt: skip
    if quote.red_packet_spent > 0:
        spend_red_packet(
            ref=quote.red_packet_ref,
            member=member,
            order_ref=order_ref,
            amount=quote.red_packet_spent,
        )
    return usages


def _check_active(p: Promotion | None, code: str, at) -> None:
    if p is None or p.status != Promotion.Status.APPROVED or not (p.starts_at <= at < p.ends_at):
        raise PromotionError(
            "inactive",
            _("%(name)s is no longer active: price the cart again.")
            % {"name": p.name if p else code},
        )


def _count(taken: list[tuple[int, object]]) -> dict[int, tuple[int, object]]:
    """Add one use and its amount to each locked promotion, in one statement; the counters
    after it, by promotion id."""
    if not taken:
        return {}
    values = ", ".join(["(%s, %s::numeric)"] * len(taken))
    params = [x for pk, amount in taken for x in (pk, amount)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Promotion._meta.db_table} AS p SET uses = p.uses + 1, "
            f"given = p.given + v.amount FROM (VALUES {values}) AS v(id, amount) "
            "WHERE p.id = v.id RETURNING p.id, p.uses, p.given",
            params,
        )
        return {pk: (uses, given) for pk, uses, given in cursor.fetchall()}


@dataclass(frozen=True)
class Released:
    """What ``release_order`` gave back (nothing when it had been released already)."""

    uses: int  # promotion uses released
    red_packet_ref: str  # the packet back in the wallet, or ""
    red_packet_amount: Decimal
    cashback_voided: Decimal  # the pending cash-back of a paid order, now void


def release_order(*, order_ref: str, actor=None) -> Released:
    """Give back what the order ``order_ref`` took: uses, budgets, the red packet spent on it;
    void the cash-back it earned. Call it in the cancelling transaction; once per order."""
    at = now()
    table = PromotionUsage._meta.db_table
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET released_at = %s "
                "WHERE order_ref = %s AND released_at IS NULL RETURNING promotion_id, amount",
                [at, order_ref],
            )
            taken = cursor.fetchall()
        if taken:
            amounts: dict[int, Decimal] = {}
            for pk, amount in taken:
                amounts[pk] = amounts.get(pk, Decimal(0)) + amount
            # The counters were kept for the limited promotions only (see reserve_usage).
            limited = list(
                Promotion.objects.select_for_update(no_key=True, of=("self",))
                .filter(pk__in=list(amounts))
                .filter(LIMITED)
                .order_by("pk")
                .values_list("pk", flat=True)
            )
            if limited:
                values = ", ".join(["(%s, %s::numeric)"] * len(limited))
                params = [x for pk in limited for x in (pk, amounts[pk])]
                with connection.cursor() as cursor:
                    cursor.execute(
                        f"UPDATE {Promotion._meta.db_table} AS p SET uses = p.uses - 1, "
                        f"given = p.given - v.amount FROM (VALUES {values}) AS v(id, amount) "
                        "WHERE p.id = v.id",
                        params,
                    )
        packet_ref, packet_amount = return_spent_packet(order_ref=order_ref, actor=actor)
        voided = void_cashback(order_ref=order_ref, actor=actor)
    return Released(
        uses=len(taken),
        red_packet_ref=packet_ref,
        red_packet_amount=packet_amount,
        cashback_voided=voided,
    )
