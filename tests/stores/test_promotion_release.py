"""What an unpaid store order took of the promotions is given back when it expires or is
cancelled: a limited promotion's use (so the next customer gets it), a member's once-only use,
the red packet spent on it (back in the wallet, spendable again). Given back once, even when
the expiry runs twice or two workers cancel at once."""

import datetime as dt
import threading
from decimal import Decimal as D

import pytest
from django.conf import settings
from django.db import connection

from core.clock import frozen
from orders.models import Order
from orders.services.review import cancel_order
from promotions import selectors as wallet
from promotions.models import Promotion, PromotionUsage, RedPacket, WalletEntry
from promotions.services import OrderFacts, issue_red_packet, release_order
from stores import services
from stores.services import StoreError

from .conftest import CASHBACK_200_20, SAVE_320_50, T0

PHONE = "13812345678"
EXPIRED = T0 + dt.timedelta(minutes=settings.STORE_UNPAID_MINUTES + 1)
FOUR = [{"code": "TX2601-02-S", "quantity": 4}]  # 396.00: 满320减50 gives 346.00


def order_four(store, phone="", at=T0) -> Order:
    with frozen(at):
        return services.place_order(
            store=store, lines=FOUR, fulfilment="delivery", member_phone=phone,
            customer={"name": "张三", "phone": "13800001234", "province": "上海市",
                      "city": "上海市", "address": "长寿路9号"},
            actor="kiosk:1",
        )  # fmt: skip


@pytest.mark.django_db
def test_an_expired_order_gives_its_limited_use_back_to_the_next_customer(store, stocked, promote):
    promote("once", **SAVE_320_50, max_uses=1)
    first = order_four(store)
    assert first.total_amount == D("346.00")
    second = order_four(store)
    assert second.total_amount == D("396.00")  # the only use is taken by the unpaid order
    with frozen(EXPIRED):
        assert services.expire_unpaid_orders() == 2
        assert services.expire_unpaid_orders() == 0  # the expiry run again: nothing twice
        third = order_four(store, at=EXPIRED)
    assert third.total_amount == D("346.00")
    p = Promotion.objects.get(code="once")
    assert (p.uses, p.given) == (1, D("50.00"))
    released = PromotionUsage.objects.get(order_ref=first.order_no)
    assert released.released_at == EXPIRED  # kept as the record, counting towards nothing
    assert PromotionUsage.objects.filter(released_at__isnull=True).get().order_ref == (
        third.order_no
    )


@pytest.mark.django_db
def test_a_cancelled_order_gives_a_members_once_only_use_back(store, stocked, promote, enrol):
    promote("first-visit", **SAVE_320_50, max_uses_per_member=1, members_only=True)
    enrol(PHONE)
    first = order_four(store, PHONE)
    with pytest.raises(StoreError) as used:  # once per member: taken by the unpaid order
        order_four(store, PHONE)
    assert used.value.code == "promotion"
    with frozen(T0 + dt.timedelta(minutes=5)):
        cancel_order(order=first, actor="test", note="customer left")
        assert order_four(store, PHONE, at=T0 + dt.timedelta(minutes=5)).total_amount == D("346.00")


@pytest.mark.django_db
def test_a_red_packet_spent_on_an_expired_order_is_back_in_the_wallet(
    store, stocked, promote, enrol, guide
):
    promote("cb", **CASHBACK_200_20)
    member = enrol(PHONE)
    earned = order_four(store, PHONE)
    with frozen(T0 + dt.timedelta(minutes=1)):
        services.take_payment(
            order=earned, store=store, method="cash", amount=earned.total_amount, actor=guide
        )
    handed = T0 + dt.timedelta(days=1)
    with frozen(handed + dt.timedelta(days=7)):
        packet = issue_red_packet(order_ref=earned.order_no, facts=OrderFacts(handed, False))
        spent_on = order_four(store, PHONE, at=handed + dt.timedelta(days=7))
        services.spend_red_packet(order=spent_on, store=store, ref=packet.ref, actor=guide)
    assert wallet.wallet_balance(member) == 0
    with frozen(handed + dt.timedelta(days=8)):
        assert services.expire_unpaid_orders() == 1
    packet.refresh_from_db()
    assert (packet.status, packet.spent_on, packet.balance) == ("issued", "", D("20.00"))
    assert wallet.wallet_balance(member) == D("20.00")
    entry = WalletEntry.objects.get(kind="returned")
    assert (entry.amount, entry.order_ref) == (D("20.00"), spent_on.order_no)
    with frozen(handed + dt.timedelta(days=9)):  # and it can be spent again
        again = order_four(store, PHONE, at=handed + dt.timedelta(days=9))
        services.spend_red_packet(order=again, store=store, ref=packet.ref, actor=guide)
    again.refresh_from_db()
    assert again.quote["red_packet_spent"] == "20.00"
    assert WalletEntry.objects.filter(kind="spent").count() == 2


