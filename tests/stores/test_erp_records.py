"""A store's sale reaches the ERP as the contract's store sales record: fulfilment, the
guide's staff code, every payment."""

from decimal import Decimal

import pytest

from erpbridge import services as erp
from stores import services

from .test_store_orders import cart, pay, place

pytestmark = pytest.mark.django_db


def test_a_handed_over_take_away_is_a_store_sales_record(store, stocked, guide, clock):
    order = place(store, lines=cart(("TX2601-01-S", 2)))
    pay(order, store, guide, amount=Decimal("100.00"), method="cash")
    pay(order, store, guide, amount=Decimal("98.00"))
    services.hand_over(order=order, store=store, actor=guide)

    batch, created = erp.next_retail_batch(unit_code="MD01", kind="sales")

    assert created
    (record,) = batch.records
    assert record["order_no"] == order.order_no
    assert record["fulfilment"] == "takeaway"
    assert record["guide"] == "G001"
    assert record["payments"] == [
        {"method": "cash", "amount": "100.00", "reference": "WX-123"},
        {"method": "wechat", "amount": "98.00", "reference": "WX-123"},
    ]
    assert record["total"] == "198.00"
