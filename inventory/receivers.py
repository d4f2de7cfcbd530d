"""After stock changes commit, the sellable quantities of the shop SKUs concerned follow."""

from django.db.models.signals import post_delete, post_migrate, post_save
from django.dispatch import receiver

from .models import Warehouse
from .sellable import recompute_sellable
from .signals import stock_changed


@receiver(stock_changed, dispatch_uid="inventory_recompute_sellable")
def recompute_after_stock_change(
    sender, product_ids, warehouse_ids, grew, sellable_deferred=False, **kwargs
):
    if sellable_deferred:
        return  # marked in SellableDirty; recomputed, coalesced, before the next push
    recompute_sellable(product_ids)


def forget_main_warehouse(**kwargs):
    """The main warehouse id is cached; forget it whenever warehouses may have changed (a
    warehouse saved or deleted, the database flushed and migrated again)."""
    from .services import forget_main_warehouse as forget

    forget()


post_save.connect(forget_main_warehouse, sender=Warehouse, dispatch_uid="inventory_wh_saved")
post_delete.connect(forget_main_warehouse, sender=Warehouse, dispatch_uid="inventory_wh_deleted")
post_migrate.connect(forget_main_warehouse, dispatch_uid="inventory_wh_migrated")
