"""django-q2's own admin pages (tasks, failures, schedules, the queue), restricted: anyone whose
role may view them sees them; only superusers resubmit, change or delete anything there.

django-q2's "resubmit" action declares no permission, so every role with a view permission
(the auditor) could run it; its change/delete follow the model permissions. Re-registered here
(platformsync runs the tasks), after django_q's own admin has registered.
"""

from __future__ import annotations

from django.contrib import admin
from django_q import admin as q_admin
from django_q.models import Failure, OrmQ, Schedule, Success


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


for _model in (Success, Failure, Schedule, OrmQ):
    _current = admin.site._registry.get(_model)
    if _current is not None:
        admin.site.unregister(_model)
        admin.site.register(_model, _superusers_change(type(_current)))
