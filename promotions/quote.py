"""The pricing seam: what a cart costs, line by line, and why.

A store order (and later any channel) is priced by ONE server-side function, ``quote``. What a
kiosk or a guide sends is only products and quantities; prices always come from here.

These dataclasses are the interface other apps depend on (``stores`` prices carts with them and
freezes ``Quote.as_dict()`` on the order). Without any promotion a line's net amount is its list
amount.

``quote`` is pure: no database, no clock, no language. The caller loads the member's terms and
the active promotions first (``promotions.selectors.pricing_context``). Fixed stages, in order:

1. item price: the list price, the member's price (member price per product or style, or the
   level's standing discount) or an item promotion: the LOWEST of them, never stacked;
2. spend-and-save (满减) on each promotion's eligible subtotal after stage 1: the best of each
   exclusive group, stackable ones in priority order (a tier is reached on the stage-1 subtotal;
   a percentage applies to the current amount);
3. a red packet spent (at most the total);
4. a guide's manual adjustment (bounded, with a reason);
5. cash-back earned (满返 / a share), computed on the final net; it changes no line.

Every order-level amount is allocated over the lines it applies to with ``core.money.allocate``
(largest remainder, weights = the lines' current amounts): the lines add up to the total to the
cent and no line goes below zero (a part never exceeds its weight when the amount does not
exceed the sum of the weights, which every stage guarantees by clamping).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from decimal import ROUND_FLOOR, Decimal

from core.money import ZERO, allocate, money, quantity

from .rules import (
    CASHBACK,
    ITEM,
    SPEND_AND_SAVE,
    ManualAdjustment,
    MemberTerms,
    PricingError,
    RedPacketToSpend,
    Rule,
)

HUNDRED = Decimal(100)
# The near misses a quote keeps: the closest ones (a kiosk shows one or two).
NEAR_MISS_LIMIT = 3


@dataclass(frozen=True)
class CartLine:
    """One line of a cart as the caller sends it; ``unit_price`` is the product's list price,
    read by the caller from the product on the server, never taken from a client."""

    key: str
    product_code: str
    quantity: Decimal
    unit_price: Decimal
    style_code: str = ""


@dataclass(frozen=True)
class Step:
    """One change of a line's amount: which rule, and the amount before and after it."""

    kind: str  # "member_price", "item_promotion", "spend_and_save", "red_packet", "manual"
    code: str  # the promotion's code (or "" for a manual adjustment)
    label: str  # words for people, e.g. "满300减50"
    before: Decimal
    after: Decimal


@dataclass(frozen=True)
class QuoteLine:
    key: str
    product_code: str
    quantity: Decimal
    unit_price: Decimal
    list_amount: Decimal
    steps: tuple[Step, ...]
    net_amount: Decimal
    style_code: str = ""


@dataclass(frozen=True)
class NearMiss:
    """ "再买 23.00 元可减 50": the amount still to buy and what it would give."""

    code: str
    label: str
    missing: Decimal
    reward: Decimal
    kind: str = SPEND_AND_SAVE  # or CASHBACK: "再买 … 元可返 … 元红包"


@dataclass(frozen=True)
class AppliedPromotion:
    """What one promotion gave on this quote: the discount (stages 1-2) or the cash-back (5).
    ``promotions.services.reserve_usage`` takes its uses and budget from these."""

    code: str
    kind: str
    label: str
    amount: Decimal


