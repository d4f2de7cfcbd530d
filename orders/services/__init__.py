"""Order services: every change of an order goes through a function here (one per action).

- ``kernel``: what every service stands on: locking orders (in id order), ``OrderError``,
  the actor, "held";
- ``orders.intake.intake_orders``: the one entry point for arriving orders (files, connectors);
- ``holds``: hold / release (``Order.on_hold`` is true exactly while an active hold exists);
- ``allocation``: automatic allocation (自动配货) and the stock-short retry;
- ``autoreview``: the shops' automatic review and the complete-address rule;
- ``review``: approve, cancel, correct the receiver, carrier, lines, re-map;
- ``split_merge``: split (拆单) and merge (合单) before printing;
- the warehouse: ``tracking`` (number pools and providers, waybill cancel), ``waves``,
  ``printing``, ``scanning`` (复核), ``shipping`` (and handover batches);
- ``numbers``: our order numbers; ``bulk``: COPY for intake; ``events``: the order event log.

Reads for screens and files (wave candidates, print sets, expected items, the shipment file)
are in ``orders.selectors``.
"""
