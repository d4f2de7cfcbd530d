"""A refund after shipping becomes a platform return order (returns.services, issue 6)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.utils import timezone

from channels import notices
from channels.types import ShipmentNotice
from orders.models import Order
from platformsync import outbox, sync

pytestmark = pytest.mark.django_db


def test_a_refund_after_shipping_becomes_one_return_order(sandbox, top_shop):
    from returns.models import ReturnOrder

    (tid,) = sandbox.generate(count=1)
    sync.pull_orders(shop=top_shop)
    order = Order.objects.get(shop=top_shop, platform_order_no=tid)
    # the warehouse shipped it (status only: the warehouse issue owns the real flow)
    Order.objects.filter(pk=order.pk).update(status=Order.Status.SHIPPED, shipped_at=timezone.now())
    notices.queue_shipment(
        shop=top_shop,
        dedupe_key=f"shipment:{order.pk}",
        notice=ShipmentNotice(
            order_no=order.order_no,
            platform_order_no=tid,
            carrier="SF",
            tracking_no="SF9",
            platform_line_ids=tuple([]),
            partial=False,
            shipped_at=timezone.now(),
            carrier_name="",
        ),
    )
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