@dataclass(frozen=True)
class Quote:
    lines: tuple[QuoteLine, ...]
    list_total: Decimal
    total: Decimal
    cashback: Decimal = ZERO
    near_misses: tuple[NearMiss, ...] = ()
    applied: tuple[str, ...] = field(default=())  # codes of the promotions used
    priced_at: dt.datetime | None = None
    store_code: str = ""
    member_ref: str = ""
    level_code: str = ""
    promotions: tuple[AppliedPromotion, ...] = ()
    red_packet_ref: str = ""
    red_packet_spent: Decimal = ZERO
    adjustment: Decimal = ZERO
    adjustment_reason: str = ""
    adjustment_by: str = ""

    def as_dict(self) -> dict:
        """A JSON-ready form (Decimals as strings), stable byte for byte for the same quote."""
        return json.loads(self.as_json())

    def as_json(self) -> str:
        def default(value):
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, dt.datetime):
                return value.isoformat()
            raise TypeError(type(value))

        return json.dumps(asdict(self), default=default, sort_keys=True, ensure_ascii=False)

    @classmethod
    def from_dict(cls, data: dict) -> Quote:
        """The quote an order froze (``as_dict()``), back as a ``Quote``: the same as_json()."""
        d = Decimal

        def step(s):
            return Step(s["kind"], s["code"], s["label"], d(s["before"]), d(s["after"]))

        priced_at = data.get("priced_at")
        return cls(
            lines=tuple(
                QuoteLine(
                    key=line["key"],
                    product_code=line["product_code"],
                    quantity=d(line["quantity"]),
                    unit_price=d(line["unit_price"]),
                    list_amount=d(line["list_amount"]),
                    steps=tuple(step(s) for s in line["steps"]),
                    net_amount=d(line["net_amount"]),
                    style_code=line.get("style_code", ""),
                )
                for line in data["lines"]
            ),
            list_total=d(data["list_total"]),
            total=d(data["total"]),
            cashback=d(data.get("cashback", "0.00")),
            near_misses=tuple(
                NearMiss(n["code"], n["label"], d(n["missing"]), d(n["reward"]), n["kind"])
                for n in data.get("near_misses", ())
            ),
            applied=tuple(data.get("applied", ())),
            priced_at=dt.datetime.fromisoformat(priced_at) if priced_at else None,
            store_code=data.get("store_code", ""),
            member_ref=data.get("member_ref", ""),
            level_code=data.get("level_code", ""),
            promotions=tuple(
                AppliedPromotion(p["code"], p["kind"], p["label"], d(p["amount"]))
                for p in data.get("promotions", ())
            ),
            red_packet_ref=data.get("red_packet_ref", ""),
            red_packet_spent=d(data.get("red_packet_spent", "0.00")),
            adjustment=d(data.get("adjustment", "0.00")),
            adjustment_reason=data.get("adjustment_reason", ""),
            adjustment_by=data.get("adjustment_by", ""),
        )


# --- the pure function ------------------------------------------------------------------------


