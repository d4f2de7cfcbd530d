"""Amounts in Chinese capital numerals (大写金额), as written on invoices and cheques.

Rules followed (中国人民银行《支付结算办法》附件一, 正确填写票据和结算凭证的基本规定):
- digits 零壹贰叁肆伍陆柒捌玖, units 拾佰仟万亿, then 元角分; ten is written 壹拾;
- one or more zeros between non-zero digits are written as ONE 零 (1,001 → 壹仟零壹;
  100,010,000 → 壹亿零壹万); zeros at the end of the integer part are not written;
- 整 follows 元 when there are no 角/分, and follows 角 when there is no 分 (1,001.50 →
  壹仟零壹元伍角整); nothing follows 分;
- when 角 is 0 but 分 is not, 零 is written after 元 (325.04 → 叁佰贰拾伍元零肆分);
- when the 元 digit is 0 but 角 is not, no 零 is written (1,680.32 → 壹仟陆佰捌拾元叁角贰分, one
  of the two forms the rules allow);
- no integer part: 0.50 → 伍角整, 0.05 → 伍分; zero is 零元整; a negative amount starts with 负.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ["", "拾", "佰", "仟"]
BIG_UNITS = ["", "万", "亿", "万亿"]


def _section(n: int) -> str:
    """0 < n < 10000 → its words without a leading 零 (1001 → 壹仟零壹, 10 → 壹拾)."""
    out = []
    pending_zero = False
    for power in (3, 2, 1, 0):
        digit = n // 10**power % 10
        if digit == 0:
            if out:
                pending_zero = True
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        out.append(DIGITS[digit] + SMALL_UNITS[power])
    return "".join(out)


def _integer_words(n: int) -> str:
    if n == 0:
        return ""
    groups = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    if len(groups) > len(BIG_UNITS):
        raise ValueError("amount too large")
    out = ""
    pending_zero = False
    for index in range(len(groups) - 1, -1, -1):
        value = groups[index]
        if value == 0:
            if out:
                pending_zero = True
            continue
        # A zero between groups: a whole group of zeros, or a group with a zero at its head.
        if out and (pending_zero or value < 1000):
            out += "零"
        out += _section(value) + BIG_UNITS[index]
        pending_zero = False
    return out


def amount_in_words(amount) -> str:
    """Decimal (or int/str) CNY amount → 大写金额. Floats are refused: they are never exact."""
    if isinstance(amount, float):
        raise TypeError("amounts are Decimal, never float")
    value = Decimal(amount).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    sign = "负" if value < 0 else ""
    value = abs(value)
    fen_total = int(value * 100)
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    integer = _integer_words(yuan)
    if jiao == 0 and fen == 0:
        return f"{sign}{integer or '零'}元整"
    out = f"{integer}元" if integer else ""
    if jiao:
        out += DIGITS[jiao] + "角"
    elif integer:
        out += "零"
    out += DIGITS[fen] + "分" if fen else "整"
    return sign + out
