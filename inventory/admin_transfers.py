"""Admin screens of transfers (调拨单) and replenishment (补货), for store managers and
administrators. Thin: every stock effect goes through ``inventory.transfers`` and
``inventory.replenishment``; a draft's lines are edited here like any document's lines.

A store's staff see their own store's transfers and rules only (``inventory.scope``).
"""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from core import clock

from . import replenishment, transfers
from .models import ReplenishmentRule, Transfer, TransferLine, Warehouse
from .scope import location_codes

SHIP_PERMISSION = "inventory.ship_transfer"
RECEIVE_PERMISSION = "inventory.receive_transfer"
Kind = Warehouse.Kind


def visible_locations(user):
    """Locations a user may pick for a transfer or a rule."""
    qs = Warehouse.objects.filter(active=True, kind__in=[Kind.MAIN, Kind.DEFECTIVE, Kind.STORE])
    codes = location_codes(user)
    if codes is not None:
        qs = qs.filter(Q(kind__in=[Kind.MAIN, Kind.DEFECTIVE]) | Q(code__in=codes))
    return qs.order_by("kind", "code")


def visible_stores(user):
    return visible_locations(user).filter(kind=Kind.STORE)


class TransferForm(forms.ModelForm):
    class Meta:
        model = Transfer
        fields = ["from_warehouse", "to_warehouse", "note"]

    def clean(self):
        data = super().clean()
        src, dst = data.get("from_warehouse"), data.get("to_warehouse")
        if src and dst:
            try:
                transfers.check_route(src, dst)
            except transfers.TransferError as exc:
                raise forms.ValidationError(str(exc)) from exc
        return data


class TransferLineInline(admin.TabularInline):
    model = TransferLine
    extra = 3
    autocomplete_fields = ["product"]
    fields = ["product", "sample", "quantity", "received_quantity", "shortfall_reason"]
    readonly_fields = ["received_quantity", "shortfall_reason"]

    def _draft(self, obj):
        return obj is None or obj.status == Transfer.Status.DRAFT

    def get_extra(self, request, obj=None, **kwargs):
        return self.extra if self._draft(obj) else 0

    def has_add_permission(self, request, obj=None):
        return self._draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._draft(obj) and super().has_delete_permission(request, obj)


