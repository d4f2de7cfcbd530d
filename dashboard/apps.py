from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("home")

    def ready(self):
        # A role group is named by its role wherever it is shown (titles, breadcrumbs, the
        # user's groups): 仓库, not "warehouse". Its name stays the key the code uses.
        # A permission likewise reads as its app, model and action in the reader's language
        # (the database keeps Django's English "Can view wave").
        from django.contrib.auth.models import Group, Permission

        from .admin import permission_in_words, role_name

        Group.__str__ = role_name
        Permission.__str__ = permission_in_words
