"""After-sales orders (售后单): what comes back from a shipped order, and where it went."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import MONEY, QTY, actor_field


class ReturnOrder(models.Model):
    class Kind(models.TextChoices):
        RETURN_GOODS = "return_goods", _("return with goods")
        REFUND_ONLY = "refund_only", _("refund without goods")

    class Status(models.TextChoices):
        SUBMITTED = "submitted", _("submitted")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        RECEIVED = "received", _("goods received")
        CLOSED = "closed", _("closed")

    class Source(models.TextChoices):
        PLATFORM = "platform", _("platform")
        MANUAL = "manual", _("manual")

    return_no = models.CharField(_("return no."), max_length=32, unique=True)
    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="returns", verbose_name=_("order")
    )
    shop = models.ForeignKey("channels.Shop", on_delete=models.PROTECT, verbose_name=_("shop"))
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.SUBMITTED
    )
    source = models.CharField(_("source"), max_length=16, choices=Source.choices)
    platform_refund_id = models.CharField(_("platform refund id"), max_length=64, blank=True)
    platform_status = models.CharField(_("platform refund status"), max_length=64, blank=True)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    refund_amount = models.DecimalField(_("refund amount"), **MONEY, default=0)
    return_tracking_no = models.CharField(_("return tracking no."), max_length=64, blank=True)
    created_by = actor_field(_("created by"))
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    reviewed_by = actor_field(_("reviewed by"))
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    reject_reason = models.CharField(_("reason for rejection"), max_length=255, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("return order")
        verbose_name_plural = _("return orders")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("review_returnorder", _("Can review (approve or reject) return orders")),
            ("receive_returnorder", _("Can receive the goods of return orders")),
            ("close_returnorder", _("Can close return orders")),
        ]
        indexes = [
            models.Index(fields=["status", "created_at"], name="returnorder_status_created"),
            models.Index(fields=["return_tracking_no"], name="returnorder_tracking_no"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "platform_refund_id"],
                condition=~Q(platform_refund_id=""),
                name="returnorder_unique_platform_refund",
            )
        ]

    def __str__(self):
        return self.return_no

    @property
    def document(self) -> str:
        """The reference under which this return's goods enter the stock ledger."""
        return f"return:{self.pk}"


class ReturnLine(models.Model):
    """Part of one order line coming back (in the platform line's units)."""

    return_order = models.ForeignKey(
        ReturnOrder, on_delete=models.CASCADE, related_name="lines", verbose_name=_("return order")
    )
    order_line = models.ForeignKey(
        "orders.OrderLine", on_delete=models.PROTECT, verbose_name=_("order line")
    )
    quantity = models.DecimalField(_("quantity"), **QTY)
    amount = models.DecimalField(_("amount"), **MONEY, default=0)

    class Meta:
        verbose_name = _("return line")
        verbose_name_plural = _("return lines")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="returnline_qty_gt_0")
        ]

    def __str__(self):
        return f"{self.order_line.platform_sku} × {self.quantity.normalize()}"


class ReturnReceipt(models.Model):
    """Goods of a return line received into a warehouse (main: sellable again; defective)."""

    line = models.ForeignKey(
        ReturnLine, on_delete=models.CASCADE, related_name="receipts", verbose_name=_("return line")
    )
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, verbose_name=_("product")
    )
    warehouse = models.ForeignKey(
        "inventory.Warehouse", on_delete=models.PROTECT, verbose_name=_("warehouse")
    )
    quantity = models.DecimalField(_("quantity"), **QTY)
    received_by = actor_field(_("received by"))
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("return receipt")
        verbose_name_plural = _("return receipts")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="returnreceipt_qty_gt_0")
        ]


class ReturnEvent(models.Model):
    """Every change of a return order: who, when, what, before and after."""

    class Kind(models.TextChoices):
        CREATED = "created", _("created")
        UPDATED = "updated", _("updated by the platform")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        PARTIALLY_RECEIVED = "part_received", _("part of the goods received")
        RECEIVED = "received", _("goods received")
        CLOSED = "closed", _("closed")

    return_order = models.ForeignKey(
        ReturnOrder, on_delete=models.CASCADE, related_name="events", verbose_name=_("return order")
    )
    kind = models.CharField(_("event"), max_length=16, choices=Kind.choices)
    message = models.CharField(_("note"), max_length=500, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    actor = actor_field(_("actor"))
    actor_label = models.CharField(_("actor label"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("return order event")
        verbose_name_plural = _("return order events")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["return_order", "created_at"], name="returnevent_order_time")
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {timezone.localtime(self.created_at):%Y-%m-%d %H:%M}"
