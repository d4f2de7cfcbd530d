"""A refund after shipping becomes a platform return order (returns.services, issue 6)."""

from datetime import UTC, datetime, timedelta

import pytest

from orders.models import Order
from platformsync import outbox, sync

pytestmark = pytest.mark.django_db


def test_a_refund_after_shipping_becomes_one_return_order(sandbox, top_shop, top_flow):
    from returns.models import ReturnOrder

    flow = top_flow
    tid = sandbox.put_order([("TEA-001", 1), ("CUP-001", 2)])
    sync.pull_orders(shop=top_shop)
    order = flow.shipped(Order.objects.get(shop=top_shop, platform_order_no=tid))
    assert outbox.drain_shipments().sent == 1
    sandbox.control("refund", platform="top", tid=tid)
    soon = datetime.now(UTC) + timedelta(seconds=2)

    first = sync.pull_refunds(shop=top_shop, now=soon)
    sync.update_sync_state(top_shop.pk, refunds_watermark=None)
    again = sync.pull_refunds(shop=top_shop, now=soon)

    ro = ReturnOrder.objects.get(order=order)
    assert (first.returns, again.returns) == (1, 0)
    assert ro.source == "platform" and ro.kind == "return_goods"
    assert ro.lines.count() == 1
