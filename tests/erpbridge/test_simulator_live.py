"""Through a real socket: the ERP simulator talks to a live tongcang with `requests`."""

from decimal import Decimal
from io import StringIO

import pytest
import requests
from django.core.management import call_command

from erpbridge import auth
from erpbridge.models import MessageLog, RetailRecord

from .conftest import on_hand

# Whatever the hour: run at 03:30 (the nightly full snapshot is due), 23:59:59 at a month's end
# and 10:00 Asia/Shanghai, with core.clock frozen (tests/conftest.py FIXED_TIMES).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("fixed_time")]


def test_a_signed_request_over_a_real_socket_is_answered_and_a_bad_one_refused(
    live_server, erp_client, make_product
):
    make_product("A")
    path = "/api/erp/v1/stock?codes=A"
    headers = auth.signed_headers(
        key_id=erp_client.key_id, secret=erp_client.secret, method="GET", path=path
    )
    good = requests.get(live_server.url + path, headers=headers, timeout=10)
    assert good.status_code == 200 and good.json()["items"][0]["product_code"] == "A"
    replay = requests.get(live_server.url + path, headers=headers, timeout=10)
    assert replay.status_code == 401 and replay.json()["error"]["code"] == "unauthorized"


def test_the_simulator_extracts_acknowledges_and_sends_stock_over_http(
    live_server, erp_client, shop, make_product, stock_in, make_shipped_order
):
    a, b = make_product("A"), make_product("B")
    stock_in(a, 10)
    stock_in(b, 5)
    orders = [make_shipped_order(shop, [("A", 2, "20.00", [(a, 1)])]) for _ in range(3)]
    out = StringIO()

    call_command(
        "erp_simulator",
        "--once",
        "--full",
        "--restock=0",
        f"--url={live_server.url}",
        f"--key={erp_client.key_id}",
        f"--secret={erp_client.secret}",
        "--unit-codes=TM01",
        stdout=out,
    )

    text = out.getvalue()
    assert "TM01 orders changed since the start: 3 shipped" in text
    assert "TM01 sales: batch" in text and "3 records extracted" in text
    assert "stock full" in text and "erp_simulator: 1 cycle(s) done" in text
    assert RetailRecord.objects.filter(order__in=orders, acked_at__isnull=False).count() == 3
    # The ERP's book now matches tongcang: the snapshot changes nothing.
    assert (on_hand(a), on_hand(b)) == (Decimal("4"), Decimal("5"))
    kinds = set(MessageLog.objects.values_list("kind", flat=True))
    assert {"retail_batch", "retail_ack", "stock_full", "stock_query"} <= kinds


def test_the_simulator_books_what_it_extracts_and_sends_only_what_changed(
    live_server, erp_client, shop, make_product, stock_in, make_shipped_order
):
    from erpbridge.models import ErpStock
    from erpbridge.simulator import ErpSimulator

    a, b = make_product("A"), make_product("B")
    stock_in(a, 10)
    stock_in(b, 5)
    lines = []
    sim = ErpSimulator(
        url=live_server.url,
        key_id=erp_client.key_id,
        secret=erp_client.secret,
        unit_codes=["TM01"],
        out=lines.append,
        restock=0,
    )
    sim.cycle(full=True)
    make_shipped_order(shop, [("A", 3, "30.00", [(a, 1)])])

    sim.cycle()

    assert any("stock incremental" in line and "1 sent" in line for line in lines)
    assert sim.book["A"] == Decimal("7") and on_hand(a) == Decimal("7")
    assert ErpStock.objects.get(product=a).quantity == Decimal("7")
    assert on_hand(b) == Decimal("5")


def test_the_simulator_uses_its_own_client_when_given_no_key(
    live_server, shop, monkeypatch, fixed_time
):
    from erpbridge.models import ErpClient

    monkeypatch.delenv("TONGCANG_ERP_KEY", raising=False)
    monkeypatch.delenv("TONGCANG_ERP_SECRET", raising=False)
    for _ in range(2):
        out = StringIO()
        call_command(
            "erp_simulator", "--once", f"--url={live_server.url}", "--unit-codes=TM01", stdout=out
        )
        assert "1 cycle(s) done" in out.getvalue()
    client = ErpClient.objects.get(name="erp-simulator")
    # Each run: orders, two retail batches, the book; between 03:00 and 04:00 also the nightly
    # full snapshot.
    nightly = fixed_time.hour == 3
    assert MessageLog.objects.filter(client=client, status_code__lt=300).count() == (
        10 if nightly else 8
    )
    fulls = MessageLog.objects.filter(client=client, kind="stock_full").count()
    assert fulls == (2 if nightly else 0)
