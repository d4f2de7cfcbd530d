"""Orders, their lines and components, holds and the event log."""

from django.conf import settings
from django.contrib.postgres.indexes import BrinIndex
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from inventory.models import MONEY, QTY, actor_field

__all__ = [
    "Fulfilment",
    "Order",
    "ReviewQueueOrder",
    "OrderLine",
    "OrderComponent",
    "OrderHold",
    "OrderEvent",
    "HoldReason",
]


class HoldReason(models.TextChoices):
    SKU_UNMAPPED = "sku_unmapped", _("SKU not mapped")
    STOCK_SHORT = "stock_short", _("stock short")
    ADDRESS_INCOMPLETE = "address_incomplete", _("address incomplete")
    REFUND_REQUESTED = "refund_requested", _("refund requested (intercepted)")
    MANUAL = "manual", _("manual hold")
    # The platform forbids shipping for now (TOP PAID_FORBID_CONSIGN, JD POP_ORDER_PAUSE).
    SHIP_FORBIDDEN = "ship_forbidden", _("platform forbids shipping")
    # A store order placed on a kiosk waits for payment at the counter (released by paying).
    UNPAID = "unpaid", _("awaiting payment at the counter")
    ADDRESS_CHANGED = "address_changed", _("address changed after printing")


class Fulfilment(models.TextChoices):
    """How a store order reaches its customer (online orders: blank, i.e. delivery)."""

    DELIVERY = "delivery", _("home delivery")
    TAKEAWAY = "takeaway", _("take away now")
    PICKUP = "pickup", _("pick up in the store")


