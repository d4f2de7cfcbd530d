"""Properties of the pricing function over random carts and promotion sets (hypothesis).

Each case checks: the lines add up to the total exactly, no line is negative, each line's steps
chain from its list amount to its net, the same input gives the same quote byte for byte (and the frozen form reads back as the
same quote), and
returning every line in random parts refunds exactly what was paid. Pure: no database.

Two tests: hypothesis-drawn cases (300, shrinkable), and 2,000 hypothesis seeds × 5 cases
drawn from ``random.Random(seed)`` with the same shapes — 10,000 random carts and promotion
sets (the issue's minimum) in a fraction of the time hypothesis takes to draw them one by one.
"""

import datetime as dt
import random
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from promotions.quote import CartLine, Quote, quote, refund_for
from promotions.rules import (
    CASHBACK,
    ITEM,
    SPEND_AND_SAVE,
    ManualAdjustment,
    MemberTerms,
    RedPacketToSpend,
    Rule,
    Tier,
)

AT = dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC)
PRODUCTS = [f"P{i}" for i in range(6)]
STYLES = ["", "S1", "S2"]

cents = st.integers(min_value=0, max_value=200_000).map(lambda n: Decimal(n) / 100)
percents = st.integers(min_value=0, max_value=10_000).map(lambda n: Decimal(n) / 100)
quantities = st.sampled_from(
    [Decimal("1"), Decimal("2"), Decimal("3"), Decimal("7"), Decimal("0.5"), Decimal("1.2345")]
)
scopes = st.frozensets(st.sampled_from(PRODUCTS), max_size=3)


@st.composite
def carts(draw):
    n = draw(st.integers(min_value=1, max_value=8))
    return [
        CartLine(
            key=f"L{i}",
            product_code=draw(st.sampled_from(PRODUCTS)),
            quantity=draw(quantities),
            unit_price=draw(cents),
            style_code=draw(st.sampled_from(STYLES)),
        )
        for i in range(n)
    ]


@st.composite
def rules(draw, i):
    kind = draw(st.sampled_from([ITEM, SPEND_AND_SAVE, CASHBACK]))
    common = {
        "code": f"R{i}.v1",
        "label": f"rule {i}",
        "kind": kind,
        "priority": draw(st.integers(0, 3)),
        "exclusive_group": draw(st.sampled_from(["", "", "g1", "g2"])),
        "product_codes": draw(scopes),
        "level_codes": draw(st.sampled_from([frozenset(), frozenset({"gold"})])),
    }
    if kind == ITEM:
        if draw(st.booleans()):
            return Rule(**common, unit_price=draw(cents))
        return Rule(**common, percent=draw(percents))
    shape = draw(st.sampled_from(["tiers", "every", "percent"]))
    if shape == "every":
        every = draw(cents.filter(lambda c: c > 0))
        return Rule(**common, every=every, every_amount=draw(cents),
                    cap=draw(st.none() | cents))  # fmt: skip
    if shape == "percent" and kind == CASHBACK:
        return Rule(**common, percent=draw(percents), cap=draw(st.none() | cents))
    tiers = tuple(
        Tier(threshold=draw(cents), amount=draw(cents), percent=draw(st.sampled_from(
            [Decimal(0), Decimal(0), draw(percents)])))
        for _ in range(draw(st.integers(1, 3)))
    )  # fmt: skip
    return Rule(**common, tiers=tiers)


@st.composite
def cases(draw):
    lines = draw(carts())
    promos = [draw(rules(i)) for i in range(draw(st.integers(0, 6)))]
    member = None
    if draw(st.booleans()):
        member = MemberTerms(
            ref="M1",
            level_code=draw(st.sampled_from(["normal", "gold"])),
            discount_percent=draw(st.sampled_from([Decimal(0), Decimal(5), draw(percents)])),
            prices={p: draw(cents) for p in draw(st.frozensets(st.sampled_from(PRODUCTS),
                                                               max_size=2))},
            style_prices={"S1": draw(cents)} if draw(st.booleans()) else {},
        )  # fmt: skip
    packet = RedPacketToSpend(ref="RP1", amount=draw(cents)) if draw(st.booleans()) else None
    adjust = None
    if draw(st.booleans()):
        adjust = ManualAdjustment(amount=draw(cents.filter(lambda c: c <= 50)), reason="x",
                                  limit=Decimal(50))  # fmt: skip
    cuts = draw(
        st.lists(
            st.lists(st.integers(0, 10_000), max_size=3), min_size=len(lines), max_size=len(lines)
        )
    )
    return lines, promos, member, packet, adjust, cuts


