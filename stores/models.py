"""Experience stores (体验店): the store, its staff, its kiosk devices, pick-up code attempts.

A store is a Shop of the platform ``store`` (its unit code is the ERP's), with two stock
locations of its own: ``location`` (sellable in the store) and ``sample_location`` (try-on
samples: never reserved, never sold). Its orders are ordinary ``orders.Order`` rows of its shop.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.models import actor_field


class Store(models.Model):
    shop = models.OneToOneField(
        "channels.Shop", on_delete=models.PROTECT, related_name="store", verbose_name=_("shop")
    )
    location = models.OneToOneField(
        "inventory.Warehouse",
        on_delete=models.PROTECT,
        related_name="store",
        verbose_name=_("store stock location"),
        limit_choices_to={"kind": "store"},
    )
    sample_location = models.OneToOneField(
        "inventory.Warehouse",
        on_delete=models.PROTECT,
        related_name="sample_store",
        verbose_name=_("sample location"),
        limit_choices_to={"kind": "sample"},
    )
    phone = models.CharField(_("phone"), max_length=40, blank=True)
    province = models.CharField(_("province"), max_length=32)
    city = models.CharField(_("city"), max_length=32)
    district = models.CharField(_("district"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=255)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="StoreMember",
        related_name="stores",
        verbose_name=_("staff"),
    )

    class Meta:
        verbose_name = _("experience store")
        verbose_name_plural = _("experience stores")
        ordering = ["shop__code"]

    def __str__(self):
        return str(self.shop)

    @property
    def code(self) -> str:
        return self.shop.code


class StoreMember(models.Model):
    """A user who works in a store (guide or manager: their group says which)."""

    store = models.ForeignKey(
        Store, on_delete=models.CASCADE, related_name="members", verbose_name=_("store")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="store_memberships",
        verbose_name=_("user"),
    )
    staff_code = models.CharField(_("staff code"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("store staff")
        verbose_name_plural = _("store staff")
        constraints = [
            models.UniqueConstraint(fields=["store", "user"], name="storemember_unique"),
        ]

    def __str__(self):
        return f"{self.store.code} {self.user}"


class KioskDevice(models.Model):
    """An in-store ordering device. Its token is shown once; only its SHA-256 is kept."""

    store = models.ForeignKey(
        Store, on_delete=models.PROTECT, related_name="devices", verbose_name=_("store")
    )
    name = models.CharField(_("device name"), max_length=64)
    token_hash = models.CharField(_("token hash"), max_length=64, unique=True, editable=False)
    token_hint = models.CharField(_("token starts with"), max_length=8, editable=False)
    created_by = actor_field(_("registered by"))
    created_at = models.DateTimeField(_("registered at"))
    revoked_by = actor_field(_("revoked by"))
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("kiosk device")
        verbose_name_plural = _("kiosk devices")
        ordering = ["store", "name"]
        permissions = [("manage_kioskdevice", _("Can register and revoke kiosk devices"))]

    def __str__(self):
        return f"{self.store.code} {self.name}"

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class PickupAttempt(models.Model):
    """One verification of a pick-up code at the counter (wrong ones count towards the lock)."""

    order = models.ForeignKey(
        "orders.Order", on_delete=models.CASCADE, related_name="+", verbose_name=_("order")
    )
    ok = models.BooleanField(_("correct"))
    actor = actor_field(_("guide"))
    created_at = models.DateTimeField(_("time"))

    class Meta:
        verbose_name = _("pick-up code attempt")
        verbose_name_plural = _("pick-up code attempts")
        indexes = [
            models.Index(fields=["order", "created_at"], condition=Q(ok=False), name="pickup_wrong")
        ]