def quote(
    *,
    lines: Sequence[CartLine],
    store_code: str,
    at: dt.datetime,
    member: MemberTerms | None = None,
    promotions: Iterable[Rule] = (),
    red_packet: RedPacketToSpend | None = None,
    adjustment: ManualAdjustment | None = None,
    **context,
) -> Quote:
    """Price ``lines`` for the store ``store_code`` at ``at`` (see the module's stages).

    ``promotions`` may hold more than apply: rules outside their store, time window or member
    levels are ignored here, so an expired promotion a kiosk still shows gives nothing.
    Other keywords (``context``, e.g. a caller's ``member_phone``) are accepted and ignored:
    this function reads nothing; ``promotions.pricing.price_cart`` loads the member and the
    promotions and calls it.
    """
    _check_lines(lines)
    rules = sorted(
        (r for r in promotions if _applies(r, store_code=store_code, at=at, member=member)),
        key=lambda r: (r.priority, r.code),
    )
    if len({r.code for r in rules}) != len(rules):
        raise PricingError("two promotions share a code")
    state = _State(lines)
    given: dict[str, Decimal] = {}
    labels: dict[str, tuple[str, str]] = {}
    # Which lines each rule applies to, worked out once (through an index of the cart).
    everything = tuple(range(len(lines)))
    by_product: dict[str, list[int]] = {}
    by_style: dict[str, list[int]] = {}
    for i, line in enumerate(lines):
        by_product.setdefault(line.product_code, []).append(i)
        if line.style_code:
            by_style.setdefault(line.style_code, []).append(i)
    scope: dict[str, tuple[int, ...]] = {}
    for r in rules:
        if not r.product_codes and not r.style_codes:
            scope[r.code] = everything
            continue
        found = {i for p in r.product_codes for i in by_product.get(p, ())}
        found.update(i for st in r.style_codes for i in by_style.get(st, ()))
        scope[r.code] = tuple(sorted(found))

    # Stage 1: the lowest item price, never stacked.
    item_rules = [r for r in rules if r.kind == ITEM]
    per_line: list[list[Rule]] = [[] for _ in lines]
    for rule in item_rules:
        for i in scope[rule.code]:
            per_line[i].append(rule)
    for i, line in enumerate(lines):
        list_amount = state.amounts[i]
        best: tuple[Decimal, str, str, str] | None = None  # amount, kind, code, label
        for amount, kind, code, label in _item_candidates(line, list_amount, member, per_line[i]):
            amount = max(ZERO, min(amount, list_amount))
            if amount < (best[0] if best else list_amount):
                best = (amount, kind, code, label)
        if best:
            amount, kind, code, label = best
            state.step(i, kind, code, label, amount)
            if kind == "item_promotion":
                given[code] = given.get(code, ZERO) + (list_amount - amount)
                labels[code] = (ITEM, label)

    # Stage 2: spend-and-save on the eligible subtotal after stage 1.
    near: list[NearMiss] = []
    sas = [r for r in rules if r.kind == SPEND_AND_SAVE]
    base = {r.code: _sum(state.amounts, scope[r.code]) for r in sas}
    for rule in sas:
        near.extend(_near_misses(rule, base[rule.code]))
    for rule in _best_of_groups(sas, base):
        eligible = scope[rule.code]
        current = _sum(state.amounts, eligible)
        off = _reward(rule, base[rule.code], current)
        if off <= 0:
            continue
        state.take(off, eligible, "spend_and_save", rule.code, rule.label)
        given[rule.code] = given.get(rule.code, ZERO) + off
        labels[rule.code] = (SPEND_AND_SAVE, rule.label)

    # Stage 3: a red packet spent.
    spent = ZERO
    if red_packet is not None and red_packet.amount > 0:
        spent = min(money(red_packet.amount), state.total())
        if spent > 0:
            state.take(spent, everything, "red_packet", red_packet.ref, red_packet.label)

    # Stage 4: the guide's manual adjustment.
    adjusted = ZERO
    if adjustment is not None and adjustment.amount:
        adjusted = _check_adjustment(adjustment, state.total())
        if adjusted > 0:
            state.take(adjusted, everything, "manual", "", adjustment.reason.strip())

    # Stage 5: cash-back earned on the final net.
    cashback = ZERO
    cbs = [r for r in rules if r.kind == CASHBACK]
    final = {r.code: _sum(state.amounts, scope[r.code]) for r in cbs}
    for rule in _best_of_groups(cbs, final):
        earned = _reward(rule, final[rule.code], final[rule.code])
        if earned > 0:
            cashback += earned
            given[rule.code] = given.get(rule.code, ZERO) + earned
            labels[rule.code] = (CASHBACK, rule.label)
    for rule in cbs:
        near.extend(_near_misses(rule, final[rule.code]))

    applied_order = [r.code for r in rules if r.code in given]
    return Quote(
        lines=state.quote_lines(),
        list_total=money(sum((money(line.unit_price * line.quantity) for line in lines), ZERO)),
        total=state.total(),
        cashback=money(cashback),
        near_misses=tuple(sorted(near, key=lambda n: (n.missing, -n.reward, n.kind, n.code)))[
            :NEAR_MISS_LIMIT
        ],
        applied=tuple(applied_order),
        priced_at=at,
        store_code=store_code,
        member_ref=member.ref if member else "",
        level_code=member.level_code if member else "",
        promotions=tuple(
            AppliedPromotion(
                code=code, kind=labels[code][0], label=labels[code][1], amount=money(given[code])
            )
            for code in applied_order
        ),
        red_packet_ref=red_packet.ref if red_packet is not None and spent > 0 else "",
        red_packet_spent=spent,
        adjustment=adjusted,
        adjustment_reason=adjustment.reason.strip() if adjusted else "",
        adjustment_by=adjustment.by if adjusted else "",
    )


