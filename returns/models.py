"""After-sales orders (售后单): what comes back from a shipped order, and where it went."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.models import MONEY, QTY


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
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    refund_amount = models.DecimalField(_("refund amount"), **MONEY, default=0)
    return_tracking_no = models.CharField(_("return tracking no."), max_length=64, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("reviewed by"),
    )
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    received_at = models.DateTimeField(_("received at"), null=True, blank=True, db_index=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("return order")
        verbose_name_plural = _("return orders")
        constraints = [
            models.UniqueConstraint(
                fields=["shop", "platform_refund_id"],
                condition=~Q(platform_refund_id=""),
                name="returnorder_unique_platform_refund",
            )
        ]

    def __str__(self):
        return self.return_no


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
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
    )
    received_at = models.DateTimeField(_("received at"), auto_now_add=True)

    class Meta:
        verbose_name = _("return receipt")
        verbose_name_plural = _("return receipts")
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gt=0), name="returnreceipt_qty_gt_0")
        ]
