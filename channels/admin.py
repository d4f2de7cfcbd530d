"""Admin screens of platforms, shops, the SKU relation table and sellable quantities."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from channels.sellable import recompute_sellable
from config.importexport import ServiceImportExportAdmin

from .models import Platform, SellableQuantity, Shop, SkuComponent, SkuMapping
from .resources import SkuRelationResource


@admin.register(Platform)
class PlatformAdmin(SimpleHistoryAdmin):
    list_display = ("code", "name", "integration")

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Shop)
class ShopAdmin(SimpleHistoryAdmin):
    list_display = (
        "code",
        "name",
        "platform",
        "unit_code",
        "stock_ratio",
        "safety_stock",
        "enabled",
        "auto_review_enabled",
    )
    list_filter = ("platform", "enabled")
    search_fields = ("code", "name", "unit_code")
    readonly_fields = ("sync_state",)
    history_list_display = ("stock_ratio", "safety_stock", "enabled")

    def get_exclude(self, request, obj=None):
        # API secrets are shown to administrators only.
        if request.user.is_superuser:
            return ()
        return ("credentials",)

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and {"stock_ratio", "safety_stock"} & set(form.changed_data):
            product_ids = SkuComponent.objects.filter(mapping__shop=obj).values_list(
                "product_id", flat=True
            )
            recompute_sellable(set(product_ids))


class SkuComponentInline(admin.TabularInline):
    model = SkuComponent
    extra = 1
    min_num = 1
    autocomplete_fields = ("product",)


@admin.register(SkuMapping)
class SkuMappingAdmin(ServiceImportExportAdmin, SimpleHistoryAdmin):
    resource_classes = [SkuRelationResource]
    inlines = [SkuComponentInline]
    list_display = ("platform_sku", "shop", "components_text", "sellable_quantity", "updated_at")
    list_filter = ("shop",)
    search_fields = ("platform_sku", "components__product__code", "components__product__name")
    list_select_related = ("shop", "sellable")
    readonly_fields = ("created_at", "updated_at")

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("components__product").distinct()

    @admin.display(description=_("components"))
    def components_text(self, obj):
        return ", ".join(
            f"{c.product.code} × {format(c.quantity.normalize(), 'f')}"
            for c in obj.components.all()
        )

    @admin.display(description=_("sellable quantity"))
    def sellable_quantity(self, obj):
        sellable = getattr(obj, "sellable", None)
        return sellable.quantity if sellable else None

    def save_related(self, request, form, formsets, change):
        before = set(
            SkuComponent.objects.filter(mapping=form.instance).values_list("product_id", flat=True)
        )
        super().save_related(request, form, formsets, change)
        after = set(
            SkuComponent.objects.filter(mapping=form.instance).values_list("product_id", flat=True)
        )
        recompute_sellable(before | after)


class ChangeKindFilter(admin.SimpleListFilter):
    title = _("change")
    parameter_name = "change"

    def lookups(self, request, model_admin):
        return [("+", _("created")), ("~", _("changed")), ("-", _("deleted"))]

    def queryset(self, request, queryset):
        if self.value() in ("+", "~", "-"):
            return queryset.filter(history_type=self.value())
        return queryset


def _component_change_in_words(record) -> str:
    """A change of a component, as its page title and breadcrumb name it: the relation, the
    product and when, in Beijing time (django-simple-history says "… as of <UTC time>")."""
    when = timezone.localtime(record.history_date).strftime("%Y-%m-%d %H:%M:%S")
    return f"{record.mapping_id and record.mapping} · {record.product} · {when}"


SkuComponent.history.model.__str__ = _component_change_in_words


@admin.register(SkuComponent.history.model)
class SkuComponentHistoryAdmin(admin.ModelAdmin):
    """Every change to the components of SKU relations: who, when, before and after, in words
    (django-simple-history's own field names are not translated)."""

    list_display = (
        "changed_at",
        "changed_by",
        "change",
        "mapping",
        "product",
        "quantity",
        "reason",
    )
    fields = list_display
    readonly_fields = list_display
    list_filter = (ChangeKindFilter,)
    search_fields = ("mapping__platform_sku", "product__code")
    date_hierarchy = "history_date"
    list_select_related = ("history_user", "mapping__shop", "product")

    @admin.display(description=_("changed at"), ordering="history_date")
    def changed_at(self, obj):
        return timezone.localtime(obj.history_date).strftime("%Y-%m-%d %H:%M:%S")

    @admin.display(description=_("changed by"), ordering="history_user")
    def changed_by(self, obj):
        return obj.history_user or "—"

    @admin.display(description=_("change"))
    def change(self, obj):
        return obj.get_history_type_display()

    @admin.display(description=_("reason"))
    def reason(self, obj):
        return obj.history_change_reason or "—"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SellableQuantity)
class SellableQuantityAdmin(admin.ModelAdmin):
    list_display = (
        "mapping",
        "quantity",
        "pushed_quantity",
        "needs_push",
        "computed_at",
        "pushed_at",
    )
    list_filter = ("mapping__shop",)
    search_fields = ("mapping__platform_sku",)
    list_select_related = ("mapping__shop",)

    @admin.display(boolean=True, description=_("needs push"))
    def needs_push(self, obj):
        return obj.needs_push

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