class Order(models.Model):
    class Status(models.TextChoices):
        PENDING_REVIEW = "pending_review", _("pending review")
        REVIEWED = "reviewed", _("reviewed")
        PRINTED = "printed", _("printed")
        VERIFIED = "verified", _("verified")
        SHIPPED = "shipped", _("shipped")
        CANCELLED = "cancelled", _("cancelled")
        # Merged into another order (merged_into): its lines and reservation live there now.
        MERGED = "merged", _("merged")

    order_no = models.CharField(_("order no."), max_length=32, unique=True)
    shop = models.ForeignKey(
        "channels.Shop",
        on_delete=models.PROTECT,
        related_name="orders",
        verbose_name=_("shop"),
        db_index=False,  # covered by order_shop_status (shop, status): one index less to write
    )
    platform_order_no = models.CharField(_("platform order no."), max_length=64)
    status = models.CharField(
        _("status"), max_length=16, choices=Status.choices, default=Status.PENDING_REVIEW
    )
    on_hold = models.BooleanField(_("hold"), default=False)
    split_from = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="split_orders",
        verbose_name=_("split from"),
    )
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_orders",
        verbose_name=_("merged into"),
    )

    buyer_nick = models.CharField(_("buyer nick"), max_length=100, blank=True)
    receiver_name = models.CharField(_("receiver"), max_length=100)
    receiver_phone = models.CharField(_("phone"), max_length=40)
    province = models.CharField(_("province"), max_length=32)
    city = models.CharField(_("city"), max_length=32)
    district = models.CharField(_("district"), max_length=32, blank=True)
    address = models.CharField(_("address"), max_length=255)
    # Encrypted buyer details (密文订单): the platform's opaque receiver id (TOP ``oaid``, JD
    # ``oaid``). When set, the name, phone and address above are masked (张**, 138****5678):
    # the electronic waybill service prints the clear receiver from this id, and two orders
    # go to the same receiver only when their ids match (the masked text says nothing).
    receiver_oaid = models.CharField(_("receiver id"), max_length=128, blank=True)
    buyer_remark = models.TextField(_("buyer remark"), blank=True)
    seller_remark = models.TextField(_("seller remark"), blank=True)

    goods_amount = models.DecimalField(_("goods amount"), **MONEY, default=0)
    shipping_fee = models.DecimalField(_("shipping fee"), **MONEY, default=0)
    discount_amount = models.DecimalField(_("discount"), **MONEY, default=0)
    total_amount = models.DecimalField(_("order total"), **MONEY, default=0)

    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    platform_created_at = models.DateTimeField(_("platform created at"), null=True, blank=True)
    platform_modified_at = models.DateTimeField(_("platform modified at"), null=True, blank=True)
    platform_status = models.CharField(_("platform status"), max_length=64, blank=True)
    after_sales_pending = models.BooleanField(_("after-sales pending"), default=False)

    carrier = models.ForeignKey(
        "orders.Carrier",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="orders",
        verbose_name=_("carrier"),
    )
    tracking_no = models.CharField(_("tracking no."), max_length=64, blank=True)
    # Set when the whole order is reserved (自动配货); None while it reserves nothing.
    allocated_at = models.DateTimeField(_("allocated at"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    printed_at = models.DateTimeField(_("printed at"), null=True, blank=True)
    verified_at = models.DateTimeField(_("verified at"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped at"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)
    # When the offline ERP acknowledged this order's sales record (erpbridge sets it): kept on
    # the order so that "shipped, not yet extracted" is a small partial index, not a scan of
    # every order ever shipped.
    erp_extracted_at = models.DateTimeField(
        _("extracted by the ERP at"), null=True, blank=True, editable=False
    )

    raw = models.JSONField(_("platform raw data"), default=dict, blank=True)
    # Fields a reviewer corrected, each with the platform's latest known value of it: they no
    # longer follow the platform (orders.services.platform_changes).
    corrected = models.JSONField(_("corrected fields"), default=dict, blank=True)
    # The platform's newer values of fields the order does not follow (corrected, or printed
    # already), waiting for a reviewer to accept or dismiss them.
    platform_changes = models.JSONField(_("platform changes"), default=dict, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True, db_index=True)

    # --- store orders (体验店: stores/services.py); blank / null for online orders ---
    fulfilment = models.CharField(
        _("fulfilment"), max_length=16, choices=Fulfilment.choices, blank=True
    )
    guide = actor_field(_("shopping guide"))
    member_phone = models.CharField(_("member phone"), max_length=20, blank=True)
    # The pricing of the order as ``promotions.quote.quote`` returned it (Quote.as_dict()).
    quote = models.JSONField(_("price quote"), null=True, blank=True)
    # An unpaid store order is cancelled (its stock released) after this time.
    payment_due_at = models.DateTimeField(_("pay by"), null=True, blank=True)
    pickup_code = models.CharField(_("pick-up code"), max_length=8, blank=True)
    pickup_ready_at = models.DateTimeField(_("ready for pick-up at"), null=True, blank=True)
    pickup_locked_at = models.DateTimeField(_("pick-up locked at"), null=True, blank=True)
    pickup_reminded_at = models.DateTimeField(_("store told (uncollected)"), null=True, blank=True)
    handed_over_at = models.DateTimeField(_("handed over at"), null=True, blank=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("order")
        constraints = [
            # The platform's order is unique per shop; orders split from it share its number.
            models.UniqueConstraint(
                fields=["shop", "platform_order_no"],
                condition=Q(split_from__isnull=True),
                name="order_unique_platform_order",
            ),
            # A pick-up code is unique among the store's open orders (a code works once).
            models.UniqueConstraint(
                fields=["shop", "pickup_code"],
                condition=~Q(pickup_code="")
                & Q(handed_over_at__isnull=True, cancelled_at__isnull=True),
                name="order_open_pickup_code",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "paid_at"], name="order_status_paid"),
            models.Index(fields=["platform_order_no"], name="order_platform_no"),
            models.Index(fields=["tracking_no"], name="order_tracking_no"),
            models.Index(fields=["shop", "status"], name="order_shop_status"),
            models.Index(fields=["receiver_phone"], name="order_receiver_phone"),
            models.Index(fields=["receiver_name"], name="order_receiver_name"),
            # Orders paid and shipped per hour today (the home page's charts): BRIN indexes are a
            # few pages for millions of rows, as both times grow with the table.
            BrinIndex(fields=["paid_at"], name="order_paid_brin"),
            BrinIndex(fields=["shipped_at"], name="order_shipped_brin"),
            # The review queue (待审核) and its filters: partial indexes in the queue's order.
            models.Index(
                fields=["paid_at", "id"], condition=Q(status="pending_review"), name="order_queue"
            ),
            models.Index(
                fields=["shop", "paid_at", "id"],
                condition=Q(status="pending_review"),
                name="order_queue_shop",
            ),
            models.Index(
                fields=["province", "paid_at", "id"],
                condition=Q(status="pending_review"),
                name="order_queue_province",
            ),
            models.Index(
                fields=["paid_at", "id"],
                condition=Q(status="pending_review") & (~Q(buyer_remark="") | ~Q(seller_remark="")),
                name="order_queue_remark",
            ),
            # Unpaid store orders, by the time they expire (the expiry task's scan).
            models.Index(
                fields=["payment_due_at"],
                condition=Q(paid_at__isnull=True, payment_due_at__isnull=False),
                name="order_unpaid_due",
            ),
            # The ERP's reconciliation and extraction: shipped orders not yet extracted (stays
            # as small as the ERP's backlog), and the recently extracted ones by time.
            models.Index(
                fields=["shop", "id"],
                condition=Q(status="shipped", erp_extracted_at__isnull=True),
                name="order_shipped_unextracted",
            ),
            models.Index(
                fields=["erp_extracted_at"],
                condition=Q(erp_extracted_at__isnull=False),
                name="order_erp_extracted_at",
            ),
        ]

    def __str__(self):
        return self.order_no

    @property
    def document(self) -> str:
        """The reference under which this order's stock is reserved and moved."""
        return f"order:{self.pk}"

    @property
    def has_remark(self) -> bool:
        return bool(self.buyer_remark or self.seller_remark)


class OrderLine(models.Model):
    """One platform line (sub-order) as the platform sent it."""

    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="lines", verbose_name=_("order")
    )
    merged_from = models.ForeignKey(
        Order,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("merged from"),
        help_text=_("The platform order this line belongs to, when it was merged into another."),
    )
    platform_line_id = models.CharField(_("platform line id"), max_length=64, blank=True)
    platform_sku = models.CharField(_("platform SKU"), max_length=128)
    title = models.CharField(_("title"), max_length=255, blank=True)
    quantity = models.DecimalField(_("quantity"), **QTY)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    amount = models.DecimalField(_("amount"), **MONEY)
    # This line's share of the order-level discounts (allocated by largest remainder over the
    # lines' amounts, core.money.allocate): amount − discount is what the buyer paid for it.
    # The order's discount is always the sum of its lines' discounts; lines keep theirs when
    # an order is split or merged.
    discount = models.DecimalField(_("discount share"), **MONEY, default=0)
    mapping = models.ForeignKey(
        "channels.SkuMapping",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("SKU relation"),
    )
    refund_status = models.CharField(_("refund status"), max_length=32, blank=True)

    class Meta:
        verbose_name = _("order line")
        verbose_name_plural = _("order line")

    def __str__(self):
        return f"{self.platform_sku} × {self.quantity}"


class OrderComponent(models.Model):
    """A product a line turns into through the SKU relation table (line quantity × component)."""

    line = models.ForeignKey(
        OrderLine, on_delete=models.CASCADE, related_name="components", verbose_name=_("order line")
    )
    # The line's order, kept here too (it follows the line through split and merge) so that
    # "orders needing product X" is one index lookup on (product, order).
    order = models.ForeignKey(
        Order,
        on_delete=models.CASCADE,
        related_name="components",
        verbose_name=_("order"),
        null=True,
    )
    product = models.ForeignKey(
        "inventory.Product",
        on_delete=models.PROTECT,
        verbose_name=_("product"),
        db_index=False,  # covered by ordercomponent_product_order
    )
    quantity = models.DecimalField(_("quantity"), **QTY)

    class Meta:
        verbose_name = _("line component")
        verbose_name_plural = _("line component")
        indexes = [models.Index(fields=["product", "order"], name="ordercomponent_product_order")]


class OrderHold(models.Model):
    order = models.ForeignKey(
        Order, on_delete=models.CASCADE, related_name="holds", verbose_name=_("order")
    )
    reason = models.CharField(_("hold reason"), max_length=32, choices=HoldReason.choices)
    note = models.CharField(_("note"), max_length=255, blank=True)
    created_by = actor_field(_("held by"))
    created_at = models.DateTimeField(_("held at"), auto_now_add=True)
    released_by = actor_field(_("released by"))
    released_at = models.DateTimeField(_("released at"), null=True, blank=True)
    release_note = models.CharField(_("release note"), max_length=255, blank=True)

    class Meta:
        verbose_name = _("hold")
        verbose_name_plural = _("hold")
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
        Order,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("order"),
        db_index=False,  # covered by orderevent_order_time (order, created_at)
    )

    class Kind(models.TextChoices):
        CREATED = "created", _("order received")
        PLATFORM_UPDATE = "platform_update", _("changed on the platform")
        AFTER_SALES = "after_sales", _("after-sales request on the platform")
        HOLD = "hold", _("held")
        RELEASE = "release", _("hold released")
        ALLOCATED = "allocated", _("stock reserved")
        DEALLOCATED = "deallocated", _("reservation released")
        APPROVED = "approved", _("approved")
        CANCELLED = "cancelled", _("cancelled")
        CARRIER_SET = "carrier_set", _("carrier set")
        EDITED = "edited", _("details corrected")
        LINES_CHANGED = "lines_changed", _("lines changed")
        REMAPPED = "remapped", _("SKUs re-mapped")
        SPLIT = "split", _("split")
        SPLIT_FROM = "split_from", _("split off from another order")
        MERGED = "merged", _("merged")
        MERGED_INTO = "merged_into", _("merged into another order")
        WAVE = "wave", _("wave")
        TRACKING_ASSIGNED = "tracking_assigned", _("tracking number assigned")
        WAYBILL_CANCELLED = "waybill_cancelled", _("waybill cancelled")
        DOCUMENT_PRINTED = "document_printed", _("document printed")
        REPRINTED = "reprinted", _("document reprinted")
        VERIFIED = "verified", _("verified by scanning")
        SHIPPED = "shipped", _("shipped")
        HANDOVER = "handover", _("handover batch")
        RETURN_CREATED = "return_created", _("return order created")
        RETURN_RECEIVED = "return_received", _("returned goods received")
        # Store orders (stores/services.py).
        PAYMENT = "payment", _("payment taken")
        PAID = "paid", _("paid in full")
        GUIDE = "guide", _("guide attached")
        READY_FOR_PICKUP = "ready_for_pickup", _("ready for pick-up")
        HANDED_OVER = "handed_over", _("handed over in the store")
        PICKUP_CODE_WRONG = "pickup_code_wrong", _("wrong pick-up code")
        PICKUP_LOCKED = "pickup_locked", _("pick-up locked")
        PICKUP_UNLOCKED = "pickup_unlocked", _("pick-up unlocked")
        PICKUP_UNCOLLECTED = "pickup_uncollected", _("pick-up not collected: store told")
        PLATFORM_CHANGE = "platform_change", _("platform change kept for review")
        PLATFORM_CHANGE_ACCEPTED = "platform_change_accepted", _("platform change accepted")
        PLATFORM_CHANGE_DISMISSED = "platform_change_dismissed", _("platform change dismissed")

    kind = models.CharField(_("event"), max_length=32, choices=Kind.choices)
    message = models.CharField(_("note"), max_length=500, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("actor"),
    )
    actor_label = models.CharField(_("actor label"), max_length=64, blank=True)
    created_at = models.DateTimeField(_("time"), auto_now_add=True)

    class Meta:
        verbose_name = _("order event")
        verbose_name_plural = _("order event")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["order", "created_at"], name="orderevent_order_time")]


class ReviewQueueOrder(Order):
    """The review queue (审单): orders waiting for review, as the reviewers' own admin screen."""

    class Meta:
        proxy = True
        verbose_name = _("order to review")
        verbose_name_plural = _("review queue")
