"""Promotions: made by one manager, approved by another, never edited once used; and what a
checkout takes (uses, budget, per member, a red packet) inside the order's transaction."""

import datetime as dt
from decimal import Decimal as D

import pytest
from django.db import transaction

from core.clock import frozen
from promotions import selectors, services
from promotions.errors import PromotionError
from promotions.models import Promotion, PromotionUsage
from promotions.quote import CartLine, quote

from .conftest import CB200, MJ300, T0

pytestmark = pytest.mark.django_db

WINDOW = {"starts_at": T0 - dt.timedelta(days=1), "ends_at": T0 + dt.timedelta(days=30)}


def cart(*prices):
    return [CartLine(str(i), f"P{i}", D(1), D(p)) for i, p in enumerate(prices, 1)]


def checkout(lines, *, member=None, order_ref, red_packet_ref=None, store="MD01"):
    """What the store app does: load, price, reserve — in one transaction."""
    with transaction.atomic():
        ctx = selectors.pricing_context(store_code=store, at=T0, member=member)
        packet = selectors.red_packet_to_spend(member, red_packet_ref) if red_packet_ref else None
        q = quote(lines=lines, store_code=store, at=T0, member=ctx.member,
                  promotions=ctx.promotions, red_packet=packet)  # fmt: skip
        services.reserve_usage(quote=q, member=member, order_ref=order_ref)
    return q


def test_a_draft_gives_nothing_until_another_manager_approves_it(clock, manager, other_manager):
    p = services.create_promotion(actor=manager, code="mj300", **MJ300, **WINDOW)
    assert checkout(cart("300"), order_ref="S1").total == D("300.00")
    with pytest.raises(PromotionError) as own:
        services.approve_promotion(promotion=p, actor=manager)
    assert own.value.code == "own_promotion"
    services.approve_promotion(promotion=p, actor=other_manager)
    q = checkout(cart("300"), order_ref="S2")
    assert q.total == D("250.00") and q.applied == ("mj300.v1",)


def test_a_guide_cannot_make_or_approve_promotions(clock, guide, manager):
    with pytest.raises(PromotionError):
        services.create_promotion(actor=guide, code="x", **MJ300, **WINDOW)
    p = services.create_promotion(actor=manager, code="x", **MJ300, **WINDOW)
    with pytest.raises(PromotionError):
        services.approve_promotion(promotion=p, actor=guide)


def test_a_promotion_that_could_go_negative_is_refused_at_approval(clock, manager, other_manager):
    p = services.create_promotion(
        actor=manager, code="bad", name="满100减150", kind="spend_and_save",
        tiers=[{"threshold": "100", "amount": "150"}], **WINDOW,
    )  # fmt: skip
    with pytest.raises(PromotionError) as refused:
        services.approve_promotion(promotion=p, actor=other_manager)
    assert refused.value.code == "could_go_negative"
    p.refresh_from_db()
    assert p.status == Promotion.Status.DRAFT
    pct = services.create_promotion(
        actor=manager, code="pct", name="120% off", kind="item", percent=D(120), **WINDOW
    )
    with pytest.raises(PromotionError):
        services.approve_promotion(promotion=pct, actor=other_manager)


def test_a_used_promotion_is_never_edited_and_a_new_version_replaces_it(
    clock, approved, manager, other_manager
):
    p = approved("mj300", **MJ300)
    checkout(cart("300"), order_ref="S1")
    with pytest.raises(PromotionError) as used:
        services.update_promotion(promotion=p, actor=manager, name="满300减80")
    assert used.value.code == "used"
    v2 = services.new_version(promotion=p, actor=manager)
    services.update_promotion(promotion=v2, actor=manager, tiers=[{"threshold": 300, "amount": 80}])
    assert checkout(cart("300"), order_ref="S2").total == D("250.00")  # v2 is a draft
    services.approve_promotion(promotion=v2, actor=other_manager)
    p.refresh_from_db()
    assert p.status == Promotion.Status.RETIRED
    q = checkout(cart("300"), order_ref="S3")
    assert q.total == D("220.00") and q.applied == ("mj300.v2",)


def test_an_approved_unused_promotion_edited_needs_approval_again(clock, approved, manager):
    p = approved("mj300", **MJ300)
    services.update_promotion(promotion=p, actor=manager, name="满300减50 (改)")
    p.refresh_from_db()
    assert p.status == Promotion.Status.DRAFT and p.approved_by is None


def test_uses_in_all_and_per_member_are_taken_at_checkout(clock, approved, enrol):
    approved("once", **MJ300, max_uses_per_member=1, members_only=True)
    approved("cb", **CB200, max_uses=2)
    member = enrol()
    q = checkout(cart("300"), member=member, order_ref="S1")
    assert set(q.applied) == {"once.v1", "cb.v1"}
    with pytest.raises(PromotionError) as again:
        checkout(cart("300"), member=member, order_ref="S2")
    assert again.value.code == "per_member"
    assert PromotionUsage.objects.filter(order_ref="S2").count() == 0  # rolled back
    # Without a member: only the cash-back; its second (and last) use.
    checkout(cart("300"), order_ref="S3")
    cb = Promotion.objects.get(code="cb")
    assert (cb.uses, cb.given) == (2, D("40.00"))
    # Used up: no longer loaded, so the next quote does not offer it.
    assert checkout(cart("300"), order_ref="S4").cashback == 0


def test_a_budget_stops_a_promotion_at_what_it_may_give(clock, approved):
    approved("mj", **MJ300, budget=D("60.00"))
    checkout(cart("300"), order_ref="S1")
    with pytest.raises(PromotionError) as out:
        checkout(cart("300"), order_ref="S2")
    assert out.value.code == "budget"


def test_a_promotion_that_ended_after_the_quote_is_refused_at_checkout(clock, approved):
    approved("mj", **MJ300)
    ctx = selectors.pricing_context(store_code="MD01", at=T0)
    q = quote(lines=cart("300"), store_code="MD01", at=T0, promotions=ctx.promotions)
    Promotion.objects.update(ends_at=T0)
    with pytest.raises(PromotionError) as late, transaction.atomic():
        services.reserve_usage(quote=q, member=None, order_ref="S1")
    assert late.value.code == "inactive"


def test_a_store_outside_the_scope_gets_nothing(clock, approved):
    approved("md02", **MJ300, store_codes="MD02, MD03")
    assert checkout(cart("300"), order_ref="S1", store="MD01").total == D("300.00")
    assert checkout(cart("300"), order_ref="S2", store="MD02").total == D("250.00")


def test_member_prices_by_level_come_from_the_level(clock, enrol):
    from promotions.models import MemberLevel, MemberPrice

    member = enrol()
    MemberPrice.objects.create(level=MemberLevel.objects.get(code="normal"), product_code="P1",
                               price=D("88.00"))  # fmt: skip
    assert checkout(cart("100"), order_ref="S0").total == D("100.00")
    q = checkout(cart("100"), member=member, order_ref="S1")
    assert q.total == D("88.00") and q.lines[0].steps[0].kind == "member_price"
    with frozen(T0 + dt.timedelta(days=3650)):  # never expires
        assert selectors.member_terms(member).prices == {"P1": D("88.00")}
