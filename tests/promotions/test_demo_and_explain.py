"""The demo's promotions part, and the words a quote is explained with."""

from decimal import Decimal as D

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from promotions import selectors
from promotions.demo import load_demo_promotions
from promotions.explain import explain
from promotions.models import Member, MemberPrice, Promotion
from promotions.pricing import manual_adjustment, price_cart
from promotions.quote import CartLine

from .conftest import T0

pytestmark = pytest.mark.django_db


def test_the_demo_promotions_load_once_and_price_a_cart(clock, make_product):
    make_product(code="DEMO-A", list_price=D("200.00"))
    first = load_demo_promotions("MD01")
    assert first == {"members": 2, "member_prices": 1, "promotions": 2}
    assert load_demo_promotions("MD01") == {"members": 0, "member_prices": 0, "promotions": 0}
    assert Member.objects.count() == 2 and Promotion.objects.count() == 2
    gold = selectors.find_member("13800000001")
    assert gold.level.code == "gold"
    assert MemberPrice.objects.get().price == D("170.00")
    lines = [CartLine("a", "DEMO-A", D(2), D("200.00"))]
    q = price_cart(lines=lines, store_code="MD01", at=T0, member=gold)
    # 2 × 170 member price = 340 → 满300减50 = 290 → 满200返20.
    assert (q.total, q.cashback) == (D("290.00"), D("20.00"))
    assert price_cart(lines=lines, store_code="MD02", at=T0).total == D("400.00")


def test_a_quote_is_explained_in_chinese_by_default_and_escaped(clock):
    from promotions.quote import quote
    from promotions.rules import SPEND_AND_SAVE, Rule, Tier

    rule = Rule(code="X.v1", label="<b>满300减50</b>", kind=SPEND_AND_SAVE,
                tiers=(Tier(D(300), D(50)),))  # fmt: skip
    q = quote(lines=[CartLine("a", "P1", D(1), D("277.00"))], store_code="MD01", at=T0,
              promotions=[rule], adjustment=manual_adjustment("7", "老顾客"))  # fmt: skip
    with translation.override("zh-hans"):
        words = explain(q)
        html = render_to_string("promotions/quote_explanation.html", {"quote": q.as_dict()})
    assert words["near_misses"] == ["再买 23.00 元可减 50.00（<b>满300减50</b>）"]
    assert "再买 23.00 元可减 50.00" in html and "&lt;b&gt;" in html and "<b>" not in html
    assert "老顾客" in html
    with translation.override("en"):
        assert explain(q)["near_misses"][0].startswith("Buy 23.00 more to save 50.00")
