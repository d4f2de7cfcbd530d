"""Platforms, shops and the SKU relation table (商品关系表)."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from core.crypto import EncryptedJSONField
from inventory.models import QTY, actor_field


class Platform(models.Model):
    class Integration(models.TextChoices):
        API = "api", _("API")
        FILE = "file", _("file import/export")
        STORE = "store", _("in-store (experience store)")

    code = models.CharField(_("platform code"), max_length=32, unique=True)
    name = models.CharField(_("platform name"), max_length=64)
    integration = models.CharField(_("integration"), max_length=8, choices=Integration.choices)

    history = HistoricalRecords(
        verbose_name=_("change history of platform"),
        verbose_name_plural=_("change history of platform"),
    )

    class Meta:
        verbose_name = _("platform")
        verbose_name_plural = _("platform")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Shop(models.Model):
    code = models.CharField(_("shop code"), max_length=32, unique=True)
    name = models.CharField(_("shop name"), max_length=100)
    platform = models.ForeignKey(
        Platform, on_delete=models.PROTECT, related_name="shops", verbose_name=_("platform")
    )
    unit_code = models.CharField(
        _("unit code"),
        max_length=32,
        unique=True,
        help_text=_("the offline ERP tells each shop's orders apart by it"),
    )
    stock_ratio = models.DecimalField(
        _("stock ratio"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("1.0000"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("sellable quantity pushed = (available − safety stock) × ratio, 0 to 1"),
    )
    safety_stock = models.DecimalField(
        _("safety stock"), **QTY, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    # Where the connector talks to (the platform's gateway, or the local sandbox) and with what.
    api_base_url = models.CharField(_("API base URL"), max_length=255, blank=True)
    # Encrypted with TONGCANG_ERP_SECRET_KEYS (core.crypto) and never copied into history rows.
    credentials = EncryptedJSONField(_("API credentials"), default=dict, blank=True)
    sync_state = models.JSONField(_("sync state"), default=dict, blank=True)
    # Automatic review (自动审单): approve orders with no hold, no remark and a total within the limit.
    # An online shop's orders may be brought back to an experience store (stores/services.py).
    store_returns_allowed = models.BooleanField(_("returns accepted in the stores"), default=False)
    auto_review_enabled = models.BooleanField(_("automatic review"), default=False)
    auto_review_max_amount = models.DecimalField(
        _("automatic review amount limit"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    history = HistoricalRecords(
        excluded_fields=["sync_state", "credentials"],
        verbose_name=_("change history of shop"),
        verbose_name_plural=_("change history of shop"),
    )

    class Meta:
        verbose_name = _("shop")
        verbose_name_plural = _("shop")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stock_ratio__gte=0) & Q(stock_ratio__lte=1), name="shop_ratio_0_1"
            ),
            models.CheckConstraint(condition=Q(safety_stock__gte=0), name="shop_safety_gte_0"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class SkuMapping(models.Model):
    """One platform SKU of one shop → one or more products with quantities (a bundle)."""

    shop = models.ForeignKey(
        Shop, on_delete=models.PROTECT, related_name="sku_mappings", verbose_name=_("shop")
    )
    platform_sku = models.CharField(_("platform SKU"), max_length=128)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(
        verbose_name=_("change history of SKU relation"),
        verbose_name_plural=_("change history of SKU relation"),
    )

    class Meta:
        verbose_name = _("SKU relation")
        verbose_name_plural = _("SKU relation table")
        ordering = ["shop", "platform_sku"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "platform_sku"], name="skumapping_unique")
        ]

    def __str__(self):
        return f"{self.shop.code} {self.platform_sku}"


class SkuComponent(models.Model):
    mapping = models.ForeignKey(
        SkuMapping,
        on_delete=models.CASCADE,
        related_name="components",
        verbose_name=_("SKU relation"),
    )
    product = models.ForeignKey(
        "inventory.Product",
        on_delete=models.PROTECT,
        related_name="sku_components",
        verbose_name=_("product"),
    )
    quantity = models.DecimalField(_("quantity"), **QTY)

    history = HistoricalRecords(
        verbose_name=_("change history of SKU component"),
        verbose_name_plural=_("change history of SKU component"),
    )

    class Meta:
        verbose_name = _("component")
        verbose_name_plural = _("component")
        constraints = [
            models.UniqueConstraint(fields=["mapping", "product"], name="skucomponent_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="skucomponent_qty_gt_0"),
        ]

    def __str__(self):
        return f"{self.product_id} × {self.quantity}"


class SellableQuantity(models.Model):
    """The sellable figure of one shop SKU: last computed, and last accepted by the platform."""

    mapping = models.OneToOneField(
        SkuMapping,
        on_delete=models.CASCADE,
        related_name="sellable",
        verbose_name=_("SKU relation"),
    )
    quantity = models.IntegerField(_("sellable quantity"))
    computed_at = models.DateTimeField(_("computed at"))
    pushed_quantity = models.IntegerField(_("pushed quantity"), null=True, blank=True)
    pushed_at = models.DateTimeField(_("pushed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("sellable quantity")
        verbose_name_plural = _("sellable quantity")

    @property
    def needs_push(self) -> bool:
        return self.pushed_quantity != self.quantity


class OutboxMessage(models.Model):
    """A call owed to a platform, queued in the same transaction as the change that causes it.

    Sent (and retried) by the connectors' outbox worker; never sent twice after success; parked
    with the platform's error for a person when refused for good.
    """

    class Kind(models.TextChoices):
        SHIPMENT = "shipment", _("shipment notice")
        STOCK = "stock", _("stock update")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        SENT = "sent", _("sent")
        PARKED = "parked", _("parked")

    shop = models.ForeignKey(Shop, on_delete=models.PROTECT, verbose_name=_("shop"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    dedupe_key = models.CharField(_("dedupe key"), max_length=200, unique=True)
    payload = models.JSONField(_("payload"), default=dict)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt at"), null=True, blank=True)
    parked_at = models.DateTimeField(_("parked at"), null=True, blank=True)
    retried_by = actor_field(_("retried by"))
    retried_at = models.DateTimeField(_("retried at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outbox message")
        verbose_name_plural = _("outbox")
        indexes = [
            models.Index(
                fields=["status", "next_attempt_at"],
                condition=Q(status="pending"),
                name="outbox_pending",
            )
        ]

    def __str__(self):
        return f"{self.get_kind_display()} #{self.pk}"


class ShopSyncStatus(Shop):
    """The per-shop sync status page of the admin (a view of Shop, no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = _("shop sync status")
        verbose_name_plural = _("shop sync status")
