"""Fixtures of the promotions tests: managers and guides in their roles, members enrolled
through the real enrolment (SMS code through the console provider), promotions approved
through the real services."""

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User

from core.clock import frozen
from promotions import services
from promotions.sms import ConsoleSms

T0 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai


@pytest.fixture
def clock():
    with frozen(T0) as at:
        yield at


def make_user(name, role=None, **kw):
    user = User.objects.create_user(username=name, password="pw", is_staff=True, **kw)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def manager(db):
    return make_user("manager_a", "store_manager")


@pytest.fixture
def other_manager(db):
    return make_user("manager_b", "store_manager")


@pytest.fixture
def guide(db):
    return make_user("guide_a", "store_guide")


def last_code(phone):
    for to, text in reversed(ConsoleSms.outbox):
        if to == phone:
            return re.search(r"\d{6}", text).group(0)
    raise AssertionError(f"no code sent to {phone}")


@pytest.fixture
def enrol(db, clock):
    def make(phone="13812345678", *, name="", actor=None, home_store="MD01"):
        services.send_enrolment_code(phone=phone)
        normal = "".join(ch for ch in phone if ch.isdigit())[-11:]
        return services.enrol_member(
            phone=phone,
            code=last_code(normal),
            consent=True,
            consent_place=f"{home_store} 柜台",
            home_store=home_store,
            name=name,
            actor=actor,
        )

    return make


@pytest.fixture
def approved(db, manager, other_manager, clock):
    """Create a promotion as ``manager`` and have ``other_manager`` approve it."""

    def make(code, **fields):
        fields.setdefault("name", code)
        fields.setdefault("starts_at", T0 - dt.timedelta(days=1))
        fields.setdefault("ends_at", T0 + dt.timedelta(days=30))
        p = services.create_promotion(actor=manager, code=code, **fields)
        return services.approve_promotion(promotion=p, actor=other_manager)

    return make


MJ300 = {
    "name": "满300减50",
    "kind": "spend_and_save",
    "tiers": [{"threshold": "300", "amount": "50"}],
}
CB200 = {"name": "满200返20", "kind": "cashback", "tiers": [{"threshold": "200", "amount": "20"}]}
D = Decimal
