"""Admin pages of the syncs: the per-shop status page (with "sync now", at most once every 5
minutes), the outbox (with retry of parked messages) and the file platforms' exports.

Thin: every action calls a service (channels.sync, channels.outbox, channels.connectors.files).
Registered on admin.site when imported (channels/admin.py imports this module).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import (
    HttpResponse,
    HttpResponseNotAllowed,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from channels.connectors.files import (
    FILE_PLATFORMS,
    NotAFileShop,
    confirm_tracking_export,
    export_stock,
    export_tracking,
)
from channels.models import OutboxMessage, ShopSyncStatus

from . import admin_tasks, outbox, sync  # noqa: F401 - admin_tasks re-registers django_q's
from .errors import reason
from .selectors import outbox_subject, shop_statuses


def _status(obj):
    if not hasattr(obj, "_sync_status"):
        obj._sync_status = shop_statuses([obj])[obj.pk]
    return obj._sync_status


def _local(dt):
    return timezone.localtime(dt).strftime("%Y-%m-%d %H:%M:%S") if dt else "—"


def orders_pulled_in_words(st) -> str:
    """The two figures of a pull ("30 / 37") said in words."""
    return _(
        "%(last)d read by the last pull (new or changed), %(total)d since the shop was connected"
    ) % {"last": st.orders_last_read, "total": st.orders_total_read}


def start_sync(request, shop) -> bool:
    """Record the request (5-minute limit) and queue the pull; messages the user either way."""
    from django_q.tasks import async_task

    try:
        sync.request_manual_sync(shop_id=shop.pk, actor=request.user)
    except sync.TooSoon as exc:
        messages.error(
            request,
            _("Shop %(shop)s was synced less than 5 minutes ago; try again in %(s)d seconds.")
            % {"shop": shop.code, "s": int(exc.wait.total_seconds()) + 1},
        )
        return False
    async_task("platformsync.tasks.sync_shop", shop.pk, request.user.get_username())
    messages.success(request, _("Sync of shop %(shop)s started.") % {"shop": shop.code})
    return True


@admin.register(ShopSyncStatus)
class ShopSyncStatusAdmin(admin.ModelAdmin):
    list_display = [
        "code",
        "name",
        "platform",
        "last_pull",
        "orders_last_pull",
        "orders_in_all",
        "refunds_pulled",
        "pushes_pending",
        "pushes_failed",
        "last_error",
    ]
    list_filter = ["platform", "enabled"]
    search_fields = ["code", "name"]
    actions = ["sync_now", "export_stock_file", "export_tracking_file"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("platform")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("last pull"))
    def last_pull(self, obj):
        return _local(_status(obj).orders_last_pull_at)

    # The two figures of a pull, each under a header that says what it counts (the shop's
    # page says both in a sentence); shops without an API are not pulled at all.
    @admin.display(description=_("orders read by the last pull"))
    def orders_last_pull(self, obj):
        return _status(obj).orders_last_read if obj.platform.integration == "api" else "—"

    @admin.display(description=_("orders pulled since connected"))
    def orders_in_all(self, obj):
        return _status(obj).orders_total_read if obj.platform.integration == "api" else "—"

    @admin.display(description=_("refunds pulled"))
    def refunds_pulled(self, obj):
        return _status(obj).refunds_total_read if obj.platform.integration == "api" else "—"

    @admin.display(description=_("pushes pending"))
    def pushes_pending(self, obj):
        return _status(obj).pending

    @admin.display(description=_("pushes failed"))
    def pushes_failed(self, obj):
        st = _status(obj)
        if not st.parked and not st.retrying:
            return 0
        url = reverse("admin:channels_outboxmessage_changelist") + f"?shop__id__exact={obj.pk}"
        return format_html(
            '<a href="{}">{}</a>',
            url,
            _("%(parked)d parked, %(retrying)d retrying")
            % {"parked": st.parked, "retrying": st.retrying},
        )

    @admin.display(description=_("last errors"))
    def last_error(self, obj):
        errors = _status(obj).last_errors
        if not errors:
            return "—"
        first = errors[0]
        return format_html(
            '<strong>{}</strong><br><span class="quiet" title="{}">{}</span>',
            str(first),
            first.answer,
            first.answer[:80],
        )

    # --- the status page of one shop, with its "sync now" button ----------------------------
    def get_urls(self):
        return [
            path(
                "<int:shop_id>/sync/",
                self.admin_site.admin_view(self.sync_view),
                name="channels_shopsyncstatus_sync",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        shop = get_object_or_404(self.get_queryset(request), pk=object_id)
        if not self.has_view_or_change_permission(request, shop):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Sync status of %(shop)s") % {"shop": shop},
            "shop": shop,
            "status": _status(shop),
            "api": shop.platform.integration == "api",
            "can_sync": self.has_change_permission(request, shop),
            "orders_pulled": orders_pulled_in_words(_status(shop)),
            "local": {
                "orders_last_pull_at": _local(_status(shop).orders_last_pull_at),
                "orders_watermark": _local(_status(shop).orders_watermark),
                "refunds_last_pull_at": _local(_status(shop).refunds_last_pull_at),
                "manual_sync_at": _local(_status(shop).manual_sync_at),
            },
        }
        return TemplateResponse(request, "admin/channels/shop_sync_status.html", context)

    def sync_view(self, request, shop_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        shop = get_object_or_404(self.get_queryset(request), pk=shop_id)
        if not self.has_change_permission(request, shop):
            raise PermissionDenied
        if shop.platform.integration != "api":
            messages.error(
                request, _("Shop %(shop)s has no API to pull from.") % {"shop": shop.code}
            )
        else:
            start_sync(request, shop)
        return HttpResponseRedirect(reverse("admin:channels_shopsyncstatus_change", args=[shop.pk]))

    # --- actions -----------------------------------------------------------------------------
    @admin.action(description=_("Sync now"), permissions=["change"])
    def sync_now(self, request, queryset):
        for shop in queryset.filter(platform__integration="api"):
            start_sync(request, shop)

    def _one_file_shop(self, request, queryset):
        shops = list(queryset)
        if len(shops) != 1 or shops[0].platform.code not in FILE_PLATFORMS:
            messages.error(request, _("Select exactly one shop of a file platform."))
            return None
        return shops[0]

    def _download(self, export):
        response = HttpResponse(
            export.content,
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response

    @admin.action(description=_("Export stock file (XLSX)"), permissions=["change"])
    def export_stock_file(self, request, queryset):
        shop = self._one_file_shop(request, queryset)
        if shop is None:
            return None
        try:
            return self._download(export_stock(shop=shop, actor=request.user))
        except NotAFileShop as exc:
            messages.error(request, str(exc))
            return None

    @admin.action(description=_("Export tracking numbers (XLSX)"), permissions=["change"])
    def export_tracking_file(self, request, queryset):
        shop = self._one_file_shop(request, queryset)
        if shop is None:
            return None
        export = export_tracking(shop=shop, actor=request.user)
        user = request.user

        def body():
            yield export.content
            # Reached only once the server has sent the whole file (a broken download stops
            # the iteration before): now its notices count as sent.
            confirm_tracking_export(export=export, actor=user)

        response = StreamingHttpResponse(
            body(),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """发件箱 in words: what each call is about (order, SKU), its content as labelled lines, and
    a platform's error behind a Chinese summary; the dedupe key stays searchable, not shown."""

    list_display = [
        "created_at",
        "shop",
        "kind",
        "subject",
        "status",
        "attempts",
        "next_attempt_at",
        "short_error",
        "sent_at",
    ]
    list_filter = ["status", "kind", "shop"]
    search_fields = ["dedupe_key", "last_error"]
    date_hierarchy = "created_at"
    actions = ["retry_parked"]
    fields = [
        "shop",
        "kind",
        "subject",
        "content",
        "status",
        "attempts",
        "next_attempt_at",
        "error",
        "created_at",
        "last_attempt_at",
        "sent_at",
        "parked_at",
        "retried_by",
        "retried_at",
    ]
    readonly_fields = fields

    @admin.display(description=_("about"))
    def subject(self, obj):
        return outbox_subject(obj.kind, obj.payload)

    @admin.display(description=_("content"))
    def content(self, obj):
        labels = {
            "order_no": _("order no."),
            "platform_order_no": _("platform order no."),
            "carrier": _("carrier code"),
            "carrier_name": _("carrier"),
            "tracking_no": _("tracking no."),
            "shipped_at": _("shipped at"),
            "platform_line_ids": _("platform lines"),
            "partial": _("part of the order"),
            "platform_sku": _("platform SKU"),
            "quantity": _("sellable quantity"),
            "mapping_id": None,  # internal
        }
        rows = []
        for key, value in (obj.payload or {}).items():
            label = labels.get(key, key)
            if label is None:
                continue
            if key == "shipped_at" and value:
                from datetime import datetime

                from django.utils import formats, timezone

                try:
                    value = formats.date_format(
                        timezone.localtime(datetime.fromisoformat(value)), "Y-m-d H:i:s"
                    )
                except (TypeError, ValueError):
                    pass
            elif isinstance(value, bool):
                value = _("yes") if value else _("no")
            elif isinstance(value, list | tuple):
                value = ", ".join(str(v) for v in value) or "—"
            rows.append(format_html("<div>{}: {}</div>", label, value))
        return format_html_join("", "{}", ((r,) for r in rows))

    @admin.display(description=_("last error"))
    def error(self, obj):
        if not obj.last_error:
            return "—"
        if obj.status == OutboxMessage.Status.SENT:
            return obj.last_error  # sent after all, or a note ("exported to a file by …")
        if obj.status == OutboxMessage.Status.PARKED:
            summary = _("The platform refused this call; it is not retried by itself. Its answer:")
        else:
            summary = _("This call failed and will be tried again. The platform's answer:")
        return format_html(
            "<strong>{}</strong><br>{}<br><code>{}</code>",
            reason(obj.last_error),
            summary,
            obj.last_error,
        )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("last error"))
    def short_error(self, obj):
        if not obj.last_error or obj.status == OutboxMessage.Status.SENT:
            return (obj.last_error or "")[:100]
        return format_html(
            '<strong>{}</strong><br><span class="quiet" title="{}">{}</span>',
            reason(obj.last_error),
            obj.last_error,
            obj.last_error[:80],
        )

    @admin.action(description=_("Send parked messages again"), permissions=["change"])
    def retry_parked(self, request, queryset):
        count = outbox.retry_parked(messages=queryset, actor=request.user)
        messages.success(
            request,
            ngettext(
                "%(n)d parked message will be sent again.",
                "%(n)d parked messages will be sent again.",
                count,
            )
            % {"n": count},
        )
