"""Retail records out: each shipped order and received return reaches the ERP exactly once."""

from decimal import Decimal

import pytest
from django.utils import timezone

from core.money import allocate
from erpbridge.models import MessageLog, RetailBatch, RetailRecord

pytestmark = pytest.mark.django_db


def take(api, kind="sales", unit_code="TM01", **extra):
    return api.post("retail-batches", {"unit_code": unit_code, "kind": kind, **extra})


def test_shipped_orders_come_out_as_sales_records_with_bundles_split_exactly(
    api, shop, make_product, stock_in, make_shipped_order
):
    a = make_product("A", list_price=Decimal("10.00"))
    b = make_product("B", list_price=Decimal("20.00"))
    c = make_product("C")
    for p in (a, b, c):
        stock_in(p, 100)
    order = make_shipped_order(
        shop,
        [
            ("GIFT-BOX", 1, "33.33", [(a, 1), (b, 1)]),  # weights 10 : 20
            ("HALF-C", 3, "9.00", [(c, Decimal("0.5"))]),
        ],
    )
    make_shipped_order(shop, [("HALF-C", 1, "3.00", [(c, Decimal("0.5"))])], status="verified")

    response = take(api)

    assert response.status_code == 201
    body = response.json()
    assert (body["unit_code"], body["kind"]) == ("TM01", "sales")
    (record,) = body["records"]
    assert record["order_no"] == order.order_no
    assert record["platform_order_no"] == order.platform_order_no
    assert record["shipped_at"].endswith("+08:00")
    no = order.platform_order_no
    assert record["lines"] == [
        {**line, "platform_order_no": no}
        for line in (
            {"product_code": "A", "quantity": "1.0000", "unit_price": "11.11", "amount": "11.11"},
            {"product_code": "B", "quantity": "1.0000", "unit_price": "22.22", "amount": "22.22"},
            {"product_code": "C", "quantity": "1.5000", "unit_price": "6.00", "amount": "9.00"},
        )
    ]
    assert record["total"] == "42.33"
    assert (record["postage"], record["platform_order_nos"]) == ("0.00", [no])


def test_component_amounts_add_up_to_the_line_amount_in_every_case():
    cases = [
        ("100.00", ["1", "1", "1"]),
        ("0.01", ["1", "1", "1"]),
        ("99.99", ["3.3", "0.7", "12"]),
        ("-10.00", ["1", "2"]),
        ("5.00", ["0", "0"]),
    ]
    for amount, weights in cases:
        parts = allocate(Decimal(amount), [Decimal(w) for w in weights])
        assert sum(parts) == Decimal(amount), (amount, weights, parts)
        assert all(p == p.quantize(Decimal("0.01")) for p in parts)
    assert allocate(Decimal("100.00"), [Decimal(1)] * 3) == [
        Decimal("33.34"),
        Decimal("33.33"),
        Decimal("33.33"),
    ]


def test_components_without_a_list_price_are_weighted_by_quantity(
    api, shop, make_product, stock_in, make_shipped_order
):
    a = make_product("A", list_price=Decimal("10.00"))
    b = make_product("B")
    stock_in(a, 10)
    stock_in(b, 10)
    make_shipped_order(shop, [("PAIR", 1, "10.00", [(a, 1), (b, 3)])])
    (record,) = take(api).json()["records"]
    assert [ln["amount"] for ln in record["lines"]] == ["2.50", "7.50"]


def test_an_unacknowledged_batch_is_answered_again_so_a_lost_answer_loses_nothing(
    api, shop, make_product, stock_in, make_shipped_order
):
    a = make_product("A")
    stock_in(a, 10)
    make_shipped_order(shop, [("A", 1, "1.00", [(a, 1)])])
    first = take(api)
    make_shipped_order(shop, [("A", 1, "1.00", [(a, 1)])])

    again = take(api)

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert RetailBatch.objects.count() == 1


def test_acknowledged_records_are_never_sent_again(
    api, shop, make_product, stock_in, make_shipped_order
):
    a = make_product("A")
    stock_in(a, 10)
    first_order = make_shipped_order(shop, [("A", 1, "1.00", [(a, 1)])])
    batch = take(api).json()
    ack = api.post(f"retail-batches/{batch['batch_id']}/ack")
    assert ack.status_code == 200
    assert ack.json()["records"] == 1
    assert api.post(f"retail-batches/{batch['batch_id']}/ack").json() == ack.json()

    later_order = make_shipped_order(shop, [("A", 1, "1.00", [(a, 1)])])
    second = take(api).json()

    assert [r["order_no"] for r in second["records"]] == [later_order.order_no]
    assert second["batch_id"] != batch["batch_id"]
    assert RetailRecord.objects.get(order=first_order).acked_at is not None


