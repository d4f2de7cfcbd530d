"""16 devices checking out at once: real threads, real connections, real PostgreSQL."""

import datetime as dt
import threading
from decimal import Decimal as D

import pytest
from django.db import connection, transaction

from config.roles import sync_role_permissions
from core.clock import frozen
from promotions import selectors, services
from promotions.errors import PromotionError
from promotions.models import Promotion, PromotionUsage, RedPacket, WalletEntry
from promotions.quote import CartLine, quote
from promotions.services import OrderFacts

from .conftest import CB200, MJ300, T0

pytestmark = pytest.mark.django_db(transaction=True)
DEVICES = 16


@pytest.fixture(autouse=True)
def roles(db):
    sync_role_permissions()  # a flush at the end of an earlier transactional test emptied them


def checkout(order_ref, member=None, red_packet_ref=""):
    lines = [CartLine("1", "P1", D(1), D("300.00"))]
    with transaction.atomic():
        ctx = selectors.pricing_context(store_code="MD01", at=T0, member=member)
        packet = selectors.red_packet_to_spend(member, red_packet_ref) if red_packet_ref else None
        q = quote(lines=lines, store_code="MD01", at=T0, member=ctx.member,
                  promotions=ctx.promotions, red_packet=packet)  # fmt: skip
        services.reserve_usage(quote=q, member=member, order_ref=order_ref)
    return q


def run_devices(call):
    barrier = threading.Barrier(DEVICES)
    results, refused, failed = [], [], []

    def device(i):
        try:
            barrier.wait()
            results.append(call(f"S{i}"))
        except PromotionError as exc:
            refused.append(exc.code)
        except Exception as exc:  # noqa: BLE001 - a deadlock or a crash fails the test below
            failed.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=device, args=(i,)) for i in range(DEVICES)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not failed, failed
    return results, refused


def test_five_uses_left_under_sixteen_checkouts_gives_exactly_five(approved, clock):
    approved("five", **MJ300, max_uses=5)
    results, refused = run_devices(checkout)
    assert len(results) == 5 and all(q.total == D("250.00") for q in results)
    assert refused == ["exhausted"] * 11
    p = Promotion.objects.get(code="five")
    assert (p.uses, p.given, p.usages.count()) == (5, D("250.00"), 5)


def test_once_per_member_holds_under_sixteen_checkouts(approved, enrol, clock):
    approved("once", **MJ300, max_uses_per_member=1, members_only=True)
    member = enrol()
    results, refused = run_devices(lambda ref: checkout(ref, member=member))
    assert len(results) == 1 and refused == ["per_member"] * 15
    assert PromotionUsage.objects.filter(member=member).count() == 1


def test_a_red_packet_is_spent_once_under_sixteen_checkouts(approved, enrol, clock):
    approved("cb", **CB200)
    member = enrol()
    q = checkout("S-earn", member=member)
    services.record_paid_order(member=member, order_ref="S-earn", store_code="MD01", quote=q)
    handed = T0 + dt.timedelta(hours=1)
    with frozen(handed + dt.timedelta(days=7)):
        services.issue_red_packet(order_ref="S-earn", facts=OrderFacts(handed, False))
    ref = RedPacket.objects.get(order_ref="S-earn").ref
    results, refused = run_devices(lambda order: checkout(order, member=member, red_packet_ref=ref))
    # The one that spent it, and those that priced before it was spent and were refused; any
    # that priced after it was spent got no packet in their quote and checked out without it.
    spent = [q for q in results if q.red_packet_spent]
    assert len(spent) == 1 and spent[0].red_packet_spent == D("20.00")
    assert set(refused) <= {"red_packet"}
    assert WalletEntry.objects.filter(kind="spent").count() == 1
    assert RedPacket.objects.get(order_ref="S-earn").spent_on in {f"S{i}" for i in range(DEVICES)}


def test_earning_the_same_order_twice_at_once_gives_one_packet(approved, enrol, clock):
    approved("cb", **CB200)
    member = enrol()
    q = checkout("S-earn", member=member)
    results, _refused = run_devices(
        lambda _ref: services.record_paid_order(
            member=member, order_ref="S-earn", store_code="MD01", quote=q
        )
    )
    assert len({p.pk for p in results}) == 1
    assert RedPacket.objects.count() == 1 and WalletEntry.objects.count() == 1
    member.refresh_from_db()
    assert member.total_spend == q.total
