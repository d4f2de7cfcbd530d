"""Real threads, each with its own PostgreSQL connection, racing for the store's last unit
and for one pick-up code."""

import threading
from decimal import Decimal

import pytest
from django.db import connection

from inventory.models import Reservation
from inventory.selectors import ledger_mismatches, reservation_mismatches
from orders.models import Order
from stores import services
from stores.models import PickupAttempt
from stores.services import StoreError

from .conftest import level, put

pytestmark = pytest.mark.django_db(transaction=True)
WORKERS = 16


def race(target):
    start = threading.Barrier(WORKERS)
    results, unexpected = [], []
    lock = threading.Lock()

    def run(n):
        try:
            start.wait()
            outcome = target(n)
        except StoreError as exc:
            outcome = exc.code
        except BaseException as exc:
            with lock:
                unexpected.append(exc)
            return
        finally:
            connection.close()
        with lock:
            results.append(outcome)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert unexpected == []
    return results


def test_sixteen_take_away_orders_for_the_last_unit_exactly_one_succeeds(store, garments):
    last = garments["TX2601-02-M"]
    put(store.location_id, [(last, 1)])

    def order(n):
        return services.place_order(
            store=store,
            lines=[{"code": last.code, "quantity": 1}],
            fulfilment="takeaway",
            actor=f"kiosk:{n}",
        ).pk

    results = race(order)
    made = [r for r in results if isinstance(r, int)]
    assert len(made) == 1
    assert sorted(r for r in results if not isinstance(r, int)) == ["short"] * (WORKERS - 1)
    assert Order.objects.count() == 1
    assert Reservation.objects.get().quantity == 1
    assert level(store.location_id, last) == (1, 1)
    assert reservation_mismatches() == [] and ledger_mismatches() == []


def test_one_pick_up_code_verified_sixteen_times_at_once_hands_over_once(store, garments, guide):
    put(store.location_id, [(garments["TX2601-01-S"], 1)])
    order = services.place_order(
        store=store,
        lines=[{"code": "TX2601-01-S", "quantity": 1}],
        fulfilment="pickup",
        customer={"phone": "13800001234"},
        actor=guide,
    )
    services.take_payment(order=order, store=store, method="cash", amount="99.00", actor=guide)
    order.refresh_from_db()

    def verify(n):
        services.verify_pickup(
            order=order, store=store, code=order.pickup_code, phone_last4="1234", actor=guide
        )
        return "handed_over_now"

    results = race(verify)
    assert results.count("handed_over_now") == 1
    assert results.count("handed_over") == WORKERS - 1
    assert PickupAttempt.objects.filter(order=order, ok=True).count() == 1
    assert level(store.location_id, garments["TX2601-01-S"]) == (Decimal(0), Decimal(0))
    assert reservation_mismatches() == [] and ledger_mismatches() == []