def random_case(rng: random.Random):
    """A case of the same shape as ``cases()``, drawn from ``rng``."""

    def c():
        return Decimal(rng.randint(0, 200_000)) / 100

    def pct():
        return Decimal(rng.randint(0, 10_000)) / 100

    lines = [
        CartLine(
            key=f"L{i}", product_code=rng.choice(PRODUCTS),
            quantity=rng.choice([Decimal(1), Decimal(2), Decimal(3), Decimal("0.5")]),
            unit_price=c(), style_code=rng.choice(STYLES),
        )
        for i in range(rng.randint(1, 8))
    ]  # fmt: skip
    promos = []
    for i in range(rng.randint(0, 6)):
        kind = rng.choice([ITEM, SPEND_AND_SAVE, CASHBACK])
        common = {
            "code": f"R{i}.v1", "label": f"rule {i}", "kind": kind,
            "priority": rng.randint(0, 3), "exclusive_group": rng.choice(["", "", "g1", "g2"]),
            "product_codes": frozenset(rng.sample(PRODUCTS, rng.randint(0, 3))),
            "level_codes": rng.choice([frozenset(), frozenset({"gold"})]),
        }  # fmt: skip
        shape = rng.choice(["a", "b", "c"])
        if kind == ITEM:
            rule = Rule(**common, unit_price=c()) if shape == "a" else Rule(**common, percent=pct())
        elif shape == "a":
            rule = Rule(**common, every=c() + Decimal("0.01"), every_amount=c(),
                        cap=rng.choice([None, c()]))  # fmt: skip
        elif shape == "b" and kind == CASHBACK:
            rule = Rule(**common, percent=pct(), cap=rng.choice([None, c()]))
        else:
            tiers = tuple(
                Tier(threshold=c(), amount=c(), percent=rng.choice([Decimal(0), pct()]))
                for _ in range(rng.randint(1, 3))
            )
            rule = Rule(**common, tiers=tiers)
        promos.append(rule)
    member = None
    if rng.random() < 0.5:
        member = MemberTerms(
            ref="M1", level_code=rng.choice(["normal", "gold"]),
            discount_percent=rng.choice([Decimal(0), Decimal(5), pct()]),
            prices={p: c() for p in rng.sample(PRODUCTS, rng.randint(0, 2))},
            style_prices={"S1": c()} if rng.random() < 0.5 else {},
        )  # fmt: skip
    packet = RedPacketToSpend(ref="RP1", amount=c()) if rng.random() < 0.5 else None
    adjust = None
    if rng.random() < 0.3:
        adjust = ManualAdjustment(amount=Decimal(rng.randint(0, 5000)) / 100, reason="x",
                                  limit=Decimal(50))  # fmt: skip
    cuts = [[rng.randint(0, 10_000) for _ in range(rng.randint(0, 3))] for _ in lines]
    return lines, promos, member, packet, adjust, cuts


@settings(
    max_examples=300,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(cases())
def test_quotes_add_up_never_go_negative_repeat_and_refund_exactly(case):
    check(case)


@settings(max_examples=2_000, deadline=None, derandomize=True)
@given(st.integers(min_value=0, max_value=2**32))
def test_ten_thousand_random_carts_and_promotion_sets_hold_the_same_properties(seed):
    rng = random.Random(seed)
    for _ in range(5):
        check(random_case(rng))


def check(case):
    lines, promos, member, packet, adjust, cuts = case
    kwargs = dict(
        lines=lines, store_code="MD01", at=AT, member=member, promotions=promos,
        red_packet=packet, adjustment=adjust,
    )  # fmt: skip
    q = quote(**kwargs)

    assert sum((line.net_amount for line in q.lines), Decimal("0.00")) == q.total
    assert all(line.net_amount >= 0 for line in q.lines)
    assert all(step.after >= 0 for line in q.lines for step in line.steps)
    assert q.total <= q.list_total
    assert q.cashback >= 0
    for line in q.lines:  # each line's steps chain from its list amount to its net
        amount = line.list_amount
        for step in line.steps:
            assert step.before == amount
            amount = step.after
        assert amount == line.net_amount
    assert quote(**kwargs).as_json() == q.as_json()
    # What an order freezes (as_dict) reads back as the same quote, byte for byte.
    assert Quote.from_dict(q.as_dict()).as_json() == q.as_json()

    # Return every line in up to four parts (random cuts of its quantity), one return after
    # the other: no refund is negative, and the refunds add up to what was paid, to the cent.
    refunded = Decimal("0.00")
    for line, line_cuts in zip(q.lines, cuts, strict=True):
        points = sorted((line.quantity * c / 10_000).quantize(Decimal("0.0001")) for c in line_cuts)
        before = Decimal(0)
        for point in [*points, line.quantity]:
            part = refund_for(line, returned_before=before, returning=point - before)
            assert part >= 0
            refunded += part
            before = point
    assert refunded == q.total
