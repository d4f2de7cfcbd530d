"""Carriers, tracking numbers, waves, prints and shipments (the warehouse's side of an order)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

__all__ = ["Carrier"]


class Carrier(models.Model):
    code = models.CharField(_("快递编码"), max_length=32, unique=True)
    name = models.CharField(_("快递名称"), max_length=64)
    waybill_layout = models.CharField(_("面单样式"), max_length=32, default="standard")
    active = models.BooleanField(_("启用"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("快递公司")
        verbose_name_plural = _("快递公司")
        ordering = ["code"]

    def __str__(self):
        return self.name