def refund_for(line: QuoteLine, *, returned_before: Decimal, returning: Decimal) -> Decimal:
    """What returning ``returning`` more units of ``line`` refunds, when ``returned_before``
    were returned already: the line's net shared by quantity, cumulatively (largest remainder),
    so any partition of the line into returns refunds exactly its net amount."""
    if returning < 0 or returned_before < 0 or returned_before + returning > line.quantity:
        raise PricingError("cannot return more than was bought")
    return _paid_for(line, returned_before + returning) - _paid_for(line, returned_before)


def _paid_for(line: QuoteLine, units: Decimal) -> Decimal:
    if units == line.quantity:
        return line.net_amount
    return allocate(line.net_amount, [units, line.quantity - units])[0]


# --- the stages' parts ------------------------------------------------------------------------


class _State:
    """The current amount of each line and the steps that led to it."""

    def __init__(self, lines: Sequence[CartLine]):
        self.lines = lines
        self.amounts = [money(line.unit_price * line.quantity) for line in lines]
        self.list_amounts = list(self.amounts)
        self.steps: list[list[Step]] = [[] for _ in lines]

    def step(self, i: int, kind: str, code: str, label: str, after: Decimal) -> None:
        before = self.amounts[i]
        if after != before:
            self.steps[i].append(Step(kind, code, label, before, after))
            self.amounts[i] = after

    def take(self, amount: Decimal, indexes: list[int], kind: str, code: str, label: str):
        """Take ``amount`` (≤ the lines' sum) off ``indexes`` by largest remainder."""
        parts = allocate(amount, [self.amounts[i] for i in indexes])
        for i, part in zip(indexes, parts, strict=True):
            if part:
                self.step(i, kind, code, label, self.amounts[i] - part)

    def total(self) -> Decimal:
        return money(sum(self.amounts, ZERO))

    def quote_lines(self) -> tuple[QuoteLine, ...]:
        return tuple(
            QuoteLine(
                key=line.key,
                product_code=line.product_code,
                quantity=quantity(line.quantity),
                unit_price=money(line.unit_price),
                list_amount=self.list_amounts[i],
                steps=tuple(self.steps[i]),
                net_amount=self.amounts[i],
                style_code=line.style_code,
            )
            for i, line in enumerate(self.lines)
        )


def _check_lines(lines: Sequence[CartLine]) -> None:
    keys = [line.key for line in lines]
    if len(set(keys)) != len(keys):
        raise PricingError("two cart lines share a key")
    for line in lines:
        if not Decimal(line.quantity).is_finite() or line.quantity <= 0:
            raise PricingError(f"line {line.key}: the quantity must be positive")
        if not Decimal(line.unit_price).is_finite() or line.unit_price < 0:
            raise PricingError(f"line {line.key}: the price cannot be negative")


def _check_adjustment(adjustment: ManualAdjustment, total: Decimal) -> Decimal:
    amount = money(adjustment.amount)
    if not adjustment.reason or not adjustment.reason.strip():
        raise PricingError("a manual adjustment needs a reason")
    if amount < 0:
        raise PricingError("a manual adjustment takes an amount off; it cannot add one")
    if amount > money(adjustment.limit):
        raise PricingError(f"a manual adjustment is at most {money(adjustment.limit)}")
    return min(amount, total)


def _applies(rule: Rule, *, store_code: str, at: dt.datetime, member: MemberTerms | None) -> bool:
    if rule.store_codes and store_code not in rule.store_codes:
        return False
    if rule.starts_at is not None and at < rule.starts_at:
        return False
    if rule.ends_at is not None and at >= rule.ends_at:
        return False
    if (rule.members_only or rule.level_codes) and member is None:
        return False
    return not (rule.level_codes and member.level_code not in rule.level_codes)


