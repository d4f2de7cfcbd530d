"""Orders, their lines and components, holds and the event log."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.models import MONEY, QTY

__all__ = ["Order", "OrderLine", "OrderComponent", "OrderHold", "OrderEvent", "HoldReason"]


class HoldReason(models.TextChoices):
    SKU_UNMAPPED = "sku_unmapped", _("商品未匹配")
    STOCK_SHORT = "stock_short", _("库存不足")
    ADDRESS_INCOMPLETE = "address_incomplete", _("地址不完整")
    REFUND_REQUESTED = "refund_requested", _("平台申请退款(拦截)")
    MANUAL = "manual", _("人工挂起")


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING_REVIEW = "pending_review", _("待审核")
        REVIEWED = "reviewed", _("已审核")
        PRINTED = "printed", _("已打单")
        VERIFIED = "verified", _("已复核")
        SHIPPED = "shipped", _("已发货")
        CANCELLED = "cancelled", _("已作废")

    order_no = models.CharField(_("订单号"), max_length=32, unique=True)
    shop = models.ForeignKey(
        "channels.Shop", on_delete=models.PROTECT, related_name="orders", verbose_name=_("店铺")
    )
    platform_order_no = models.CharField(_("平台订单号"), max_length=64)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.PENDING_REVIEW
    )
    on_hold = models.BooleanField(_("挂起"), default=False)
    split_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="split_orders",
        verbose_name=_("拆分自"),
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_orders",
        verbose_name=_("合并到"),
    )

    buyer_nick = models.CharField(_("买家昵称"), max_length=100, blank=True)
    receiver_name = models.CharField(_("收货人"), max_length=100)
    receiver_phone = models.CharField(_("联系电话"), max_length=40)
    province = models.CharField(_("省"), max_length=32)
    city = models.CharField(_("市"), max_length=32)
    district = models.CharField(_("区县"), max_length=32, blank=True)
    address = models.CharField(_("详细地址"), max_length=255)
    buyer_remark = models.TextField(_("买家留言"), blank=True)
    seller_remark = models.TextField(_("卖家备注"), blank=True)

    goods_amount = models.DecimalField(_("商品金额"), **MONEY, default=0)
    shipping_fee = models.DecimalField(_("运费"), **MONEY, default=0)
    discount_amount = models.DecimalField(_("优惠金额"), **MONEY, default=0)
    total_amount = models.DecimalField(_("订单金额"), **MONEY, default=0)

    paid_at = models.DateTimeField(_("付款时间"), null=True, blank=True)
    platform_created_at = models.DateTimeField(_("平台下单时间"), null=True, blank=True)
    platform_modified_at = models.DateTimeField(_("平台修改时间"), null=True, blank=True)
    platform_status = models.CharField(_("平台状态"), max_length=64, blank=True)
    after_sales_pending = models.BooleanField(_("待售后"), default=False)

    carrier = models.ForeignKey(
        "orders.Carrier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("快递公司"),
    )
    tracking_no = models.CharField(_("快递单号"), max_length=64, blank=True)
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    printed_at = models.DateTimeField(_("打单时间"), null=True, blank=True)
    verified_at = models.DateTimeField(_("复核时间"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("发货时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("作废时间"), null=True, blank=True)

    raw = models.JSONField(_("平台原始数据"), default=dict, blank=True)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    updated_at = models.DateTimeField(_("修改时间"), auto_now=True, db_index=True)

    class Meta:
        verbose_name = _("订单")
        verbose_name_plural = _("订单")
        constraints = [
            # The platform's order is unique per shop; orders split from it share its number.
            models.UniqueConstraint(
                fields=["shop", "platform_order_no"],
                condition=Q(split_from__isnull=True),
                name="order_unique_platform_order",
            )
        ]
        indexes = [
            models.Index(fields=["status", "paid_at"], name="order_status_paid"),
            models.Index(fields=["platform_order_no"], name="order_platform_no"),
            models.Index(fields=["tracking_no"], name="order_tracking_no"),
            models.Index(fields=["shop", "status"], name="order_shop_status"),
        ]

    def __str__(self):
        return self.order_no

    @property
    def document(self) -> str:
        """The reference under which this order's stock is reserved and moved."""
        return f"order:{self.pk}"


class OrderLine(models.Model):
    """One platform line (sub-order) as the platform sent it."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("订单")
    )
    platform_line_id = models.CharField(_("平台子订单号"), max_length=64, blank=True)
    platform_sku = models.CharField(_("平台商品编码"), max_length=128)
    title = models.CharField(_("商品标题"), max_length=255, blank=True)
    quantity = models.DecimalField(_("数量"), **QTY)
    unit_price = models.DecimalField(_("单价"), **MONEY)
    amount = models.DecimalField(_("金额"), **MONEY)
    mapping = models.ForeignKey(
        "channels.SkuMapping",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("商品关系"),
    )
    refund_status = models.CharField(_("退款状态"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("订单明细")
        verbose_name_plural = _("订单明细")

    def __str__(self):
        return f"{self.platform_sku} × {self.quantity}"


class OrderComponent(models.Model):
    """A product a line turns into through the SKU relation table (line quantity × component)."""

    line = models.ForeignKey(
        OrderLine, on_delete=models.CASCADE, related_name="components", verbose_name=_("订单明细")
    )
    product = models.ForeignKey(
        "inventory.Product", on_delete=models.PROTECT, verbose_name=_("商品")
    )
    quantity = models.DecimalField(_("数量"), **QTY)

    class Meta:
        verbose_name = _("明细商品")
        verbose_name_plural = _("明细商品")
        indexes = [models.Index(fields=["product"], name="ordercomponent_product")]


class OrderHold(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="holds", verbose_name=_("订单")
    )
    reason = models.CharField(_("挂起原因"), max_length=32, choices=HoldReason.choices)
    note = models.CharField(_("说明"), max_length=255, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("挂起人"),
    )
    created_at = models.DateTimeField(_("挂起时间"), auto_now_add=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("解除人"),
    )
    released_at = models.DateTimeField(_("解除时间"), null=True, blank=True)
    release_note = models.CharField(_("解除说明"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("挂起")
        verbose_name_plural = _("挂起")
        constraints = [
            models.UniqueConstraint(
                fields=["order", "reason"],
                condition=Q(released_at__isnull=True),
                name="orderhold_one_active_per_reason",
            )
        ]
        indexes = [
            models.Index(
                fields=["reason"], condition=Q(released_at__isnull=True), name="orderhold_active"
            )
        ]


class OrderEvent(models.Model):
    """Every transition and edit of an order: who, when, what, before and after."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="events", verbose_name=_("订单")
    )
    kind = models.CharField(_("事件"), max_length=32)
    message = models.CharField(_("说明"), max_length=500, blank=True)
    before = models.JSONField(_("修改前"), null=True, blank=True)
    after = models.JSONField(_("修改后"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("操作人"),
    )
    actor_label = models.CharField(_("操作方"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("订单日志")
        verbose_name_plural = _("订单日志")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="orderevent_order_time")]
