"""Members: enrolment (phone + consent + a one-time code), spend and levels, "what we hold
about you" and erasure.

- A phone number is stored in one normal form (``phones.normalize_phone``) and is unique; an
  erased member keeps their row (orders, usages and red packets still point at it) without
  phone or name.
- Enrolment needs the consent tick and the one-time code sent to that phone (through the SMS
  seam, ``promotions.sms``); the code is stored hashed, valid ``PROMOTIONS_CODE_MINUTES``, used
  once, five wrong tries and it is spent.
- A paid order counts once towards the member's total spend (unique order ref); the member rises
  to the highest level whose threshold the total has reached and never falls by it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from decimal import Decimal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils.translation import gettext as _

from core.clock import now
from core.money import money

from ..errors import PromotionError
from ..models import Member, MemberLevel, MemberSpend, OneTimeCode
from ..phones import PhoneError, mask_phone, normalize_phone
from ..sms import provider

MAX_CODE_ATTEMPTS = 5


def _user(actor):
    return actor if getattr(actor, "pk", None) and hasattr(actor, "has_perm") else None


def clean_phone(raw: str) -> str:
    try:
        return normalize_phone(raw)
    except PhoneError:
        raise PromotionError(
            "bad_phone", _("“%(phone)s” is not a mobile phone number.") % {"phone": raw}
        ) from None


def _hash(phone: str, code: str) -> str:
    key = settings.SECRET_KEY.encode()
    return hmac.new(key, f"{phone}:{code}".encode(), hashlib.sha256).hexdigest()


def send_enrolment_code(*, phone: str, sms=None) -> None:
    """Send a 6-digit one-time code to ``phone`` (through ``sms``, by default the configured
    SMS provider)."""
    phone = clean_phone(phone)
    code = f"{secrets.randbelow(10**6):06d}"
    at = now()
    with transaction.atomic():
        OneTimeCode.objects.filter(phone=phone, used_at__isnull=True).update(used_at=at)
        OneTimeCode.objects.create(
            phone=phone,
            code_hash=_hash(phone, code),
            created_at=at,
            expires_at=at + dt.timedelta(minutes=settings.PROMOTIONS_CODE_MINUTES),
        )
    (sms or provider()).send(phone, _("Your membership code is %(code)s.") % {"code": code})


def _use_code(phone: str, code: str, at: dt.datetime) -> str:
    """Spend the right code ("ok"), or count a wrong try: "no_code" / "wrong_code"."""
    otc = (
        OneTimeCode.objects.select_for_update()
        .filter(phone=phone, used_at__isnull=True, expires_at__gt=at)
        .order_by("-created_at", "-pk")
        .first()
    )
    if otc is None:
        return "no_code"
    if not hmac.compare_digest(otc.code_hash, _hash(phone, str(code or "").strip())):
        otc.attempts += 1
        if otc.attempts >= MAX_CODE_ATTEMPTS:
            otc.used_at = at
        otc.save(update_fields=["attempts", "used_at"])
        return "wrong_code"
    otc.used_at = at
    otc.save(update_fields=["used_at"])
    return "ok"


def enrol_member(
    *,
    phone: str,
    code: str,
    consent: bool,
    consent_place: str,
    home_store: str = "",
    name: str = "",
    actor=None,
) -> Member:
    """Make ``phone`` a member at the lowest level, after the consent tick and the right code."""
    phone = clean_phone(phone)
    if not consent:
        raise PromotionError("no_consent", _("The customer must agree before we keep their data."))
    if not consent_place.strip():
        raise PromotionError("no_place", _("Say where the consent was given."))
    at = now()
    level = MemberLevel.objects.order_by("rank").first()
    if level is None:
        raise PromotionError("no_levels", _("No member levels are defined."))
    # The code check commits on its own, so a wrong try counts even though enrolment is refused.
    with transaction.atomic():
        result = _use_code(phone, code, at)
    if result == "no_code":
        raise PromotionError("no_code", _("No valid code for this phone: send a new one."))
    if result == "wrong_code":
        raise PromotionError("wrong_code", _("The code is wrong."))
    if Member.objects.filter(phone=phone).exists():
        raise PromotionError(
            "already_member", _("%(phone)s is already a member.") % {"phone": mask_phone(phone)}
        )
    try:
        with transaction.atomic():
            return Member.objects.create(
                phone=phone,
                name=name.strip(),
                level=level,
                home_store=home_store.strip(),
                consent_at=at,
                consent_place=consent_place.strip(),
                enrolled_by=_user(actor),
                created_at=at,
            )
    except IntegrityError:
        raise PromotionError(
            "already_member", _("%(phone)s is already a member.") % {"phone": mask_phone(phone)}
        ) from None


def record_member_spend(
    *, member: Member, order_ref: str, store_code: str, amount: Decimal
) -> MemberSpend:
    """Count a paid order towards ``member``'s total spend (once per order) and raise their
    level when a threshold is reached. Calling it again for the same order changes nothing."""
    amount = money(amount)
    if amount < 0:
        raise PromotionError("negative", _("A spend cannot be negative."))
    with transaction.atomic():
        spend, created = MemberSpend.objects.get_or_create(
            order_ref=order_ref,
            defaults={
                "member": member,
                "store_code": store_code,
                "amount": amount,
                "created_at": now(),
            },
        )
        if not created:
            return spend
        Member.objects.filter(pk=member.pk).update(total_spend=F("total_spend") + amount)
        member.refresh_from_db(fields=["total_spend", "level"])
        best = (
            MemberLevel.objects.filter(min_spend__lte=member.total_spend).order_by("-rank").first()
        )
        if best is not None and best.rank > member.level.rank:
            Member.objects.filter(pk=member.pk).update(level=best)
            member.level = best
    return spend


def erase_member(*, member: Member, actor=None) -> Member:
    """Anonymise ``member``: phone and name gone; orders, usages and red packets stay."""
    user = _user(actor)
    if user is not None and not user.has_perm("promotions.erase_member"):
        raise PromotionError("forbidden", _("You may not erase members."))
    with transaction.atomic():
        member = Member.objects.select_for_update().get(pk=member.pk)
        if member.erased_at is not None:
            return member
        if member.phone:
            OneTimeCode.objects.filter(phone=member.phone).delete()
        member.phone = None
        member.name = ""
        member.erased_at = now()
        member.save(update_fields=["phone", "name", "erased_at"])
    return member
