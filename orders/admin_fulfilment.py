"""Admin of the warehouse side: carriers, number pools, waves, prints, handover batches.

Thin: every action calls a service in ``orders.services.fulfilment``. The order admin (owned by
the orders app) can add the order actions of ``ORDER_ACTIONS`` (create a wave from the selected
orders, print waybills / delivery notes / invoices, cancel a waybill).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from channels.models import Shop
from config.uploads import check_upload_size

from . import selectors
from .models import (
    Carrier,
    HandoverBatch,
    HandoverItem,
    PrintRecord,
    TrackingNumber,
    TrackingNumberRange,
    Wave,
    WaveOrder,
    WaybillSubscription,
)
from .services import kernel, printing, shipping, tracking, waves

MAX_UPLOAD = 2 * 1024 * 1024


def pdf_response(data: bytes, name: str) -> HttpResponse:
    response = HttpResponse(data, content_type="application/pdf")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
    response["Content-Disposition"] = f'inline; filename="{name}-{stamp}.pdf"'
    return response


def _report_skipped(modeladmin, request, outcome):
    for notice in getattr(outcome, "notices", []):  # e.g. the pool stood in for a service
        modeladmin.message_user(request, notice, messages.WARNING)
    if outcome.skipped:
        modeladmin.message_user(
            request,
            _("Not printed: %(list)s")
            % {"list": ", ".join(f"{o.order_no} ({why})" for o, why in outcome.skipped)},
            messages.WARNING,
        )


class _PrintPermission:
    def has_print_wave_permission(self, request):
        return request.user.has_perm("orders.print_wave")

    def has_ship_order_permission(self, request):
        return request.user.has_perm("orders.ship_order")


def _form_page(modeladmin, request, form, title: str, submit: str):
    context = {
        **modeladmin.admin_site.each_context(request),
        "opts": modeladmin.model._meta,
        "title": title,
        "form": form,
        "submit": submit,
    }
    return TemplateResponse(request, "admin/orders/fulfilment_form.html", context)


# --- carriers and number pools --------------------------------------------------------------


class RangeImportForm(forms.Form):
    carrier = forms.ModelChoiceField(
        Carrier.objects.filter(active=True), label=gettext_lazy("carrier")
    )
    file = forms.FileField(
        label=gettext_lazy("ranges file"),
        help_text=gettext_lazy(
            "One range per line: “start,end” or “prefix,start,end” (UTF-8 text or CSV)."
        ),
    )

    def clean_file(self):
        return check_upload_size(self.cleaned_data["file"])


@admin.register(Carrier)
class CarrierAdmin(admin.ModelAdmin):
    list_display = ["code", "name", "waybill_layout", "number_source", "active", "numbers_left"]
    search_fields = ["code", "name"]
    actions = ["import_ranges"]

    @admin.display(description=gettext_lazy("numbers left in the pool"))
    def numbers_left(self, obj):
        return tracking.pool_remaining(obj)

    @admin.action(
        description=gettext_lazy("Import tracking-number ranges"),
        permissions=["import_ranges"],
    )
    def import_ranges(self, request, queryset):
        url = reverse("admin:orders_trackingnumberrange_import")
        first = queryset.first()
        return HttpResponseRedirect(f"{url}?carrier={first.pk}" if first else url)

    def has_import_ranges_permission(self, request):
        return request.user.has_perm("orders.add_trackingnumberrange")


@admin.register(WaybillSubscription)
class WaybillSubscriptionAdmin(admin.ModelAdmin):
    """Electronic waybill subscriptions (电子面单订购), set by an administrator."""

    list_display = [
        "carrier",
        "service",
        "service_carrier_code",
        "branch_name",
        "branch_code",
        "account_shop",
        "active",
    ]
    list_filter = ["service", "carrier", "active"]
    search_fields = ["carrier__name", "branch_name", "branch_code", "customer_code"]
    fieldsets = [
        (
            None,
            {"fields": ["carrier", "service", "service_carrier_code", "account_shop", "active"]},
        ),
        (
            gettext_lazy("account"),
            {"fields": ["branch_code", "branch_name", "customer_code", "settlement_code"]},
        ),
        (
            gettext_lazy("shipping address"),
            {
                "fields": [
                    "sender_name",
                    "sender_phone",
                    "sender_province",
                    "sender_city",
                    "sender_district",
                    "sender_address",
                ]
            },
        ),
    ]


@admin.register(TrackingNumberRange)
class TrackingNumberRangeAdmin(admin.ModelAdmin):
    list_display = [
        "carrier",
        "first",
        "last",
        "next_number",
        "remaining",
        "imported_by",
        "imported_at",
    ]
    list_filter = ["carrier"]
    change_list_template = "admin/orders/trackingnumberrange/change_list.html"

    @admin.display(description=gettext_lazy("first number"))
    def first(self, obj):
        return obj.format(obj.start)

    @admin.display(description=gettext_lazy("last number"))
    def last(self, obj):
        return obj.format(obj.end)

    @admin.display(description=gettext_lazy("next number"))
    def next_number(self, obj):
        return obj.format(obj.next_value) if obj.remaining else "—"

    @admin.display(description=gettext_lazy("numbers left"))
    def remaining(self, obj):
        return obj.remaining

    # Ranges come only from imports and are never edited or deleted: a number once handed out
    # must stay known as used.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        return [
            path(
                "import/",
                self.admin_site.admin_view(self.import_view),
                name="orders_trackingnumberrange_import",
            ),
            *super().get_urls(),
        ]

    def import_view(self, request):
        if not request.user.has_perm("orders.add_trackingnumberrange"):
            raise PermissionDenied
        if request.method == "POST":
            form = RangeImportForm(request.POST, request.FILES)
            if form.is_valid():
                upload = form.cleaned_data["file"]
                carrier = form.cleaned_data["carrier"]
                try:
                    if upload.size > MAX_UPLOAD:
                        raise tracking.RangeImportError([_("The file is too large.")])
                    text = upload.read().decode("utf-8-sig")
                    created = tracking.import_tracking_ranges(
                        carrier=carrier, text=text, actor=request.user, source=upload.name
                    )
                except UnicodeDecodeError:
                    form.add_error("file", _("The file is not UTF-8 text."))
                except tracking.RangeImportError as exc:
                    for problem in exc.problems:
                        form.add_error("file", problem)
                else:
                    self.message_user(
                        request,
                        ngettext(
                            "%(count)d range imported for %(carrier)s.",
                            "%(count)d ranges imported for %(carrier)s.",
                            len(created),
                        )
                        % {"count": len(created), "carrier": carrier.name},
                        messages.SUCCESS,
                    )
                    return redirect("admin:orders_trackingnumberrange_changelist")
        else:
            form = RangeImportForm(initial={"carrier": request.GET.get("carrier")})
        return _form_page(self, request, form, _("Import tracking-number ranges"), _("Import"))


class TypedNumberForm(forms.Form):
    order_no = forms.CharField(max_length=32, label=gettext_lazy("order no."))
    carrier = forms.ModelChoiceField(
        Carrier.objects.filter(active=True), label=gettext_lazy("carrier")
    )
    number = forms.CharField(max_length=64, label=gettext_lazy("tracking no."))


class ShipmentFileForm(forms.Form):
    shop = forms.ModelChoiceField(Shop.objects.all(), label=gettext_lazy("shop"))
    shipped_from = forms.DateField(
        required=False, label=gettext_lazy("shipped from (day)"), help_text="YYYY-MM-DD"
    )
    shipped_to = forms.DateField(
        required=False, label=gettext_lazy("shipped until (day)"), help_text="YYYY-MM-DD"
    )


@admin.register(TrackingNumber)
class TrackingNumberAdmin(admin.ModelAdmin):
    list_display = ["number", "carrier", "order", "source", "assigned_at", "voided_at"]
    list_filter = ["carrier", "source"]
    search_fields = ["number", "order__order_no"]
    list_select_related = ["carrier", "order"]
    change_list_template = "admin/orders/trackingnumber/change_list.html"

    def get_urls(self):
        return [
            path(
                "type-in/",
                self.admin_site.admin_view(self.type_in_view),
                name="orders_trackingnumber_type_in",
            ),
            path(
                "shipment-file/",
                self.admin_site.admin_view(self.shipment_file_view),
                name="orders_trackingnumber_shipment_file",
            ),
            *super().get_urls(),
        ]

    def type_in_view(self, request):
        """A pre-printed waybill: its number typed in for an order (used once, ever)."""
        if not request.user.has_perm("orders.print_wave"):
            raise PermissionDenied
        from .models import Order

        form = TypedNumberForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            order = Order.objects.filter(order_no=data["order_no"].strip()).first()
            if order is None:
                form.add_error("order_no", _("Order not found."))
            else:
                try:
                    tracking.set_tracking_number(
                        order=order,
                        number=data["number"],
                        carrier=data["carrier"],
                        actor=request.user,
                    )
                except kernel.OrderError as exc:
                    form.add_error(None, exc.message)
                else:
                    self.message_user(
                        request,
                        _("%(order)s now has tracking number %(number)s.")
                        % {"order": order.order_no, "number": data["number"].strip()},
                        messages.SUCCESS,
                    )
                    return redirect("admin:orders_trackingnumber_changelist")
        return _form_page(self, request, form, _("Type in a tracking number"), _("Save"))

    def shipment_file_view(self, request):
        """The shipped orders of a shop with their tracking numbers, for file-only platforms."""
        if not request.user.has_perm("orders.view_order"):
            raise PermissionDenied
        from datetime import datetime, time, timedelta

        form = ShipmentFileForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            zone = timezone.get_current_timezone()

            def start_of(day):
                return datetime.combine(day, time(), zone) if day else None

            end = data["shipped_to"] and data["shipped_to"] + timedelta(days=1)
            content = selectors.shipment_file(
                shop=data["shop"],
                shipped_from=start_of(data["shipped_from"]),
                shipped_to=start_of(end),
            )
            response = HttpResponse(content, content_type="text/csv; charset=utf-8")
            response["Content-Disposition"] = (
                f'attachment; filename="shipments-{data["shop"].code}.csv"'
            )
            return response
        return _form_page(self, request, form, _("Shipment file for a shop"), _("Download"))

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- waves ----------------------------------------------------------------------------------


class WaveFilterForm(forms.Form):
    carrier = forms.ModelChoiceField(
        Carrier.objects.filter(active=True), label=gettext_lazy("carrier")
    )
    shop = forms.ModelChoiceField(Shop.objects.all(), required=False, label=gettext_lazy("shop"))
    limit = forms.IntegerField(
        min_value=1, max_value=5000, initial=200, label=gettext_lazy("at most this many orders")
    )
    single_item_first = forms.BooleanField(
        required=False, initial=True, label=gettext_lazy("single-item orders first")
    )
    note = forms.CharField(required=False, max_length=255, label=gettext_lazy("note"))


class _OrderRowInline(admin.TabularInline):
    """Read-only rows of orders inside a wave or a handover batch, with each order's state."""

    parent_view_permission = ""  # whoever may see the parent sees its rows
    extra = 0
    can_delete = False

    @admin.display(description=gettext_lazy("status"))
    def status(self, obj):
        return obj.order.get_status_display()

    @admin.display(description=gettext_lazy("tracking no."))
    def tracking_no(self, obj):
        return obj.order.tracking_no

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(self.parent_view_permission)

    def has_add_permission(self, request, obj=None):
        return False


