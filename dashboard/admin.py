"""People and roles in the admin: the role groups with their Chinese names (config/roles.py),
on the group list and wherever a user's groups are chosen."""

from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, SetUnusablePasswordMixin
from django.contrib.auth.models import Group, User
from django.utils.html import format_html
from django.utils.text import capfirst
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from config.roles import ROLE_LABELS


def role_name(group) -> str:
    return str(ROLE_LABELS.get(group.name, group.name))


DEFAULT_ACTIONS = {
    "add": _("Can add %(model)s"),
    "change": _("Can change %(model)s"),
    "delete": _("Can delete %(model)s"),
    "view": _("Can view %(model)s"),
}


def model_name(model) -> str:
    """A model's name in the reader's language; a change-history table (django-simple-history)
    is "change history of <the model>" whatever its own options say."""
    base = getattr(model, "instance_type", None)  # a historical model's tracked model
    if base is not None:
        return str(_("change history of %(model)s") % {"model": base._meta.verbose_name})
    return str(model._meta.verbose_name)


def permission_in_words(permission) -> str:
    """ "app | model | what it allows", translated. The database keeps Django's English names
    ("Can view wave"); the default four are said again from the model's translated name, the
    project's own are msgids of their app's catalogue."""
    ct = permission.content_type
    model = ct.model_class()
    if model is None:  # a table gone from the code
        return f"{ct} | {permission.name}"
    name = model_name(model)
    action, _sep, rest = permission.codename.partition("_")
    if action in DEFAULT_ACTIONS and rest == ct.model:
        text = DEFAULT_ACTIONS[action] % {"model": name}
    else:
        text = gettext(permission.name)
    app = apps.get_app_config(ct.app_label).verbose_name
    return f"{capfirst(app)} | {capfirst(name)} | {text}"


class PermissionsInWords:
    """Group and user pages: roles by their Chinese names, permissions in words."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if field is None:
            return field
        if db_field.name == "groups":
            field.label_from_instance = role_name
        elif db_field.name in ("permissions", "user_permissions"):
            field.queryset = field.queryset.select_related("content_type")
            field.label_from_instance = permission_in_words
        return field


class RoleFilter(admin.SimpleListFilter):
    title = _("role")
    parameter_name = "role"

    def lookups(self, request, model_admin):
        return [(str(g.pk), role_name(g)) for g in Group.objects.order_by("name")]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(groups__pk=int(self.value()))
        return queryset


class RoleGroupAdmin(PermissionsInWords, GroupAdmin):
    list_display = ["role"]

    @admin.display(description=_("role"), ordering="name")
    def role(self, group):
        return ROLE_LABELS.get(group.name, group.name)


class PasswordChangeForm(AdminPasswordChangeForm):
    """Django's form, with its warning translated (Django glues it to the help text as a
    literal, so no catalogue can reach it)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "usable_password" in self.fields:
            self.fields["usable_password"].help_text = format_html(
                '{}<ul id="id_unusable_warning" class="messagelist">'
                '<li class="warning">{}</li></ul>',
                SetUnusablePasswordMixin.usable_password_help_text,
                _("If disabled, the current password for this user will be lost."),
            )


class RoleUserAdmin(PermissionsInWords, UserAdmin):
    change_password_form = PasswordChangeForm

    list_display = ["username", "first_name", "last_name", "roles", "is_staff", "is_active"]
    list_filter = ["is_staff", "is_superuser", "is_active", RoleFilter]

    @admin.display(description=_("roles"))
    def roles(self, user):
        return "、".join(str(ROLE_LABELS.get(g.name, g.name)) for g in user.groups.all())

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("groups")


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
