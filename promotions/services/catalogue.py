"""Promotions: made by a store manager, active once ANOTHER manager (or an administrator)
approves them, never edited once used (a new version replaces them).

- ``create_promotion`` makes a draft; ``update_promotion`` changes a draft, or an approved but
  unused version (which then goes back to draft and needs approval again); a used version is
  refused: ``new_version`` copies it as a draft that, once approved, retires the old one.
- ``approve_promotion`` needs ``promotions.approve_promotion`` and refuses the creator; it
  refuses a promotion that could give a negative amount (a 满100减150, a percentage beyond
  100, a negative price): refused when approved, not when used.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django.db import transaction
from django.db.models import Max
from django.utils.translation import gettext as _

from core.clock import now

from ..errors import PromotionError
from ..models import Promotion

Kind = Promotion.Kind
Status = Promotion.Status

EDITABLE = [
    "name", "kind", "priority", "exclusive_group", "members_only", "store_codes",
    "product_codes", "style_codes", "level_codes", "starts_at", "ends_at", "unit_price",
    "percent", "tiers", "every", "every_amount", "cap", "budget", "max_uses",
    "max_uses_per_member",
]  # fmt: skip


def _user(actor):
    return actor if getattr(actor, "pk", None) and hasattr(actor, "has_perm") else None


def _codes(value) -> list[str]:
    if isinstance(value, str):
        value = value.replace("，", ",").split(",")
    return sorted({str(v).strip() for v in value or () if str(v).strip()})


def _decimal(value, what) -> Decimal:
    try:
        result = Decimal(str(value))
    except (InvalidOperation, TypeError, ValueError):
        raise PromotionError(
            "bad_number", _("%(what)s is not a number.") % {"what": what}
        ) from None
    if not result.is_finite():
        raise PromotionError("bad_number", _("%(what)s is not a number.") % {"what": what})
    return result


def _tiers(value) -> list[dict]:
    tiers = []
    for tier in value or ():
        if not isinstance(tier, dict) or "threshold" not in tier:
            raise PromotionError("bad_tiers", _("Each tier needs a threshold."))
        clean = {
            "threshold": str(_decimal(tier["threshold"], _("threshold")).quantize(Decimal("0.01")))
        }
        for key in ("amount", "percent"):
            if tier.get(key) not in (None, ""):
                clean[key] = str(_decimal(tier[key], key).quantize(Decimal("0.01")))
        tiers.append(clean)
    return sorted(tiers, key=lambda t: Decimal(t["threshold"]))


def _normalise(fields: dict) -> dict:
    out = dict(fields)
    for key in ("store_codes", "product_codes", "style_codes", "level_codes"):
        if key in out:
            out[key] = _codes(out[key])
    if "tiers" in out:
        out["tiers"] = _tiers(out["tiers"])
    return out


def could_go_negative(p: Promotion) -> str | None:
    """Why ``p`` could give a negative amount (or take more than there is), or None."""
    zero, hundred = Decimal(0), Decimal(100)
    if p.percent is not None and not (zero <= p.percent <= hundred):
        return _("a percentage must be between 0 and 100")
    if p.unit_price is not None and p.unit_price < 0:
        return _("a price cannot be negative")
    for tier in p.tiers or ():
        threshold = Decimal(tier["threshold"])
        amount = Decimal(tier.get("amount") or 0)
        percent = Decimal(tier.get("percent") or 0)
        if threshold < 0 or amount < 0 or not (zero <= percent <= hundred):
            return _("a tier cannot be negative")
        if p.kind == Kind.SPEND_AND_SAVE and amount > threshold:
            return _("满%(t)s减%(a)s takes off more than was spent") % {"t": threshold, "a": amount}
    if p.every is not None:
        if p.every <= 0 or p.every_amount < 0:
            return _("“every” must be positive and its amount not negative")
        if p.kind == Kind.SPEND_AND_SAVE and p.every_amount > p.every:
            return _("每满%(t)s减%(a)s takes off more than was spent") % {
                "t": p.every,
                "a": p.every_amount,
            }
    for value in (p.cap, p.budget):
        if value is not None and value < 0:
            return _("a cap or budget cannot be negative")
    return None


def _check_shape(p: Promotion) -> None:
    if not p.name.strip():
        raise PromotionError("no_name", _("A promotion needs a name."))
    if p.kind not in Kind.values:
        raise PromotionError("bad_kind", _("Unknown kind of promotion."))
    if p.ends_at <= p.starts_at:
        raise PromotionError("bad_window", _("A promotion must end after it starts."))
    if p.kind == Kind.ITEM and p.unit_price is None and not p.percent:
        raise PromotionError("no_reward", _("An item promotion needs a price or a percentage."))
    if (
        p.kind != Kind.ITEM
        and not p.tiers
        and p.every is None
        and not (p.kind == Kind.CASHBACK and p.percent)
    ):
        raise PromotionError("no_reward", _("Give tiers, an “every” amount or a percentage."))


def create_promotion(*, actor, code: str, **fields) -> Promotion:
    """A new draft promotion (version 1 of ``code``)."""
    user = _user(actor)
    if user is not None and not user.has_perm("promotions.add_promotion"):
        raise PromotionError("forbidden", _("You may not make promotions."))
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise TypeError(f"unknown promotion fields: {sorted(unknown)}")
    promotion = Promotion(
        code=code.strip(), version=1, created_by=user, created_at=now(), **_normalise(fields)
    )
    _check_shape(promotion)
    with transaction.atomic():
        if Promotion.objects.filter(code=promotion.code).exists():
            raise PromotionError("code_taken", _("That code is taken: make a new version."))
        promotion.save()
    return promotion


def _is_used(promotion: Promotion) -> bool:
    return promotion.usages.exists()


def update_promotion(*, promotion: Promotion, actor, **changes) -> Promotion:
    """Change a version that was never used; an approved one goes back to draft."""
    user = _user(actor)
    if user is not None and not user.has_perm("promotions.change_promotion"):
        raise PromotionError("forbidden", _("You may not change promotions."))
    unknown = set(changes) - set(EDITABLE)
    if unknown:
        raise TypeError(f"unknown promotion fields: {sorted(unknown)}")
    with transaction.atomic():
        promotion = Promotion.objects.select_for_update().get(pk=promotion.pk)
        if promotion.status == Status.RETIRED:
            raise PromotionError("retired", _("A retired promotion cannot be changed."))
        if _is_used(promotion):
            raise PromotionError(
                "used", _("This promotion was used: it cannot change; make a new version.")
            )
        for key, value in _normalise(changes).items():
            setattr(promotion, key, value)
        _check_shape(promotion)
        promotion.status = Status.DRAFT
        promotion.approved_by = None
        promotion.approved_at = None
        promotion.save()
    return promotion


def new_version(*, promotion: Promotion, actor) -> Promotion:
    """A draft copy of ``promotion`` as its next version; approving it retires the old one."""
    user = _user(actor)
    if user is not None and not user.has_perm("promotions.add_promotion"):
        raise PromotionError("forbidden", _("You may not make promotions."))
    with transaction.atomic():
        latest = Promotion.objects.filter(code=promotion.code).aggregate(v=Max("version"))["v"]
        copy = Promotion(
            code=promotion.code,
            version=latest + 1,
            supersedes=promotion,
            created_by=user,
            created_at=now(),
            **{key: getattr(promotion, key) for key in EDITABLE},
        )
        copy.save()
    return copy


def approve_promotion(*, promotion: Promotion, actor, system: bool = False) -> Promotion:
    """Make a draft active; by someone with the permission who did not make it. ``system``
    (demo data only) approves without a person; the negative-amount check still applies."""
    user = _user(actor)
    if not system and (user is None or not user.has_perm("promotions.approve_promotion")):
        raise PromotionError("forbidden", _("You may not approve promotions."))
    with transaction.atomic():
        promotion = Promotion.objects.select_for_update().get(pk=promotion.pk)
        if promotion.status != Status.DRAFT:
            raise PromotionError("not_draft", _("Only a draft can be approved."))
        if user is not None and promotion.created_by_id == user.pk:
            raise PromotionError(
                "own_promotion", _("Another manager must approve a promotion you made.")
            )
        reason = could_go_negative(promotion)
        if reason:
            raise PromotionError(
                "could_go_negative",
                _("Refused: this promotion could give a negative amount (%(why)s).")
                % {"why": reason},
            )
        promotion.status = Status.APPROVED
        promotion.approved_by = user
        promotion.approved_at = now()
        promotion.save(update_fields=["status", "approved_by", "approved_at"])
        if promotion.supersedes_id:
            Promotion.objects.filter(
                code=promotion.code, version__lt=promotion.version, status=Status.APPROVED
            ).update(status=Status.RETIRED)
    return promotion


def retire_promotion(*, promotion: Promotion, actor) -> Promotion:
    user = _user(actor)
    if user is not None and not user.has_perm("promotions.change_promotion"):
        raise PromotionError("forbidden", _("You may not change promotions."))
    with transaction.atomic():
        Promotion.objects.filter(pk=promotion.pk).update(status=Status.RETIRED)
    promotion.refresh_from_db()
    return promotion
