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
SAMPLE_SUFFIX = ":sample"


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
    # Where it lies in the warehouse (库位, e.g. "A-03-2"): the pick list is sorted by it.
    location = models.CharField(_("bin location"), max_length=32, blank=True)
    weight_kg = models.DecimalField(
        _("weight (kg)"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    list_price = models.DecimalField(_("list price"), **MONEY, null=True, blank=True)
    # Garments (contracts/import-formats.md): the products of one style code are the colours
    # and sizes of one garment. All three or none.
    # db_default: rows written by raw SQL or COPY (benchmarks, bulk loads) need not name them.
    style_code = models.CharField(
        _("style code"), max_length=64, blank=True, default="", db_default="", db_index=True
    )
    colour = models.CharField(_("colour"), max_length=32, blank=True, default="", db_default="")
    size = models.CharField(_("size"), max_length=16, blank=True, default="", db_default="")
    active = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(
        verbose_name=_("change history of product"),
        verbose_name_plural=_("change history of product"),
    )

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("product")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(style_code="", colour="", size="")
                | (~Q(style_code="") & ~Q(colour="") & ~Q(size="")),
                name="product_style_colour_size_all_or_none",
            ),
            models.UniqueConstraint(
                fields=["style_code", "colour", "size"],
                condition=~Q(style_code=""),
                name="product_one_per_style_colour_size",
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"

    def save(self, *args, **kwargs):
        if self.barcode == "":
            self.barcode = None
        super().save(*args, **kwargs)

    def clean(self):
        from django.core.exceptions import ValidationError

        given = [bool(self.style_code), bool(self.colour), bool(self.size)]
        if any(given) and not all(given):
            raise ValidationError(_("Style code, colour and size go together: all three or none."))

    @property
    def is_garment(self) -> bool:
        return bool(self.style_code)


class Warehouse(models.Model):
    """A stock location, identified by its code.

    - ``main`` (电商总仓): the one sellable warehouse of the online platforms;
    - ``defective`` (次品仓);
    - ``transit`` (在途): goods of shipped, not yet received transfers (one location);
    - per experience store, ``store`` (its sellable stock, code = the store's unit code, e.g.
      ``MD01``) and ``sample`` (its try-on samples, code ``MD01:sample``): samples are never
      reserved, sold or pushed to a platform (``inventory.services`` refuses it).
    """

    class Kind(models.TextChoices):
        MAIN = "main", _("main warehouse")
        DEFECTIVE = "defective", _("defective warehouse")
        STORE = "store", _("store stock")
        SAMPLE = "sample", _("store samples")
        TRANSIT = "transit", _("in transit")

    code = models.CharField(_("warehouse code"), max_length=32, unique=True)
    name = models.CharField(_("warehouse name"), max_length=100)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices)
    sellable = models.BooleanField(_("sellable"), default=True)
    active = models.BooleanField(_("enabled"), default=True)

    history = HistoricalRecords(
        verbose_name=_("change history of warehouse"),
        verbose_name_plural=_("change history of warehouse"),
    )

    class Meta:
        verbose_name = _("warehouse")
        verbose_name_plural = _("warehouse")
        constraints = [
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind__in=["main", "defective", "transit"]),
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

    @classmethod
    def transit(cls) -> "Warehouse":
        return cls.objects.get(kind=cls.Kind.TRANSIT)

    @staticmethod
    def sample_code(store_code: str) -> str:
        """The code of a store's sample location: ``MD01`` → ``MD01:sample``."""
        return f"{store_code}{SAMPLE_SUFFIX}"

    @property
    def store_code(self) -> str | None:
        """The store (unit) code of a store or sample location, else None."""
        if self.kind == self.Kind.STORE:
            return self.code
        if self.kind == self.Kind.SAMPLE and self.code.endswith(SAMPLE_SUFFIX):
            return self.code[: -len(SAMPLE_SUFFIX)]
        return None


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
        TRANSFER_SHORT = "transfer_short", _("transfer shortfall")

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

    def __str__(self):
        return f"{self.product_id} × {self.quantity.normalize()}"


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


class Transfer(models.Model):
    """A transfer (调拨单) between the main warehouse and a store: draft → shipped (out of the
    source into in transit) → received (into the destination, per line; a shortfall is
    recorded with its reason). Only ``inventory.transfers`` changes it."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        SHIPPED = "shipped", _("shipped (in transit)")
        RECEIVED = "received", _("received")
        CANCELLED = "cancelled", _("cancelled")

    number = models.CharField(_("transfer no."), max_length=32, unique=True)
    from_warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="+", verbose_name=_("from")
    )
    to_warehouse = models.ForeignKey(
        Warehouse, on_delete=models.PROTECT, related_name="+", verbose_name=_("to")
    )
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.DRAFT, db_index=True
    )
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_at = models.DateTimeField(_("created at"))
    created_by = actor_field(_("created by"))
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    shipped_by = actor_field(_("shipped by"))
    received_at = models.DateTimeField(_("received at"), null=True, blank=True)
    received_by = actor_field(_("received by"))
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    cancelled_by = actor_field(_("cancelled by"))

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("transfer")
        verbose_name_plural = _("transfers")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("ship_transfer", _("Can ship a transfer")),
            ("receive_transfer", _("Can receive a transfer")),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(from_warehouse=models.F("to_warehouse")),
                name="transfer_between_two_locations",
            )
        ]

    def __str__(self):
        return self.number

    @property
    def document(self) -> str:
        """The ledger's document of this transfer's moves."""
        return f"transfer:{self.number}"


class TransferLine(models.Model):
    """A product of a transfer. ``sample``: on the store's side the goods leave from or go to
    the store's sample location instead of its sellable stock."""

    transfer = models.ForeignKey(
        Transfer, on_delete=models.CASCADE, related_name="lines", verbose_name=_("transfer")
    )
    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("product"))
    sample = models.BooleanField(_("sample"), default=False)
    quantity = models.DecimalField(_("quantity"), **QTY)
    received_quantity = models.DecimalField(_("received"), **QTY, null=True, blank=True)
    shortfall_reason = models.CharField(_("shortfall reason"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("transfer line")
        verbose_name_plural = _("transfer lines")
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transfer", "product", "sample"], name="transferline_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="transferline_qty_gt_0"),
            models.CheckConstraint(
                condition=Q(received_quantity__isnull=True) | Q(received_quantity__gte=0),
                name="transferline_received_gte_0",
            ),
        ]

    def __str__(self):
        return f"{self.transfer.number} {self.product.code} {self.quantity}"

    @property
    def shortfall(self) -> Decimal:
        if self.received_quantity is None:
            return ZERO
        return self.quantity - self.received_quantity


