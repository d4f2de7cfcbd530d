"""Carriers, tracking numbers, waves, prints and shipments (the warehouse's side of an order)."""

from django.db import models
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

__all__ = ["Carrier"]


class Carrier(models.Model):
    code = models.CharField(_("carrier code"), max_length=32, unique=True)
    name = models.CharField(_("carrier name"), max_length=64)
    waybill_layout = models.CharField(_("waybill layout"), max_length=32, default="standard")
    active = models.BooleanField(_("enabled"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("carrier")
        verbose_name_plural = _("carrier")
        ordering = ["code"]

    def __str__(self):
        return self.name
