from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StoresConfig(AppConfig):
    name = "stores"
    verbose_name = _("experience stores")

    def ready(self):
        from . import receivers  # noqa: F401
