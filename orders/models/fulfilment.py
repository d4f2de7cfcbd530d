"""Carriers, tracking numbers, waves, prints and shipments (the warehouse's side of an order)."""

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inventory.models import actor_field

__all__ = [
    "Carrier",
    "WaybillSubscription",
    "TrackingNumberRange",
    "TrackingNumber",
    "Wave",
    "WaveOrder",
    "PrintRecord",
    "HandoverBatch",
    "HandoverItem",
    "ScanSession",
]


class Carrier(models.Model):
    class Layout(models.TextChoices):
        STANDARD = "standard", _("100 × 180 mm")
        ONE_PART = "one_part", _("76 × 130 mm one-part label (一联单)")

    class NumberSource(models.TextChoices):
        POOL = "pool", _("number pool")
        PROVIDER = "provider", _("electronic waybill service")
        PROVIDER_THEN_POOL = "provider_then_pool", _("waybill service, pool when it is down")

    code = models.CharField(_("carrier code"), max_length=32, unique=True)
    name = models.CharField(_("carrier name"), max_length=64)
    waybill_layout = models.CharField(
        _("waybill layout"), max_length=32, choices=Layout.choices, default=Layout.STANDARD
    )
    number_source = models.CharField(
        _("tracking numbers from"),
        max_length=24,
        choices=NumberSource.choices,
        default=NumberSource.POOL,
    )
    active = models.BooleanField(_("enabled"), default=True)

    history = HistoricalRecords(
        verbose_name=_("change history of carrier"),
        verbose_name_plural=_("change history of carrier"),
    )

    class Meta:
        verbose_name = _("carrier")
        verbose_name_plural = _("carrier")
        ordering = ["code"]

    def __str__(self):
        return self.name


class WaybillSubscription(models.Model):
    """An electronic waybill subscription (电子面单订购关系) of a carrier, set by an administrator:
    which service issues the numbers (Cainiao for any shop's orders, JD's own for JD orders),
    the branch (网点), the account and monthly-settlement codes, the shipping address, and the
    shop whose platform credentials open the service."""

    class Service(models.TextChoices):
        CAINIAO = "cainiao", _("Cainiao (菜鸟电子面单)")
        JD = "jd", _("JD Logistics (京东电子面单)")

    carrier = models.ForeignKey(
        Carrier,
        on_delete=models.PROTECT,
        related_name="subscriptions",
        verbose_name=_("carrier"),
    )
    service = models.CharField(_("waybill service"), max_length=16, choices=Service.choices)
    service_carrier_code = models.CharField(
        _("carrier code at the service"),
        max_length=32,
        help_text=_("The service's code of the carrier, e.g. YTO, ZTO, STO; JD for JD."),
    )
    account_shop = models.ForeignKey(
        "channels.Shop",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("account shop"),
        help_text=_("The shop whose platform credentials hold the subscription."),
    )
    branch_code = models.CharField(_("branch code (网点)"), max_length=64, blank=True)
    branch_name = models.CharField(_("branch name"), max_length=100, blank=True)
    customer_code = models.CharField(_("account code"), max_length=64, blank=True)
    settlement_code = models.CharField(_("monthly-settlement code"), max_length=64, blank=True)
    sender_name = models.CharField(_("sender"), max_length=64)
    sender_phone = models.CharField(_("sender phone"), max_length=40)
    sender_province = models.CharField(_("province"), max_length=32)
    sender_city = models.CharField(_("city"), max_length=32)
    sender_district = models.CharField(_("district"), max_length=32, blank=True)
    sender_address = models.CharField(_("address"), max_length=255)
    active = models.BooleanField(_("enabled"), default=True)

    history = HistoricalRecords(
        verbose_name=_("change history of waybill subscription"),
        verbose_name_plural=_("change history of waybill subscription"),
    )

    class Meta:
        verbose_name = _("waybill subscription")
        verbose_name_plural = _("waybill subscriptions")
        ordering = ["carrier", "service", "id"]
        constraints = [
            # One live subscription per carrier and service: the one printing uses.
            models.UniqueConstraint(
                fields=["carrier", "service"],
                condition=Q(active=True),
                name="waybillsubscription_one_active",
            )
        ]

    def __str__(self):
        where = self.branch_name or self.branch_code
        return f"{self.carrier} · {self.get_service_display()} · {where}"


