from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ErpbridgeConfig(AppConfig):
    name = "erpbridge"
    verbose_name = _("offline ERP bridge")

    def ready(self):
        from . import tasks

        tasks.connect(self)

        from inventory import documents

        documents.register("erp", describe_erp_documents)


def describe_erp_documents(keys):
    """``erp:<message id>`` in the ledger: the ERP's stock message, linking to the log."""
    from urllib.parse import urlencode

    from django.urls import reverse
    from django.utils.translation import gettext

    url = reverse("admin:erpbridge_messagelog_changelist")
    return {
        key: (
            gettext("ERP stock message %(id)s") % {"id": key},
            f"{url}?{urlencode({'q': key})}",
        )
        for key in keys
    }
