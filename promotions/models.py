"""Members (会员), their levels, promotions (促销) and red packets (红包).

Stores are referred to by their unit code (e.g. ``MD01``), orders and returns by opaque
references (the order number, the return number): this app sits below ``orders`` and
``stores``, which call it.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.models import MONEY, actor_field


class MemberLevel(models.Model):
    """普通 / 银卡 / 金卡…: data, not code. A member rises to the highest level whose spend
    threshold their total spend has reached; the level's discount never expires."""

    code = models.SlugField(_("code"), max_length=32, unique=True)
    name = models.CharField(_("name"), max_length=50)
    rank = models.PositiveSmallIntegerField(_("rank"), unique=True)
    min_spend = models.DecimalField(
        _("spend to reach it"), **MONEY, default=Decimal("0.00"),
        help_text=_("a member whose total spend reaches this rises to this level"),
    )  # fmt: skip
    discount_percent = models.DecimalField(
        _("standing discount (%)"), max_digits=5, decimal_places=2, default=Decimal("0.00"),
        help_text=_("percent off every list price, e.g. 5 for 95折; 0 for none"),
    )  # fmt: skip

    class Meta:
        ordering = ["rank"]
        verbose_name = _("member level")
        verbose_name_plural = _("member levels")
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lt=100),
                name="member_level_discount_0_100",
            ),
            models.CheckConstraint(condition=Q(min_spend__gte=0), name="member_level_spend_gte_0"),
        ]

    def __str__(self):
        return self.name


class MemberPrice(models.Model):
    """A member price of a level for one product or one style (never expires)."""

    level = models.ForeignKey(
        MemberLevel, on_delete=models.CASCADE, related_name="prices", verbose_name=_("level")
    )
    product_code = models.CharField(_("product code"), max_length=64, blank=True)
    style_code = models.CharField(_("style code"), max_length=64, blank=True)
    price = models.DecimalField(_("member price"), **MONEY)

    class Meta:
        verbose_name = _("member price")
        verbose_name_plural = _("member prices")
        constraints = [
            models.UniqueConstraint(
                fields=["level", "product_code", "style_code"], name="member_price_unique"
            ),
            models.CheckConstraint(
                condition=(Q(product_code="") & ~Q(style_code=""))
                | (~Q(product_code="") & Q(style_code="")),
                name="member_price_product_or_style",
            ),
            models.CheckConstraint(condition=Q(price__gte=0), name="member_price_gte_0"),
        ]

    def __str__(self):
        return f"{self.level} {self.product_code or self.style_code} {self.price}"


