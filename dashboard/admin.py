"""People and roles in the admin: the role groups with their Chinese names (config/roles.py),
on the group list and wherever a user's groups are chosen."""

from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.utils.translation import gettext_lazy as _

from config.roles import ROLE_LABELS


def role_name(group) -> str:
    return str(ROLE_LABELS.get(group.name, group.name))


class RoleFilter(admin.SimpleListFilter):
    title = _("role")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return [(str(g.pk), role_name(g)) for g in Group.objects.order_by("name")]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(groups__pk=int(self.value()))
        return queryset


class RoleGroupAdmin(GroupAdmin):
    list_display = ["role"]

    @admin.display(description=_("role"), ordering="name")
    def role(self, group):
        return ROLE_LABELS.get(group.name, group.name)


class RoleUserAdmin(UserAdmin):
    list_display = ["username", "first_name", "last_name", "roles", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active", RoleFilter]

    @admin.display(description=_("roles"))
    def roles(self, user):
        return "、".join(str(ROLE_LABELS.get(g.name, g.name)) for g in user.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "groups" and field is not None:
            field.label_from_instance = role_name
        return field


admin.site.unregister(Group)
admin.site.register(Group, RoleGroupAdmin)
admin.site.unregister(User)
admin.site.register(User, RoleUserAdmin)


# The apps of the daily work first, in the sidebar as on the home page; accounts and
# background tasks last.
APP_ORDER = ["orders", "returns", "inventory", "channels", "platformsync", "erpbridge"]
_get_app_list = admin.site.get_app_list


def _work_first(request, app_label=None):
    apps = _get_app_list(request, app_label)
    rank = {label: i for i, label in enumerate(APP_ORDER)}
    return sorted(apps, key=lambda a: rank.get(a["app_label"], len(APP_ORDER)))


admin.site.get_app_list = _work_first