@admin.register(Transfer)
class TransferAdmin(SimpleHistoryAdmin):
    form = TransferForm
    inlines = [TransferLineInline]
    list_display = [
        "number",
        "from_warehouse",
        "to_warehouse",
        "status",
        "created_at",
        "shipped_at",
        "received_at",
    ]
    list_filter = ["status", "from_warehouse", "to_warehouse"]
    search_fields = ["number", "lines__product__code", "note"]
    list_select_related = ["from_warehouse", "to_warehouse"]
    readonly_fields = [
        "number",
        "status",
        "created_at",
        "created_by",
        "shipped_at",
        "shipped_by",
        "received_at",
        "received_by",
        "cancelled_at",
        "cancelled_by",
    ]
    actions = ["ship_selected", "cancel_selected"]
    change_form_template = "admin/inventory/transfer/change_form.html"
    change_list_template = "admin/inventory/transfer/change_list.html"

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        codes = location_codes(request.user)
        if codes is not None:
            qs = qs.filter(Q(from_warehouse__code__in=codes) | Q(to_warehouse__code__in=codes))
        return qs

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        for name in ("from_warehouse", "to_warehouse"):
            if name in form.base_fields:
                form.base_fields[name].queryset = visible_locations(request.user)
        return form

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.status != Transfer.Status.DRAFT:
            return [*self.readonly_fields, "from_warehouse", "to_warehouse", "note"]
        return self.readonly_fields

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if not change:
            obj.number = transfers.next_transfer_number()
            obj.created_by = request.user
            obj.created_at = clock.now()
        super().save_model(request, obj, form, change)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm(SHIP_PERMISSION):
            actions.pop("ship_selected", None)
        if not request.user.has_perm("inventory.change_transfer"):
            actions.pop("cancel_selected", None)
        return actions

    def _each(self, request, queryset, action, done_message):
        done = 0
        for transfer in queryset.order_by("id"):
            try:
                action(transfer=transfer, actor=request.user)
                done += 1
            except transfers.TransferError as exc:
                messages.error(request, str(exc))
        if done:
            messages.success(request, done_message % {"n": done})

    @admin.action(description=_("Ship the selected transfers"))
    def ship_selected(self, request, queryset):
        self._each(request, queryset, transfers.ship_transfer, _("%(n)s transfer(s) shipped."))

    @admin.action(description=_("Cancel the selected draft transfers"))
    def cancel_selected(self, request, queryset):
        self._each(request, queryset, transfers.cancel_transfer, _("%(n)s transfer(s) cancelled."))

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<int:pk>/ship/",
                view(self.ship_view),
                name="inventory_transfer_ship",
            ),
            path(
                "<int:pk>/receive/",
                view(self.receive_view),
                name="inventory_transfer_receive",
            ),
            path(
                "suggestion/",
                view(self.suggestion_view),
                name="inventory_transfer_suggestion",
            ),
            *super().get_urls(),
        ]

    def _get(self, request, pk) -> Transfer:
        return get_object_or_404(self.get_queryset(request), pk=pk)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        obj = self.get_object(request, object_id)
        if obj is not None:
            extra_context["can_ship"] = obj.status == Transfer.Status.DRAFT and (
                request.user.has_perm(SHIP_PERMISSION)
            )
            extra_context["can_receive"] = obj.status == Transfer.Status.SHIPPED and (
                request.user.has_perm(RECEIVE_PERMISSION)
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        extra_context = extra_context or {}
        extra_context["can_suggest"] = request.user.has_perm("inventory.add_transfer")
        return super().changelist_view(request, extra_context)

    def ship_view(self, request, pk):
        if not request.user.has_perm(SHIP_PERMISSION) or request.method != "POST":
            raise PermissionDenied
        transfer = self._get(request, pk)
        try:
            transfers.ship_transfer(transfer=transfer, actor=request.user)
            messages.success(request, _("Transfer %(no)s shipped.") % {"no": transfer.number})
        except transfers.TransferError as exc:
            messages.error(request, str(exc))
        return redirect("admin:inventory_transfer_change", transfer.pk)

    def receive_view(self, request, pk):
        if not request.user.has_perm(RECEIVE_PERMISSION):
            raise PermissionDenied
        transfer = self._get(request, pk)
        lines = list(transfer.lines.select_related("product").order_by("id"))
        rows, errors = [], []
        if request.method == "POST":
            received = {}
            for ln in lines:
                raw = request.POST.get(f"received-{ln.id}", "").strip()
                reason = request.POST.get(f"reason-{ln.id}", "").strip()
                try:
                    got = Decimal(raw) if raw else ln.quantity
                except ArithmeticError:
                    errors.append(
                        _("%(code)s: %(value)s is not a quantity")
                        % {"code": ln.product.code, "value": raw}
                    )
                    got = None
                received[ln.id] = (got, reason)
                rows.append((ln, raw, reason))
            if not errors:
                try:
                    transfers.receive_transfer(
                        transfer=transfer, actor=request.user, received=received
                    )
                    messages.success(
                        request, _("Transfer %(no)s received.") % {"no": transfer.number}
                    )
                    return redirect("admin:inventory_transfer_change", transfer.pk)
                except transfers.TransferError as exc:
                    errors.append(str(exc))
        else:
            rows = [(ln, "", "") for ln in lines]
        context = {
            **self.admin_site.each_context(request),
            "title": _("Receive transfer %(no)s") % {"no": transfer.number},
            "transfer": transfer,
            "rows": rows,
            "errors": errors,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/inventory/transfer/receive.html", context)

    def suggestion_view(self, request):
        if not request.user.has_perm("inventory.add_transfer"):
            raise PermissionDenied
        stores = list(visible_stores(request.user))
        chosen = None
        wanted = request.POST.get("store") or request.GET.get("store")
        if wanted:
            chosen = next((s for s in stores if str(s.pk) == wanted), None)
        elif len(stores) == 1:
            chosen = stores[0]
        raw_days = request.POST.get("days") or request.GET.get("days")
        try:
            days = max(1, min(365, int(raw_days))) if raw_days else replenishment.DEFAULT_DAYS
        except ValueError:
            days = replenishment.DEFAULT_DAYS
        if request.method == "POST" and chosen is not None:
            transfer = replenishment.create_replenishment_transfer(
                store=chosen, actor=request.user, days=days
            )
            if transfer is None:
                messages.info(request, _("Nothing to send: the store has what its rules ask."))
                return redirect(
                    f"{reverse('admin:inventory_transfer_suggestion')}?store={chosen.pk}"
                    f"&days={days}"
                )
            messages.success(
                request,
                _("Draft transfer %(no)s created: check it, then ship it.")
                % {"no": transfer.number},
            )
            return redirect("admin:inventory_transfer_change", transfer.pk)
        lines = replenishment.suggestion(store=chosen, days=days) if chosen else []
        context = {
            **self.admin_site.each_context(request),
            "title": _("Replenishment suggestion"),
            "stores": stores,
            "chosen": chosen,
            "days": days,
            "lines": lines,
            "to_send": [ln for ln in lines if ln.quantity > 0],
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/inventory/transfer/suggestion.html", context)


class ReplenishmentRuleForm(forms.ModelForm):
    class Meta:
        model = ReplenishmentRule
        fields = ["warehouse", "product", "style_code", "minimum", "target"]

    def clean(self):
        data = super().clean()
        if bool(data.get("product")) == bool(data.get("style_code")):
            raise forms.ValidationError(_("Give either a product or a style code."))
        return data


@admin.register(ReplenishmentRule)
class ReplenishmentRuleAdmin(SimpleHistoryAdmin):
    form = ReplenishmentRuleForm
    list_display = ["warehouse", "product", "style_code", "minimum", "target"]
    list_filter = ["warehouse"]
    search_fields = ["product__code", "product__name", "style_code"]
    autocomplete_fields = ["product"]
    list_select_related = ["warehouse", "product"]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        codes = location_codes(request.user)
        if codes is not None:
            qs = qs.filter(warehouse__code__in=codes)
        return qs

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        if "warehouse" in form.base_fields:
            form.base_fields["warehouse"].queryset = visible_stores(request.user)
        return form
