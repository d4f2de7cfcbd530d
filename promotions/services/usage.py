"""Limits taken inside the caller's order transaction.

``reserve_usage(quote=…, member=…, order_ref=…)`` is called by the store app in the SAME
transaction that creates the order. It locks the rows of the promotions the quote used with
``SELECT … FOR UPDATE`` in primary-key order (two checkouts lock in the same order, so they
cannot deadlock), then, holding the locks, checks and takes:

- total uses (``uses + 1 ≤ max_uses``) and the budget (``given + amount ≤ budget``); the
  counters ``uses``/``given`` are kept (in one statement) for promotions with a limit only:
  those without one are not locked at all, so busy unlimited promotions never serialise
  checkouts; their usage rows are their record;
- uses per member: counted from the usage rows, which only a holder of the promotion's lock
  writes, so two checkouts of one member see each other (READ COMMITTED: each statement after
  the lock sees what the previous holder committed);
- the red packet spent: its row locked, it must still be in the member's wallet (spent once).

A refused limit raises ``PromotionError`` (codes ``exhausted``, ``budget``, ``per_member``,
``inactive``, ``red_packet``) and the caller's transaction rolls back: nothing is taken.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Count
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
        # Simple reads: the versions by code, then a lock on those with a limit, in pk order.
        wanted = {a.code for a in applied}
        codes = {_split_key(a.code)[0] for a in applied}
        rows = {p.key: p for p in Promotion.objects.filter(code__in=codes) if p.key in wanted}
        limited = sorted(p.pk for p in rows.values() if p.is_limited)
        if limited:
            rows.update(
                (p.key, p)
                for p in Promotion.objects.select_for_update(of=("self",))
                .filter(pk__in=limited)
                .order_by("pk")
            )
        per_member = {}
        counted = [rows[a.code].pk for a in applied if a.code in rows
                   and rows[a.code].max_uses_per_member is not None]  # fmt: skip
        if counted and member is not None:
            per_member = dict(
                PromotionUsage.objects.filter(promotion_id__in=counted, member=member)
                .values_list("promotion_id")
                .annotate(n=Count("id"))
            )
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
                if per_member.get(p.pk, 0) + 1 > p.max_uses_per_member:
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
        _count([(rows[a.code].pk, a.amount) for a in applied if rows[a.code].is_limited])
    if quote.red_packet_spent > 0:
        spend_red_packet(
            ref=quote.red_packet_ref,
            member=member,
            order_ref=order_ref,
            amount=quote.red_packet_spent,
        )
    return usages


def _count(taken: list[tuple[int, object]]) -> None:
    """Add one use and its amount to each locked promotion, in one statement."""
    if not taken:
        return
    values = ", ".join(["(%s, %s::numeric)"] * len(taken))
    params = [x for pk, amount in taken for x in (pk, amount)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Promotion._meta.db_table} AS p SET uses = p.uses + 1, "
            f"given = p.given + v.amount FROM (VALUES {values}) AS v(id, amount) "
            "WHERE p.id = v.id",
            params,
        )