def test_nothing_new_is_an_empty_batch_that_does_not_block_the_next_one(
    api, shop, make_product, stock_in, make_shipped_order
):
    a = make_product("A")
    stock_in(a, 10)
    empty = take(api)
    assert empty.status_code == 201 and empty.json()["records"] == []
    make_shipped_order(shop, [("A", 1, "1.00", [(a, 1)])])
    assert len(take(api).json()["records"]) == 1
    assert api.post(f"retail-batches/{empty.json()['batch_id']}/ack").status_code == 200


def test_the_limit_cuts_batches_oldest_shipment_first(
    api, shop, make_product, stock_in, make_shipped_order
):
    a = make_product("A")
    stock_in(a, 10)
    now = timezone.now()
    orders = [
        make_shipped_order(
            shop, [("A", 1, "1.00", [(a, 1)])], shipped_at=now - timezone.timedelta(minutes=m)
        )
        for m in (1, 3, 2)
    ]
    batch = take(api, limit=2).json()
    assert [r["order_no"] for r in batch["records"]] == [orders[1].order_no, orders[2].order_no]


def test_received_returns_come_out_as_returns_records(
    api, shop, make_product, stock_in, make_shipped_order, make_received_return
):
    a = make_product("A", list_price=Decimal("30.00"))
    b = make_product("B", list_price=Decimal("10.00"))
    stock_in(a, 10)
    stock_in(b, 10)
    order = make_shipped_order(shop, [("SET", 2, "80.00", [(a, 1), (b, 1)])])
    line = order.lines.get()
    ret = make_received_return(
        order,
        [(line, 1, "40.00", [(a, 1, "main"), (b, 1, "defective")])],
        refund="45.00",
    )

    response = take(api, kind="returns")

    (record,) = response.json()["records"]
    assert record == {
        "return_no": ret.return_no,
        "order_no": order.order_no,
        "platform_order_no": order.platform_order_no,
        "received_at": record["received_at"],
        "lines": [
            {"product_code": "A", "quantity": "1.0000", "warehouse": "main", "amount": "30.00"},
            {
                "product_code": "B",
                "quantity": "1.0000",
                "warehouse": "defective",
                "amount": "10.00",
            },
        ],
        "refund_total": "45.00",
    }
    assert record["received_at"].endswith("+08:00")
    # Sales and returns are separate batches of the same unit code.
    assert take(api, kind="sales").status_code == 201


def test_returns_not_yet_received_are_not_handed_over(
    api, shop, make_product, stock_in, make_shipped_order, make_received_return
):
    from returns.models import ReturnOrder

    a = make_product("A")
    stock_in(a, 10)
    order = make_shipped_order(shop, [("A", 1, "1.00", [(a, 1)])])
    ret = make_received_return(order, [], status=ReturnOrder.Status.APPROVED)
    ReturnOrder.objects.filter(pk=ret.pk).update(received_at=None)
    assert take(api, kind="returns").json()["records"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "sales"},
        {"unit_code": "TM01", "kind": "refunds"},
        {"unit_code": "TM01", "kind": "sales", "limit": 0},
        {"unit_code": "TM01", "kind": "sales", "limit": 501},
        {"unit_code": "TM01", "kind": "sales", "limit": "10"},
        ["TM01"],
    ],
)
def test_a_batch_request_off_the_contract_gets_400(api, shop, body):
    response = api.post("retail-batches", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"
    assert not RetailBatch.objects.exists()


def test_an_unknown_unit_code_or_batch_is_404(api, shop):
    assert take(api, unit_code="XX99").status_code == 404
    response = api.post("retail-batches/rb_nope/ack")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_every_batch_out_is_in_the_message_log(api, shop):
    batch = take(api).json()
    api.post(f"retail-batches/{batch['batch_id']}/ack")
    logs = list(MessageLog.objects.order_by("id"))
    assert [(lg.kind, lg.direction, lg.batch_id) for lg in logs] == [
        ("retail_batch", "out", batch["batch_id"]),
        ("retail_ack", "in", batch["batch_id"]),
    ]
    assert batch["batch_id"] in logs[0].response_body
