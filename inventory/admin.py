"""Admin screens of products and stock. Thin: stock changes go through inventory.services.

Stock levels, the ledger and reservations are read-only here; a stock adjustment is a form
that calls ``services.adjust`` with a reason note (permission: ``inventory.add_stockmove``).
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from config.importexport import ServiceImportExportAdmin

from . import documents, services
from .models import Product, Reservation, StockLevel, StockMove, Warehouse
from .resources import ProductResource

ADJUST_PERMISSION = "inventory.add_stockmove"


class ReadOnlyAdmin(admin.ModelAdmin):
    """Records nobody edits by hand: they change only through services."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def _describe_documents(rows) -> None:
    """Give each row of a ledger page its document in words (one look-up per kind)."""
    rows = list(rows)
    described = documents.describe([r.document for r in rows])
    for r in rows:
        r.document_words = documents.as_html(r.document, described)


@admin.register(Product)
class ProductAdmin(ServiceImportExportAdmin, SimpleHistoryAdmin):
    resource_classes = [ProductResource]
    list_display = (
        "code",
        "name",
        "barcode",
        "style_code",
        "colour",
        "size",
        "unit",
        "list_price",
        "active",
    )
    list_filter = ("active", "unit")
    search_fields = ("code", "name", "barcode", "style_code")
    readonly_fields = ("created_at", "updated_at")
    history_list_display = ("name", "barcode", "list_price", "active")


@admin.register(Warehouse)
class WarehouseAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "kind", "sellable", "active")
    list_filter = ("kind",)

    def get_readonly_fields(self, request, obj=None):
        # A location's code and kind are what the services, transfers and the ERP know it
        # by: fixed once created.
        return ("code", "kind") if obj is not None else ()

    def has_delete_permission(self, request, obj=None):
        return False


class AdjustStockForm(forms.Form):
    warehouse = forms.ModelChoiceField(
        queryset=Warehouse.objects.filter(active=True).exclude(kind=Warehouse.Kind.TRANSIT),
        label=_("warehouse"),
    )
    product = forms.CharField(
        label=_("product"), max_length=64, help_text=_("product code or barcode")
    )
    quantity = forms.DecimalField(
        label=_("change of on hand"),
        max_digits=18,
        decimal_places=4,
        help_text=_("positive adds stock, negative removes it"),
    )
    note = forms.CharField(label=_("reason"), max_length=255, help_text=_("why (stocktake…)"))

    def clean_product(self):
        text = self.cleaned_data["product"].strip()
        product = Product.objects.filter(code=text).first() or (
            Product.objects.filter(barcode=text).first()
        )
        if product is None:
            raise forms.ValidationError(_("No product with this code or barcode."))
        return product

    def clean_quantity(self):
        quantity = self.cleaned_data["quantity"]
        if quantity == 0:
            raise forms.ValidationError(_("The change cannot be zero."))
        return quantity

    def clean(self):
        data = super().clean()
        if {"warehouse", "product", "quantity"} <= data.keys() and data["quantity"] < 0:
            level = StockLevel.objects.filter(
                warehouse=data["warehouse"], product=data["product"]
            ).first()
            available = level.available if level else Decimal(0)
            if available + data["quantity"] < 0:
                raise forms.ValidationError(
                    _("Only %(available)s is available: reserved stock cannot be removed.")
                    % {"available": available}
                )
        return data


@admin.register(StockLevel)
class StockLevelAdmin(ReadOnlyAdmin):
    list_display = ("product", "warehouse", "on_hand", "reserved", "available", "updated_at")
    list_filter = ("warehouse",)
    search_fields = ("product__code", "product__name", "product__barcode")
    list_select_related = ("product", "warehouse")
    actions = ["adjust_selected"]

    @admin.display(description=_("available"))
    def available(self, obj):
        return obj.available

    def get_urls(self):
        return [
            path(
                "adjust/",
                self.admin_site.admin_view(self.adjust_view),
                name="inventory_stocklevel_adjust",
            ),
            *super().get_urls(),
        ]

    def has_adjust_permission(self, request):
        return request.user.has_perm(ADJUST_PERMISSION)

    @admin.action(description=_("Adjust the stock of the selected level"), permissions=["adjust"])
    def adjust_selected(self, request, queryset):
        level = queryset.first()
        url = reverse("admin:inventory_stocklevel_adjust")
        return redirect(f"{url}?warehouse={level.warehouse_id}&product={level.product.code}")

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context["can_adjust"] = request.user.has_perm(ADJUST_PERMISSION)
        return super().changelist_view(request, extra_context)

    def adjust_view(self, request):
        if not request.user.has_perm(ADJUST_PERMISSION):
            raise PermissionDenied
        form = AdjustStockForm(request.POST or None, initial=request.GET.dict())
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            services.adjust(
                warehouse_id=data["warehouse"].id,
                product_id=data["product"].id,
                quantity=data["quantity"],
                actor=request.user,
                note=data["note"],
            )
            messages.success(
                request,
                _("Stock of %(product)s in %(warehouse)s changed by %(quantity)s.")
                % {
                    "product": data["product"],
                    "warehouse": data["warehouse"],
                    "quantity": data["quantity"],
                },
            )
            return redirect("admin:inventory_stocklevel_changelist")
        context = {
            **self.admin_site.each_context(request),
            "title": _("Adjust stock"),
            "form": form,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/inventory/adjust_stock.html", context)


@admin.register(StockMove)
class StockMoveAdmin(ReadOnlyAdmin):
    list_display = (
        "created_at",
        "warehouse",
        "product",
        "quantity",
        "reason",
        "document_words",
        "note",
        "actor",
    )
    list_filter = ("reason", "warehouse")
    exclude = ("document",)
    readonly_fields = ("document_words",)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        _describe_documents(changelist.result_list)
        return changelist

    @admin.display(description=_("document"), ordering="document")
    def document_words(self, move):
        if not hasattr(move, "document_words"):
            _describe_documents([move])
        return move.document_words

    search_fields = ("document", "product__code", "product__name", "note")
    list_select_related = ("product", "warehouse", "actor")
    date_hierarchy = "created_at"


@admin.register(Reservation)
class ReservationAdmin(ReadOnlyAdmin):
    list_display = ("document_words", "warehouse", "product", "quantity", "created_at")
    exclude = ("document",)
    readonly_fields = ("document_words",)

    def get_changelist_instance(self, request):
        changelist = super().get_changelist_instance(request)
        _describe_documents(changelist.result_list)
        return changelist

    @admin.display(description=_("document"), ordering="document")
    def document_words(self, reservation):
        if not hasattr(reservation, "document_words"):
            _describe_documents([reservation])
        return reservation.document_words

    search_fields = ("document", "product__code")
    list_select_related = ("product", "warehouse")


from . import admin_transfers  # noqa: E402, F401  (transfers and replenishment)
