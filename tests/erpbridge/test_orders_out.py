"""Orders out: per unit code, every state, newest change last, 500 a page with a cursor."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import Order

from .conftest import iso

pytestmark = pytest.mark.django_db


def test_orders_of_a_unit_code_are_listed_with_their_state_and_product_lines(
    api, shop, make_shop, make_product, stock_in, make_shipped_order
):
    a = make_product("A", list_price=Decimal("5.00"))
    b = make_product("B", list_price=Decimal("5.00"))
    stock_in(a, 10)
    stock_in(b, 10)
    shipped = make_shipped_order(shop, [("AB", 1, "9.99", [(a, 1), (b, 1)])])
    reviewing = make_shipped_order(
        shop, [("A", 2, "4.00", [(a, 1)])], status=Order.Status.PENDING_REVIEW
    )
    make_shipped_order(make_shop("JD01", "jd"), [("A", 1, "1.00", [(a, 1)])])

    body = api.get("orders?unit_code=TM01").json()

    assert body["next_cursor"] is None
    assert [o["order_no"] for o in body["orders"]] == [shipped.order_no, reviewing.order_no]
    first = body["orders"][0]
    assert {k: first[k] for k in ("unit_code", "status", "on_hold", "carrier", "tracking_no")} == {
        "unit_code": "TM01",
        "status": "shipped",
        "on_hold": False,
        "carrier": "SF",
        "tracking_no": shipped.tracking_no,
    }
    assert first["shipped_at"].endswith("+08:00") and first["created_at"] and first["updated_at"]
    assert first["lines"] == [
        {"product_code": "A", "quantity": "1.0000", "amount": "5.00"},
        {"product_code": "B", "quantity": "1.0000", "amount": "4.99"},
    ]
    assert (
        body["orders"][1]["status"] == "pending_review" and body["orders"][1]["shipped_at"] is None
    )


def test_orders_are_filtered_by_status_and_change_time(
    api, shop, make_product, stock_in, make_shipped_order
):
    a = make_product("A")
    stock_in(a, 10)
    old = make_shipped_order(shop, [("A", 1, "1.00", [(a, 1)])])
    Order.objects.filter(pk=old.pk).update(updated_at=timezone.now() - timedelta(days=2))
    new = make_shipped_order(shop, [("A", 1, "1.00", [(a, 1)])])
    make_shipped_order(shop, [("A", 1, "1.00", [(a, 1)])], status=Order.Status.CANCELLED)

    since = iso(timezone.now() - timedelta(days=1)).replace("+", "%2B")
    body = api.get(f"orders?unit_code=TM01&status=shipped&updated_since={since}").json()

    assert [o["order_no"] for o in body["orders"]] == [new.order_no]


def test_an_offset_sent_with_an_unencoded_plus_is_understood(api, shop):
    response = api.get("orders?unit_code=TM01&updated_since=2026-11-24T09:15:00+08:00")
    assert response.status_code == 200


def test_orders_come_500_a_page_newest_change_last(api, shop):
    base = timezone.now() - timedelta(hours=1)
    Order.objects.bulk_create(
        [
            Order(
                order_no=f"B{i:04d}",
                shop=shop,
                platform_order_no=f"PB{i:04d}",
                receiver_name="李四",
                receiver_phone="1",
                province="x",
                city="y",
                address="z",
            )
            for i in range(501)
        ]
    )
    for i, pk in enumerate(Order.objects.order_by("id").values_list("pk", flat=True)):
        Order.objects.filter(pk=pk).update(updated_at=base + timedelta(seconds=501 - i))

    first = api.get("orders?unit_code=TM01").json()
    second = api.get(f"orders?unit_code=TM01&cursor={first['next_cursor']}").json()

    assert len(first["orders"]) == 500 and len(second["orders"]) == 1
    assert first["orders"][0]["order_no"] == "B0500"
    assert second["orders"][0]["order_no"] == "B0000" and second["next_cursor"] is None
    times = [o["updated_at"] for o in first["orders"]]
    assert times == sorted(times)


@pytest.mark.parametrize(
    "query",
    [
        "orders",
        "orders?unit_code=TM01&status=lost",
        "orders?unit_code=TM01&updated_since=yesterday",
        "orders?unit_code=TM01&updated_since=2026-11-24T09:15:00",
        "orders?unit_code=TM01&cursor=%21%21",
    ],
)
def test_an_orders_query_off_the_contract_gets_400(api, shop, query):
    response = api.get(query)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


def test_an_unknown_unit_code_is_404(api, shop):
    assert api.get("orders?unit_code=NOPE").status_code == 404
