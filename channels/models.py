"""Platforms, shops and the SKU relation table (商品关系表)."""

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from inventory.models import QTY


class Platform(models.Model):
    class Integration(models.TextChoices):
        API = "api", _("接口对接")
        FILE = "file", _("文件导入导出")

    code = models.CharField(_("平台编码"), max_length=32, unique=True)
    name = models.CharField(_("平台名称"), max_length=64)
    integration = models.CharField(_("对接方式"), max_length=8, choices=Integration.choices)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("平台")
        verbose_name_plural = _("平台")
        ordering = ["code"]

    def __str__(self):
        return self.name


class Shop(models.Model):
    code = models.CharField(_("店铺编码"), max_length=32, unique=True)
    name = models.CharField(_("店铺名称"), max_length=100)
    platform = models.ForeignKey(
        Platform, on_delete=models.PROTECT, related_name="shops", verbose_name=_("平台")
    )
    unit_code = models.CharField(
        _("单位编码"),
        max_length=32,
        unique=True,
        help_text=_("线下ERP以此区分各店铺的订单"),
    )
    stock_ratio = models.DecimalField(
        _("库存比例"),
        max_digits=5,
        decimal_places=4,
        default=Decimal("1.0000"),
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("1"))],
        help_text=_("推送给平台的可售数量 = (可用 − 安全库存) × 比例,0 到 1"),
    )
    safety_stock = models.DecimalField(
        _("安全库存"), **QTY, default=Decimal("0"), validators=[MinValueValidator(Decimal("0"))]
    )
    enabled = models.BooleanField(_("启用"), default=True)
    # Where the connector talks to (the platform's gateway, or the local sandbox) and with what.
    api_base_url = models.CharField(_("接口地址"), max_length=255, blank=True)
    credentials = models.JSONField(_("接口凭据"), default=dict, blank=True)
    sync_state = models.JSONField(_("同步状态"), default=dict, blank=True)
    # Automatic review (自动审单): approve orders with no hold, no remark and a total within the limit.
    auto_review_enabled = models.BooleanField(_("自动审单"), default=False)
    auto_review_max_amount = models.DecimalField(
        _("自动审单金额上限"), max_digits=14, decimal_places=2, null=True, blank=True
    )

    history = HistoricalRecords(excluded_fields=["sync_state"])

    class Meta:
        verbose_name = _("店铺")
        verbose_name_plural = _("店铺")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(stock_ratio__gte=0) & Q(stock_ratio__lte=1), name="shop_ratio_0_1"
            ),
            models.CheckConstraint(condition=Q(safety_stock__gte=0), name="shop_safety_gte_0"),
        ]

    def __str__(self):
        return f"{self.code} {self.name}"


class SkuMapping(models.Model):
    """One platform SKU of one shop → one or more products with quantities (a bundle)."""

    shop = models.ForeignKey(
        Shop, on_delete=models.PROTECT, related_name="sku_mappings", verbose_name=_("店铺")
    )
    platform_sku = models.CharField(_("平台商品编码"), max_length=128)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("商品关系")
        verbose_name_plural = _("商品关系表")
        ordering = ["shop", "platform_sku"]
        constraints = [
            models.UniqueConstraint(fields=["shop", "platform_sku"], name="skumapping_unique")
        ]

    def __str__(self):
        return f"{self.shop.code} {self.platform_sku}"


class SkuComponent(models.Model):
    mapping = models.ForeignKey(
        SkuMapping, on_delete=models.CASCADE, related_name="components", verbose_name=_("商品关系")
    )
    product = models.ForeignKey(
        "inventory.Product",
        on_delete=models.PROTECT,
        related_name="sku_components",
        verbose_name=_("商品"),
    )
    quantity = models.DecimalField(_("数量"), **QTY)

    history = HistoricalRecords()

    class Meta:
        verbose_name = _("组成商品")
        verbose_name_plural = _("组成商品")
        constraints = [
            models.UniqueConstraint(fields=["mapping", "product"], name="skucomponent_unique"),
            models.CheckConstraint(condition=Q(quantity__gt=0), name="skucomponent_qty_gt_0"),
        ]

    def __str__(self):
        return f"{self.product_id} × {self.quantity}"


class SellableQuantity(models.Model):
    """The sellable figure of one shop SKU: last computed, and last accepted by the platform."""

    mapping = models.OneToOneField(
        SkuMapping, on_delete=models.CASCADE, related_name="sellable", verbose_name=_("商品关系")
    )
    quantity = models.IntegerField(_("可售数量"))
    computed_at = models.DateTimeField(_("计算时间"))
    pushed_quantity = models.IntegerField(_("已推送数量"), null=True, blank=True)
    pushed_at = models.DateTimeField(_("推送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("可售数量")
        verbose_name_plural = _("可售数量")

    @property
    def needs_push(self) -> bool:
        return self.pushed_quantity != self.quantity
