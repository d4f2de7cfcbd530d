"""Order services: every change of an order goes through a function here (one per action).

- ``orders.intake.intake_orders``: the one entry point for arriving orders (files, connectors);
- ``holds``: hold / release (``Order.on_hold`` is true exactly while an active hold exists);
- ``allocation``: automatic allocation (自动配货) and the stock-short retry;
- ``review``: approve, cancel, correct the receiver, carrier, lines, re-map, automatic review;
- ``split_merge``: split (拆单) and merge (合单) before printing;
- ``numbers``: our order numbers; ``bulk``: COPY for intake; ``events``: the order event log;
- ``fulfilment`` (the warehouse): waves, printing, verification, shipping.
"""