class WaveOrderInline(_OrderRowInline):
    model = WaveOrder
    fields = ["position", "order", "status", "tracking_no"]
    readonly_fields = fields
    parent_view_permission = "orders.view_wave"


@admin.register(Wave)
class WaveAdmin(_PrintPermission, admin.ModelAdmin):
    list_display = ["number", "carrier", "status", "order_count", "created_by", "created_at"]
    list_filter = ["status", "carrier"]
    search_fields = ["number", "items__order__order_no"]
    readonly_fields = [
        "number",
        "carrier",
        "status",
        "created_by",
        "created_at",
        "printed_by",
        "printed_at",
    ]
    fields = [*readonly_fields, "note"]
    inlines = [WaveOrderInline]
    actions = ["print_waybills", "print_pick_list", "print_delivery_notes", "print_invoices"]
    change_list_template = "admin/orders/wave/change_list.html"

    @admin.display(description=gettext_lazy("orders"))
    def order_count(self, obj):
        return obj.items.count()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def _one(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one wave."), messages.ERROR)
            return None
        return queryset.get()

    @admin.action(description=gettext_lazy("Print express waybills"), permissions=["print_wave"])
    def print_waybills(self, request, queryset):
        wave = self._one(request, queryset)
        if wave is None:
            return None
        try:
            outcome = printing.print_waybills(wave=wave, actor=request.user)
        except kernel.OrderError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        _report_skipped(self, request, outcome)
        return pdf_response(outcome.pdf, f"waybills-{wave.number}")

    @admin.action(description=gettext_lazy("Print pick list"), permissions=["print_wave"])
    def print_pick_list(self, request, queryset):
        wave = self._one(request, queryset)
        if wave is None:
            return None
        try:
            outcome = printing.print_pick_list(wave=wave, actor=request.user)
        except kernel.OrderError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        return pdf_response(outcome.pdf, f"picklist-{wave.number}")

    def _print_wave_orders(self, request, queryset, kind, name):
        wave = self._one(request, queryset)
        if wave is None:
            return None
        ids = list(wave.items.order_by("position").values_list("order_id", flat=True))
        try:
            outcome = printing.print_order_documents(kind=kind, orders=ids, actor=request.user)
        except kernel.OrderError as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return None
        _report_skipped(self, request, outcome)
        return pdf_response(outcome.pdf, f"{name}-{wave.number}")

    @admin.action(description=gettext_lazy("Print delivery notes"), permissions=["print_wave"])
    def print_delivery_notes(self, request, queryset):
        return self._print_wave_orders(
            request, queryset, PrintRecord.Kind.DELIVERY_NOTE, "delivery-notes"
        )

    @admin.action(description=gettext_lazy("Print retail invoices"), permissions=["print_wave"])
    def print_invoices(self, request, queryset):
        return self._print_wave_orders(request, queryset, PrintRecord.Kind.INVOICE, "invoices")

    def get_urls(self):
        return [
            path(
                "create/",
                self.admin_site.admin_view(self.create_view),
                name="orders_wave_create",
            ),
            *super().get_urls(),
        ]

    def create_view(self, request):
        if not request.user.has_perm("orders.add_wave"):
            raise PermissionDenied
        form = WaveFilterForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                wave = waves.create_wave_by_filter(
                    carrier=data["carrier"],
                    shop=data["shop"],
                    limit=data["limit"],
                    single_item_first=data["single_item_first"],
                    note=data["note"],
                    actor=request.user,
                )
            except kernel.OrderError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    _("Wave %(wave)s created with %(count)d orders.")
                    % {"wave": wave.number, "count": wave.items.count()},
                    messages.SUCCESS,
                )
                return redirect("admin:orders_wave_change", wave.pk)
        return _form_page(self, request, form, _("Create a wave"), _("Create"))


