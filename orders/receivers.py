"""When stock grows (an adjustment, a receipt, an ERP sync, a release), retry stock-short orders."""

import logging

from django.dispatch import receiver

from inventory.signals import stock_changed

log = logging.getLogger(__name__)


@receiver(stock_changed, dispatch_uid="orders_retry_stock_short")
def retry_stock_short_orders(sender, product_ids, warehouse_ids, grew, **kwargs):
    if not grew:
        return
    from .services.allocation import retry_stock_short

    try:
        retry_stock_short(product_ids=product_ids, actor="allocation")
    except Exception:  # the change that sent the signal has committed: never fail it here
        log.exception("retrying stock-short orders failed")
