"""Members: enrolment with consent and a one-time code, levels by spend, export and erasure."""

import datetime as dt
from decimal import Decimal as D

import pytest

from core.clock import frozen
from promotions import selectors, services
from promotions.errors import PromotionError
from promotions.models import Member, OneTimeCode
from promotions.phones import mask_phone, normalize_phone

from .conftest import T0, last_code

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "raw", ["13812345678", "+86 138 1234 5678", "0086-138-1234-5678", "138-1234-5678"]
)
def test_a_phone_is_stored_in_one_form_whatever_its_spelling(raw):
    assert normalize_phone(raw) == "13812345678"
    assert mask_phone("13812345678") == "138****5678"


def test_enrolment_needs_the_code_sent_to_that_phone_and_the_consent(clock, guide):
    services.send_enrolment_code(phone="+86 139 0000 1111")
    code = last_code("13900001111")
    with pytest.raises(PromotionError) as no_consent:
        services.enrol_member(phone="13900001111", code=code, consent=False,
                              consent_place="MD01 kiosk")  # fmt: skip
    assert no_consent.value.code == "no_consent"
    wrong = "000000" if code != "000000" else "111111"
    with pytest.raises(PromotionError) as bad:
        services.enrol_member(phone="13900001111", code=wrong, consent=True,
                              consent_place="MD01 kiosk")  # fmt: skip
    assert bad.value.code == "wrong_code"
    member = services.enrol_member(
        phone="139-0000-1111", code=code, consent=True, consent_place="MD01 kiosk",
        home_store="MD01", actor=guide,
    )  # fmt: skip
    assert member.phone == "13900001111" and member.level.code == "normal"
    assert member.consent_at == T0 and member.consent_place == "MD01 kiosk"
    assert member.enrolled_by == guide
    # The code was used once.
    with pytest.raises(PromotionError):
        services.enrol_member(phone="13900001111", code=code, consent=True, consent_place="x")


def test_an_expired_code_or_a_known_phone_is_refused(enrol):
    enrol("13812345678")
    services.send_enrolment_code(phone="13812345678")
    with pytest.raises(PromotionError) as again:
        services.enrol_member(phone="13812345678", code=last_code("13812345678"), consent=True,
                              consent_place="MD01")  # fmt: skip
    assert again.value.code == "already_member"
    services.send_enrolment_code(phone="13700000000")
    code = last_code("13700000000")
    with frozen(T0 + dt.timedelta(minutes=11)), pytest.raises(PromotionError) as late:
        services.enrol_member(phone="13700000000", code=code, consent=True, consent_place="x")
    assert late.value.code == "no_code"


def test_five_wrong_codes_spend_the_code(clock):
    services.send_enrolment_code(phone="13700000001")
    code = last_code("13700000001")
    wrong = "000000" if code != "000000" else "111111"
    for _ in range(5):
        with pytest.raises(PromotionError):
            services.enrol_member(phone="13700000001", code=wrong, consent=True, consent_place="x")
    with pytest.raises(PromotionError) as spent:
        services.enrol_member(phone="13700000001", code=code, consent=True, consent_place="x")
    assert spent.value.code == "no_code"


def test_a_bad_phone_number_is_refused_with_nothing_stored(clock):
    with pytest.raises(PromotionError) as bad:
        services.send_enrolment_code(phone="12345")
    assert bad.value.code == "bad_phone"
    assert not OneTimeCode.objects.exists()


def test_levels_rise_by_spend_and_each_order_counts_once(enrol):
    member = enrol()
    services.record_member_spend(member=member, order_ref="S1", store_code="MD01",
                                 amount=D("1999.99"))  # fmt: skip
    assert member.level.code == "normal"
    services.record_member_spend(member=member, order_ref="S2", store_code="MD01", amount=D("0.01"))
    services.record_member_spend(member=member, order_ref="S2", store_code="MD01", amount=D("0.01"))
    member.refresh_from_db()
    assert member.total_spend == D("2000.00") and member.level.code == "silver"
    services.record_member_spend(member=member, order_ref="S3", store_code="MD01", amount=D(9000))
    member.refresh_from_db()
    assert member.level.code == "gold"


def test_a_member_sees_what_we_hold_and_erasure_keeps_their_records(enrol, manager):
    member = enrol(name="王小姐")
    services.record_member_spend(member=member, order_ref="S9", store_code="MD01", amount=D(10))
    data = selectors.member_data(member)
    assert data["member"]["phone"] == "13812345678" and data["member"]["name"] == "王小姐"
    assert data["spends"][0]["order"] == "S9"

    services.erase_member(member=member, actor=manager)
    member = Member.objects.get(pk=member.pk)
    assert member.phone is None and member.name == "" and member.erased_at is not None
    assert member.spends.get().order_ref == "S9"
    assert selectors.find_member("13812345678") is None
    assert selectors.member_terms(member) is None
    # The phone can enrol again as a new member.
    assert enrol("13812345678").pk != member.pk


def test_a_guide_may_not_erase_a_member(enrol, guide):
    member = enrol()
    with pytest.raises(PromotionError):
        services.erase_member(member=member, actor=guide)
    member.refresh_from_db()
    assert member.phone == "13812345678"


def test_only_a_store_manager_sees_the_whole_phone(enrol, guide, manager):
    member = enrol()
    assert selectors.phone_for(guide, member) == "138****5678"
    assert selectors.phone_for(manager, member) == "13812345678"
