"""The main warehouse id is cached in the stock services; forget it when warehouses change."""

from django.db.models.signals import post_delete, post_migrate, post_save

from .models import Warehouse


def forget_main_warehouse(**kwargs):
    """The main warehouse id is cached; forget it whenever warehouses may have changed (a
    warehouse saved or deleted, the database flushed and migrated again)."""
    from .services import forget_main_warehouse as forget

    forget()


post_save.connect(forget_main_warehouse, sender=Warehouse, dispatch_uid="inventory_wh_saved")
post_delete.connect(forget_main_warehouse, sender=Warehouse, dispatch_uid="inventory_wh_deleted")
post_migrate.connect(forget_main_warehouse, dispatch_uid="inventory_wh_migrated")
