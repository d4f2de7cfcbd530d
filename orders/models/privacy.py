"""Encrypted buyer details (密文订单): every look at a receiver in clear, with who and why."""

from django.db import models
from django.utils.translation import gettext_lazy as _

from inventory.models import actor_field

__all__ = ["ReceiverReveal"]


class ReceiverReveal(models.Model):
    """One decryption of an order's receiver through the platform's rationed call.

    The clear receiver is shown once on the screen that asked for it and never stored; this row
    records that it was seen, by whom and why (platforms audit it, and ration the calls).
    """

    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        related_name="receiver_reveals",
        verbose_name=_("order"),
    )
    revealed_by = actor_field(_("seen by"))
    revealed_at = models.DateTimeField(_("seen at"), auto_now_add=True)
    reason = models.CharField(_("reason"), max_length=255)
    scene = models.CharField(_("platform scene"), max_length=16)
    matched = models.BooleanField(_("receiver id still current"), default=True)
    privacy_number = models.BooleanField(_("privacy phone number"), default=False)

    class Meta:
        verbose_name = _("receiver decryption")
        verbose_name_plural = _("receiver decryptions")
        ordering = ["-revealed_at", "-id"]
        permissions = [("reveal_receiver", _("Can see encrypted receivers in clear"))]

    def __str__(self):
        return f"{self.order} · {self.revealed_at:%Y-%m-%d %H:%M}"
