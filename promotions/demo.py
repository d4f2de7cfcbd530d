"""The promotions part of the demo data, called by the demo loader (``load_demo``).

``load_demo_promotions("MD01")`` makes, once (a second call changes nothing): two members (a
gold one and a new one, enrolled through the console SMS provider, whatever provider is
configured), gold member prices for two products, a spend-and-save 满300减50 and a cash-back
满200返20 for that store, approved as system data.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

from django.db import transaction

from core.clock import now
from core.money import money
from inventory.models import Product

from . import services
from .models import Member, MemberLevel, MemberPrice, Promotion
from .sms import ConsoleSms

MEMBERS = [
    ("13800000001", "演示金卡会员", Decimal("12000.00")),
    ("13800000002", "演示新会员", None),
]


def _enrol(phone: str, name: str, store: str) -> Member:
    existing = Member.objects.filter(phone=phone).first()
    if existing is not None:
        return existing
    sms = ConsoleSms()
    services.send_enrolment_code(phone=phone, sms=sms)
    code = re.search(r"\d{6}", [t for p, t in ConsoleSms.outbox if p == phone][-1]).group(0)
    return services.enrol_member(
        phone=phone, code=code, consent=True, consent_place=f"{store} 演示数据",
        home_store=store, name=name,
    )  # fmt: skip


def _promotion(code: str, store: str, **fields) -> tuple[Promotion, bool]:
    existing = Promotion.objects.filter(code=code).order_by("-version").first()
    if existing is not None:
        return existing, False
    start = now().replace(hour=0, minute=0, second=0, microsecond=0) - dt.timedelta(days=1)
    p = services.create_promotion(
        actor=None, code=code, store_codes=[store], starts_at=start,
        ends_at=start + dt.timedelta(days=365), **fields,
    )  # fmt: skip
    return services.approve_promotion(promotion=p, actor=None, system=True), True


def load_demo_promotions(store_unit_code: str) -> dict[str, int]:
    """Demo members and promotions for the store ``store_unit_code``; counts of what was new."""
    counts = {"members": 0, "member_prices": 0, "promotions": 0}
    with transaction.atomic():
        for phone, name, spend in MEMBERS:
            is_new = not Member.objects.filter(phone=phone).exists()
            member = _enrol(phone, name, store_unit_code)
            counts["members"] += is_new
            if is_new and spend:
                services.record_member_spend(
                    member=member, order_ref=f"DEMO-OPENING-{phone}", store_code=store_unit_code,
                    amount=spend,
                )  # fmt: skip
        gold = MemberLevel.objects.filter(code="gold").first()
        if gold is not None:
            products = Product.objects.filter(list_price__gt=0).order_by("code")[:2]
            for product in products:
                _mp, created = MemberPrice.objects.get_or_create(
                    level=gold,
                    product_code=product.code,
                    style_code="",
                    defaults={"price": money(product.list_price * Decimal("0.85"))},
                )
                counts["member_prices"] += created
        for code, fields in [
            ("demo-mj300", {"name": "满300减50", "kind": "spend_and_save",
                            "tiers": [{"threshold": "300", "amount": "50"}],
                            "exclusive_group": "满减"}),
            ("demo-cb200", {"name": "满200返20红包", "kind": "cashback",
                            "tiers": [{"threshold": "200", "amount": "20"}]}),
        ]:  # fmt: skip
            counts["promotions"] += _promotion(code, store_unit_code, **fields)[1]
    return counts
