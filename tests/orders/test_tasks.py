from decimal import Decimal

import pytest
from django_q.models import Schedule

from orders import tasks
from orders.intake import intake_orders
from orders.models import HoldReason, Order

from .conftest import norder

pytestmark = pytest.mark.django_db


def test_the_periodic_tasks_are_scheduled_after_migrate():
    funcs = set(Schedule.objects.values_list("func", flat=True))
    assert {"orders.tasks.remap_unmapped_orders", "orders.tasks.retry_stock_short_orders"} <= funcs


def test_the_remap_task_clears_the_hold_once_the_relation_exists(shop, tea, map_sku, stock_of):
    stock_of(tea, 5)
    intake_orders(shop=shop, orders=[norder("A1", ("LATER", 1))])
    assert tasks.remap_unmapped_orders() == "re-mapped 0 orders"

    map_sku(shop, "LATER", (tea, "0.5"))

    assert tasks.remap_unmapped_orders() == "re-mapped 1 orders"
    order = Order.objects.get()
    assert not order.on_hold and order.allocated_at is not None
    assert order.holds.get().reason == HoldReason.SKU_UNMAPPED
    assert order.holds.get().released_at is not None
    assert order.lines.get().components.get().quantity == Decimal("0.5")


def test_the_retry_task_reserves_stock_short_orders_when_stock_arrived_unnoticed(
    shop, tea, map_sku, main_warehouse
):
    from inventory import services as stock

    map_sku(shop, "TEA", (tea, 1))
    intake_orders(shop=shop, orders=[norder("A1", ("TEA", 2))])
    # Stock arrives in a transaction whose signal is not delivered (as in a test transaction).
    stock.adjust(warehouse_id=main_warehouse.id, product_id=tea.id, quantity=5, actor=None)

    assert tasks.retry_stock_short_orders() == "reserved 1 stock-short orders"
    assert Order.objects.get().allocated_at is not None
