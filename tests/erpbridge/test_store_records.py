"""The experience store seen by the ERP: received transfers once (kind ``transfers``), the
store's locations in stock out, the main warehouse's reconciliation with transfers in flight,
store sales and returns records."""

from decimal import Decimal

import pytest
from django.utils import timezone

from channels.models import Platform
from inventory import services as stock
from inventory import transfers
from inventory.selectors import ledger_mismatches, transit_mismatches
from inventory.transfers import ensure_store_locations

from .conftest import iso, on_hand

pytestmark = pytest.mark.django_db


def message(message_id, items, as_of=None):
    return {
        "message_id": message_id,
        "as_of": iso(as_of or timezone.now()),
        "items": [{"product_code": c, "quantity": q} for c, q in items],
    }


@pytest.fixture
def store(db):
    return ensure_store_locations(code="MD01", name="体验店")


@pytest.fixture
def store_shop(make_shop, store):
    platform, _c = Platform.objects.get_or_create(code="store", defaults={"name": "体验店"})
    return make_shop("MD01", platform.code)


def level(code, product):
    from inventory.models import StockLevel

    lv = StockLevel.objects.filter(warehouse__code=code, product=product).first()
    return lv.on_hand if lv else Decimal(0)


def shipped_transfer(lines, src="main", dst="MD01"):
    t = transfers.create_transfer(from_warehouse=src, to_warehouse=dst, lines=lines, actor=None)
    return transfers.ship_transfer(transfer=t, actor=None)


def test_a_received_transfer_reaches_the_erp_once_in_the_contracts_shape(
    api, make_product, stock_in, store_shop, shop
):
    a, b = make_product("A"), make_product("B")
    stock_in(a, 10)
    stock_in(b, 10)
    t = shipped_transfer([(a, 4), (b, 2), (a, 1, True)])
    in_flight = shipped_transfer([(b, 1)])  # shipped, not received: not a record yet
    line_b = t.lines.get(product=b)
    transfers.receive_transfer(
        transfer=t, actor=None, received={line_b.id: (Decimal(1), "damaged in transit")}
    )
    t.refresh_from_db()

    first = api.post("retail-batches", {"unit_code": "MD01", "kind": "transfers"})

    assert first.status_code == 201
    body = first.json()
    assert body["kind"] == "transfers" and body["unit_code"] == "MD01"
    assert body["records"] == [
        {
            "transfer_no": t.number,
            "from": "main",
            "to": "MD01",
            "shipped_at": iso(t.shipped_at),
            "received_at": iso(t.received_at),
            "lines": [
                {"product_code": "A", "shipped": "4.0000", "received": "4.0000"},
                {"product_code": "B", "shipped": "2.0000", "received": "1.0000"},
                {"product_code": "A", "shipped": "1.0000", "received": "1.0000"},
            ],
        }
    ]
    assert api.post("retail-batches", {"unit_code": "MD01", "kind": "transfers"}).json() == body
    assert api.post(f"retail-batches/{body['batch_id']}/ack").status_code == 200
    transfers.receive_transfer(transfer=in_flight, actor=None)
    again = api.post("retail-batches", {"unit_code": "MD01", "kind": "transfers"}).json()
    assert [r["transfer_no"] for r in again["records"]] == [in_flight.number]
    # another unit code has no transfers
    other = api.post("retail-batches", {"unit_code": "TM01", "kind": "transfers"}).json()
    assert other["records"] == []


def test_a_transfer_back_names_the_store_as_from(api, make_product, stock_in, store_shop):
    a = make_product("A")
    stock_in(a, 5)
    transfers.receive_transfer(transfer=shipped_transfer([(a, 3), (a, 1, True)]), actor=None)
    back = shipped_transfer([(a, 1, True)], src="MD01", dst="defective")
    transfers.receive_transfer(transfer=back, actor=None)
    records = api.post("retail-batches", {"unit_code": "MD01", "kind": "transfers"}).json()[
        "records"
    ]
    assert [(r["from"], r["to"]) for r in records] == [("main", "MD01"), ("MD01", "defective")]


def test_the_main_warehouse_reconciliation_counts_transfers_in_flight_and_not_extracted(
    api, make_product, stock_in, store_shop
):
    a = make_product("A")
    stock_in(a, 20)
    t = shipped_transfer([(a, 6)])
    assert on_hand(a) == 14

    # The ERP still counts 20 in the main warehouse: it knows nothing of the transfer.
    api.post("stock/incremental", message("M1", [("A", "20")]))
    assert on_hand(a) == 14 and level("transit", a) == 6

    # Received with a shortfall, still not extracted: the ERP's 20 is still main's 14.
    transfers.receive_transfer(
        transfer=t, actor=None, received={t.lines.get().id: (Decimal(5), "one lost")}
    )
    api.post("stock/incremental", message("M2", [("A", "20")]))
    assert on_hand(a) == 14

    # Extracted: the ERP's quantity after the extraction already lacks the 6.
    batch = api.post("retail-batches", {"unit_code": "MD01", "kind": "transfers"}).json()
    before_ack = timezone.now()
    api.post(f"retail-batches/{batch['batch_id']}/ack")
    api.post("stock/incremental", message("M3", [("A", "14")]))
    assert on_hand(a) == 14
    # …but a quantity as of before the acknowledgement did not know it yet.
    api.post("stock/incremental", message("M3b", [("A", "20")], as_of=before_ack))
    assert on_hand(a) == 14

    # Unsold stock back into the main warehouse, not extracted: added to the ERP's quantity.
    back = shipped_transfer([(a, 2)], src="MD01", dst="main")
    api.post("stock/incremental", message("M4", [("A", "14")]))
    assert on_hand(a) == 14  # in flight back: main's stock has not grown yet
    transfers.receive_transfer(transfer=back, actor=None)
    assert on_hand(a) == 16
    api.post("stock/incremental", message("M5", [("A", "14")]))
    assert on_hand(a) == 16
    assert ledger_mismatches() == [] and transit_mismatches() == []


