"""Reads: what pricing needs (as plain dataclasses), wallets, members, "what we hold"."""

from __future__ import annotations

import datetime as dt
import threading
from dataclasses import dataclass
from decimal import Decimal

from django.db import connection
from django.db.models import F, Q, Sum

from .models import Member, MemberPrice, Promotion, PromotionUsage, RedPacket, WalletEntry
from .phones import PhoneError, mask_phone, normalize_phone
from .rules import MemberTerms, RedPacketToSpend, Rule, Tier


@dataclass(frozen=True)
class PricingContext:
    """Everything ``quote`` needs besides the cart, loaded in one place."""

    member: MemberTerms | None
    promotions: tuple[Rule, ...]


def find_member(phone: str) -> Member | None:
    """The member with this phone (any spelling: +86, spaces, dashes), or None."""
    try:
        phone = normalize_phone(phone)
    except PhoneError:
        return None
    return Member.objects.select_related("level").filter(phone=phone).first()


def member_by_ref(ref: str) -> Member | None:
    """The member a quote was made for (``Quote.member_ref``, "M12"), or None."""
    if not ref or not ref.startswith("M") or not ref[1:].isdigit():
        return None
    return Member.objects.select_related("level").filter(pk=int(ref[1:])).first()


def member_terms(member: Member | None) -> MemberTerms | None:
    if member is None or member.erased_at is not None:
        return None
    prices, style_prices = {}, {}
    for product_code, style_code, price in (
        MemberPrice.objects.filter(level_id=member.level_id)
        .order_by("pk")
        .values_list("product_code", "style_code", "price")
    ):
        if product_code:
            prices[product_code] = price
        else:
            style_prices[style_code] = price
    return MemberTerms(
        ref=member.ref,
        level_code=member.level.code,
        level_label=member.level.name,
        discount_percent=member.level.discount_percent,
        prices=prices,
        style_prices=style_prices,
    )


def to_rule(p: Promotion) -> Rule:
    return Rule(
        code=p.key,
        label=p.name,
        kind=p.kind,
        priority=p.priority,
        exclusive_group=p.exclusive_group,
        members_only=p.members_only,
        store_codes=frozenset(p.store_codes or ()),
        product_codes=frozenset(p.product_codes or ()),
        style_codes=frozenset(p.style_codes or ()),
        level_codes=frozenset(p.level_codes or ()),
        starts_at=p.starts_at,
        ends_at=p.ends_at,
        unit_price=p.unit_price,
        percent=p.percent or Decimal("0"),
        tiers=tuple(
            Tier(
                threshold=Decimal(t["threshold"]),
                amount=Decimal(t.get("amount") or 0),
                percent=Decimal(t.get("percent") or 0),
            )
            for t in p.tiers or ()
        ),
        every=p.every,
        every_amount=p.every_amount,
        cap=p.cap,
    )


# Approved promotions as rules, kept per process and rebuilt when the approved set changes
# (its stamp: how many, the last approval, the sum of their ids). Counters of promotions with
# a limit are read fresh on every call, so a used-up promotion is never offered.
_RULES_CACHE: tuple | None = None
_RULES_LOCK = threading.Lock()


def _approved_state() -> tuple[tuple, dict[int, tuple]]:
    """One round trip: the stamp of the approved set, and the counters (uses, given) of the
    approved promotions with a use or budget limit, read now."""
    table = Promotion._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT s.n, s.last, s.ids, c.id, c.uses, c.given FROM (SELECT count(*) AS n, "
            f"max(approved_at) AS last, sum(id) AS ids FROM {table} WHERE status = %s) AS s "
            f"LEFT JOIN {table} AS c ON c.status = %s "
            "AND (c.max_uses IS NOT NULL OR c.budget IS NOT NULL)",
            [Promotion.Status.APPROVED, Promotion.Status.APPROVED],
        )
        rows = cursor.fetchall()
    stamp = tuple(rows[0][:3])
    return stamp, {pk: (uses, given) for _n, _l, _i, pk, uses, given in rows if pk is not None}


def _approved_rules(stamp: tuple) -> list[tuple[Promotion, Rule]]:
    global _RULES_CACHE
    cached = _RULES_CACHE
    if cached is not None and cached[0] == stamp:
        return cached[1]
    with _RULES_LOCK:
        rows = Promotion.objects.filter(status=Promotion.Status.APPROVED).order_by(
            "priority", "code", "version"
        )
        built = [(p, to_rule(p)) for p in rows]
        _RULES_CACHE = (stamp, built)
    return built


def active_rules(*, store_code: str, at: dt.datetime) -> list[Rule]:
    """The rules of approved promotions in their window for this store, with uses and budget
    left (the counters read now, in the same statement as the approved set's stamp)."""
    stamp, counters = _approved_state()
    out = []
    for p, rule in _approved_rules(stamp):
        if not (p.starts_at <= at < p.ends_at) or (
            p.store_codes and store_code not in p.store_codes
        ):
            continue
        if p.pk in counters:
            uses, given = counters[p.pk]
            if p.max_uses is not None and uses >= p.max_uses:
                continue
            if p.budget is not None and given >= p.budget:
                continue
        out.append(rule)
    return out