@admin.register(PrintRecord)
class PrintRecordAdmin(admin.ModelAdmin):
    list_display = ["printed_at", "kind", "wave", "reprint", "page_count", "printed_by"]
    list_filter = ["kind", "reprint"]
    search_fields = ["wave__number", "orders__order_no"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- handover batches -----------------------------------------------------------------------


class HandoverForm(forms.Form):
    carrier = forms.ModelChoiceField(
        Carrier.objects.filter(active=True), label=gettext_lazy("carrier")
    )


class HandoverItemInline(_OrderRowInline):
    model = HandoverItem
    fields = ["order", "status", "tracking_no"]
    readonly_fields = fields
    parent_view_permission = "orders.view_handoverbatch"


@admin.register(HandoverBatch)
class HandoverBatchAdmin(_PrintPermission, admin.ModelAdmin):
    list_display = ["number", "carrier", "order_count", "created_at", "shipped_at", "shipped_by"]
    list_filter = ["carrier"]
    search_fields = ["number", "items__order__order_no", "items__order__tracking_no"]
    readonly_fields = ["number", "carrier", "created_by", "created_at", "shipped_by", "shipped_at"]
    fields = readonly_fields
    inlines = [HandoverItemInline]
    actions = ["print_handover_lists", "ship_batches"]
    change_list_template = "admin/orders/handoverbatch/change_list.html"

    @admin.action(description=gettext_lazy("Print the handover list"), permissions=["print_wave"])
    def print_handover_lists(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("Choose exactly one handover batch."), messages.ERROR)
            return None
        batch = queryset.get()
        outcome = printing.print_handover_list(batch=batch, actor=request.user)
        return pdf_response(outcome.pdf, f"handover-{batch.number}")

    @admin.display(description=gettext_lazy("orders"))
    def order_count(self, obj):
        return obj.items.count()

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=gettext_lazy("Ship the handover batch"), permissions=["ship_order"])
    def ship_batches(self, request, queryset):
        for batch in queryset:
            try:
                outcome = shipping.ship_handover_batch(batch=batch, actor=request.user)
            except kernel.OrderError as exc:
                self.message_user(request, f"{batch.number}: {exc.message}", messages.ERROR)
                continue
            self.message_user(
                request,
                _("%(batch)s: %(count)d orders shipped.")
                % {"batch": batch.number, "count": len(outcome.shipped)},
                messages.SUCCESS,
            )
            for order, problem in outcome.problems:
                self.message_user(
                    request, f"{batch.number}: {order.order_no}: {problem}", messages.WARNING
                )

    def get_urls(self):
        return [
            path(
                "create/",
                self.admin_site.admin_view(self.create_view),
                name="orders_handoverbatch_create",
            ),
            *super().get_urls(),
        ]

    def create_view(self, request):
        if not request.user.has_perm("orders.add_handoverbatch"):
            raise PermissionDenied
        form = HandoverForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                batch = shipping.create_handover_batch(
                    carrier=form.cleaned_data["carrier"], actor=request.user
                )
            except kernel.OrderError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    _("Handover batch %(batch)s created with %(count)d orders.")
                    % {"batch": batch.number, "count": batch.items.count()},
                    messages.SUCCESS,
                )
                return redirect("admin:orders_handoverbatch_change", batch.pk)
        return _form_page(self, request, form, _("Create a handover batch"), _("Create"))


