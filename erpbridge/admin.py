"""Admin of the ERP bridge: clients (secret shown once), the message log for auditors (with the
acceptance of a refused full snapshot), batches, applied messages and the ERP's quantities."""

from django import forms
from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from . import services
from .models import (
    ErpClient,
    ErpStock,
    MessageLog,
    RetailBatch,
    RetailRecord,
    Scope,
    StockMessage,
)

SHOWN_BODY_CHARS = 20000


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ErpClientForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(
        label=_("scopes"),
        choices=Scope.choices,
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text=_(
            "what this key may do; a key limited to unit codes never writes the main "
            "warehouse's stock"
        ),
    )

    class Meta:
        model = ErpClient
        fields = ["name", "unit_codes", "scopes"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "scopes" in self.fields:
            self.initial["scopes"] = sorted(
                self.instance.scope_set if self.instance.pk else set(Scope.values)
            )

    def clean_scopes(self):
        return ",".join(s for s in Scope.values if s in self.cleaned_data["scopes"])


@admin.register(ErpClient)
class ErpClientAdmin(admin.ModelAdmin):
    form = ErpClientForm
    list_display = [
        "name",
        "key_id",
        "enabled",
        "unit_codes",
        "scopes",
        "created_at",
        "last_used_at",
    ]
    list_filter = ["enabled"]
    search_fields = ["name", "key_id", "unit_codes"]
    actions = ["disable_clients"]
    created_template = "admin/erpbridge/erpclient/created.html"

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["name", "unit_codes", "scopes"]
        return [
            "name",
            "key_id",
            "unit_codes",
            "scopes",
            "enabled",
            "created_at",
            "created_by",
            "disabled_at",
            "disabled_by",
            "last_used_at",
        ]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return [f for f in self.get_fields(request, obj) if f not in ("unit_codes", "scopes")]

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            services.set_client_unit_codes(
                client=obj, unit_codes=obj.unit_codes, actor=request.user
            )
            services.set_client_scopes(client=obj, scopes=obj.scopes, actor=request.user)
            return
        client, secret = services.create_client(
            name=obj.name, unit_codes=obj.unit_codes, scopes=obj.scopes, actor=request.user
        )
        obj.pk = client.pk
        obj._state.adding = False
        obj.refresh_from_db()
        # Shown once, in this response only: never in a message (a cookie, or the session).
        request._erp_new_secret = secret

    def response_add(self, request, obj, post_url_continue=None):
        secret = getattr(request, "_erp_new_secret", None)
        if secret is None:
            return super().response_add(request, obj, post_url_continue)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "client": obj,
            "secret": secret,
            "title": gettext("ERP client %(name)s created") % {"name": obj.name},
        }
        response = TemplateResponse(request, self.created_template, context)
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Disable the selected ERP clients"), permissions=["change"])
    def disable_clients(self, request, queryset):
        for client in queryset:
            services.disable_client(client=client, actor=request.user)
        self.message_user(request, gettext("%(n)s client(s) disabled") % {"n": queryset.count()})


@admin.register(MessageLog)
class MessageLogAdmin(ReadOnlyAdmin):
    list_display = [
        "received_at",
        "kind",
        "direction",
        "client",
        "message_id",
        "unit_code",
        "batch_id",
        "status_code",
        "result",
        "duration_ms",
    ]
    list_filter = ["kind", "result", "direction", "status_code", "client"]
    search_fields = ["message_id", "batch_id", "unit_code", "path", "error_code", "note"]
    date_hierarchy = "received_at"
    actions = ["accept_snapshots"]
    fields = [
        "received_at",
        "client",
        "direction",
        "kind",
        "method",
        "path",
        "message_id",
        "unit_code",
        "batch_id",
        "status_code",
        "result",
        "error_code",
        "note",
        "duration_ms",
        "accepted_by",
        "accepted_at",
        "shown_request_body",
        "shown_response_body",
    ]
    readonly_fields = fields

    def get_search_results(self, request, queryset, search_term):
        """Also finds a product code or any text inside the raw bodies."""
        filtered = queryset
        queryset, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        if search_term:
            queryset |= filtered.filter(request_body__contains=search_term)
        return queryset, may_have_duplicates

    @staticmethod
    def _shown(text):
        if len(text) > SHOWN_BODY_CHARS:
            text = (
                text[:SHOWN_BODY_CHARS]
                + "\n… ("
                + gettext("%(n)s characters") % {"n": len(text)}
                + ")"
            )
        return format_html('<pre style="white-space: pre-wrap">{}</pre>', text)

    @admin.display(description=_("raw request body"))
    def shown_request_body(self, obj):
        return self._shown(obj.request_body)

    @admin.display(description=_("response body"))
    def shown_response_body(self, obj):
        return self._shown(obj.response_body)

    def has_accept_snapshot_permission(self, request):
        return request.user.has_perm("erpbridge.accept_snapshot")

    @admin.action(
        description=_("Accept the selected refused full snapshots (apply them now)"),
        permissions=["accept_snapshot"],
    )
    def accept_snapshots(self, request, queryset):
        for log in queryset.order_by("received_at", "id"):
            try:
                answer = services.accept_refused_snapshot(log=log, actor=request.user)
            except (ValueError, services.ErpError) as exc:
                self.message_user(
                    request, f"{log.message_id or log.pk}: {exc}", level=messages.ERROR
                )
                continue
            self.message_user(
                request,
                gettext("%(id)s applied: %(n)s products, %(stale)s stale")
                % {"id": log.message_id, "n": answer["applied"], "stale": len(answer["stale"])},
            )


class RetailRecordInline(admin.TabularInline):
    model = RetailRecord
    fields = ["kind", "order", "return_order", "transfer", "acked_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(RetailBatch)
class RetailBatchAdmin(ReadOnlyAdmin):
    list_display = ["batch_id", "unit_code", "kind", "record_count", "created_at", "acked_at"]
    list_filter = ["kind", "unit_code"]
    search_fields = ["batch_id", "unit_code"]
    date_hierarchy = "created_at"
    fields = [
        "batch_id",
        "unit_code",
        "kind",
        "record_count",
        "client",
        "created_at",
        "acked_at",
        "acked_by",
        "records",
    ]
    readonly_fields = fields
    inlines = [RetailRecordInline]


@admin.register(StockMessage)
class StockMessageAdmin(ReadOnlyAdmin):
    list_display = ["message_id", "kind", "as_of", "applied_at", "client", "applied_by"]
    list_filter = ["kind"]
    search_fields = ["message_id"]
    date_hierarchy = "applied_at"


@admin.register(ErpStock)
class ErpStockAdmin(ReadOnlyAdmin):
    list_display = ["product", "quantity", "as_of", "message_id", "updated_at"]
    search_fields = ["product__code", "product__name", "message_id"]
    list_select_related = ["product"]
