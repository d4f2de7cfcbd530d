"""The offline ERP's side of tongcang: its clients, the message log, stock messages applied,
the last ERP quantity per product, and the retail batches (records handed over exactly once)."""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from inventory.models import QTY, actor_field


class Scope(models.TextChoices):
    """What a client's key may do. Stock writes move the main warehouse, which every shop sells
    from: a key limited to unit codes never writes it, whatever its scopes."""

    STOCK_READ = "stock_read", _("read stock")
    STOCK_WRITE = "stock_write", _("write the main warehouse's stock")
    ORDERS = "orders", _("read orders (per unit code)")
    RETAIL = "retail", _("extract retail records (per unit code)")


ALL_SCOPES = ",".join(Scope.values)


class ErpClient(models.Model):
    """A machine client of the API: key id + secret (kept encrypted: HMAC needs the secret)."""

    name = models.CharField(_("name"), max_length=64, unique=True)
    key_id = models.CharField(_("key id"), max_length=40, unique=True, editable=False)
    secret_encrypted = models.TextField(_("encrypted secret"), editable=False)
    unit_codes = models.CharField(
        _("unit codes"),
        max_length=500,
        blank=True,
        help_text=_("comma-separated unit codes this key may use; empty: every unit code"),
    )
    scopes = models.CharField(
        _("scopes"),
        max_length=200,
        default=ALL_SCOPES,
        help_text=_("what this key may do (comma-separated)"),
    )
    enabled = models.BooleanField(_("enabled"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    created_by = actor_field(_("created by"))
    disabled_at = models.DateTimeField(_("disabled at"), null=True, blank=True)
    disabled_by = actor_field(_("disabled by"))
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ERP client")
        verbose_name_plural = _("ERP clients")
        ordering = ["name"]

    def __str__(self):
        return self.name

    @property
    def allowed_unit_codes(self) -> set[str]:
        """The unit codes this key may use; an empty set means every unit code."""
        return {c.strip() for c in self.unit_codes.split(",") if c.strip()}

    def may_use(self, unit_code: str) -> bool:
        allowed = self.allowed_unit_codes
        return not allowed or unit_code in allowed

    @property
    def scope_set(self) -> set[str]:
        return {s.strip() for s in self.scopes.split(",") if s.strip()}

    def may(self, scope: str) -> bool:
        """Whether the key may do this; writing the main warehouse's stock also needs a key
        that is not limited to some unit codes."""
        if scope not in self.scope_set:
            return False
        if scope == Scope.STOCK_WRITE and self.allowed_unit_codes:
            return False
        return True


class ErpNonce(models.Model):
    """A nonce seen from a key: never accepted twice (pruned once outside the time window)."""

    client = models.ForeignKey(ErpClient, on_delete=models.CASCADE, related_name="+")
    nonce = models.CharField(max_length=64)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("nonce")
        verbose_name_plural = _("nonces")
        constraints = [
            models.UniqueConstraint(fields=["client", "nonce"], name="erpnonce_unique_per_client")
        ]


class MessageLog(models.Model):
    """Every request of the ERP and every answer: raw body, result, timing and client."""

    class Direction(models.TextChoices):
        IN = "in", _("in (ERP to tongcang)")
        OUT = "out", _("out (tongcang to ERP)")

    class Kind(models.TextChoices):
        STOCK_INCREMENTAL = "stock_incremental", _("stock, incremental")
        STOCK_FULL = "stock_full", _("stock, full snapshot")
        STOCK_QUERY = "stock_query", _("stock query")
        ORDERS_QUERY = "orders_query", _("orders query")
        RETAIL_BATCH = "retail_batch", _("retail batch")
        RETAIL_ACK = "retail_ack", _("retail batch acknowledgement")
        OTHER = "other", _("other")

    class Result(models.TextChoices):
        APPLIED = "applied", _("applied")
        DUPLICATE = "duplicate", _("duplicate")
        REFUSED = "refused", _("refused (suspicious snapshot)")
        ACCEPTED = "accepted", _("refused, then accepted by an administrator")
        ANSWERED = "answered", _("answered")
        REJECTED = "rejected", _("rejected")
        FAILED = "failed", _("failed")

    client = models.ForeignKey(
        ErpClient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="messages",
        verbose_name=_("ERP client"),
    )
    direction = models.CharField(_("direction"), max_length=4, choices=Direction.choices)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("path"), max_length=500)
    message_id = models.CharField(_("message id"), max_length=128, blank=True, db_index=True)
    unit_code = models.CharField(_("unit code"), max_length=32, blank=True, db_index=True)
    batch_id = models.CharField(_("batch id"), max_length=40, blank=True, db_index=True)
    request_body = models.TextField(_("raw request body"), blank=True)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"))
    result = models.CharField(_("result"), max_length=12, choices=Result.choices)
    error_code = models.CharField(_("error code"), max_length=40, blank=True)
    note = models.CharField(_("note"), max_length=255, blank=True)
    response_body = models.TextField(_("response body"), blank=True)
    received_at = models.DateTimeField(_("received at"), default=timezone.now, db_index=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    accepted_by = actor_field(_("accepted by"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("ERP message")
        verbose_name_plural = _("ERP message log")
        ordering = ["-received_at", "-id"]
        permissions = [("accept_snapshot", _("Can accept a refused full stock snapshot"))]

    def __str__(self):
        return f"{self.get_kind_display()} {self.message_id or self.batch_id or self.path}"


class StockMessage(models.Model):
    """A stock message applied once: a repeated message_id gets this answer again."""

    message_id = models.CharField(_("message id"), max_length=128, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=MessageLog.Kind.choices)
    as_of = models.DateTimeField(_("as of"))
    answer = models.JSONField(_("answer"))
    client = models.ForeignKey(
        ErpClient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ERP client"),
    )
    log = models.ForeignKey(
        MessageLog,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("message log"),
    )
    applied_at = models.DateTimeField(_("applied at"), auto_now_add=True)
    applied_by = actor_field(_("accepted by"))

    class Meta:
        verbose_name = _("applied stock message")
        verbose_name_plural = _("applied stock messages")

    def __str__(self):
        return self.message_id


class ErpStock(models.Model):
    """The last quantity the ERP sent for a product (main warehouse), and as of when."""

    product = models.OneToOneField(
        "inventory.Product",
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="erp_stock",
        verbose_name=_("product"),
    )
    quantity = models.DecimalField(_("ERP quantity"), **QTY)
    as_of = models.DateTimeField(_("ERP as of"))
    message_id = models.CharField(_("message id"), max_length=128)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("ERP quantity")
        verbose_name_plural = _("ERP quantities")


class RecordKind(models.TextChoices):
    SALES = "sales", _("sales")
    RETURNS = "returns", _("returns")
    TRANSFERS = "transfers", _("transfers")


class RetailBatch(models.Model):
    """Records handed to the ERP in one answer; open until acknowledged."""

    batch_id = models.CharField(_("batch id"), max_length=40, unique=True)
    unit_code = models.CharField(_("unit code"), max_length=32)
    kind = models.CharField(_("kind"), max_length=16, choices=RecordKind.choices)
    records = models.JSONField(_("records"), default=list)
    record_count = models.PositiveIntegerField(_("records"), default=0)
    client = models.ForeignKey(
        ErpClient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("ERP client"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    acked_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acked_by = models.ForeignKey(
        ErpClient,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )

    class Meta:
        verbose_name = _("retail batch")
        verbose_name_plural = _("retail batches")
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["unit_code", "kind"],
                condition=Q(acked_at__isnull=True),
                name="retailbatch_one_open_per_unit_kind",
            )
        ]

    def __str__(self):
        return self.batch_id


class RetailRecord(models.Model):
    """One order (sales), return order (returns) or received transfer (transfers) in a
    batch: each reaches the ERP once."""

    batch = models.ForeignKey(
        RetailBatch, on_delete=models.PROTECT, related_name="items", verbose_name=_("batch")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=RecordKind.choices)
    order = models.ForeignKey(
        "orders.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("order"),
    )
    return_order = models.ForeignKey(
        "returns.ReturnOrder",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("return order"),
    )
    transfer = models.ForeignKey(
        "inventory.Transfer",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("transfer"),
    )
    acked_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)

    class Meta:
        verbose_name = _("retail record")
        verbose_name_plural = _("retail records")
        constraints = [
            models.UniqueConstraint(
                fields=["order"], condition=Q(order__isnull=False), name="retailrecord_order_once"
            ),
            models.UniqueConstraint(
                fields=["return_order"],
                condition=Q(return_order__isnull=False),
                name="retailrecord_return_once",
            ),
            models.UniqueConstraint(
                fields=["transfer"],
                condition=Q(transfer__isnull=False),
                name="retailrecord_transfer_once",
            ),
            models.CheckConstraint(
                condition=(
                    Q(
                        kind="sales",
                        order__isnull=False,
                        return_order__isnull=True,
                        transfer__isnull=True,
                    )
                    | Q(
                        kind="returns",
                        order__isnull=True,
                        return_order__isnull=False,
                        transfer__isnull=True,
                    )
                    | Q(
                        kind="transfers",
                        order__isnull=True,
                        return_order__isnull=True,
                        transfer__isnull=False,
                    )
                ),
                name="retailrecord_kind_matches",
            ),
        ]
