import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import connection

from inventory.models import Reservation
from inventory.selectors import reservation_mismatches
from orders.intake import intake_orders
from orders.models import Order

from .conftest import T0, norder

pytestmark = pytest.mark.django_db(transaction=True)


def run_together(*jobs):
    """Run the jobs at once, each in its own thread with its own database connection."""
    barrier = threading.Barrier(len(jobs))
    errors = []

    def wrap(job):
        try:
            barrier.wait()
            job()
        except Exception as exc:  # reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=wrap, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []


def test_two_concurrent_intakes_of_the_same_order_create_it_once(shop, tea, map_sku, stock_of):
    map_sku(shop, "TEA", (tea, 1))
    stock_of(tea, 100)
    batch = [norder(f"A{i}", ("TEA", 1), modified=T0) for i in range(30)]
    newer = [norder(f"A{i}", ("TEA", 2), modified=T0 + timedelta(minutes=1)) for i in range(30)]

    run_together(
        lambda: intake_orders(shop=shop, orders=batch),
        lambda: intake_orders(shop=shop, orders=list(reversed(newer))),
    )

    assert Order.objects.count() == 30
    for order in Order.objects.all():
        quantities = [r.quantity for r in Reservation.objects.filter(document=order.document)]
        assert quantities == [Decimal("2")]
    assert reservation_mismatches() == []


def test_concurrent_intakes_never_reserve_more_than_on_hand(
    shop, make_shop, tea, cup, map_sku, stock_of, level
):
    other = make_shop("JD01", "jd")
    for s in (shop, other):
        map_sku(s, "TEA", (tea, 1))
        map_sku(s, "SET", (cup, 1), (tea, 1))
    stock_of(tea, 25)
    stock_of(cup, 25)
    first = [norder(f"T{i}", ("TEA", 1), ("SET", 1), minutes=i) for i in range(20)]
    second = [norder(f"J{i}", ("SET", 1), ("TEA", 1), minutes=i) for i in range(20)]

    run_together(
        lambda: intake_orders(shop=shop, orders=first),
        lambda: intake_orders(shop=other, orders=second),
    )

    on_hand, reserved = level(tea)
    assert reserved <= on_hand and reserved == Decimal("24")
    assert Order.objects.filter(allocated_at__isnull=False).count() == 12
    assert Order.objects.filter(on_hold=True).count() == 28
    assert reservation_mismatches() == []


def test_intakes_locking_stock_in_opposite_orders_both_succeed(shop, tea, cup, map_sku, stock_of):
    """A deadlock between two intakes (PostgreSQL aborts one) is retried: both complete."""
    map_sku(shop, "TEA", (tea, 1))
    map_sku(shop, "CUP", (cup, 1))
    stock_of(tea, 100)
    stock_of(cup, 100)
    intake_orders(
        shop=shop,
        orders=[norder("X", ("TEA", 1), modified=T0), norder("Y", ("CUP", 1), modified=T0)],
    )
    later = T0 + timedelta(minutes=1)
    first = [norder("X", ("TEA", 2), modified=later)] + [
        norder(f"N{i}", ("CUP", 1), ("TEA", 1)) for i in range(10)
    ]
    second = [norder("Y", ("CUP", 2), modified=later)] + [
        norder(f"M{i}", ("TEA", 1), ("CUP", 1)) for i in range(10)
    ]

    run_together(
        lambda: intake_orders(shop=shop, orders=first),
        lambda: intake_orders(shop=shop, orders=second),
    )

    assert Order.objects.count() == 22
    assert Order.objects.filter(allocated_at__isnull=False).count() == 22
    assert reservation_mismatches() == []
