"""django-q2's own admin pages (tasks, failures, schedules, the queue), restricted: anyone whose
role may view them sees them; only superusers resubmit, change or delete anything there.

django-q2's "resubmit" action declares no permission, so every role with a view permission
(the auditor) could run it; its change/delete follow the model permissions. Re-registered here
(platformsync runs the tasks), after django_q's own admin has registered.
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext, gettext_noop
from django.utils.translation import gettext_lazy as _
from django_q import admin as q_admin
from django_q.models import Failure, OrmQ, Schedule, Success

# The names the apps give their schedules (stored in English by migrations and start-up code),
# shown in the reader's language on the schedule list.
SCHEDULE_NAMES = [
    gettext_noop("channels: pull orders and refunds"),
    gettext_noop("channels: drain the outbox"),
    gettext_noop("channels: full stock push"),
    gettext_noop("orders: re-map unmapped SKUs"),
    gettext_noop("orders: retry stock-short orders"),
    gettext_noop("erpbridge: prune the message log"),
    gettext_noop("promotions: issue red packets"),
    gettext_noop("stores: expire unpaid orders"),
    gettext_noop("stores: uncollected pick-ups"),
]


def resubmit_task(model_admin, request, queryset):
    return q_admin.resubmit_task(model_admin, request, queryset)


resubmit_task.short_description = q_admin.resubmit_task.short_description
resubmit_task.allowed_permissions = ("superuser",)


def _superusers_change(base):
    class Restricted(base):
        actions = [resubmit_task] if q_admin.resubmit_task in (base.actions or ()) else []

        def has_superuser_permission(self, request):
            return request.user.is_active and request.user.is_superuser

        def has_add_permission(self, request, *args):
            return self.has_superuser_permission(request) and super().has_add_permission(
                request, *args
            )

        def has_change_permission(self, request, obj=None):
            return self.has_superuser_permission(request) and super().has_change_permission(
                request, obj
            )

        def has_delete_permission(self, request, obj=None):
            return self.has_superuser_permission(request) and super().has_delete_permission(
                request, obj
            )

    Restricted.__name__ = Restricted.__qualname__ = f"Restricted{base.__name__}"
    return Restricted


def _schedules_in_words(base):
    """The schedule list names each schedule in the reader's language (its function path, what
    an administrator types to make one, stays beside it)."""

    class InWords(base):
        list_display = tuple("schedule" if c == "name" else c for c in base.list_display)
        list_display_links = ("id", "schedule")

        @admin.display(description=_("schedule"), ordering="name")
        def schedule(self, obj):
            return gettext(obj.name) if obj.name else "—"

        def get_form(self, request, obj=None, **kwargs):
            # "Name" alone would read 名称 for any object; this one names a schedule.
            kwargs["labels"] = {**kwargs.get("labels", {}), "name": _("schedule name")}
            return super().get_form(request, obj, **kwargs)

        def get_fields(self, request, obj=None):
            fields = super().get_fields(request, obj)
            if obj is not None and not self.has_change_permission(request, obj):  # read only
                fields = ["schedule" if f == "name" else f for f in fields]
            return fields

    InWords.__name__ = InWords.__qualname__ = base.__name__
    return InWords


for _model in (Success, Failure, Schedule, OrmQ):
    _current = admin.site._registry.get(_model)
    if _current is not None:
        admin.site.unregister(_model)
        restricted = _superusers_change(type(_current))
        if _model is Schedule:
            restricted = _schedules_in_words(restricted)
        admin.site.register(_model, restricted)
