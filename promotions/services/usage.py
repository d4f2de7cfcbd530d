"""Limits taken inside the caller's order transaction.

``reserve_usage(quote=…, member=…, order_ref=…)`` is called by the store app in the SAME
transaction that creates the order, as its LAST step (the locks are held until the commit).
It reads the versions the quote used (plain, raw SQL: no model instances on the checkout's
path), writes the usage rows (one statement), spends the red packet, and LAST locks the rows of
the limited promotions with ``SELECT … FOR NO KEY UPDATE`` in primary-key order (two checkouts
lock in the same order, so they cannot deadlock; other checkouts' usage rows, whose foreign-key
checks take KEY SHARE locks, are not blocked by it) — last, so that a lock is held for as little
as possible: the counting, the per-member count and the caller's commit. Holding the locks, it
checks and takes:

- total uses (``uses + 1 ≤ max_uses``) and the budget (``given + amount ≤ budget``), checked
  on what the counting ``UPDATE … RETURNING`` wrote (an UPDATE always works on the row's latest
  version, whatever the lock's SELECT returned); the
  counters ``uses``/``given`` are kept (in one statement) for promotions with a limit only:
  those without one are not locked at all, so busy unlimited promotions never serialise
  checkouts; their usage rows are their record;
- uses per member: counted from the (unreleased) usage rows after the lock, this order's own
  included; a concurrent checkout's rows are committed before it releases the lock, so two
  checkouts of one member see each other (READ COMMITTED: each statement after the lock sees
  what the previous holder committed);
- the red packet spent: its row locked, it must still be in the member's wallet (spent once).

A refused limit raises ``PromotionError`` (codes ``exhausted``, ``budget``, ``per_member``,
``inactive``, ``red_packet``) and the caller's transaction rolls back: nothing is taken.

``release_order(order_ref=…)`` gives it all back when the order is cancelled (an unpaid store
order expired, or any cancellation): its usage rows are marked released (they count towards no
limit any more; the row stays as the record), the counters of the limited promotions go down
by what the order took, the red packet spent on it is back in the wallet, and the cash-back it
earned (if it was paid) is void. Exactly once: the ``UPDATE … WHERE released_at IS NULL``
that marks the rows is the claim, so a second release (the expiry run twice, two workers)
finds nothing left to give back. Locks in the order of ``reserve_usage``: the packet, then the
promotions by pk.
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


_PROMOTION = Promotion._meta.db_table
_USAGE = PromotionUsage._meta.db_table
# "Active now", worked out by the database (approved, and ``at`` in its window).
_ACTIVE = "{p}status = %s AND {p}starts_at <= %s AND %s < {p}ends_at"
# What the checks need of each version the quote used, a plain read (no model instances):
# (pk, code, version, name, active, max_uses, budget, max_uses_per_member). The limits of an
# approved version never change (a used promotion is never edited), so they are read here.
_Row = tuple


def reserve_usage(*, quote: Quote, member: Member | None, order_ref: str) -> int:
    """Take the uses, budgets and red packet of ``quote`` for the order ``order_ref``; returns
    the number of promotion uses taken."""
    if not connection.in_atomic_block:
        raise RuntimeError("reserve_usage must run inside the order's transaction")
    if quote.member_ref and (member is None or member.ref != quote.member_ref):
        raise PromotionError("member", _("The quote was made for another member."))
    at = now()
    applied = list(quote.promotions)
    rows: dict[str, _Row] = {}
    if applied:
        # 1. A plain read of the versions used; each must still be active.
        wanted = {a.code: _split_key(a.code) for a in applied}
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT id, code, version, name, {_ACTIVE.format(p='')}, max_uses, budget, "
                f"max_uses_per_member FROM {_PROMOTION} WHERE code = ANY(%s)",
                [Promotion.Status.APPROVED, at, at, sorted({c for c, _v in wanted.values()})],
            )
            found = {(r[1], r[2]): r for r in cursor.fetchall()}
        for key, code_version in wanted.items():
            row = found.get(code_version)
            _check_active(row, key)
            rows[key] = row
            if row[7] is not None and member is None:
                raise PromotionError(
                    "per_member", _("%(name)s is for members only.") % {"name": row[3]}
                )
        # 2. The usage rows, in one statement (their foreign-key checks take KEY SHARE locks,
        #    which the FOR NO KEY UPDATE locks of other checkouts do not block).
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {_USAGE} (promotion_id, member_id, order_ref, amount, created_at) "
                "SELECT p, m, %s, a, %s FROM unnest(%s::bigint[], %s::numeric[]) AS u(p, a) "
                "CROSS JOIN (SELECT %s::bigint AS m) AS who",
                [
                    order_ref,
                    at,
                    [rows[a.code][0] for a in applied],
                    [a.amount for a in applied],
                    member.pk if member is not None else None,
                ],
            )
    # 3. The red packet spent: its row locked, spent once.
    if quote.red_packet_spent > 0:
        spend_red_packet(
            ref=quote.red_packet_ref,
            member=member,
            order_ref=order_ref,
            amount=quote.red_packet_spent,
        )
    # 4. Last: the limits.
    limited = [
        (rows[a.code], a.amount)
        for a in applied
        if any(limit is not None for limit in rows[a.code][5:8])
    ]
    if limited:
        _take_limits(limited, member, at)
    return len(applied)


def _take_limits(limited: list[tuple[_Row, object]], member, at) -> None:
    """LAST (the locks are held until the caller commits, so as little as possible after them):
    ONE statement locks the limited promotions in pk order (``SELECT … ORDER BY id FOR NO KEY
    UPDATE`` in its FROM: two checkouts lock in the same order, so they cannot deadlock), adds
    the use and the amount and returns the counters it wrote (an UPDATE works on the row's
    latest version) and whether the version is still active; the limits are checked on that.
    Then the member's uses are counted (each statement after the lock sees what the previous
    holder committed)."""
    by_pk = {row[0]: row for row, _amount in limited}
    values = ", ".join(["(%s, %s::numeric)"] * len(limited))
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {_PROMOTION} AS p SET uses = p.uses + 1, given = p.given + v.amount "
            f"FROM (SELECT id FROM {_PROMOTION} WHERE id = ANY(%s) ORDER BY id "
            f"FOR NO KEY UPDATE) AS l, (VALUES {values}) AS v(id, amount) "
            f"WHERE p.id = l.id AND p.id = v.id "
            f"RETURNING p.id, p.uses, p.given, {_ACTIVE.format(p='p.')}",
            [
                sorted(by_pk),
                *[x for row, amount in limited for x in (row[0], amount)],
                Promotion.Status.APPROVED,
                at,
                at,
            ],
        )
        after = cursor.fetchall()
    for pk, uses, given, active in after:
        _pk, code, version, name, _active, max_uses, budget, _per_member = by_pk[pk]
        _check_active(None if not active else by_pk[pk], f"{code}.v{version}", name)
        if max_uses is not None and uses > max_uses:
            raise PromotionError("exhausted", _("%(name)s has been used up.") % {"name": name})
        if budget is not None and given > budget:
            raise PromotionError("budget", _("%(name)s has no budget left.") % {"name": name})
    counted = [pk for pk, row in by_pk.items() if row[7] is not None]
    if counted:
        # This order's own rows are counted too (written above).
        per_member = dict(
            PromotionUsage.objects.filter(
                promotion_id__in=counted, member=member, released_at__isnull=True
            )
            .values_list("promotion_id")
            .annotate(n=Count("id"))
        )
        for pk in counted:
            if per_member.get(pk, 0) > by_pk[pk][7]:
                raise PromotionError(
                    "per_member",
                    _("This member has already used %(name)s.") % {"name": by_pk[pk][3]},
                )


def _check_active(row: _Row | None, key: str, name: str = "") -> None:
    if row is None or not row[4]:
        raise PromotionError(
            "inactive",
            _("%(name)s is no longer active: price the cart again.")
            % {"name": name or (row[3] if row else key)},
        )


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
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {_USAGE} SET released_at = %s "
                "WHERE order_ref = %s AND released_at IS NULL RETURNING promotion_id, amount",
                [at, order_ref],
            )
            taken = cursor.fetchall()
        # The packet before the promotions, as reserve_usage locks them.
        packet_ref, packet_amount = return_spent_packet(order_ref=order_ref, actor=actor)
        voided = void_cashback(order_ref=order_ref, actor=actor)
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
                        f"UPDATE {_PROMOTION} AS p SET uses = p.uses - 1, "
                        f"given = p.given - v.amount FROM (VALUES {values}) AS v(id, amount) "
                        "WHERE p.id = v.id",
                        params,
                    )
    return Released(
        uses=len(taken),
        red_packet_ref=packet_ref,
        red_packet_amount=packet_amount,
        cashback_voided=voided,
    )
