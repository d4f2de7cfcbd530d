"""The pure pricing function: stages, explanations, near misses, bounds. No database."""

import datetime as dt
from decimal import Decimal as D

import pytest

from promotions.quote import CartLine, quote, refund_for
from promotions.rules import (
    CASHBACK,
    ITEM,
    SPEND_AND_SAVE,
    ManualAdjustment,
    MemberTerms,
    PricingError,
    RedPacketToSpend,
    Rule,
    Tier,
)

AT = dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC)
MJ300 = Rule(code="MJ.v1", label="满300减50", kind=SPEND_AND_SAVE, tiers=(Tier(D(300), D(50)),))
GOLD = MemberTerms(ref="M1", level_code="gold", level_label="金卡", discount_percent=D(5))


def cart(*prices, qty=1):
    return [
        CartLine(key=str(i), product_code=f"P{i}", quantity=D(qty), unit_price=D(p))
        for i, p in enumerate(prices, 1)
    ]


def price(lines, **kw):
    return quote(lines=lines, store_code="MD01", at=AT, **kw)


def test_without_promotions_a_line_costs_its_list_amount():
    q = price(cart("99.90", "10.00"))
    assert [line.net_amount for line in q.lines] == [D("99.90"), D("10.00")]
    assert q.total == q.list_total == D("109.90")
    assert q.near_misses == () and q.applied == ()


def test_spend_and_save_is_shared_over_the_lines_by_largest_remainder():
    q = price(cart("100.00", "100.00", "100.00"), promotions=[MJ300])
    assert q.total == D("250.00")
    assert [line.net_amount for line in q.lines] == [D("83.33"), D("83.33"), D("83.34")]
    step = q.lines[0].steps[0]
    assert (step.kind, step.code, step.label, step.before) == (
        "spend_and_save", "MJ.v1", "满300减50", D("100.00"),
    )  # fmt: skip
    assert q.applied == ("MJ.v1",) and q.promotions[0].amount == D("50.00")


def test_a_cart_just_below_the_threshold_shows_what_is_missing():
    q = price(cart("277.00"), promotions=[MJ300])
    assert q.total == D("277.00")
    (miss,) = q.near_misses
    assert (miss.code, miss.missing, miss.reward) == ("MJ.v1", D("23.00"), D("50.00"))


def test_the_highest_tier_reached_applies():
    tiers = Rule(
        code="T.v1", label="满300减50/满500减100", kind=SPEND_AND_SAVE,
        tiers=(Tier(D(300), D(50)), Tier(D(500), D(100))),
    )  # fmt: skip
    assert price(cart("520.00"), promotions=[tiers]).total == D("420.00")
    q = price(cart("320.00"), promotions=[tiers])
    assert q.total == D("270.00") and q.near_misses[0].missing == D("180.00")


def test_every_full_amount_repeats_up_to_its_cap():
    every = Rule(
        code="E.v1", label="每满200减20", kind=SPEND_AND_SAVE, every=D(200), every_amount=D(20),
        cap=D(50),
    )  # fmt: skip
    assert price(cart("450.00"), promotions=[every]).total == D("410.00")
    assert price(cart("1000.00"), promotions=[every]).total == D("950.00")


def test_the_lowest_item_price_wins_and_never_stacks():
    sale = Rule(code="S.v1", label="8折", kind=ITEM, percent=D(20), product_codes=frozenset({"P1"}))
    member = MemberTerms(
        ref="M1", level_code="gold", level_label="金卡", discount_percent=D(5),
        prices={"P1": D("85.00")},
    )  # fmt: skip
    q = price(cart("100.00", "100.00"), member=member, promotions=[sale])
    first, second = q.lines
    assert first.net_amount == D("80.00") and [s.code for s in first.steps] == ["S.v1"]
    assert second.net_amount == D("95.00") and second.steps[0].kind == "member_price"


def test_a_member_price_for_a_style_applies_after_the_phone_number():
    lines = [CartLine("a", "P1-M", D(1), D("199.00"), style_code="ST1")]
    member = MemberTerms(ref="M1", level_code="silver", style_prices={"ST1": D("159.00")})
    assert price(lines).total == D("199.00")
    assert price(lines, member=member).total == D("159.00")


def test_member_only_promotions_need_a_member_of_that_level():
    vip = Rule(code="V.v1", label="金卡满减", kind=SPEND_AND_SAVE, level_codes=frozenset({"gold"}),
               tiers=(Tier(D(100), D(30)),))  # fmt: skip
    assert price(cart("100.00"), promotions=[vip]).total == D("100.00")
    silver = MemberTerms(ref="M2", level_code="silver")
    assert price(cart("100.00"), promotions=[vip], member=silver).total == D("100.00")
    plain_gold = MemberTerms(ref="M3", level_code="gold")
    assert price(cart("100.00"), promotions=[vip], member=plain_gold).total == D("70.00")