class Member(models.Model):
    """A member: a phone number (normalised, unique; NULL once erased) and what they agreed to."""

    phone = models.CharField(_("phone"), max_length=20, unique=True, null=True, blank=True)
    name = models.CharField(_("name"), max_length=50, blank=True)
    level = models.ForeignKey(
        MemberLevel, on_delete=models.PROTECT, related_name="members", verbose_name=_("level")
    )
    home_store = models.CharField(_("home store (unit code)"), max_length=32, blank=True)
    consent_at = models.DateTimeField(_("consent given at"))
    consent_place = models.CharField(_("consent given where"), max_length=100)
    enrolled_by = actor_field(_("enrolled by"))
    total_spend = models.DecimalField(_("total spend"), **MONEY, default=Decimal("0.00"))
    created_at = models.DateTimeField(_("created at"))
    erased_at = models.DateTimeField(_("erased at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("member")
        verbose_name_plural = _("members")
        permissions = [
            ("see_member_phone", _("Can see members' full phone numbers")),
            ("erase_member", _("Can erase (anonymise) a member")),
        ]

    def __str__(self):
        from .phones import mask_phone

        return self.name or mask_phone(self.phone) or _("erased member")

    @property
    def ref(self) -> str:
        """The opaque reference quotes carry (``Quote.member_ref``)."""
        return f"M{self.pk}"


class OneTimeCode(models.Model):
    """A one-time code sent to a phone before enrolment (stored hashed; used once)."""

    phone = models.CharField(_("phone"), max_length=20, db_index=True)
    code_hash = models.CharField(max_length=128)
    created_at = models.DateTimeField(_("created at"))
    expires_at = models.DateTimeField(_("expires at"))
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)

    class Meta:
        verbose_name = _("one-time code")
        verbose_name_plural = _("one-time codes")


class MemberSpend(models.Model):
    """A paid order counted towards a member's level (once per order)."""

    member = models.ForeignKey(Member, on_delete=models.PROTECT, related_name="spends")
    order_ref = models.CharField(_("order"), max_length=64, unique=True)
    store_code = models.CharField(_("store"), max_length=32)
    amount = models.DecimalField(_("amount"), **MONEY)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("member spend")
        verbose_name_plural = _("member spends")


# A promotion version with a limit: locked and counted at checkout (services/usage.py).
LIMITED = Q(max_uses__isnull=False) | Q(budget__isnull=False) | Q(max_uses_per_member__isnull=False)


class Promotion(models.Model):
    """One version of a promotion. Made by a store manager (draft), active once another manager
    or an administrator approves it; once used it is never edited: a new version replaces it."""

    class Kind(models.TextChoices):
        ITEM = "item", _("item price or discount")
        SPEND_AND_SAVE = "spend_and_save", _("spend and save (满减)")
        CASHBACK = "cashback", _("red-packet cash-back (满返)")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft (awaiting approval)")
        APPROVED = "approved", _("approved")
        RETIRED = "retired", _("retired")

    code = models.SlugField(_("code"), max_length=32)
    version = models.PositiveIntegerField(_("version"), default=1)
    name = models.CharField(_("name"), max_length=100, help_text=_("e.g. 满300减50"))
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.DRAFT
    )
    priority = models.PositiveIntegerField(_("priority"), default=100)
    exclusive_group = models.CharField(
        _("exclusive group"), max_length=32, blank=True,
        help_text=_("only the best promotion of a group applies; empty: stacks with others"),
    )  # fmt: skip
    members_only = models.BooleanField(_("members only"), default=False)
    store_codes = models.JSONField(_("stores (unit codes)"), default=list, blank=True)
    product_codes = models.JSONField(_("products"), default=list, blank=True)
    style_codes = models.JSONField(_("styles"), default=list, blank=True)
    level_codes = models.JSONField(_("member levels"), default=list, blank=True)
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    unit_price = models.DecimalField(_("unit price"), **MONEY, null=True, blank=True)
    percent = models.DecimalField(
        _("percent off / paid back"), max_digits=5, decimal_places=2, default=Decimal("0.00")
    )
    tiers = models.JSONField(
        _("tiers"), default=list, blank=True,
        help_text=_('[{"threshold": "300", "amount": "50"}, …] (or "percent" instead of amount)'),
    )  # fmt: skip
    every = models.DecimalField(_("every (每满)"), **MONEY, null=True, blank=True)
    every_amount = models.DecimalField(_("amount each time"), **MONEY, default=Decimal("0.00"))
    cap = models.DecimalField(_("cap"), **MONEY, null=True, blank=True)
    budget = models.DecimalField(
        _("budget"), **MONEY, null=True, blank=True,
        help_text=_("the most this promotion may give in all; empty: no limit"),
    )  # fmt: skip
    max_uses = models.PositiveIntegerField(_("uses in all"), null=True, blank=True)
    max_uses_per_member = models.PositiveIntegerField(_("uses per member"), null=True, blank=True)
    # Counted under the row lock for promotions with a limit only (see LIMITED).
    uses = models.PositiveIntegerField(_("uses so far"), default=0)
    given = models.DecimalField(_("given so far"), **MONEY, default=Decimal("0.00"))
    supersedes = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("replaces"),
    )  # fmt: skip
    created_by = actor_field(_("created by"))
    created_at = models.DateTimeField(_("created at"))
    approved_by = actor_field(_("approved by"))
    approved_at = models.DateTimeField(_("approved at"), null=True, blank=True)

    class Meta:
        ordering = ["code", "-version"]
        verbose_name = _("promotion")
        verbose_name_plural = _("promotions")
        permissions = [("approve_promotion", _("Can approve promotions"))]
        constraints = [
            models.UniqueConstraint(fields=["code", "version"], name="promotion_code_version"),
            models.CheckConstraint(condition=Q(ends_at__gt=models.F("starts_at")),
                                   name="promotion_window"),
            models.CheckConstraint(condition=Q(given__gte=0), name="promotion_given_gte_0"),
        ]  # fmt: skip

    def __str__(self):
        return f"{self.name} ({self.key})"

    @property
    def is_limited(self) -> bool:
        return not (
            self.max_uses is None and self.budget is None and self.max_uses_per_member is None
        )

    @property
    def key(self) -> str:
        """The code quotes carry for this version (``Step.code``, ``Quote.applied``)."""
        return f"{self.code}.v{self.version}"

    def clean(self):
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError(_("A promotion must end after it starts."))


