"""Transfers (调拨): draft → shipped (into in transit) → received (per line, shortfalls with a
reason); every move in the ledger; check_stock covers the stores, samples and in transit."""

import io
import threading
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import translation

from core.clock import frozen
from inventory import services, transfers
from inventory.models import StockLevel, StockMove, Transfer
from inventory.selectors import ledger_mismatches, transit_mismatches

pytestmark = pytest.mark.django_db
T0 = datetime(2026, 11, 24, 2, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def level(code, product):
    lv = StockLevel.objects.filter(warehouse__code=code, product=product).first()
    return lv.on_hand if lv else Decimal(0)


def check_stock():
    out = io.StringIO()
    try:
        call_command("check_stock", stdout=out)
    except SystemExit as exc:
        return exc.code, out.getvalue()
    return 0, out.getvalue()


@pytest.fixture
def goods(make_product, store_locations, admin_user):
    shirt, coat = make_product(code="SHIRT"), make_product(code="COAT")
    services.receive(items=[(shirt.id, 20), (coat.id, 5)], actor=admin_user, document="po:1")
    return shirt, coat


def test_replenishment_with_a_sample_ships_into_transit_and_is_received_with_a_shortfall(
    goods, admin_user
):
    shirt, coat = goods
    with frozen(T0):
        t = transfers.create_transfer(
            from_warehouse="main",
            to_warehouse="MD01",
            lines=[(shirt, 6), (coat, 2), (shirt, 1, True)],
            actor=admin_user,
        )
    assert t.number == "DB20261124" + t.number[-6:] and t.status == "draft"
    assert level("main", shirt) == 20  # a draft moves nothing

    transfers.ship_transfer(transfer=t, actor=admin_user)

    t.refresh_from_db()
    assert t.status == "shipped" and t.shipped_by == admin_user
    assert (level("main", shirt), level("transit", shirt), level("MD01", shirt)) == (13, 7, 0)
    assert level("transit", coat) == 2
    assert check_stock()[0] == 0

    lines = {(ln.product.code, ln.sample): ln for ln in t.lines.all()}
    transfers.receive_transfer(
        transfer=t,
        actor=admin_user,
        received={lines[("COAT", False)].id: (Decimal(1), "one coat missing from the box")},
    )

    t.refresh_from_db()
    assert t.status == "received"
    assert (level("MD01", shirt), level("MD01:sample", shirt), level("MD01", coat)) == (6, 1, 1)
    assert level("transit", shirt) == 0 and level("transit", coat) == 0
    coat_line = t.lines.get(product=coat)
    assert (coat_line.received_quantity, coat_line.shortfall) == (1, 1)
    assert coat_line.shortfall_reason == "one coat missing from the box"
    short = StockMove.objects.get(document=t.document, reason="transfer_short")
    assert (short.warehouse.code, short.quantity) == ("transit", -1)
    assert short.note == "one coat missing from the box"
    moves = StockMove.objects.filter(document=t.document)
    assert sum(m.quantity for m in moves if m.product == coat) == -1  # main −2, store +1
    code, out = check_stock()
    assert code == 0 and "in transit equals the shipped transfers" in out


def test_a_shortfall_without_a_reason_or_more_than_shipped_is_refused(goods, admin_user):
    shirt, _coat = goods
    t = transfers.create_transfer(
        from_warehouse="main", to_warehouse="MD01", lines=[(shirt, 3)], actor=admin_user
    )
    transfers.ship_transfer(transfer=t, actor=admin_user)
    line = t.lines.get()

    with pytest.raises(transfers.TransferError, match="SHIRT: 1.0000 short, give the reason"):
        transfers.receive_transfer(transfer=t, actor=None, received={line.id: (2, "")})
    with pytest.raises(transfers.TransferError, match="received 4.0000, shipped 3.0000"):
        transfers.receive_transfer(transfer=t, actor=None, received={line.id: (4, "")})

    t.refresh_from_db()
    assert t.status == "shipped" and level("transit", shirt) == 3 and level("MD01", shirt) == 0


def test_shipping_takes_only_available_stock_and_changes_nothing_when_short(goods, admin_user):
    shirt, coat = goods
    services.reserve(document="order:9", items=[(coat.id, 4)])  # an online order holds 4 of 5
    t = transfers.create_transfer(
        from_warehouse="main",
        to_warehouse="MD01",
        lines=[(shirt, 2), (coat, 2)],
        actor=admin_user,
    )

    with pytest.raises(transfers.TransferError, match="COAT: 2.0000 to ship, 1.0000 available"):
        transfers.ship_transfer(transfer=t, actor=admin_user)

    t.refresh_from_db()
    assert t.status == "draft" and level("main", shirt) == 20
    assert not StockMove.objects.filter(document=t.document).exists()


def test_unsold_stock_and_faulty_samples_go_back(goods, admin_user):
    shirt, _coat = goods
    t = transfers.create_transfer(
        from_warehouse="main",
        to_warehouse="MD01",
        lines=[(shirt, 4), (shirt, 1, True)],
        actor=admin_user,
    )
    transfers.ship_transfer(transfer=t, actor=admin_user)
    transfers.receive_transfer(transfer=t, actor=admin_user)

    back = transfers.create_transfer(
        from_warehouse="MD01", to_warehouse="main", lines=[(shirt, 3)], actor=admin_user
    )
    faulty = transfers.create_transfer(
        from_warehouse="MD01", to_warehouse="defective", lines=[(shirt, 1, True)], actor=None
    )
    for doc in (back, faulty):
        transfers.ship_transfer(transfer=doc, actor=admin_user)
        transfers.receive_transfer(transfer=doc, actor=admin_user)

    assert (level("main", shirt), level("MD01", shirt), level("MD01:sample", shirt)) == (18, 1, 0)
    assert level("defective", shirt) == 1
    assert ledger_mismatches() == [] and transit_mismatches() == []


def test_routes_other_than_main_and_a_store_are_refused(goods, admin_user):
    shirt, _coat = goods
    for src, dst in [("main", "defective"), ("MD01", "MD01:sample"), ("defective", "MD01")]:
        with pytest.raises(transfers.TransferError, match="a transfer goes from the main"):
            transfers.create_transfer(
                from_warehouse=src, to_warehouse=dst, lines=[(shirt, 1)], actor=admin_user
            )
    with pytest.raises(transfers.TransferError, match="the quantity must be positive"):
        transfers.create_transfer(
            from_warehouse="main", to_warehouse="MD01", lines=[(shirt, 0)], actor=None
        )
    assert not Transfer.objects.exists()


def test_a_transfer_is_shipped_and_received_once(goods, admin_user):
    shirt, _coat = goods
    t = transfers.create_transfer(
        from_warehouse="main", to_warehouse="MD01", lines=[(shirt, 2)], actor=admin_user
    )
    transfers.ship_transfer(transfer=t, actor=admin_user)
    with pytest.raises(transfers.TransferError, match="cannot be shipped"):
        transfers.ship_transfer(transfer=t, actor=admin_user)
    transfers.receive_transfer(transfer=t, actor=admin_user)
    with pytest.raises(transfers.TransferError, match="cannot be received"):
        transfers.receive_transfer(transfer=t, actor=admin_user)
    with pytest.raises(transfers.TransferError, match="cannot be cancelled"):
        transfers.cancel_transfer(transfer=t, actor=admin_user)
    assert level("MD01", shirt) == 2 and level("main", shirt) == 18


def test_check_stock_names_in_transit_stock_no_shipped_transfer_accounts_for(goods, admin_user):
    shirt, _coat = goods
    services.adjust(warehouse="transit", product_id=shirt.id, quantity=2, actor=admin_user)

    code, out = check_stock()

    assert code == 1
    assert "in-transit mismatch: SHIRT: in transit 2.0000 != shipped transfers 0" in out


@pytest.mark.django_db(transaction=True)
def test_sixteen_concurrent_shipments_of_the_last_units_never_take_more_than_available():
    from inventory.models import Product
    from inventory.transfers import ensure_store_locations

    ensure_store_locations(code="MD01", name="体验店")
    ensure_store_locations(code="MD02", name="体验店二")
    hot = [Product.objects.create(code=f"HOT{i}", name=f"热销{i}") for i in range(3)]
    services.receive(items=[(p.id, 5) for p in hot], actor=None, document="po")
    drafts = []
    for n in range(16):
        chosen = hot if n % 2 else list(reversed(hot))  # lines in both orders
        drafts.append(
            transfers.create_transfer(
                from_warehouse="main",
                to_warehouse="MD01" if n % 3 else "MD02",
                lines=[(p, 1) for p in chosen],
                actor=None,
            )
        )
    start = threading.Barrier(16)
    shipped, refused, unexpected = [], [], []

    def worker(t):
        try:
            start.wait()
            transfers.ship_transfer(transfer=t, actor=None)
            shipped.append(t)
        except transfers.TransferError:
            refused.append(t)
        except BaseException as exc:
            unexpected.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(t,)) for t in drafts]
    for th in threads:
        th.start()
    for th in threads:
        th.join()

    assert unexpected == []
    assert (len(shipped), len(refused)) == (5, 11)
    assert all(level("main", p) == 0 and level("transit", p) == 5 for p in hot)
    assert ledger_mismatches() == [] and transit_mismatches() == []
