"""Payments taken at a store's counter (no payment gateway: a guide confirms what was paid)."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.models import MONEY, actor_field

__all__ = ["Payment"]


class Payment(models.Model):
    class Method(models.TextChoices):
        CASH = "cash", _("cash")
        WECHAT = "wechat", _("WeChat Pay")
        ALIPAY = "alipay", _("Alipay")
        CARD = "card", _("bank card")

    order = models.ForeignKey(
        "orders.Order", on_delete=models.PROTECT, related_name="payments", verbose_name=_("order")
    )
    method = models.CharField(_("payment method"), max_length=16, choices=Method.choices)
    amount = models.DecimalField(_("amount"), **MONEY)
    reference = models.CharField(_("payment reference"), max_length=64, blank=True)
    # Which provider confirmed it ("counter": the guide's word; a gateway would be another).
    provider = models.CharField(_("provider"), max_length=32, default="counter")
    actor = actor_field(_("taken by"))
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("payment")
        verbose_name_plural = _("payment")
        ordering = ["created_at", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="payment_amount_gt_0"),
        ]

    def __str__(self):
        return f"{self.get_method_display()} {self.amount}"