def _percent_off(amount: Decimal, percent: Decimal) -> Decimal:
    """``amount`` less ``percent`` % of it (a percentage always applies to the current amount)."""
    return money(amount * (HUNDRED - percent) / HUNDRED)


def _item_candidates(line, list_amount, member, item_rules):
    if member is not None:
        label = member.level_label or member.level_code
        code = f"level:{member.level_code}"
        price = member.prices.get(line.product_code)
        if price is not None:
            yield money(price * line.quantity), "member_price", code, label
        price = member.style_prices.get(line.style_code) if line.style_code else None
        if price is not None:
            yield money(price * line.quantity), "member_price", code, label
        if member.discount_percent > 0:
            yield _percent_off(list_amount, member.discount_percent), "member_price", code, label
    for rule in item_rules:  # those whose scope holds the line
        if rule.unit_price is not None:
            yield money(rule.unit_price * line.quantity), "item_promotion", rule.code, rule.label
        elif rule.percent > 0:
            yield _percent_off(list_amount, rule.percent), "item_promotion", rule.code, rule.label


def _sum(amounts: list[Decimal], indexes: Sequence[int]) -> Decimal:
    total = ZERO
    for i in indexes:
        total += amounts[i]
    return total


def _reward(rule: Rule, reached_on: Decimal, current: Decimal) -> Decimal:
    """What ``rule`` gives when its tiers are reached on ``reached_on`` and the eligible lines
    are at ``current`` now: never more than ``current``, never less than zero."""
    reward = ZERO
    if rule.every:
        times = (reached_on / rule.every).to_integral_value(rounding=ROUND_FLOOR)
        reward = money(times * rule.every_amount)
    elif rule.tiers:
        reached = [t for t in rule.tiers if t.threshold <= reached_on]
        if reached:
            tier = max(reached, key=lambda t: t.threshold)
            reward = money(current * tier.percent / HUNDRED) if tier.percent else money(tier.amount)
    elif rule.kind == CASHBACK and rule.percent:
        reward = money(current * rule.percent / HUNDRED)
    if rule.cap is not None:
        reward = min(reward, money(rule.cap))
    return max(ZERO, min(reward, current))


def _best_of_groups(rules: list[Rule], subtotals: dict[str, Decimal]) -> list[Rule]:
    """Stackable rules and the best rule of each exclusive group, in (priority, code) order;
    ``subtotals``: each rule's eligible subtotal."""
    best: dict[str, tuple[Decimal, Rule]] = {}
    out = []
    for rule in rules:
        if not rule.exclusive_group:
            out.append(rule)
            continue
        subtotal = subtotals[rule.code]
        value = _reward(rule, subtotal, subtotal)
        held = best.get(rule.exclusive_group)
        if held is None or value > held[0]:  # ties: the earlier in (priority, code) stays
            best[rule.exclusive_group] = (value, rule)
    out.extend(rule for _value, rule in best.values())
    return sorted(out, key=lambda r: (r.priority, r.code))


def _near_misses(rule: Rule, subtotal: Decimal) -> list[NearMiss]:
    """The next step of ``rule`` not reached yet on ``subtotal``: what is missing, what it gives."""
    if rule.every:
        times = (subtotal / rule.every).to_integral_value(rounding=ROUND_FLOOR)
        now = money(times * rule.every_amount)
        nxt = money((times + 1) * rule.every_amount)
        if rule.cap is not None:
            nxt = min(nxt, money(rule.cap))
        if nxt <= now:
            return []
        threshold, reward = (times + 1) * rule.every, nxt
    else:
        above = [t for t in rule.tiers if t.threshold > subtotal]
        if not above:
            return []
        tier = min(above, key=lambda t: t.threshold)
        threshold = tier.threshold
        reward = money(tier.threshold * tier.percent / HUNDRED) if tier.percent else tier.amount
        if rule.cap is not None:
            reward = min(reward, rule.cap)
    missing = money(threshold - subtotal)
    if missing <= 0 or reward <= 0:
        return []
    return [NearMiss(rule.code, rule.label, missing, money(reward), rule.kind)]