# --- actions for the order admin (wired by orders/admin.py) ---------------------------------


@admin.action(
    description=gettext_lazy("Create a wave of the selected orders"), permissions=["add_wave"]
)
def create_wave_action(modeladmin, request, queryset):
    if not request.user.has_perm("orders.add_wave"):
        raise PermissionDenied
    try:
        wave = waves.create_wave(
            orders=list(queryset.order_by("paid_at", "pk")), actor=request.user
        )
    except kernel.OrderError as exc:
        modeladmin.message_user(request, exc.message, messages.ERROR)
        return None
    modeladmin.message_user(
        request, _("Wave %(wave)s created.") % {"wave": wave.number}, messages.SUCCESS
    )
    return redirect("admin:orders_wave_change", wave.pk)


def _print_orders(kind_or_waybill, name):
    def action(modeladmin, request, queryset):
        if not request.user.has_perm("orders.print_wave"):
            raise PermissionDenied
        orders = list(queryset.order_by("pk"))
        try:
            if kind_or_waybill == PrintRecord.Kind.WAYBILL:
                outcome = printing.print_waybills(orders=orders, actor=request.user)
            else:
                outcome = printing.print_order_documents(
                    kind=kind_or_waybill, orders=orders, actor=request.user
                )
        except kernel.OrderError as exc:
            modeladmin.message_user(request, exc.message, messages.ERROR)
            return None
        _report_skipped(modeladmin, request, outcome)
        return pdf_response(outcome.pdf, name)

    return action


