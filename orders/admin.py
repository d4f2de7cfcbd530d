"""The review screens (审单) in the admin: the queue, the order page, and their actions.

Thin: every change calls a service in ``orders.services``; reads come from ``selectors``.
The lists never count the whole table (``show_full_result_count = False`` and a paginator
that counts at most a few thousand rows), select the shop and platform with the list, and
filter through the partial indexes of the queue.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.filters import DateFieldListFilter
from django.core.paginator import Paginator
from django.db import connection, transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from import_export.admin import ImportMixin

from channels.models import Platform, Shop
from config.importexport import ImportColumnsMixin, LimitedImportForm, TabularFile
from inventory.models import Product

from . import selectors
from .admin_fulfilment import ORDER_ACTIONS
from .models import Carrier, HoldReason, Order, ReceiverReveal, ReviewQueueOrder
from .resources import OrderImportResource
from .services import review
from .services.split_merge import merge_orders, split_order

COUNT_LIMIT = 1000
PROVINCES = [
    "北京市", "天津市", "河北省", "山西省", "内蒙古自治区", "辽宁省", "吉林省", "黑龙江省",
    "上海市", "江苏省", "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省",
    "湖南省", "广东省", "广西壮族自治区", "海南省", "重庆市", "四川省", "贵州省", "云南省",
    "西藏自治区", "陕西省", "甘肃省", "青海省", "宁夏回族自治区", "新疆维吾尔自治区",
    "台湾省", "香港特别行政区", "澳门特别行政区",
]  # fmt: skip


class BoundedCountPaginator(Paginator):
    """Counts at most COUNT_LIMIT rows (20 pages); beyond that it uses the planner's estimate.

    A list of a million orders then costs one index-only LIMIT query, never a full COUNT(*).
    """

    @cached_property
    def count(self):
        qs = self.object_list
        # values("pk"): the count must not compute the list's annotations (hold reasons).
        exact = qs.order_by().values("pk")[: COUNT_LIMIT + 1].count()
        if exact <= COUNT_LIMIT:
            return exact
        try:
            sql, params = qs.order_by().values("pk").query.sql_with_params()
            with connection.cursor() as cur:
                cur.execute("EXPLAIN (FORMAT JSON) " + sql, params)
                plan = cur.fetchone()[0]
            if isinstance(plan, str):
                import json

                plan = json.loads(plan)
            return max(exact, int(plan[0]["Plan"]["Plan Rows"]))
        except Exception:
            return exact


# --- filters ---------------------------------------------------------------------------------


class PlatformFilter(admin.SimpleListFilter):
    title = _("platform")
    parameter_name = "platform"

    def lookups(self, request, model_admin):
        return [(p.code, p.name) for p in Platform.objects.order_by("code")]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(shop__platform__code=self.value())
        return queryset


class ShopFilter(admin.SimpleListFilter):
    title = _("shop")
    parameter_name = "shop"

    def lookups(self, request, model_admin):
        return [(str(s.pk), str(s)) for s in Shop.objects.order_by("code")]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(shop_id=int(self.value()))
        return queryset


class HoldReasonFilter(admin.SimpleListFilter):
    title = _("hold reason")
    parameter_name = "hold"

    def lookups(self, request, model_admin):
        return [("none", _("not held")), *HoldReason.choices]

    def queryset(self, request, queryset):
        value = self.value()
        if value == "none":
            return queryset.filter(on_hold=False)
        if value in HoldReason.values:
            return selectors.with_hold_reason(queryset, value)
        return queryset


class ProvinceFilter(admin.SimpleListFilter):
    title = _("province")
    parameter_name = "province"

    def lookups(self, request, model_admin):
        return [(p, p) for p in PROVINCES]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(province=self.value())
        return queryset


class RemarkFilter(admin.SimpleListFilter):
    title = _("remark")
    parameter_name = "remark"

    def lookups(self, request, model_admin):
        return [("yes", _("has a remark")), ("no", _("no remark"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return selectors.with_remark(queryset, self.value() == "yes")
        return queryset


class ProductFilter(admin.SimpleListFilter):
    """Orders needing a product, by product code typed in a box (there are too many to list)."""

    title = _("product")
    parameter_name = "product"
    template = "admin/orders/input_filter.html"

    def lookups(self, request, model_admin):
        return [("", "")]  # the template shows a text box instead of choices

    def has_output(self):
        return True

    def choices(self, changelist):
        yield {
            "value": self.value() or "",
            "parameter_name": self.parameter_name,
            "other_params": {
                k: v for k, v in changelist.get_filters_params().items() if k != self.parameter_name
            },
        }

    def queryset(self, request, queryset):
        code = (self.value() or "").strip()
        if not code:
            return queryset
        product = Product.objects.filter(code=code).only("id").first()
        if product is None:
            return queryset.none()
        return selectors.with_product(queryset, product.pk)


# --- forms of the actions --------------------------------------------------------------------


class HoldForm(forms.Form):
    note = forms.CharField(label=_("reason"), max_length=255)


class ReleaseForm(forms.Form):
    reason = forms.ChoiceField(label=_("hold reason"), choices=HoldReason.choices)
    note = forms.CharField(label=_("note"), max_length=255, required=False)


class CancelForm(forms.Form):
    note = forms.CharField(label=_("reason"), max_length=255)


class CarrierForm(forms.Form):
    carrier = forms.ModelChoiceField(
        label=_("carrier"), queryset=Carrier.objects.filter(active=True)
    )


class OrderDetailsForm(forms.ModelForm):
    class Meta:
        model = Order
        fields = [*review.DETAIL_FIELDS, "carrier"]


def parse_qty(text) -> Decimal | None:
    try:
        value = Decimal(str(text).strip())
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


# --- the admin -------------------------------------------------------------------------------


class OrderAdminBase(admin.ModelAdmin):
    form = OrderDetailsForm
    change_form_template = "admin/orders/order/change_form.html"
    change_list_template = "admin/orders/order/change_list.html"
    list_display = [
        "order_no",
        "platform_order_no",
        "shop",
        "status",
        "hold_reasons",
        "receiver_name",
        "receiver_phone",
        "province",
        "total_amount",
        "paid_at",
        "remark_flag",
    ]
    list_select_related = ["shop", "shop__platform"]
    list_filter = [
        ShopFilter,
        PlatformFilter,
        HoldReasonFilter,
        ("paid_at", DateFieldListFilter),
        ProvinceFilter,
        ProductFilter,
        RemarkFilter,
        ("fulfilment", admin.ChoicesFieldListFilter),
    ]
    search_fields = ["platform_order_no"]  # shows the box; get_search_results does the work
    search_help_text = _("exact platform order no., order no., receiver, phone or tracking no.")
    show_full_result_count = False
    paginator = BoundedCountPaginator
    list_per_page = 50
    ordering = ["paid_at", "id"]
    actions = [
        "approve_action",
        "hold_action",
        "release_action",
        "cancel_action",
        "carrier_action",
        "remap_action",
        "merge_action",
    ]
    fieldsets = [
        (
            _("order"),
            {
                "fields": [
                    "order_no",
                    "shop",
                    "platform_order_no",
                    "status",
                    "hold_reasons",
                    "paid_at",
                    "allocated_at",
                    "reviewed_at",
                    "split_from",
                    "merged_into",
                    "after_sales_pending",
                ]
            },
        ),
        (
            _("receiver"),
            {"fields": [*review.DETAIL_FIELDS, "buyer_remark", "carrier", "tracking_no"]},
        ),
        (
            _("amounts"),
            {"fields": ["goods_amount", "shipping_fee", "discount_amount", "total_amount"]},
        ),
    ]
    readonly_fields = [
        "order_no",
        "shop",
        "platform_order_no",
        "status",
        "hold_reasons",
        "paid_at",
        "allocated_at",
        "reviewed_at",
        "split_from",
        "merged_into",
        "after_sales_pending",
        "buyer_remark",
        "tracking_no",
        "goods_amount",
        "shipping_fee",
        "discount_amount",
        "total_amount",
    ]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(active_holds=selectors.active_hold_reasons_subquery())
        )

    def get_search_results(self, request, queryset, search_term):
        return selectors.search_orders(queryset, search_term), False

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_readonly_fields(self, request, obj=None):
        editable = obj is not None and obj.status in review.EDITABLE
        if editable and self.has_change_permission(request, obj):
            return self.readonly_fields
        return [*self.readonly_fields, *review.DETAIL_FIELDS, "carrier"]

    @admin.display(description=_("hold reason"))
    def hold_reasons(self, obj):
        labels = dict(HoldReason.choices)
        return ", ".join(str(labels.get(r, r)) for r in (obj.active_holds or [])) or "-"

    @admin.display(description=_("remark"))
    def remark_flag(self, obj):
        # A word where there is a remark, nothing where there is none (a red cross on every
        # order without one read like an error).
        return _("yes") if obj.has_remark else ""

    # -- the order page: details through services, detail sections below the form --

    def save_model(self, request, obj, form, change):
        changes = {k: form.cleaned_data[k] for k in form.changed_data if k in review.DETAIL_FIELDS}
        try:
            if changes:
                review.update_order_details(order=obj, changes=changes, actor=request.user)
            if "carrier" in form.changed_data:
                review.set_carrier(
                    orders=[obj], carrier=form.cleaned_data["carrier"], actor=request.user
                )
        except review.OrderError as exc:
            self.message_user(request, str(exc), messages.ERROR)

    def save_related(self, request, form, formsets, change):
        pass

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = extra_context or {}
        order = self.get_object(request, object_id)
        if order is not None:
            extra_context["detail"] = selectors.order_detail(order)
            extra_context["can_edit"] = self.has_change_permission(request, order) and (
                order.status in review.EDITABLE
            )
            extra_context["hold_labels"] = dict(HoldReason.choices)
            extra_context["platform_changes"] = [
                (Order._meta.get_field(name).verbose_name, getattr(order, name), value)
                for name, value in sorted(order.platform_changes.items())
            ]
            extra_context["can_decide_changes"] = self.has_change_permission(request, order)
            # After-sales (the returns app) starts from a shipped order's page.
            extra_context["can_create_return"] = order.status == Order.Status.SHIPPED and (
                request.user.has_perm("returns.add_returnorder")
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:pk>/lines/",
                self.admin_site.admin_view(self.lines_view),
                name=f"{info[0]}_{info[1]}_lines",
            ),
            path(
                "<int:pk>/platform-change/",
                self.admin_site.admin_view(self.platform_change_view),
                name=f"{info[0]}_{info[1]}_platform_change",
            ),
            path(
                "<int:pk>/split/",
                self.admin_site.admin_view(self.split_view),
                name=f"{info[0]}_{info[1]}_split",
            ),
            path(
                "<int:pk>/receiver/",
                self.admin_site.admin_view(self.reveal_receiver_view),
                name=f"{info[0]}_{info[1]}_reveal_receiver",
            ),
            *super().get_urls(),
        ]

    def _order_for_change(self, request, pk):
        order = get_object_or_404(Order, pk=pk)
        if not self.has_change_permission(request, order):
            from django.core.exceptions import PermissionDenied

            raise PermissionDenied
        return order

    def _change_url(self, order):
        return reverse(
            f"admin:{self.opts.app_label}_{self.opts.model_name}_change", args=[order.pk]
        )

    def reveal_receiver_view(self, request, pk):
        """An encrypted order's receiver in clear, once, for a reason (logged and rationed)."""
        from django.core.exceptions import PermissionDenied

        from orders.services import receivers

        order = get_object_or_404(Order, pk=pk)
        if not (
            self.has_view_permission(request, order)
            and request.user.has_perm("orders.reveal_receiver")
        ):
            raise PermissionDenied
        clear, error = None, ""
        if request.method == "POST":
            try:
                clear = receivers.reveal_receiver(
                    order=order, actor=request.user, reason=request.POST.get("reason", "")
                )
            except receivers.OrderError as exc:
                error = exc.message
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "original": order,
            "title": _("Receiver in clear"),
            "clear": clear,
            "error": error,
            "left": receivers.reveals_left(request.user),
            "change_url": self._change_url(order),
        }
        return TemplateResponse(request, "admin/orders/order/reveal_receiver.html", context)

    def lines_view(self, request, pk):
        """Change quantities, remove lines, add a line; the reservation follows."""
        order = self._order_for_change(request, pk)
        lines = list(order.lines.order_by("id"))
        errors = []
        if request.method == "POST":
            # Read and check everything first; then apply it all in one transaction, or nothing.
            removals, changes, addition = [], [], None
            for line in lines:
                if request.POST.get(f"remove_{line.pk}"):
                    removals.append(line)
                    continue
                q = parse_qty(request.POST.get(f"qty_{line.pk}", line.quantity))
                if q is None or q <= 0:
                    errors.append(_("%s: quantity must be a positive number") % line.platform_sku)
                elif q != line.quantity:
                    changes.append((line, q))
            sku = request.POST.get("new_sku", "").strip()
            if sku:
                q = parse_qty(request.POST.get("new_qty", ""))
                price = parse_qty(request.POST.get("new_price", ""))
                if q is None or q <= 0 or price is None or price < 0:
                    errors.append(_("new line: quantity and unit price are required"))
                else:
                    addition = (sku, q, price)
            if not errors:
                try:
                    with transaction.atomic():
                        if addition:
                            review.add_line(
                                order=order,
                                platform_sku=addition[0],
                                quantity=addition[1],
                                unit_price=addition[2],
                                actor=request.user,
                            )
                        for line, q in changes:
                            review.change_line_quantity(
                                order=order, line=line, quantity=q, actor=request.user
                            )
                        for line in removals:
                            review.remove_line(order=order, line=line, actor=request.user)
                except review.OrderError as exc:
                    errors.append(str(exc))
            if not errors:
                self.message_user(request, _("Lines saved."), messages.SUCCESS)
                return HttpResponseRedirect(self._change_url(order))
            lines = list(order.lines.order_by("id"))
        return TemplateResponse(
            request,
            "admin/orders/order/lines.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "order": order,
                "lines": lines,
                "errors": errors,
                "title": _("Change lines of %s") % order.order_no,
                "back": self._change_url(order),
            },
        )

    def platform_change_view(self, request, pk):
        """Accept or dismiss the platform's new values waiting on the order (POST only)."""
        from django.http import HttpResponseNotAllowed

        from orders.services.platform_changes import (
            accept_platform_change,
            dismiss_platform_change,
        )

        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        order = self._order_for_change(request, pk)
        accept = request.POST.get("decision") == "accept"
        try:
            (accept_platform_change if accept else dismiss_platform_change)(
                order=order, actor=request.user
            )
        except review.OrderError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(
                request,
                _("The platform's change was accepted.")
                if accept
                else _("The platform's change was dismissed."),
                messages.SUCCESS,
            )
        return HttpResponseRedirect(self._change_url(order))

    def split_view(self, request, pk):
        """Move chosen lines, or part of a line's quantity, into a new order."""
        order = self._order_for_change(request, pk)
        lines = list(order.lines.order_by("id"))
        errors = []
        if request.method == "POST":
            quantities = {}
            for line in lines:
                q = parse_qty(request.POST.get(f"move_{line.pk}", "0") or "0")
                if q is None:
                    errors.append(_("%s: not a number") % line.platform_sku)
                elif q:
                    quantities[line.pk] = q
            if not errors:
                try:
                    new = split_order(order=order, quantities=quantities, actor=request.user)
                except review.OrderError as exc:
                    errors.append(str(exc))
                else:
                    self.message_user(request, _("Split into %s.") % new.order_no, messages.SUCCESS)
                    return HttpResponseRedirect(self._change_url(new))
        return TemplateResponse(
            request,
            "admin/orders/order/split.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "order": order,
                "lines": lines,
                "errors": errors,
                "title": _("Split %s") % order.order_no,
                "back": self._change_url(order),
            },
        )

    # -- actions --

    def _form_action(self, request, queryset, form_class, title, apply, warning=None):
        """An action that asks for a form first (reason, carrier, a confirmation), then applies
        it; ``warning`` says on the form what cannot be undone."""
        if "apply" in request.POST:
            form = form_class(request.POST)
            if form.is_valid():
                apply(form.cleaned_data)
                return None
        else:
            form = form_class()
        return TemplateResponse(
            request,
            "admin/orders/order/action_form.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": title,
                "form": form,
                "warning": warning,
                "orders": queryset,
                "action": request.POST.get("action"),
                "select_across": request.POST.get("select_across", "0"),
            },
        )

    @admin.action(description=_("Approve selected orders"), permissions=["change"])
    def approve_action(self, request, queryset):
        approved, refused = review.approve_orders(orders=list(queryset), actor=request.user)
        if approved:
            self.message_user(request, _("%d orders approved.") % len(approved), messages.SUCCESS)
        for no, why in refused.items():
            self.message_user(request, f"{no}: {why}", messages.WARNING)

    @admin.action(description=_("Hold selected orders"), permissions=["change"])
    def hold_action(self, request, queryset):
        def apply(data):
            done = 0
            for order in queryset:
                try:
                    done += review.hold(order=order, actor=request.user, note=data["note"])
                except review.OrderError as exc:
                    self.message_user(request, str(exc), messages.WARNING)
            self.message_user(request, _("%d orders held.") % done, messages.SUCCESS)

        return self._form_action(request, queryset, HoldForm, _("Hold orders"), apply)

    @admin.action(description=_("Release a hold of selected orders"), permissions=["change"])
    def release_action(self, request, queryset):
        # Only the reasons the selected orders are held for now are offered (the first one
        # preselected only when it is the only one); releasing nothing is a warning, not a success.
        reasons = selectors.active_hold_reasons(queryset)
        if not reasons:
            self.message_user(
                request,
                _("None of the selected orders is held: nothing to release."),
                messages.WARNING,
            )
            return None

        def form_class(*args, **kwargs):
            form = ReleaseForm(*args, **kwargs)
            choices = [(r, HoldReason(r).label) for r in reasons]
            if len(choices) > 1:
                choices = [("", "---------"), *choices]
            form.fields["reason"].choices = choices
            return form

        def apply(data):
            done = 0
            for order in queryset:
                try:
                    done += review.release(
                        order=order, reason=data["reason"], actor=request.user, note=data["note"]
                    )
                except review.OrderError as exc:
                    self.message_user(request, f"{order.order_no}: {exc}", messages.WARNING)
            if done:
                self.message_user(request, _("%d holds released.") % done, messages.SUCCESS)
            else:
                self.message_user(request, _("No hold was released."), messages.WARNING)

        return self._form_action(request, queryset, form_class, _("Release holds"), apply)

    @admin.action(description=_("Cancel selected orders"), permissions=["change"])
    def cancel_action(self, request, queryset):
        def apply(data):
            done = 0
            for order in queryset:
                try:
                    review.cancel_order(order=order, actor=request.user, note=data["note"])
                    done += 1
                except review.OrderError as exc:
                    self.message_user(request, str(exc), messages.WARNING)
            self.message_user(request, _("%d orders cancelled.") % done, messages.SUCCESS)

        return self._form_action(request, queryset, CancelForm, _("Cancel orders"), apply)

    @admin.action(description=_("Set the carrier of selected orders"), permissions=["change"])
    def carrier_action(self, request, queryset):
        def apply(data):
            try:
                done = review.set_carrier(
                    orders=list(queryset), carrier=data["carrier"], actor=request.user
                )
            except review.OrderError as exc:
                self.message_user(request, str(exc), messages.ERROR)
            else:
                self.message_user(request, _("%d orders changed.") % done, messages.SUCCESS)

        return self._form_action(request, queryset, CarrierForm, _("Set the carrier"), apply)

    @admin.action(description=_("Re-map SKUs of selected orders"), permissions=["change"])
    def remap_action(self, request, queryset):
        done = sum(review.remap_order(order=o, actor=request.user) for o in queryset)
        self.message_user(request, _("%d orders fully mapped.") % done, messages.SUCCESS)

    @admin.action(description=_("Merge selected orders into one shipment"), permissions=["change"])
    def merge_action(self, request, queryset):
        try:
            survivor = merge_orders(orders=list(queryset), actor=request.user)
        except review.OrderError as exc:
            self.message_user(request, str(exc), messages.ERROR)
        else:
            self.message_user(request, _("Merged into %s.") % survivor.order_no, messages.SUCCESS)