class TrackingNumberRange(models.Model):
    """A block of tracking numbers a carrier handed out: prefix + [start, end] zero-padded.

    Numbers are taken in order; ``next_value`` only ever grows, so a number taken once is never
    handed out again, even when the print that took it is cancelled.
    """

    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, related_name="ranges", verbose_name=_("carrier")
    )
    prefix = models.CharField(_("prefix"), max_length=16, blank=True)
    start = models.BigIntegerField(_("first number"))
    end = models.BigIntegerField(_("last number"))
    width = models.PositiveSmallIntegerField(_("digits"), default=0)
    next_value = models.BigIntegerField(_("next number"))
    imported_by = actor_field(_("imported by"))
    imported_at = models.DateTimeField(_("imported at"), auto_now_add=True)
    source = models.CharField(_("source file"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("tracking number range")
        verbose_name_plural = _("tracking number pool")
        ordering = ["carrier", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start__gte=0) & Q(end__gte=F("start")), name="trackingrange_valid"
            ),
            models.CheckConstraint(
                condition=Q(next_value__gte=F("start")) & Q(next_value__lte=F("end") + 1),
                name="trackingrange_next_inside",
            ),
        ]

    def __str__(self):
        return f"{self.carrier.code} {self.format(self.start)} – {self.format(self.end)}"

    def format(self, value: int) -> str:
        return f"{self.prefix}{value:0{self.width}d}"

    @property
    def remaining(self) -> int:
        return self.end - self.next_value + 1