def active_promotions(*, store_code: str, at: dt.datetime) -> list[Promotion]:
    """Approved versions in their window for this store, with uses and budget left."""
    qs = (
        Promotion.objects.filter(
            status=Promotion.Status.APPROVED, starts_at__lte=at, ends_at__gt=at
        )
        .filter(Q(max_uses__isnull=True) | Q(uses__lt=F("max_uses")))
        .filter(Q(budget__isnull=True) | Q(given__lt=F("budget")))
        .order_by("priority", "code", "version")
    )
    return [p for p in qs if not p.store_codes or store_code in p.store_codes]


def pricing_context(
    *, store_code: str, at: dt.datetime, member: Member | None = None
) -> PricingContext:
    return PricingContext(
        member=member_terms(member),
        promotions=tuple(active_rules(store_code=store_code, at=at)),
    )


def spendable_red_packets(member: Member | None) -> list[RedPacket]:
    if member is None:
        return []
    return list(
        RedPacket.objects.filter(member=member, status=RedPacket.Status.ISSUED).order_by(
            "issued_at", "pk"
        )
    )


def red_packet_to_spend(member: Member | None, ref: str = "") -> RedPacketToSpend | None:
    """The member's packet ``ref`` (or their oldest one) as the quote spends it, or None."""
    for packet in spendable_red_packets(member):
        if not ref or packet.ref == ref:
            return RedPacketToSpend(ref=packet.ref, amount=packet.balance, label=packet.ref)
    return None


def packet_earned_on(order_ref: str) -> RedPacket | None:
    """The red packet the order ``order_ref`` earned (pending, issued, spent or void), or None."""
    return RedPacket.objects.filter(order_ref=order_ref).first()


def packet_by_ref(ref: str) -> RedPacket | None:
    if not ref.startswith("RP") or not ref[2:].isdigit():
        return None
    return RedPacket.objects.filter(pk=int(ref[2:])).first()


def wallet_balance(member: Member) -> Decimal:
    return sum((p.balance for p in spendable_red_packets(member)), Decimal("0.00"))


def phone_for(user, member: Member) -> str:
    """The phone as ``user`` may see it: whole for store managers, masked for everyone else."""
    if user is not None and user.has_perm("promotions.see_member_phone"):
        return member.phone or ""
    return mask_phone(member.phone)


def member_data(member: Member) -> dict:
    """What we hold about a member ("what we hold about you"), JSON-ready."""
    return {
        "member": {
            "ref": member.ref,
            "phone": member.phone,
            "name": member.name,
            "level": member.level.name,
            "home_store": member.home_store,
            "consent_at": member.consent_at.isoformat(),
            "consent_place": member.consent_place,
            "enrolled_by": member.enrolled_by.get_username() if member.enrolled_by else None,
            "total_spend": str(member.total_spend),
            "created_at": member.created_at.isoformat(),
            "erased_at": member.erased_at.isoformat() if member.erased_at else None,
        },
        "spends": [
            {
                "order": s.order_ref,
                "store": s.store_code,
                "amount": str(s.amount),
                "at": s.created_at.isoformat(),
            }
            for s in member.spends.order_by("created_at", "pk")
        ],  # fmt: skip
        "promotions_used": [
            {"promotion": u.promotion.key, "order": u.order_ref, "amount": str(u.amount)}
            for u in PromotionUsage.objects.filter(member=member)
            .select_related("promotion")
            .order_by("created_at", "pk")
        ],
        "red_packets": [
            {
                "ref": p.ref,
                "order": p.order_ref,
                "earned": str(p.earned),
                "taken_back": str(p.taken_back),
                "status": p.status,
                "spent_on": p.spent_on,
            }
            for p in member.red_packets.order_by("earned_at", "pk")
        ],  # fmt: skip
        "wallet": [
            {
                "kind": e.kind,
                "amount": str(e.amount),
                "order": e.order_ref,
                "return": e.return_ref,
                "at": e.created_at.isoformat(),
            }
            for e in WalletEntry.objects.filter(member=member).order_by("created_at", "pk")
        ],  # fmt: skip
    }


def clawed_back(packet: RedPacket) -> Decimal:
    """What returns took back of ``packet`` so far (from it, or deducted from refunds), less
    what rejected returns gave back."""
    total = packet.entries.filter(
        kind__in=[WalletEntry.Kind.TAKEN_BACK, WalletEntry.Kind.DEDUCTED, WalletEntry.Kind.RESTORED]
    ).aggregate(s=Sum("amount"))["s"]
    return -(total or Decimal("0.00"))


def drafts_to_approve_by(user):
    """The draft promotions ``user`` may approve: every draft but their own."""
    return Promotion.objects.filter(status=Promotion.Status.DRAFT).exclude(created_by=user)