class PromotionUsage(models.Model):
    """A promotion used on an order: counts towards its uses, budget and per-member limit."""

    promotion = models.ForeignKey(
        Promotion, on_delete=models.PROTECT, related_name="usages", verbose_name=_("promotion")
    )
    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, null=True, blank=True, related_name="usages",
        verbose_name=_("member"),
    )  # fmt: skip
    order_ref = models.CharField(_("order"), max_length=64)
    amount = models.DecimalField(_("amount"), **MONEY)
    created_at = models.DateTimeField(_("created at"))
    # Given back when the order was cancelled (unpaid in time, or repriced at the counter): a
    # released use counts towards no limit; the row stays as the record.
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)

    class Meta:
        verbose_name = _("promotion use")
        verbose_name_plural = _("promotion uses")
        constraints = [
            models.UniqueConstraint(
                fields=["promotion", "order_ref"],
                condition=Q(released_at__isnull=True),
                name="usage_once_per_order",
            )
        ]


class RedPacket(models.Model):
    """The cash-back of one paid order (one packet per order, enforced by the database).

    pending (earned, within the after-sales window) → issued (in the wallet) → spent (on a
    later order, once); void when all of it was taken back by returns."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending (after-sales window)")
        ISSUED = "issued", _("in the wallet")
        SPENT = "spent", _("spent")
        VOID = "void", _("taken back")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="red_packets", verbose_name=_("member")
    )
    order_ref = models.CharField(_("earned on order"), max_length=64, unique=True)
    store_code = models.CharField(_("store"), max_length=32)
    order_net = models.DecimalField(_("order net"), **MONEY)
    earned = models.DecimalField(_("earned"), **MONEY)
    taken_back = models.DecimalField(_("taken back"), **MONEY, default=Decimal("0.00"))
    refunded_net = models.DecimalField(_("net refunded so far"), **MONEY, default=Decimal("0.00"))
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    earned_at = models.DateTimeField(_("earned at"))
    issued_at = models.DateTimeField(_("issued at"), null=True, blank=True)
    spent_on = models.CharField(_("spent on order"), max_length=64, blank=True)
    spent_amount = models.DecimalField(_("spent"), **MONEY, default=Decimal("0.00"))
    spent_at = models.DateTimeField(_("spent at"), null=True, blank=True)

    class Meta:
        ordering = ["-earned_at", "-pk"]
        verbose_name = _("red packet")
        verbose_name_plural = _("red packets")
        constraints = [
            models.CheckConstraint(
                condition=Q(taken_back__gte=0) & Q(taken_back__lte=models.F("earned")),
                name="red_packet_taken_back_bounds",
            )
        ]

    def __str__(self):
        return f"{self.ref} {self.balance}"

    @property
    def ref(self) -> str:
        return f"RP{self.pk}"

    @property
    def balance(self) -> Decimal:
        """What it is worth now (before spending): earned less what returns took back."""
        return self.earned - self.taken_back


class WalletEntry(models.Model):
    """The member's wallet: an append-only ledger of what happened to their red packets."""

    class Kind(models.TextChoices):
        EARNED = "earned", _("earned (pending)")
        ISSUED = "issued", _("issued")
        SPENT = "spent", _("spent")
        TAKEN_BACK = "taken_back", _("taken back by a return")
        DEDUCTED = "deducted", _("deducted from a refund")
        RESTORED = "restored", _("given back: the return that took it was rejected")
        RETURNED = "returned", _("given back: the order it was spent on was cancelled")
        VOIDED = "voided", _("void: the order that earned it was cancelled")

    member = models.ForeignKey(
        Member, on_delete=models.PROTECT, related_name="wallet", verbose_name=_("member")
    )
    packet = models.ForeignKey(
        RedPacket, on_delete=models.PROTECT, related_name="entries", verbose_name=_("red packet")
    )
    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    order_ref = models.CharField(_("order"), max_length=64, blank=True)
    return_ref = models.CharField(_("return"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("created at"))
    actor = actor_field(_("by"))

    class Meta:
        ordering = ["created_at", "pk"]
        verbose_name = _("wallet entry")
        verbose_name_plural = _("wallet entries")
        constraints = [
            models.UniqueConstraint(
                fields=["packet", "return_ref", "kind"],
                condition=~Q(return_ref=""),
                name="wallet_one_clawback_per_return",
            ),
            models.UniqueConstraint(
                fields=["packet", "kind"],
                condition=Q(kind__in=["earned", "issued", "voided"]),
                name="wallet_packet_lifecycle_once",
            ),
            # Spent on an order (and given back when that order is cancelled) once per order: a
            # packet given back may be spent again on another order.
            models.UniqueConstraint(
                fields=["packet", "kind", "order_ref"],
                condition=Q(kind__in=["spent", "returned"]),
                name="wallet_spent_once_per_order",
            ),
        ]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("wallet entries are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("wallet entries are append-only")