class TrackingNumber(models.Model):
    """Every tracking number ever used, once: from a pool, typed in, or from a waybill service."""

    class Source(models.TextChoices):
        POOL = "pool", _("number pool")
        MANUAL = "manual", _("typed in")
        PROVIDER = "provider", _("electronic waybill service")

    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, related_name="numbers", verbose_name=_("carrier")
    )
    number = models.CharField(_("tracking no."), max_length=64)
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="tracking_numbers",
        verbose_name=_("order"),
    )
    assigned_by = actor_field(_("assigned by"))
    assigned_at = models.DateTimeField(_("assigned at"), auto_now_add=True)
    voided_by = actor_field(_("voided by"))
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    void_reason = models.CharField(_("void reason"), max_length=255, blank=True)
    # Electronic waybills: the subscription that issued the number, our idempotency key, the
    # routing data printed on the label, and whether the number went back to the service.
    subscription = models.ForeignKey(
        WaybillSubscription,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="numbers",
        verbose_name=_("waybill subscription"),
    )
    request_key = models.CharField(_("request key"), max_length=64, blank=True)
    short_address = models.CharField(_("destination code (大头笔)"), max_length=64, blank=True)
    package_center = models.CharField(_("consolidation hub (集包地)"), max_length=64, blank=True)
    package_center_code = models.CharField(_("hub code"), max_length=32, blank=True)
    sort_code = models.CharField(_("sorting code (三段码)"), max_length=64, blank=True)
    returned_at = models.DateTimeField(_("given back to the service at"), null=True, blank=True)
    # Why a pool number was used for a carrier that asks its waybill service first.
    fallback_reason = models.CharField(_("pool fall-back reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("tracking number")
        verbose_name_plural = _("tracking numbers used")
        ordering = ["-assigned_at", "-id"]
        constraints = [
            # Used once, ever: a voided number stays here and blocks its reuse.
            models.UniqueConstraint(fields=["carrier", "number"], name="trackingnumber_once"),
            models.UniqueConstraint(
                fields=["order"],
                condition=Q(voided_at__isnull=True),
                name="trackingnumber_one_live_per_order",
            ),
        ]

    def __str__(self):
        return self.number


class Wave(models.Model):
    """A group of reviewed orders picked and printed together (波次)."""

    class Status(models.TextChoices):
        OPEN = "open", _("open")
        PRINTED = "printed", _("printed")

    number = models.CharField(_("wave no."), max_length=32, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.OPEN
    )
    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, related_name="waves", verbose_name=_("carrier")
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = actor_field(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    printed_by = actor_field(_("printed by"))
    printed_at = models.DateTimeField(_("printed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("wave")
        verbose_name_plural = _("wave")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("print_wave", _("Can print waves and documents")),
            ("verify_order", _("Can verify orders by scanning")),
            ("ship_order", _("Can ship orders")),
        ]

    def __str__(self):
        return self.number


class WaveOrder(models.Model):
    wave = models.ForeignKey(
        Wave, on_delete=models.CASCADE, related_name="items", verbose_name=_("wave")
    )
    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="wave_item",
        verbose_name=_("order"),
    )
    position = models.PositiveIntegerField(_("position"))

    class Meta:
        verbose_name = _("wave order")
        verbose_name_plural = _("wave orders")
        ordering = ["wave", "position"]

    def __str__(self):
        return f"{self.position}. {self.order}"


class PrintRecord(models.Model):
    """One print run of one kind of document, for a wave or for single orders."""

    class Kind(models.TextChoices):
        PICK_LIST = "pick_list", _("pick list")
        WAYBILL = "waybill", _("express waybill")
        DELIVERY_NOTE = "delivery_note", _("delivery note")
        INVOICE = "invoice", _("retail invoice")
        HANDOVER_LIST = "handover_list", _("handover list")

    kind = models.CharField(_("document"), max_length=16, choices=Kind.choices)
    wave = models.ForeignKey(
        Wave,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="prints",
        verbose_name=_("wave"),
    )
    orders = models.ManyToManyField(
        "orders.Order", related_name="prints", blank=True, verbose_name=_("orders")
    )
    handover = models.ForeignKey(
        "HandoverBatch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="prints",
        verbose_name=_("handover batch"),
    )
    reprint = models.BooleanField(_("reprint"), default=False)
    page_count = models.PositiveIntegerField(_("pages"), default=0)
    printed_by = actor_field(_("printed by"))
    printed_at = models.DateTimeField(_("printed at"), auto_now_add=True)

    class Meta:
        verbose_name = _("print record")
        verbose_name_plural = _("print records")
        ordering = ["-printed_at", "-id"]

    def __str__(self):
        from django.utils import timezone

        return f"{self.get_kind_display()} {timezone.localtime(self.printed_at):%Y-%m-%d %H:%M}"


class HandoverBatch(models.Model):
    """The parcels handed to one carrier's pick-up in one go (交接单); shipping ships them all."""

    number = models.CharField(_("handover no."), max_length=32, unique=True)
    carrier = models.ForeignKey(
        Carrier, on_delete=models.PROTECT, related_name="handovers", verbose_name=_("carrier")
    )
    created_by = actor_field(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    shipped_by = actor_field(_("shipped by"))
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)

    class Meta:
        verbose_name = _("handover batch")
        verbose_name_plural = _("handover batches")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.number


class HandoverItem(models.Model):
    batch = models.ForeignKey(
        HandoverBatch, on_delete=models.CASCADE, related_name="items", verbose_name=_("batch")
    )
    order = models.OneToOneField(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="handover_item",
        verbose_name=_("order"),
    )

    class Meta:
        verbose_name = _("handover item")
        verbose_name_plural = _("handover items")

    def __str__(self):
        return str(self.order)


class ScanSession(models.Model):
    """What one packer has scanned into one order's parcel so far (复核), kept on the server:
    the page sends codes, never counts, so no request can claim a parcel is complete."""

    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="+", verbose_name=_("order")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("packer"),
    )
    scanned = models.JSONField(_("scanned"), default=dict)  # {scan code: pieces}
    started_at = models.DateTimeField(_("started at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("scan session")
        verbose_name_plural = _("scan sessions")
        constraints = [
            models.UniqueConstraint(fields=["order", "user"], name="scansession_one_per_packer")
        ]
        indexes = [models.Index(fields=["user", "updated_at"], name="scansession_user_recent")]
