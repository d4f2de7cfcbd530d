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


class Product(models.Model):
    code = models.CharField(_("商品编码"), max_length=64, unique=True)
    name = models.CharField(_("商品名称"), max_length=200)
    barcode = models.CharField(_("条码"), max_length=64, null=True, blank=True, unique=True)
    unit = models.CharField(_("单位"), max_length=16, blank=True)
    spec = models.CharField(_("规格"), max_length=100, blank=True)
    weight_kg = models.DecimalField(
        _("重量(千克)"), max_digits=10, decimal_places=3, null=True, blank=True
    )
    list_price = models.DecimalField(_("零售价"), **MONEY, null=True, blank=True)
    active = models.BooleanField(_("启用"), default=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("商品")
        verbose_name_plural = _("商品")
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
        MAIN = "main", _("电商总仓")
        DEFECTIVE = "defective", _("次品仓")
        STORE = "store", _("门店仓")

    code = models.CharField(_("仓库编码"), max_length=32, unique=True)
    name = models.CharField(_("仓库名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    sellable = models.BooleanField(_("可销售"), default=True)
    active = models.BooleanField(_("启用"), default=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("仓库")
        verbose_name_plural = _("仓库")
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
    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, verbose_name=_("仓库"))
    product = models.ForeignKey(
        Product, on_delete=models.PROTECT, related_name="stock_levels", verbose_name=_("商品")
    )
    on_hand = models.DecimalField(_("在库数量"), **QTY, default=ZERO)
    reserved = models.DecimalField(_("已占用"), **QTY, default=ZERO)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    class Meta:
        verbose_name = _("库存")
        verbose_name_plural = _("库存")
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
        ADJUST = "adjust", _("库存调整")
        RECEIVE = "receive", _("入库")
        SHIP = "ship", _("发货出库")
        RETURN_IN = "return_in", _("退货入库")
        ERP_SYNC = "erp_sync", _("ERP库存同步")
        TRANSFER = "transfer", _("调拨")

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, verbose_name=_("仓库"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("商品"))
    quantity = models.DecimalField(_("数量"), **QTY)
    reason = models.CharField(_("原因"), max_length=16, choices=Reason.choices)
    document = models.CharField(_("单据"), max_length=64, blank=True, db_index=True)
    note = models.CharField(_("备注"), max_length=255, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("操作人"),
    )
    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("库存流水")
        verbose_name_plural = _("库存流水")
        indexes = [models.Index(fields=["warehouse", "product"], name="stockmove_wh_product")]

    def __str__(self):
        return f"{self.get_reason_display()} {self.product_id} {self.quantity}"


class Reservation(models.Model):
    """Stock held for a document (an order), per warehouse and product."""

    warehouse = models.ForeignKey(Warehouse, on_delete=models.PROTECT, verbose_name=_("仓库"))
    product = models.ForeignKey(Product, on_delete=models.PROTECT, verbose_name=_("商品"))
    document = models.CharField(_("单据"), max_length=64)
    quantity = models.DecimalField(_("数量"), **QTY)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("库存占用")
        verbose_name_plural = _("库存占用")
        constraints = [
            models.UniqueConstraint(
                fields=["document", "warehouse", "product"], name="reservation_unique"
            ),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="reservation_qty_gt_0"),
        ]
        indexes = [models.Index(fields=["product"], name="reservation_product")]
