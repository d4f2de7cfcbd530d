from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DashboardConfig(AppConfig):
    name = "dashboard"
    verbose_name = _("home")

    def ready(self):
        # A role group is named by its role wherever it is shown (titles, breadcrumbs, the
        # user's groups): 仓库, not "warehouse". Its name stays the key the code uses.
        from django.contrib.auth.models import Group

        from .admin import role_name

        Group.__str__ = role_name
