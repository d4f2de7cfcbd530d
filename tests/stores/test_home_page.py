"""A store guide's and a store manager's home page (工作台): their store's counter lists with
counts that open the counter page, and for a manager the promotions waiting for approval."""

import pytest

from core.clock import frozen
from stores import services

from .conftest import T0
from .test_store_orders import cart, pay, place

pytestmark = pytest.mark.django_db


def home(client, user):
    client.force_login(user)
    with frozen(T0):
        return client.get("/admin/")


def counts(page, role):
    return {
        i["queue"].key: str(i["count"])
        for s in page.context["sections"]
        if s["role"] == role
        for i in s["items"]
    }


def test_a_guide_lands_on_the_store_counter_lists_with_counts(client, stocked, store, guide, clock):
    paid = place(store, lines=cart(("TX2601-01-S", 1)))
    pay(paid, store, guide)
    place(store, lines=cart(("TX2601-01-M", 1)))  # unpaid

    page = home(client, guide)

    assert page.status_code == 200
    assert counts(page, "store") == {
        "unpaid": "1",
        "takeaway": "1",
        "ready": "0",
        "coming": "0",
        "returns": "0",
    }
    html = page.content.decode()
    assert "待付款" in html and "待交付顾客" in html
    assert f'href="/store/counter/?store={store.code}"' in html
    assert "收银台" in html
    assert "您的账号还没有角色" not in html  # a guide has a role: the store's


def test_a_manager_sees_the_other_managers_draft_promotions_to_approve(
    client, store, manager, clock
):
    import datetime as dt

    from django.contrib.auth.models import User

    from config.roles import sync_role_permissions
    from promotions import services as promotions

    from .conftest import SAVE_320_50

    sync_role_permissions()
    other = User.objects.create_user("manager2", password="manager-pass-456")
    services.add_staff(store=store, user=other, role="store_manager")
    window = {"store_codes": [store.code], "starts_at": T0, "ends_at": T0 + dt.timedelta(days=9)}
    promotions.create_promotion(actor=manager, code="own", **SAVE_320_50, **window)
    theirs = promotions.create_promotion(actor=other, code="theirs", **SAVE_320_50, **window)

    page = home(client, manager)
    assert counts(page, "store_manager") == {"promotions_to_approve": "1"}
    assert "待审批的促销" in page.content.decode()

    promotions.approve_promotion(promotion=theirs, actor=manager)
    assert counts(home(client, manager), "store_manager") == {"promotions_to_approve": "0"}