def test_an_expired_or_other_store_promotion_gives_nothing():
    expired = Rule(code="X.v1", label="过期", kind=SPEND_AND_SAVE, tiers=(Tier(D(1), D(1)),),
                   ends_at=AT)  # fmt: skip
    elsewhere = Rule(code="Y.v1", label="别店", kind=SPEND_AND_SAVE, tiers=(Tier(D(1), D(1)),),
                     store_codes=frozenset({"MD02"}))  # fmt: skip
    assert price(cart("10.00"), promotions=[expired, elsewhere]).total == D("10.00")


def test_the_best_of_an_exclusive_group_applies_and_stackables_add():
    a = Rule(code="A.v1", label="满300减40", kind=SPEND_AND_SAVE, exclusive_group="g",
             tiers=(Tier(D(300), D(40)),))  # fmt: skip
    b = Rule(code="B.v1", label="满300减60", kind=SPEND_AND_SAVE, exclusive_group="g",
             tiers=(Tier(D(300), D(60)),))  # fmt: skip
    c = Rule(code="C.v1", label="9折", kind=SPEND_AND_SAVE, priority=200,
             tiers=(Tier(D(0), percent=D(10)),))  # fmt: skip
    q = price(cart("300.00"), promotions=[a, b, c])
    # 300 - 60 = 240, then 10 % of the CURRENT amount: 24.
    assert q.total == D("216.00") and q.applied == ("B.v1", "C.v1")


def test_red_packet_then_manual_adjustment_then_cash_back_on_the_final_net():
    cb = Rule(code="CB.v1", label="满200返20", kind=CASHBACK, tiers=(Tier(D(200), D(20)),))
    q = price(
        cart("150.00", "100.00"),
        promotions=[cb],
        red_packet=RedPacketToSpend(ref="RP7", amount=D("30.00")),
        adjustment=ManualAdjustment(amount=D("10.00"), reason="老顾客", limit=D(50)),
    )
    assert q.red_packet_spent == D("30.00") and q.adjustment == D("10.00")
    assert q.total == D("210.00") and q.cashback == D("20.00")
    kinds = [s.kind for s in q.lines[0].steps]
    assert kinds == ["red_packet", "manual"]
    # Below the threshold after the red packet: no cash-back, a near miss instead.
    q2 = price(cart("150.00", "60.00"), promotions=[cb],
               red_packet=RedPacketToSpend(ref="RP7", amount=D("30.00")))  # fmt: skip
    assert q2.cashback == 0 and q2.near_misses[0].kind == CASHBACK


def test_a_red_packet_larger_than_the_order_spends_only_the_total():
    q = price(cart("12.00"), red_packet=RedPacketToSpend(ref="RP1", amount=D("50.00")))
    assert q.total == 0 and q.red_packet_spent == D("12.00")


def test_a_manual_adjustment_needs_a_reason_and_stays_within_its_bound():
    with pytest.raises(PricingError):
        price(cart("100"), adjustment=ManualAdjustment(amount=D(5), reason=" ", limit=D(50)))
    with pytest.raises(PricingError):
        price(cart("100"), adjustment=ManualAdjustment(amount=D(51), reason="x", limit=D(50)))
    with pytest.raises(PricingError):
        price(cart("100"), adjustment=ManualAdjustment(amount=D(-5), reason="x", limit=D(50)))


def test_a_discount_larger_than_the_cart_stops_at_zero():
    big = Rule(code="B.v1", label="满1减500", kind=SPEND_AND_SAVE, tiers=(Tier(D(1), D(500)),))
    q = price(cart("20.00", "30.00"), promotions=[big])
    assert q.total == 0 and all(line.net_amount == 0 for line in q.lines)


def test_bad_lines_are_refused():
    with pytest.raises(PricingError):
        price([CartLine("a", "P", D(0), D(1))])
    with pytest.raises(PricingError):
        price([CartLine("a", "P", D(1), D(-1))])
    with pytest.raises(PricingError):
        price([CartLine("a", "P", D(1), D(1)), CartLine("a", "Q", D(1), D(1))])


def test_the_same_input_gives_the_same_quote_byte_for_byte():
    lines = cart("99.99", "0.01", "33.33", qty=3)
    kw = {"promotions": [MJ300], "member": GOLD}
    assert price(lines, **kw).as_json() == price(lines, **kw).as_json()
    assert price(lines, **kw).as_dict()["total"] == str(price(lines, **kw).total)


def test_returning_a_line_in_parts_refunds_exactly_its_net():
    q = price(cart("33.33", qty=3), promotions=[MJ300], member=GOLD)
    line = q.lines[0]
    parts = [refund_for(line, returned_before=D(0), returning=D(1)),
             refund_for(line, returned_before=D(1), returning=D(1)),
             refund_for(line, returned_before=D(2), returning=D(1))]  # fmt: skip
    assert sum(parts) == line.net_amount
    with pytest.raises(PricingError):
        refund_for(line, returned_before=D(2), returning=D(2))


def test_a_callers_extra_context_is_accepted_and_changes_nothing():
    # The store app may pass what it knows (e.g. the phone typed at the kiosk); the pure
    # function reads nothing, so only price_cart (which loads the member) changes prices.
    lines = cart("300.00")
    plain = price(lines, promotions=[MJ300])
    assert price(lines, promotions=[MJ300], member_phone="13812345678").as_json() == plain.as_json()
