from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StoresConfig(AppConfig):
    name = "stores"
    verbose_name = _("experience stores")

    def ready(self):
        from inventory.scope import set_location_scope

        from . import receivers  # noqa: F401
        from .selectors import location_scope

        set_location_scope(location_scope)
