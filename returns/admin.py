"""After-sales screens in the admin: lists, the return order page, and its actions.

Thin: every change goes through returns.services; these views only parse, check the permission
for the screen, and show the services' refusals.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.models import Order

from . import selectors, services
from .forms import CreateReturnForm, NoteForm, PickOrderForm, ReceiveForm, RejectForm
from .models import ReturnEvent, ReturnLine, ReturnOrder
from .pdf.receipt import render_return_receipt

Status = ReturnOrder.Status


class ReturnLineInline(admin.TabularInline):
    model = ReturnLine
    extra = 0
    can_delete = False
    fields = ["platform_sku", "title", "quantity", "amount"]
    readonly_fields = fields
    verbose_name_plural = _("return lines")

    @admin.display(description=_("platform SKU"))
    def platform_sku(self, obj):
        return obj.order_line.platform_sku

    @admin.display(description=_("title"))
    def title(self, obj):
        return obj.order_line.title

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("order_line")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReturnEventInline(admin.TabularInline):
    model = ReturnEvent
    extra = 0
    can_delete = False
    fields = ["created_at", "kind", "actor_label", "message"]
    readonly_fields = fields
    verbose_name_plural = _("history")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(ReturnOrder)
class ReturnOrderAdmin(admin.ModelAdmin):
    list_display = [
        "return_no",
        "order_link",
        "platform_order_no",
        "shop",
        "kind",
        "status",
        "refund_amount",
        "return_tracking_no",
        "created_at",
    ]
    list_filter = [
        "status",
        "kind",
        "source",
        ("shop", admin.RelatedOnlyFieldListFilter),
        ("shop__platform", admin.RelatedOnlyFieldListFilter),
        "reason",
        ("created_at", admin.DateFieldListFilter),
        ("received_at", admin.DateFieldListFilter),
    ]
    search_fields = [
        "return_no",
        "order__order_no",
        "order__platform_order_no",
        "return_tracking_no",
        "platform_refund_id",
    ]
    search_help_text = _(
        "Return no., order no., platform order no., return tracking no. or platform refund id"
    )
    date_hierarchy = "created_at"
    list_select_related = ["order", "shop", "shop__platform"]
    list_per_page = 50
    actions = ["approve_selected"]
    inlines = [ReturnLineInline, ReturnEventInline]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    ("return_no", "status"),
                    ("order_link", "platform_order_no"),
                    ("shop", "platform"),
                    ("source", "platform_refund_id", "platform_status"),
                    ("kind", "refund_amount"),
                    "reason",
                    "return_tracking_no",
                ]
            },
        ),
        (
            _("review and receipt"),
            {
                "fields": [
                    ("created_by", "created_at"),
                    ("reviewed_by", "reviewed_at"),
                    "reject_reason",
                    ("received_at", "closed_at"),
                    "receipts_table",
                ]
            },
        ),
    ]
    readonly_fields = [
        "return_no",
        "status",
        "order_link",
        "platform_order_no",
        "shop",
        "platform",
        "source",
        "platform_refund_id",
        "platform_status",
        "kind",
        "refund_amount",
        "reason",
        "return_tracking_no",
        "created_by",
        "created_at",
        "reviewed_by",
        "reviewed_at",
        "reject_reason",
        "received_at",
        "closed_at",
        "receipts_table",
    ]

    # --- columns --------------------------------------------------------------------------

    @admin.display(description=_("order"), ordering="order__order_no")
    def order_link(self, obj):
        try:
            url = reverse("admin:orders_order_change", args=[obj.order_id])
        except NoReverseMatch:
            return obj.order.order_no
        return format_html('<a href="{}">{}</a>', url, obj.order.order_no)

    @admin.display(description=_("platform order no."), ordering="order__platform_order_no")
    def platform_order_no(self, obj):
        return obj.order.platform_order_no

    @admin.display(description=_("platform"), ordering="shop__platform__name")
    def platform(self, obj):
        return obj.shop.platform

    @admin.display(description=_("goods received"))
    def receipts_table(self, obj):
        items = selectors.receivable_items(obj)
        if not items:
            return "—"
        head = format_html(
            "<tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th><th>{}</th></tr>",
            gettext("product"),
            gettext("expected"),
            gettext("main warehouse"),
            gettext("defective warehouse"),
            gettext("still to come"),
        )
        body = format_html_join(
            "",
            "<tr><td>{} {}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            (
                (
                    item.product.code,
                    item.product.name,
                    item.expected.normalize(),
                    item.received_main.normalize(),
                    item.received_defective.normalize(),
                    item.remaining.normalize(),
                )
                for item in items
            ),
        )
        return format_html("<table>{}{}</table>", head, body)

    # --- permissions: the page is read-only; changes go through the actions --------------

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_review_permission(self, request):
        return request.user.has_perm("returns.review_returnorder")

    def has_receive_permission(self, request):
        return request.user.has_perm("returns.receive_returnorder")

    def has_close_permission(self, request):
        return request.user.has_perm("returns.close_returnorder")

    # --- list action ------------------------------------------------------------------------

    @admin.action(description=_("Approve selected return orders"), permissions=["review"])
    def approve_selected(self, request, queryset):
        done = 0
        for ro in queryset.filter(status=Status.SUBMITTED):
            try:
                services.approve_return(return_order=ro, actor=request.user)
                done += 1
            except services.ReturnError as exc:
                self.message_user(request, f"{ro.return_no}: {exc.message}", messages.ERROR)
        if done:
            self.message_user(
                request,
                gettext("%(count)d return orders approved.") % {"count": done},
                messages.SUCCESS,
            )

    # --- pages ------------------------------------------------------------------------------

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "create-from-order/<int:order_id>/",
                view(self.create_from_order_view),
                name="returns_returnorder_create_from_order",
            ),
            path(
                "<int:object_id>/approve/",
                view(self.approve_view),
                name="returns_returnorder_approve",
            ),
            path(
                "<int:object_id>/reject/", view(self.reject_view), name="returns_returnorder_reject"
            ),
            path(
                "<int:object_id>/receive/",
                view(self.receive_view),
                name="returns_returnorder_receive",
            ),
            path("<int:object_id>/close/", view(self.close_view), name="returns_returnorder_close"),
            path(
                "<int:object_id>/receipt.pdf",
                view(self.receipt_pdf_view),
                name="returns_returnorder_receipt_pdf",
            ),
            *super().get_urls(),
        ]

    def _context(self, request, title, **extra):
        return {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": title,
            **extra,
        }

    def _change_url(self, ro):
        return reverse("admin:returns_returnorder_change", args=[ro.pk])

    def change_view(self, request, object_id, form_url="", extra_context=None):
        ro = self.get_object(request, object_id)
        extra_context = extra_context or {}
        if ro is not None:
            user = request.user
            extra_context["return_actions"] = {
                "approve": ro.status == Status.SUBMITTED and self.has_review_permission(request),
                "reject": ro.status == Status.SUBMITTED and self.has_review_permission(request),
                "receive": ro.status == Status.APPROVED
                and ro.kind == ReturnOrder.Kind.RETURN_GOODS
                and self.has_receive_permission(request),
                "close": ro.status in (Status.APPROVED, Status.RECEIVED)
                and self.has_close_permission(request),
                "own": ro.created_by_id == user.pk,
            }
        return super().change_view(request, object_id, form_url, extra_context)

    def add_view(self, request, form_url="", extra_context=None):
        """Adding starts from the order: pick it by our or the platform's order number."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        form = PickOrderForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            return HttpResponseRedirect(
                reverse("admin:returns_returnorder_create_from_order", args=[form.order.pk])
            )
        context = self._context(request, gettext("Create return order"), form=form)
        return TemplateResponse(request, "admin/returns/returnorder/pick_order.html", context)

    def create_from_order_view(self, request, order_id):
        if not self.has_add_permission(request):
            raise PermissionDenied
        order = get_object_or_404(Order.objects.select_related("shop"), pk=order_id)
        form = CreateReturnForm(request.POST or None, order=order)
        if request.method == "POST" and form.is_valid():
            try:
                ro = services.create_return(
                    order=order,
                    lines=form.lines(),
                    kind=form.cleaned_data["kind"],
                    reason=form.cleaned_data["reason"],
                    refund_amount=form.refund(),
                    return_tracking_no=form.cleaned_data["return_tracking_no"],
                    actor=request.user,
                )
            except services.ReturnError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    gettext("Return order %(no)s created; it waits for review.")
                    % {"no": ro.return_no},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._change_url(ro))
        context = self._context(
            request,
            gettext("Create return order for %(no)s") % {"no": order.order_no},
            form=form,
            order=order,
            shipped=order.status == Order.Status.SHIPPED,
        )
        return TemplateResponse(
            request, "admin/returns/returnorder/create_from_order.html", context
        )

    def _action_view(self, request, object_id, *, allowed, form_class, title, run, button):
        if not allowed:
            raise PermissionDenied
        ro = get_object_or_404(self.get_queryset(request), pk=object_id)
        form = form_class(request.POST or None)
        if request.method == "POST" and form.is_valid():
            try:
                run(ro, form.cleaned_data)
            except services.ReturnError as exc:
                self.message_user(request, exc.message, messages.ERROR)
            else:
                self.message_user(
                    request, gettext("%(no)s: done.") % {"no": ro.return_no}, messages.SUCCESS
                )
            return HttpResponseRedirect(self._change_url(ro))
        context = self._context(
            request, f"{title} {ro.return_no}", form=form, original=ro, button=button
        )
        return TemplateResponse(request, "admin/returns/returnorder/action.html", context)

    def approve_view(self, request, object_id):
        return self._action_view(
            request,
            object_id,
            allowed=self.has_review_permission(request),
            form_class=NoteForm,
            title=gettext("Approve"),
            button=gettext("Approve"),
            run=lambda ro, data: services.approve_return(
                return_order=ro, actor=request.user, note=data["note"]
            ),
        )

    def reject_view(self, request, object_id):
        return self._action_view(
            request,
            object_id,
            allowed=self.has_review_permission(request),
            form_class=RejectForm,
            title=gettext("Reject"),
            button=gettext("Reject"),
            run=lambda ro, data: services.reject_return(
                return_order=ro, actor=request.user, reason=data["reason"]
            ),
        )

    def close_view(self, request, object_id):
        return self._action_view(
            request,
            object_id,
            allowed=self.has_close_permission(request),
            form_class=NoteForm,
            title=gettext("Close return order"),
            button=gettext("Close return order"),
            run=lambda ro, data: services.close_return(
                return_order=ro, actor=request.user, note=data["note"]
            ),
        )

    def receive_view(self, request, object_id):
        if not self.has_receive_permission(request):
            raise PermissionDenied
        ro = get_object_or_404(self.get_queryset(request), pk=object_id)
        form = ReceiveForm(request.POST or None, return_order=ro)
        if request.method == "POST" and form.is_valid():
            try:
                services.receive_return(
                    return_order=ro,
                    receipts=form.receipts(),
                    actor=request.user,
                    finish=form.cleaned_data["finish"],
                )
            except services.ReturnError as exc:
                form.add_error(None, exc.message)
            else:
                self.message_user(
                    request,
                    gettext("%(no)s: goods received.") % {"no": ro.return_no},
                    messages.SUCCESS,
                )
                return HttpResponseRedirect(self._change_url(ro))
        context = self._context(
            request,
            gettext("Receive the goods of %(no)s") % {"no": ro.return_no},
            form=form,
            original=ro,
        )
        return TemplateResponse(request, "admin/returns/returnorder/receive.html", context)

    def receipt_pdf_view(self, request, object_id):
        if not self.has_view_permission(request):
            raise PermissionDenied
        ro = get_object_or_404(self.get_queryset(request), pk=object_id)
        response = HttpResponse(render_return_receipt(ro), content_type="application/pdf")
        response["Content-Disposition"] = f'inline; filename="{ro.return_no}.pdf"'
        return response
