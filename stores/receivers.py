"""Goods arrived in a store's location: its kiosk catalogue (kept a minute) is read again."""

from django.core.cache import cache
from django.db.models import Q
from django.dispatch import receiver

from inventory.signals import stock_changed


@receiver(stock_changed, dispatch_uid="stores_catalogue_changed")
def forget_catalogue(sender, product_ids, warehouse_ids, grew, **kwargs):
    if not grew:
        return
    from .models import Store
    from .selectors import catalogue_key

    ids = Store.objects.filter(
        Q(location_id__in=list(warehouse_ids)) | Q(sample_location_id__in=list(warehouse_ids))
    ).values_list("pk", flat=True)
    cache.delete_many([catalogue_key(pk) for pk in ids])
