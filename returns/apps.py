from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReturnsConfig(AppConfig):
    name = "returns"
    verbose_name = _("after-sales")

    def ready(self):
        from inventory import documents

        documents.register("return", describe_return_documents)


def describe_return_documents(keys):
    """``return:<id>`` in the ledger: the return order's number, linking to its page."""
    from django.urls import reverse
    from django.utils.translation import gettext

    from .models import ReturnOrder

    ids = [int(k) for k in keys if k.isdigit()]
    return {
        str(pk): (
            gettext("return order %(no)s") % {"no": no},
            reverse("admin:returns_returnorder_change", args=[pk]),
        )
        for pk, no in ReturnOrder.objects.filter(pk__in=ids).values_list("pk", "return_no")
    }
