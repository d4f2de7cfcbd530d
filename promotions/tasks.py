"""django-q2 entry points (thin). Schedule ``promotions.tasks.issue_red_packets`` daily.

The order facts come from the app above that knows orders: ``settings.PROMOTIONS_ORDER_FACTS``
names a callable ``(order_refs: list[str]) -> dict[str, promotions.services.OrderFacts]``
(the store app's selector). Without it the task does nothing and says so.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

from .services.redpackets import issue_due_red_packets

log = logging.getLogger(__name__)


def issue_red_packets(order_facts_path: str = "") -> int:
    path = order_facts_path or settings.PROMOTIONS_ORDER_FACTS
    if not path:
        log.warning("red packets: PROMOTIONS_ORDER_FACTS is not set; nothing issued")
        return 0
    issued = issue_due_red_packets(order_facts=import_string(path))
    log.info("red packets: %d issued", issued)
    return issued
