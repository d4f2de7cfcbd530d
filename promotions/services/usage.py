"""Limits taken inside the caller's order transaction.

``reserve_usage(quote=…, member=…, order_ref=…)`` is called by the store app in the SAME
transaction that creates the order. It locks the rows of the promotions the quote used with
``SELECT … FOR UPDATE`` in primary-key order (two checkouts lock in the same order, so they
cannot deadlock), then, holding the locks, checks and takes:

- total uses (``uses + 1 ≤ max_uses``) and the budget (``given + amount ≤ budget``);
- uses per member: counted from the usage rows, which only a holder of the promotion's lock
  writes, so two checkouts of one member see each other (READ COMMITTED: each statement after
  the lock sees what the previous holder committed);
- the red packet spent: its row locked, it must still be in the member's wallet (spent once).

A refused limit raises ``PromotionError`` (codes ``exhausted``, ``budget``, ``per_member``,
``inactive``, ``red_packet``) and the caller's transaction rolls back: nothing is taken.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import F, Q
from django.utils.translation import gettext as _

from core.clock import now

from ..errors import PromotionError
from ..models import Member, Promotion, PromotionUsage
from ..quote import Quote
from .redpackets import spend_red_packet


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
        keys = [_split_key(a.code) for a in applied]
        match = Q()
        for code, version in keys:
            match |= Q(code=code, version=version)
        rows = {
            p.key: p
            for p in Promotion.objects.select_for_update(of=("self",)).filter(match).order_by("pk")
        }
        for item in applied:
            p = rows.get(item.code)
            if (
                p is None
                or p.status != Promotion.Status.APPROVED
                or not (p.starts_at <= at < p.ends_at)
            ):
                raise PromotionError(
                    "inactive",
                    _("%(name)s is no longer active: price the cart again.")
                    % {"name": p.name if p else item.code},
                )
            if p.max_uses is not None and p.uses + 1 > p.max_uses:
                raise PromotionError(
                    "exhausted", _("%(name)s has been used up.") % {"name": p.name}
                )
            if p.budget is not None and p.given + item.amount > p.budget:
                raise PromotionError("budget", _("%(name)s has no budget left.") % {"name": p.name})
            if p.max_uses_per_member is not None:
                if member is None:
                    raise PromotionError(
                        "per_member", _("%(name)s is for members only.") % {"name": p.name}
                    )
                used = PromotionUsage.objects.filter(promotion=p, member=member).count()
                if used + 1 > p.max_uses_per_member:
                    raise PromotionError(
                        "per_member",
                        _("This member has already used %(name)s.") % {"name": p.name},
                    )
            usages.append(
                PromotionUsage(
                    promotion=p, member=member, order_ref=order_ref, amount=item.amount,
                    created_at=at,
                )
            )  # fmt: skip
        PromotionUsage.objects.bulk_create(usages)
        for item in applied:
            Promotion.objects.filter(pk=rows[item.code].pk).update(
                uses=F("uses") + 1, given=F("given") + item.amount
            )
    if quote.red_packet_spent > 0:
        spend_red_packet(
            ref=quote.red_packet_ref,
            member=member,
            order_ref=order_ref,
            amount=quote.red_packet_spent,
        )
    return usages
