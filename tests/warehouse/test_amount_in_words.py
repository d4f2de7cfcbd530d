from decimal import Decimal

import pytest

from orders.pdf.amount import amount_in_words


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        ("1001.50", "壹仟零壹元伍角整"),
        ("16409.02", "壹万陆仟肆佰零玖元零贰分"),
        ("325.04", "叁佰贰拾伍元零肆分"),
        ("1409.50", "壹仟肆佰零玖元伍角整"),
        ("1680.32", "壹仟陆佰捌拾元叁角贰分"),
        ("6007.14", "陆仟零柒元壹角肆分"),
        ("10", "壹拾元整"),
        ("15.00", "壹拾伍元整"),
        ("105", "壹佰零伍元整"),
        ("10010", "壹万零壹拾元整"),
        ("100100", "壹拾万零壹佰元整"),
        ("1000000", "壹佰万元整"),
        ("100000001", "壹亿零壹元整"),
        ("100010000", "壹亿零壹万元整"),
        ("110000000", "壹亿壹仟万元整"),
        ("0.50", "伍角整"),
        ("0.05", "伍分"),
        ("0.55", "伍角伍分"),
        ("0", "零元整"),
        ("-3.20", "负叁元贰角整"),
        ("999999999999.99", "玖仟玖佰玖拾玖亿玖仟玖佰玖拾玖万玖仟玖佰玖拾玖元玖角玖分"),
    ],
)
def test_amounts_are_written_in_capital_numerals_by_the_banking_rules(amount, words):
    assert amount_in_words(Decimal(amount)) == words


def test_half_a_fen_rounds_up_as_money_does():
    assert amount_in_words(Decimal("2.005")) == "贰元零壹分"


def test_a_float_amount_is_refused():
    with pytest.raises(TypeError):
        amount_in_words(1.5)