@admin.register(ReviewQueueOrder)
class ReviewQueueAdmin(OrderAdminBase):
    """审单: the orders waiting for review."""

    list_display = [c for c in OrderAdminBase.list_display if c != "status"]

    def get_queryset(self, request):
        return super().get_queryset(request).filter(status=Order.Status.PENDING_REVIEW)


@admin.register(Order)
class OrderAdmin(ImportColumnsMixin, ImportMixin, OrderAdminBase):
    """Every order, searchable; the same page and actions; import of standard-format files."""

    resource_classes = [OrderImportResource]
    import_formats = [TabularFile]
    import_form_class = LimitedImportForm
    import_template_name = "admin/tongcang_import.html"
    change_list_template = "admin/orders/order/change_list.html"

    def has_import_permission(self, request):
        return self.has_change_permission(request)

    def has_print_wave_permission(self, request):
        return request.user.has_perm("orders.print_wave")

    def has_add_wave_permission(self, request):
        return request.user.has_perm("orders.add_wave")

    def get_actions(self, request):
        """The review actions, and the warehouse's wave and print actions (ORDER_ACTIONS), each
        offered only to whom its ``permissions`` allow."""
        actions = super().get_actions(request)
        extra = [self.get_action(func) for func in ORDER_ACTIONS]
        for func, name, description in self._filter_actions_by_permissions(request, extra):
            actions[name] = (func, name, description)
        return actions

    def get_skip_admin_log(self):
        return True  # every imported order has its own "created" event with the user

    list_filter = [
        ("status", admin.ChoicesFieldListFilter),
        *OrderAdminBase.list_filter,
    ]
    ordering = ["-id"]


from . import admin_fulfilment  # noqa: E402, F401  (waves, printing, shipping)


@admin.register(ReceiverReveal)
class ReceiverRevealAdmin(admin.ModelAdmin):
    """Who saw which encrypted receiver in clear, when and why (read only)."""

    list_display = ["order", "revealed_by", "revealed_at", "reason", "scene", "matched"]
    list_filter = ["revealed_by"]
    search_fields = ["order__order_no", "reason"]
    readonly_fields = [f.name for f in ReceiverReveal._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