class ReplenishmentRule(models.Model):
    """A store location's minimum and target for a product, or for every product of a style."""

    warehouse = models.ForeignKey(
        Warehouse,
        on_delete=models.CASCADE,
        limit_choices_to={"kind": "store"},
        related_name="replenishment_rules",
        verbose_name=_("store location"),
    )
    product = models.ForeignKey(
        Product, on_delete=models.CASCADE, null=True, blank=True, verbose_name=_("product")
    )
    style_code = models.CharField(_("style code"), max_length=64, blank=True)
    minimum = models.DecimalField(_("minimum"), **QTY)
    target = models.DecimalField(_("target"), **QTY)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("replenishment rule")
        verbose_name_plural = _("replenishment rules")
        ordering = ["warehouse", "style_code", "product"]
        constraints = [
            models.CheckConstraint(
                condition=(Q(product__isnull=False) & Q(style_code=""))
                | (Q(product__isnull=True) & ~Q(style_code="")),
                name="replenishmentrule_product_or_style",
            ),
            models.CheckConstraint(
                condition=Q(minimum__gte=0) & Q(target__gte=models.F("minimum")),
                name="replenishmentrule_target_gte_minimum_gte_0",
            ),
            models.UniqueConstraint(
                fields=["warehouse", "product"],
                condition=Q(product__isnull=False),
                name="replenishmentrule_one_per_product",
            ),
            models.UniqueConstraint(
                fields=["warehouse", "style_code"],
                condition=~Q(style_code=""),
                name="replenishmentrule_one_per_style",
            ),
        ]

    def __str__(self):
        return f"{self.warehouse.code} {self.product.code if self.product else self.style_code}"
