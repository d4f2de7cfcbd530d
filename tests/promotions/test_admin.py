"""The admin screens: masked phones, approval by another manager, read-only wallets."""

from decimal import Decimal as D

import pytest
from django.urls import reverse

from promotions import services
from promotions.models import Promotion, RedPacket, WalletEntry
from promotions.quote import CartLine, quote

from .conftest import CB200, MJ300, T0

pytestmark = pytest.mark.django_db


def test_a_guide_sees_a_masked_phone_and_a_manager_the_whole_number(client, enrol, guide, manager):
    member = enrol(name="李先生")
    url = reverse("admin:promotions_member_changelist")
    client.force_login(guide)
    page = client.get(url).content.decode()
    assert "138****5678" in page and "13812345678" not in page
    detail = client.get(reverse("admin:promotions_member_change", args=[member.pk]))
    assert "138****5678" in detail.content.decode()
    assert "13812345678" not in detail.content.decode()
    client.force_login(manager)
    assert "13812345678" in client.get(url).content.decode()


def test_a_member_is_found_by_their_phone_in_any_spelling(client, enrol, manager):
    enrol("13812345678", name="甲")
    enrol("13900000000", name="乙")
    client.force_login(manager)
    url = reverse("admin:promotions_member_changelist")
    page = client.get(url, {"q": "+86 138-1234-5678"}).content.decode()
    assert "甲" in page and "乙" not in page


def test_the_maker_cannot_approve_in_the_admin_but_another_manager_can(
    client, clock, manager, other_manager
):
    p = services.create_promotion(
        actor=manager, code="mj", starts_at=T0, ends_at=T0.replace(year=2027), **MJ300
    )
    url = reverse("admin:promotions_promotion_changelist")
    client.force_login(manager)
    client.post(url, {"action": "approve", "_selected_action": [p.pk]})
    p.refresh_from_db()
    assert p.status == Promotion.Status.DRAFT
    client.force_login(other_manager)
    client.post(url, {"action": "approve", "_selected_action": [p.pk]})
    p.refresh_from_db()
    assert p.status == Promotion.Status.APPROVED and p.approved_by == other_manager


def test_a_manager_makes_a_promotion_in_the_admin_and_a_negative_one_is_refused(client, manager):
    client.force_login(manager)
    url = reverse("admin:promotions_promotion_add")
    form = {
        "code": "mj100", "name": "满100减150", "kind": "spend_and_save", "priority": "100",
        "store_codes": "[]", "product_codes": "[]", "style_codes": "[]", "level_codes": "[]",
        "starts_at_0": "2026-12-01", "starts_at_1": "00:00", "ends_at_0": "2026-12-31",
        "ends_at_1": "00:00", "percent": "0", "every_amount": "0",
        "tiers": '[{"threshold": "100", "amount": "150"}]',
    }  # fmt: skip
    response = client.post(url, form)
    assert response.status_code == 200 and not Promotion.objects.exists()
    form["tiers"] = '[{"threshold": "100", "amount": "15"}]'
    response = client.post(url, form)
    assert response.status_code == 302
    p = Promotion.objects.get()
    assert p.created_by == manager and p.status == Promotion.Status.DRAFT


def test_wallets_are_read_only_even_for_a_manager(client, clock, approved, enrol, manager):
    approved("cb", **CB200)
    member = enrol()
    from promotions import selectors

    ctx = selectors.pricing_context(store_code="MD01", at=T0, member=member)
    q = quote(lines=[CartLine("1", "P1", D(1), D(300))], store_code="MD01", at=T0,
              member=ctx.member, promotions=ctx.promotions)  # fmt: skip
    services.record_paid_order(member=member, order_ref="S1", store_code="MD01", quote=q)
    packet = RedPacket.objects.get()
    client.force_login(manager)
    page = client.get(reverse("admin:promotions_redpacket_change", args=[packet.pk]))
    assert page.status_code == 200 and "S1" in page.content.decode()
    response = client.post(reverse("admin:promotions_redpacket_change", args=[packet.pk]),
                           {"earned": "999"})  # fmt: skip
    assert response.status_code == 403
    assert client.get(reverse("admin:promotions_walletentry_add")).status_code == 403
    packet.refresh_from_db()
    assert packet.earned == D("20.00") and WalletEntry.objects.count() == 1
