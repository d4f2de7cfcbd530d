"""After stock changes commit, the sellable quantities of the shop SKUs concerned follow."""

from django.dispatch import receiver

from .sellable import recompute_sellable
from .signals import stock_changed


@receiver(stock_changed, dispatch_uid="inventory_recompute_sellable")
def recompute_after_stock_change(sender, product_ids, warehouse_ids, grew, **kwargs):
    recompute_sellable(product_ids)
