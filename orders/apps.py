from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrdersConfig(AppConfig):
    name = "orders"
    verbose_name = _("order")

    def ready(self):
        from . import receivers, tasks  # noqa: F401

        tasks.connect(self)

        from inventory import documents

        documents.register("order", describe_order_documents)


def describe_order_documents(keys):
    """``order:<id>`` in the ledger: the order's number, linking to its page."""
    from django.urls import reverse
    from django.utils.translation import gettext

    from .models import Order

    ids = [int(k) for k in keys if k.isdigit()]
    return {
        str(pk): (
            gettext("order %(no)s") % {"no": no},
            reverse("admin:orders_order_change", args=[pk]),
        )
        for pk, no in Order.objects.filter(pk__in=ids).values_list("pk", "order_no")
    }
