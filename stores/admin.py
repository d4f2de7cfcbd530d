"""Stores in the back office: the stores and their staff (administrators), kiosk devices
(the store manager registers and revokes them; the token is shown once, on registering)."""

from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _

from . import selectors, services
from .models import KioskDevice, Store, StoreMember


class StoreMemberInline(admin.TabularInline):
    model = StoreMember
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Store)
class StoreAdmin(admin.ModelAdmin):
    list_display = ["shop", "location", "sample_location", "city", "phone"]
    list_select_related = ["shop", "location", "sample_location"]
    inlines = [StoreMemberInline]

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        return qs if request.user.is_superuser else qs.filter(members__user=request.user)


@admin.register(KioskDevice)
class KioskDeviceAdmin(admin.ModelAdmin):
    list_display = ["name", "store", "token_hint", "created_at", "created_by", "revoked_at"]
    list_filter = ["store"]
    fields = ["store", "name"]
    actions = ["revoke"]

    def get_queryset(self, request):
        qs = super().get_queryset(request).select_related("store__shop")
        return (
            qs
            if request.user.is_superuser
            else qs.filter(store__in=selectors.stores_for_user(request.user))
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "store":
            kwargs["queryset"] = selectors.stores_for_user(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_add_permission(self, request):
        return request.user.has_perm("stores.manage_kioskdevice")

    def has_change_permission(self, request, obj=None):
        return obj is None and request.user.has_perm("stores.manage_kioskdevice")

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        """Registering goes through the service; the token is shown this once."""
        device, token = services.register_device(
            store=form.cleaned_data["store"], name=form.cleaned_data["name"], actor=request.user
        )
        obj.pk = device.pk
        link = request.build_absolute_uri(f"/store/kiosk/start/?token={token}")
        messages.warning(
            request,
            _("Kiosk token (shown only now): %(token)s — open on the device: %(link)s")
            % {"token": token, "link": link},
        )

    def log_addition(self, request, obj, message):
        return None

    @admin.action(description=_("Revoke the selected devices"), permissions=["manage"])
    def revoke(self, request, queryset):
        for device in queryset:
            services.revoke_device(device=device, actor=request.user)
        self.message_user(request, _("Revoked."))

    def has_manage_permission(self, request):
        return request.user.has_perm("stores.manage_kioskdevice")
