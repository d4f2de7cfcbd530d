"""Concurrent reservations on the same hot products: never more than on hand, no deadlock.

Real concurrency: every worker is a thread with its own PostgreSQL connection, reserving
2–4 of the same hot products, listed in a different (random) order each time.
"""

import random
import threading
from decimal import Decimal

import pytest
from django.db import connection

from inventory import services
from inventory.models import Product, Reservation, StockLevel, Warehouse
from inventory.selectors import reservation_mismatches

WORKERS = 10
ORDERS_PER_WORKER = 40
HOT = 6
ON_HAND = Decimal("60")


@pytest.mark.django_db(transaction=True)
def test_many_workers_never_reserve_more_than_on_hand_and_see_no_deadlock():
    main = Warehouse.main()
    products = [Product.objects.create(code=f"HOT-{i}", name=f"热销商品{i}") for i in range(HOT)]
    for p in products:
        services.adjust(warehouse_id=main.id, product_id=p.id, quantity=ON_HAND, actor=None)
    ids = [p.id for p in products]

    start = threading.Barrier(WORKERS)
    granted: list[dict[int, Decimal]] = []
    refused = []
    unexpected: list[BaseException] = []
    lock = threading.Lock()

    def worker(n):
        rng = random.Random(n)
        try:
            start.wait()
            for k in range(ORDERS_PER_WORKER):
                chosen = rng.sample(ids, rng.randint(2, 4))
                rng.shuffle(chosen)
                items = [(pid, Decimal(rng.randint(1, 3))) for pid in chosen]
                try:
                    services.reserve(document=f"order:{n}-{k}", items=items)
                except services.InsufficientStock:
                    with lock:
                        refused.append(items)
                    continue
                with lock:
                    granted.append(dict(items))
        except BaseException as exc:  # any other error reaching the caller fails the test
            with lock:
                unexpected.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert unexpected == []
    levels = {lv.product_id: lv for lv in StockLevel.objects.filter(warehouse=main)}
    for pid in ids:
        assert levels[pid].reserved <= levels[pid].on_hand == ON_HAND
        assert levels[pid].reserved == sum(g.get(pid, 0) for g in granted)
    # Demand (about 2,400) far exceeds stock (360): the test drives the products to the limit.
    assert refused, "the test must drive the products to their limit"
    assert sum(lv.reserved for lv in levels.values()) >= ON_HAND * HOT / 2
    assert Reservation.objects.values("document").distinct().count() == len(granted)
    assert reservation_mismatches() == []


@pytest.mark.django_db(transaction=True)
def test_a_deadlock_reported_by_postgres_is_retried_inside_reserve(monkeypatch):
    from django.db import OperationalError

    main = Warehouse.main()
    product = Product.objects.create(code="RETRY-1", name="重试商品")
    services.adjust(warehouse_id=main.id, product_id=product.id, quantity=5, actor=None)
    calls = {"n": 0}
    real = services._reserve_locked

    class Deadlock(Exception):
        sqlstate = "40P01"

    def flaky(*args):
        calls["n"] += 1
        if calls["n"] == 1:
            raise OperationalError("deadlock detected") from Deadlock()
        return real(*args)

    monkeypatch.setattr(services, "_reserve_locked", flaky)

    services.reserve(document="order:retry", items=[(product.id, Decimal("2"))])

    assert calls["n"] == 2
    assert StockLevel.objects.get(product=product, warehouse=main).reserved == Decimal("2")


@pytest.mark.django_db(transaction=True)
def test_reserving_releasing_shipping_and_receiving_at_once_keep_levels_true_to_their_ledger():
    from inventory.selectors import ledger_mismatches

    main = Warehouse.main()
    products = [Product.objects.create(code=f"MIX-{i}", name=f"混合商品{i}") for i in range(5)]
    ids = [p.id for p in products]
    for pid in ids:
        services.adjust(warehouse_id=main.id, product_id=pid, quantity=Decimal(30), actor=None)
    start = threading.Barrier(8)
    unexpected: list[BaseException] = []

    def worker(n):
        rng = random.Random(100 + n)
        held: list[str] = []
        try:
            start.wait()
            for k in range(30):
                action = rng.random()
                if action < 0.5 or not held:
                    document = f"order:mix-{n}-{k}"
                    items = [(pid, Decimal(rng.randint(1, 2))) for pid in rng.sample(ids, 2)]
                    try:
                        services.reserve(document=document, items=items)
                        held.append(document)
                    except services.InsufficientStock:
                        pass
                elif action < 0.7:
                    services.release(document=held.pop(rng.randrange(len(held))))
                elif action < 0.9:
                    services.ship(document=held.pop(rng.randrange(len(held))), actor=None)
                else:
                    services.receive(
                        warehouse_id=main.id,
                        items=[(rng.choice(ids), Decimal(3))],
                        actor=None,
                        document=f"po:{n}-{k}",
                    )
        except BaseException as exc:
            unexpected.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()

    assert unexpected == []
    assert ledger_mismatches() == [] and reservation_mismatches() == []
    for level in StockLevel.objects.filter(warehouse=main, product_id__in=ids):
        assert 0 <= level.reserved <= level.on_hand
