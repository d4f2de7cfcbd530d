"""Red packets: earned at payment, issued after the after-sales window with no return open,
spent once on a later order, taken back in proportion by returns."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import transaction

from core.clock import frozen
from promotions import selectors, services
from promotions.errors import PromotionError
from promotions.models import RedPacket, WalletEntry
from promotions.quote import CartLine, quote
from promotions.services import OrderFacts

from .conftest import CB200, T0

pytestmark = pytest.mark.django_db

HANDED = T0 + dt.timedelta(hours=1)
DUE = HANDED + dt.timedelta(days=7)


def pay(member, order_ref, *prices, red_packet_ref=None):
    """A store order paid: priced, usage reserved, spend and cash-back recorded."""
    lines = [CartLine(str(i), f"P{i}", D(1), D(p)) for i, p in enumerate(prices, 1)]
    with transaction.atomic():
        ctx = selectors.pricing_context(store_code="MD01", at=T0, member=member)
        packet = selectors.red_packet_to_spend(member, red_packet_ref or "") if red_packet_ref \
            else None  # fmt: skip
        q = quote(lines=lines, store_code="MD01", at=T0, member=ctx.member,
                  promotions=ctx.promotions, red_packet=packet)  # fmt: skip
        services.reserve_usage(quote=q, member=member, order_ref=order_ref)
        services.record_paid_order(member=member, order_ref=order_ref, store_code="MD01", quote=q)
    return q


@pytest.fixture
def member(enrol, approved):
    approved("cb", **CB200)
    return enrol()


def test_a_packet_is_issued_only_after_the_window_with_no_return_open(member):
    pay(member, "S1", "250")
    packet = RedPacket.objects.get(order_ref="S1")
    assert packet.status == "pending" and packet.earned == D("20.00")
    assert selectors.wallet_balance(member) == 0
    facts = OrderFacts(handed_over_at=HANDED, return_open=False)
    with frozen(DUE - dt.timedelta(seconds=1)):
        assert services.issue_red_packet(order_ref="S1", facts=facts) is None
    with frozen(DUE):
        assert (
            services.issue_red_packet(
                order_ref="S1", facts=OrderFacts(handed_over_at=HANDED, return_open=True)
            )
            is None
        )
        assert (
            services.issue_red_packet(
                order_ref="S1", facts=OrderFacts(handed_over_at=None, return_open=False)
            )
            is None
        )
        assert services.issue_red_packet(order_ref="S1", facts=facts) is not None
        assert services.issue_red_packet(order_ref="S1", facts=facts) is None  # once
    assert selectors.wallet_balance(member) == D("20.00")
    assert list(member.wallet.values_list("kind", "amount")) == [
        ("earned", D("0.00")), ("issued", D("20.00")),
    ]  # fmt: skip


def test_paying_twice_for_the_same_order_earns_one_packet(member):
    q = pay(member, "S1", "250")
    services.record_paid_order(member=member, order_ref="S1", store_code="MD01", quote=q)
    assert RedPacket.objects.filter(order_ref="S1").count() == 1
    member.refresh_from_db()
    assert member.total_spend == D("250.00")


def test_the_scheduled_task_asks_the_store_app_and_issues_what_is_due(member):
    pay(member, "S1", "250")
    pay(member, "S2", "300")
    asked = []

    def order_facts(refs):
        asked.extend(refs)
        return {"S1": OrderFacts(HANDED, False), "S2": OrderFacts(HANDED, True)}

    with frozen(DUE):
        assert services.issue_due_red_packets(order_facts=order_facts) == 1
        assert services.issue_due_red_packets(order_facts=order_facts) == 0
    assert asked[:2] == ["S1", "S2"]
    assert RedPacket.objects.get(order_ref="S2").status == "pending"


def test_a_packet_is_spent_on_a_later_order_and_only_once(member):
    pay(member, "S1", "250")
    with frozen(DUE):
        services.issue_red_packet(order_ref="S1", facts=OrderFacts(HANDED, False))
    ref = RedPacket.objects.get(order_ref="S1").ref
    q = pay(member, "S2", "100", red_packet_ref=ref)
    assert q.red_packet_spent == D("20.00") and q.total == D("80.00")
    assert q.lines[0].steps[-1].kind == "red_packet"
    assert selectors.wallet_balance(member) == 0
    with pytest.raises(PromotionError) as twice, transaction.atomic():
        services.spend_red_packet(ref=ref, member=member, order_ref="S3", amount=D("5"))
    assert twice.value.code == "red_packet"


def test_someone_else_cannot_spend_a_members_packet(member, enrol):
    pay(member, "S1", "250")
    with frozen(DUE):
        services.issue_red_packet(order_ref="S1", facts=OrderFacts(HANDED, False))
    stranger = enrol("13900000000")
    ref = RedPacket.objects.get(order_ref="S1").ref
    with pytest.raises(PromotionError), transaction.atomic():
        services.spend_red_packet(ref=ref, member=stranger, order_ref="S9", amount=D("1"))


def test_a_return_takes_back_cash_back_in_proportion_from_an_unspent_packet(member):
    pay(member, "S1", "150", "150")  # net 300 → 20 back
    preview = services.preview_clawback(order_ref="S1", refunded_net=D("100"),
                                        refund_amount=D("100"))  # fmt: skip
    assert (preview.from_packet, preview.from_refund) == (D("6.67"), D("0"))
    claw = services.take_back_cashback(order_ref="S1", return_ref="R1", refunded_net=D("100"),
                                       refund_amount=D("100"))  # fmt: skip
    assert claw == preview
    again = services.take_back_cashback(order_ref="S1", return_ref="R1", refunded_net=D("100"),
                                        refund_amount=D("100"))  # fmt: skip
    assert again.total == D("6.67")
    services.take_back_cashback(order_ref="S1", return_ref="R2", refunded_net=D("200"),
                                refund_amount=D("200"))  # fmt: skip
    packet = RedPacket.objects.get(order_ref="S1")
    assert packet.taken_back == D("20.00") and packet.status == "void"
    with frozen(DUE):
        assert services.issue_red_packet(order_ref="S1", facts=OrderFacts(HANDED, False)) is None


def test_when_the_packet_was_spent_the_return_deducts_it_from_the_refund(member):
    pay(member, "S1", "250")
    with frozen(DUE):
        services.issue_red_packet(order_ref="S1", facts=OrderFacts(HANDED, False))
    pay(member, "S2", "100", red_packet_ref=RedPacket.objects.get(order_ref="S1").ref)
    preview = services.preview_clawback(order_ref="S1", refunded_net=D("125"),
                                        refund_amount=D("125"))  # fmt: skip
    assert (preview.from_packet, preview.from_refund) == (D("0"), D("10.00"))
    claw = services.take_back_cashback(order_ref="S1", return_ref="R1", refunded_net=D("125"),
                                       refund_amount=D("125"), actor=None)  # fmt: skip
    assert claw.from_refund == D("10.00")
    assert WalletEntry.objects.filter(kind="deducted").get().amount == D("-10.00")


def test_wallet_entries_are_append_only(member):
    pay(member, "S1", "250")
    entry = WalletEntry.objects.get()
    entry.amount = D("99")
    with pytest.raises(ValueError):
        entry.save()
    with pytest.raises(ValueError):
        entry.delete()


def test_the_hourly_task_uses_the_store_apps_order_facts(member, settings):
    from django_q.models import Schedule

    from promotions.tasks import issue_red_packets

    assert Schedule.objects.filter(func="promotions.tasks.issue_red_packets").exists()
    pay(member, "S1", "250")
    settings.PROMOTIONS_ORDER_FACTS = ""
    with frozen(DUE):
        assert issue_red_packets() == 0  # nothing named: nothing issued, and it says so
        settings.PROMOTIONS_ORDER_FACTS = f"{__name__}.all_handed_over"
        assert issue_red_packets() == 1
    assert RedPacket.objects.get(order_ref="S1").status == "issued"


def all_handed_over(refs):
    return {ref: OrderFacts(handed_over_at=HANDED, return_open=False) for ref in refs}
