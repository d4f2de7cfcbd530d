"""After stock changes commit, the sellable quantities of the shop SKUs concerned follow.

Inventory only says what changed (``stock_changed``) or marks products dirty; the shops'
sellable figures are computed here, beside the shops they are for.
"""

from django.dispatch import receiver

from inventory.signals import stock_changed

from .sellable import recompute_sellable


@receiver(stock_changed, dispatch_uid="inventory_recompute_sellable")
def recompute_after_stock_change(
    sender, product_ids, warehouse_ids, grew, sellable_deferred=False, **kwargs
):
    if sellable_deferred:
        # Marked in SellableDirty (recomputed, coalesced, before the next push), or a shipment:
        # on_hand and reserved fell together, the figures are what they were.
        return
    recompute_sellable(product_ids)