print_waybills_action = admin.action(
    description=gettext_lazy("Print express waybills"), permissions=["print_wave"]
)(_print_orders(PrintRecord.Kind.WAYBILL, "waybills"))
print_waybills_action.__name__ = "print_waybills_action"
print_delivery_notes_action = admin.action(
    description=gettext_lazy("Print delivery notes"), permissions=["print_wave"]
)(_print_orders(PrintRecord.Kind.DELIVERY_NOTE, "delivery-notes"))
print_delivery_notes_action.__name__ = "print_delivery_notes_action"
print_invoices_action = admin.action(
    description=gettext_lazy("Print retail invoices"), permissions=["print_wave"]
)(_print_orders(PrintRecord.Kind.INVOICE, "invoices"))
print_invoices_action.__name__ = "print_invoices_action"


class CancelWaybillForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("reason"), max_length=255, required=False)


@admin.action(
    description=gettext_lazy("Cancel the waybill (its number is never reused)"),
    permissions=["print_wave"],
)
def cancel_waybill_action(modeladmin, request, queryset):
    """Asks first: a cancelled tracking number is gone for good."""
    if not request.user.has_perm("orders.print_wave"):
        raise PermissionDenied

    def apply(data):
        done = 0
        for order in queryset:
            try:
                tracking.cancel_waybill(order=order, actor=request.user, reason=data["reason"])
                done += 1
            except kernel.OrderError as exc:
                modeladmin.message_user(request, f"{order.order_no}: {exc.message}", messages.ERROR)
        if done:
            modeladmin.message_user(
                request, _("%(count)d waybills cancelled.") % {"count": done}, messages.SUCCESS
            )

    return modeladmin._form_action(
        request,
        queryset,
        CancelWaybillForm,
        _("Cancel waybills"),
        apply,
        warning=_(
            "The tracking numbers of these orders will be cancelled and never used again; "
            "the orders go back to 'reviewed' and need a new waybill."
        ),
    )


ORDER_ACTIONS = [
    create_wave_action,
    print_waybills_action,
    print_delivery_notes_action,
    print_invoices_action,
    cancel_waybill_action,
]
