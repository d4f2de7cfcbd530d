"""django-import-export resource of orders: the standard-format orders file (import only).

Import goes through ``orders.imports.import_orders`` (the same as ``manage.py import_orders``):
the admin shows the preview (a dry run), then takes the orders in through the intake service.
"""

from django.utils.translation import gettext_lazy as _

from config.importexport import ServiceImportResource

from .imports import ORDER_COLUMNS, import_orders
from .models import Order


class OrderImportResource(ServiceImportResource):
    import_service = import_orders
    import_columns = ORDER_COLUMNS
    preview_columns = {
        "shop": _("shop"),
        "platform_order_no": _("platform order no."),
        "receiver_name": _("receiver"),
        "lines": _("lines"),
        "paid_at": _("paid at"),
    }

    class Meta:
        model = Order
        fields = ("shop", "platform_order_no")
        name = _("standard-format orders")