def test_stock_out_lists_the_stores_locations_by_code(api, make_product, stock_in, store):
    a, _b = make_product("A"), make_product("B")
    stock_in(a, 5)
    stock_in(a, 3, warehouse=store[0])
    stock_in(a, 1, warehouse=store[1])
    stock.reserve(document="order:1", items=[(a.id, 1)], warehouse="MD01")

    items = api.get("stock?codes=A,B").json()["items"]

    rows = {(i["product_code"], i["warehouse"]): i for i in items}
    assert [w for c, w in rows if c == "A"] == ["main", "defective", "MD01", "MD01:sample"]
    assert [w for c, w in rows if c == "B"] == ["main", "defective"]
    assert (rows[("A", "MD01")]["on_hand"], rows[("A", "MD01")]["available"]) == (
        "3.0000",
        "2.0000",
    )
    assert rows[("A", "MD01:sample")]["on_hand"] == "1.0000"
    assert rows[("A", "MD01")]["erp_quantity"] is None
    assert all(i["warehouse"] != "transit" for i in items)


def test_a_store_sales_record_carries_fulfilment_guide_and_payments(
    api, make_product, stock_in, store_shop, shop, make_shipped_order
):
    a = make_product("A")
    stock_in(a, 10)
    make_shipped_order(store_shop, [("A", 1, "99.00", [(a, 1)])])
    make_shipped_order(shop, [("A", 1, "99.00", [(a, 1)])])

    (store_record,) = api.post("retail-batches", {"unit_code": "MD01", "kind": "sales"}).json()[
        "records"
    ]
    (online_record,) = api.post("retail-batches", {"unit_code": "TM01", "kind": "sales"}).json()[
        "records"
    ]

    # TODO(h13): with Order.fulfilment, guide and Payment on main, assert their values here.
    assert {"fulfilment", "guide", "payments"} <= store_record.keys()
    assert isinstance(store_record["payments"], list)
    assert not {"fulfilment", "guide", "payments"} & online_record.keys()


def test_a_return_received_into_a_store_says_store(
    api, make_product, stock_in, store_shop, store, make_shipped_order, make_received_return
):
    a = make_product("A")
    stock_in(a, 10)
    order = make_shipped_order(store_shop, [("A", 1, "99.00", [(a, 1)])])
    make_received_return(order, [(order.lines.get(), 1, "99.00", [(a, 1, store[0])])])

    (record,) = api.post("retail-batches", {"unit_code": "MD01", "kind": "returns"}).json()[
        "records"
    ]

    assert record["lines"][0]["warehouse"] == "store"
    assert level("MD01", a) == 1


def test_a_take_away_sold_from_the_stores_stock_does_not_touch_the_main_warehouse(
    api, make_product, stock_in, store_shop, make_shipped_order
):
    a = make_product("A")
    stock_in(a, 10)
    t = shipped_transfer([(a, 3)])
    transfers.receive_transfer(transfer=t, actor=None)
    batch = api.post("retail-batches", {"unit_code": "MD01", "kind": "transfers"}).json()
    api.post(f"retail-batches/{batch['batch_id']}/ack")
    order = make_shipped_order(store_shop, [("A", 1, "99.00", [(a, 1)])], ship_stock=False)
    stock.reserve(document=order.document, items=[(a.id, Decimal(1))], warehouse="MD01")
    stock.ship(document=order.document, actor=None, warehouse="MD01")
    assert (on_hand(a), level("MD01", a)) == (7, 2)

    # The ERP's main warehouse holds 7 after the extracted transfer; the store's sale is the
    # store's, not extracted yet: main stays 7.
    api.post("stock/incremental", message("M1", [("A", "7")]))

    assert on_hand(a) == 7
    assert ledger_mismatches() == []


def test_a_key_limited_to_other_unit_codes_does_not_see_a_stores_locations(
    client, make_product, stock_in, store
):
    from erpbridge import services

    from .conftest import ErpApi

    a = make_product("A")
    stock_in(a, 2, warehouse=store[0])
    limited, secret = services.create_client(name="tm-only", unit_codes=["TM01"])
    api = ErpApi(client, limited.key_id, secret)

    items = api.get("stock?codes=A").json()["items"]

    assert [i["warehouse"] for i in items] == ["main", "defective"]
