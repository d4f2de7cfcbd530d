"""Authentication backend: Django's ModelBackend, with a user's permissions read in one query.

Every call of the scan page checks a permission, and ModelBackend reads a user's own and their
groups' permissions in two ORM queries per request (its cache lives on the request's user
object). This backend reads both in one plain SQL statement; what it returns, and the cache it
keeps on the user object (``_perm_cache``, so code that drops it to see a change still works),
are ModelBackend's. Nothing is kept across requests: a permission taken away counts at once.
"""

from __future__ import annotations

from django.contrib.auth.backends import ModelBackend
from django.db import connection

_ALL_PERMISSIONS = """
SELECT ct.app_label, p.codename FROM auth_permission p
JOIN django_content_type ct ON ct.id = p.content_type_id
"""

_USER_PERMISSIONS = (
    _ALL_PERMISSIONS
    + """
WHERE p.id IN (
    SELECT up.permission_id FROM auth_user_user_permissions up WHERE up.user_id = %(user)s
    UNION
    SELECT gp.permission_id FROM auth_group_permissions gp
    JOIN auth_user_groups ug ON ug.group_id = gp.group_id
    WHERE ug.user_id = %(user)s
)
"""
)


class PermissionBackend(ModelBackend):
    def get_all_permissions(self, user_obj, obj=None):
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        if not hasattr(user_obj, "_perm_cache"):
            with connection.cursor() as cur:
                if user_obj.is_superuser:
                    cur.execute(_ALL_PERMISSIONS)
                else:
                    cur.execute(_USER_PERMISSIONS, {"user": user_obj.pk})
                user_obj._perm_cache = {f"{app}.{codename}" for app, codename in cur.fetchall()}
        return user_obj._perm_cache
