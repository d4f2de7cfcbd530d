"""Products, warehouses, stock levels, the stock ledger and reservations.

Quantities are Decimal with 4 places. A level's on_hand always equals the sum of its ledger
(``StockMove``); the ledger is append-only (a database trigger refuses UPDATE and DELETE).
"""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

QTY = {"max_digits": 18, "decimal_places": 4}
MONEY = {"max_digits": 14, "decimal_places": 2}
ZERO = Decimal("0.0000")


def actor_field(verbose_name) -> models.ForeignKey:
    """The user who did something to a row (created, printed, shipped it…); None for the
    system. Every "who" column of every app is this field."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=verbose_name,
    )


class Product(models.Model):
    code = models.CharField(_("product code"), max_length=64, unique=True)
    name = models.CharField(_("product name"), max_length=200)
    barcode = models.CharField(_("barcode"), max_length=64, null=True, blank=True, unique=True)
    unit = models.CharField(_("unit"), max_length=16, blank=True)
    spec = models.CharField(_("spec"), max_length=100, blank=True)
    weight_kg = models.DecimalField(
        _("weight (kg)"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    list_price = models.DecimalField(_("list price"), **MONEY, null=True, blank=True)
    active = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("product")
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs):
        if self.barcode == "":
            self.barcode = None
        super().save(*args, **kwargs)


class Warehouse(models.Model):
    """A stock location. Today: the one main sellable warehouse and the defective warehouse.

    The experience stores will add locations of kind ``store`` (each tied to its shop), so the
    kind is a field, not a pair of hard-coded rows.
    """

    class Kind(models.TextChoices):
        MAIN = "main", _("main warehouse")
        DEFECTIVE = "defective", _("defective warehouse")
        STORE = "store", _("store stock")

    code = models.CharField(_("warehouse code"), max_length=32, unique=True)
    name = models.CharField(_("warehouse name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    sellable = models.BooleanField(_("sellable"), default=True)
    active = models.BooleanField(_("enabled"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouse")
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind__in=["main", "defective"]),
                name="warehouse_one_main_one_defective",
            )
        ]

    def __str__(self):
        return self.name

    @classmethod
    def main(cls) -> "Warehouse":
        return cls.objects.get(kind=cls.Kind.MAIN)

    @classmethod
    def defective(cls) -> "Warehouse":
        return cls.objects.get(kind=cls.Kind.DEFECTIVE)


class StockLevel(models.Model):
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, verbose_name=_("warehouse"))
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="stock_levels", verbose_name=_("product")
    )
    on_hand = models.DecimalField(_("on hand"), **QTY, default=ZERO)
    reserved = models.DecimalField(_("reserved"), **QTY, default=ZERO)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("stock level")
        verbose_name_plural = _("stock level")
        constraints = [
            models.UniqueConstraint(fields=["warehouse", "product"], name="stocklevel_unique"),
            models.CheckConstraint(condition=Q(reserved__gte=0), name="stocklevel_reserved_gte_0"),
        ]

    def __str__(self):
        return f"{self.warehouse} / {self.product.code}"

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


class StockMove(models.Model):
    """One change of on_hand. Append-only: the ledger is the truth, the level its running sum."""

    class Reason(models.TextChoices):
        ADJUST = "adjust", _("adjustment")
        RECEIVE = "receive", _("receipt")
        SHIP = "ship", _("shipment")
        RETURN_IN = "return_in", _("return receipt")
        ERP_SYNC = "erp_sync", _("ERP stock sync")
        TRANSFER = "transfer", _("transfer")

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, verbose_name=_("warehouse"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("product"))
    quantity = models.DecimalField(_("quantity"), **QTY)
    reason = models.CharField(_("reason"), max_length=16, choices=Reason.choices)
    document = models.CharField(_("document"), max_length=64, blank=True, db_index=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("actor"),
    )
    created_at = models.DateTimeField(_("time"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("stock ledger")
        verbose_name_plural = _("stock ledger")
        indexes = [models.Index(fields=["warehouse", "product"], name="stockmove_wh_product")]

    def __str__(self):
        return f"{self.get_reason_display()} {self.product_id} {self.quantity}"


class Reservation(models.Model):
    """Stock held for a document (an order), per warehouse and product."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, verbose_name=_("warehouse"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("product"))
    document = models.CharField(_("document"), max_length=64)
    quantity = models.DecimalField(_("quantity"), **QTY)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("reservation")
        verbose_name_plural = _("reservation")
        constraints = [
            models.UniqueConstraint(
                fields=["document", "warehouse", "product"], name="reservation_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_qty_gt_0"),
        ]
        # No index of its own on product: the foreign key's index is that index (a second
        # one only doubled the cost of every reservation written).


class SellableDirty(models.Model):
    """A product whose sellable quantities must be recomputed before the next push.

    Reservations (the hot path: every arriving order) mark their products here in the same
    statement that reserves, instead of recomputing on the spot; the recompute runs, coalesced,
    right before sellable quantities are read for pushing (``channels.sellable.recompute_dirty``).
    """

    product = models.OneToOneField(
        Product, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    marked_at = models.DateTimeField(_("marked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("sellable quantity to recompute")
        verbose_name_plural = _("sellable quantities to recompute")
