from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ErpbridgeConfig(AppConfig):
    name = "erpbridge"
    verbose_name = _("offline ERP bridge")

    def ready(self):
        from . import tasks

        tasks.connect(self)