@pytest.mark.django_db
def test_a_paid_pick_up_never_collected_voids_its_cash_back(store, stocked, promote, enrol, guide):
    promote("cb", **CASHBACK_200_20)
    enrol(PHONE)
    with frozen(T0):
        order = services.place_order(
            store=store,
            lines=[{"code": "TX2601-01-S", "quantity": 2}, {"code": "TX2601-01-M", "quantity": 1}],
            fulfilment="pickup",
            member_phone=PHONE,
            actor=guide,
        )
        services.take_payment(order=order, store=store, method="cash", amount="297", actor=guide)
    assert RedPacket.objects.get(order_ref=order.order_no).status == "pending"
    days = settings.STORE_PICKUP_DAYS + settings.STORE_PICKUP_GRACE_DAYS
    with frozen(T0 + dt.timedelta(days=settings.STORE_PICKUP_DAYS, hours=1)):
        services.uncollected_pickups()
    with frozen(T0 + dt.timedelta(days=days, hours=2)):
        assert services.uncollected_pickups() == (0, 1)
    packet = RedPacket.objects.get(order_ref=order.order_no)
    assert (packet.status, packet.balance) == ("void", D("0.00"))
    assert WalletEntry.objects.get(kind="voided").amount == D("-20.00")


# --- concurrency: real threads, one connection each -------------------------------------------

WORKERS = 16


def race(target):
    start = threading.Barrier(WORKERS)
    results, unexpected = [], []
    lock = threading.Lock()

    def run(n):
        try:
            start.wait()
            outcome = target(n)
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
        t.join(120)
    assert unexpected == []
    return results


@pytest.mark.django_db(transaction=True)
def test_the_expiry_run_sixteen_times_at_once_gives_each_use_back_once(store, stocked, promote):
    promote("five", **SAVE_320_50, max_uses=5)
    unpaid = [order_four(store) for _ in range(3)]
    with frozen(T0 + dt.timedelta(minutes=5)):
        kept = order_four(store, at=T0 + dt.timedelta(minutes=5))  # due later: not expired
    assert Promotion.objects.get(code="five").uses == 4
    with frozen(EXPIRED):
        expired = race(lambda n: services.expire_unpaid_orders())
    assert sum(expired) == 3
    p = Promotion.objects.get(code="five")
    assert (p.uses, p.given) == (1, D("50.00"))  # only the order still due holds a use
    assert PromotionUsage.objects.filter(released_at__isnull=True).get().order_ref == (
        kept.order_no
    )
    assert all(Order.objects.get(pk=o.pk).status == "cancelled" for o in unpaid)


@pytest.mark.django_db(transaction=True)
def test_releasing_one_order_sixteen_times_at_once_gives_back_once(store, stocked, promote):
    promote("five", **SAVE_320_50, max_uses=5)
    first, second = order_four(store), order_four(store)
    with frozen(EXPIRED):
        released = race(lambda n: release_order(order_ref=first.order_no, actor="test").uses)
    assert sorted(released) == [0] * (WORKERS - 1) + [1]
    p = Promotion.objects.get(code="five")
    assert (p.uses, p.given) == (1, D("50.00"))
    assert not PromotionUsage.objects.get(order_ref=second.order_no).released_at


@pytest.mark.django_db(transaction=True)
def test_one_packet_spent_on_sixteen_orders_at_once_is_spent_once(
    store, stocked, promote, enrol, guide
):
    from inventory.models import Warehouse

    from .conftest import put

    put(Warehouse.main().pk, [(stocked["TX2601-02-S"], 100)])
    promote("cb", **CASHBACK_200_20)
    promote("hundred", **SAVE_320_50, max_uses=100)  # limited: each repricing locks it
    enrol(PHONE)
    earned = order_four(store, PHONE)
    services.take_payment(
        order=earned, store=store, method="cash", amount=earned.total_amount, actor=guide
    )
    handed = T0 + dt.timedelta(hours=1)
    later = handed + dt.timedelta(days=7)
    with frozen(later):
        packet = issue_red_packet(order_ref=earned.order_no, facts=OrderFacts(handed, False))
        orders = [order_four(store, PHONE, at=later) for _ in range(WORKERS)]

        def spend(n):
            try:
                services.spend_red_packet(order=orders[n], store=store, ref=packet.ref, actor=guide)
            except StoreError as exc:
                return exc.code
            return "spent"

        outcomes = race(spend)
    assert outcomes.count("spent") == 1
    assert set(outcomes) - {"spent"} <= {"promotion", "red_packet"}
    totals = sorted(Order.objects.get(pk=o.pk).total_amount for o in orders)
    assert totals == [D("326.00")] + [D("346.00")] * (WORKERS - 1)
    assert WalletEntry.objects.filter(kind="spent").count() == 1
    p = Promotion.objects.get(code="hundred")
    assert (
        p.uses
        == WORKERS + 1
        == PromotionUsage.objects.filter(promotion=p, released_at__isnull=True).count()
    )
