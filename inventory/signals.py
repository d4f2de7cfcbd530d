"""Signals the stock core sends after a change has committed.

``stock_changed`` is sent once per committed transaction that changed on_hand or reserved,
with ``product_ids`` (set of ints), ``warehouse_ids`` (set of ints) and ``grew`` (True when
some available quantity went up: held orders may now be allocated) and ``sellable_deferred``
(True when the sellable quantities need no recompute now: the products were marked in
SellableDirty, or on_hand − reserved stayed as it was, as when a parcel ships). Receivers: the
orders app retries "stock short" orders; the sellable quantities are recomputed; the platforms
get a push window.
"""

from django.dispatch import Signal

stock_changed = Signal()
