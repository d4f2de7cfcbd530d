"""After a stock change commits, the platforms get it within seconds (platformsync/push.py)."""

from django.dispatch import receiver

from inventory.signals import stock_changed

from .push import request_stock_push


@receiver(stock_changed, dispatch_uid="platformsync_push_stock_soon")
def push_soon_after_stock_change(sender, product_ids, **kwargs):
    request_stock_push()
