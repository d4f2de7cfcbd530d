"""The transfer screens of a store manager: a draft with its lines, ship, receive with a
shortfall, the replenishment suggestion; their own store only."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse
from django.utils import translation

from inventory import services, transfers
from inventory.models import ReplenishmentRule, StockLevel, Transfer
from inventory.scope import set_location_scope
from inventory.transfers import ensure_store_locations

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


@pytest.fixture
def manager(client, store_locations):
    user = User.objects.create_user(username="md01_manager", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="store_manager"))
    client.force_login(user)
    client.cookies["django_language"] = "en"  # the language switcher's choice
    import inventory.scope

    registered = inventory.scope._rule  # the stores app's rule: put back after the test
    set_location_scope(
        lambda u: {"MD01", "MD01:sample"} if u.username.startswith("md01") else set()
    )
    yield user
    set_location_scope(registered)


def level(code, product):
    lv = StockLevel.objects.filter(warehouse__code=code, product=product).first()
    return lv.on_hand if lv else Decimal(0)


def test_a_store_manager_makes_ships_and_receives_a_transfer(client, manager, make_product):
    from inventory.models import Warehouse

    shirt = make_product(code="SHIRT")
    services.receive(items=[(shirt.id, 10)], actor=None, document="po")
    main, store = Warehouse.main(), Warehouse.objects.get(code="MD01")
    add = reverse("admin:inventory_transfer_add")
    form = {
        "from_warehouse": main.pk,
        "to_warehouse": store.pk,
        "note": "weekly",
        "lines-TOTAL_FORMS": "2",
        "lines-INITIAL_FORMS": "0",
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "1000",
        "lines-0-product": shirt.pk,
        "lines-0-quantity": "4",
        "lines-1-product": shirt.pk,
        "lines-1-quantity": "1",
        "lines-1-sample": "on",
    }
    assert client.post(add, form).status_code == 302
    t = Transfer.objects.get()
    assert (t.status, t.created_by, t.lines.count()) == ("draft", manager, 2)
    page = client.get(reverse("admin:inventory_transfer_change", args=[t.pk]))
    assert b"Ship (out of the source, into transit)" in page.content
    client.cookies["django_language"] = "zh-hans"
    chinese = client.get(reverse("admin:inventory_transfer_change", args=[t.pk]))
    client.cookies["django_language"] = "en"
    assert "发出（出库，转为在途）" in chinese.content.decode()

    client.post(reverse("admin:inventory_transfer_ship", args=[t.pk]))
    t.refresh_from_db()
    assert t.status == "shipped" and level("transit", shirt) == 5

    receive = reverse("admin:inventory_transfer_receive", args=[t.pk])
    line = t.lines.get(sample=False)
    refused = client.post(receive, {f"received-{line.id}": "3"})
    assert b"1.0000 short, give the reason" in refused.content
    client.post(receive, {f"received-{line.id}": "3", f"reason-{line.id}": "box torn"})
    t.refresh_from_db()
    assert t.status == "received" and t.received_by == manager
    assert (level("MD01", shirt), level("MD01:sample", shirt), level("transit", shirt)) == (3, 1, 0)


def test_a_route_outside_main_and_a_store_is_refused_on_the_form(client, manager):
    from inventory.models import Warehouse

    response = client.post(
        reverse("admin:inventory_transfer_add"),
        {
            "from_warehouse": Warehouse.main().pk,
            "to_warehouse": Warehouse.defective().pk,
            "lines-TOTAL_FORMS": "0",
            "lines-INITIAL_FORMS": "0",
        },
    )
    assert b"a transfer goes from the main warehouse to a store" in response.content
    assert not Transfer.objects.exists()


def test_a_store_manager_sees_only_their_own_stores_transfers(client, manager, make_product):
    ensure_store_locations(code="MD02", name="体验店二")
    shirt = make_product(code="SHIRT")
    mine = transfers.create_transfer(
        from_warehouse="main", to_warehouse="MD01", lines=[(shirt, 1)], actor=None
    )
    other = transfers.create_transfer(
        from_warehouse="main", to_warehouse="MD02", lines=[(shirt, 1)], actor=None
    )

    listing = client.get(reverse("admin:inventory_transfer_changelist")).content.decode()

    assert mine.number in listing and other.number not in listing
    assert client.get(reverse("admin:inventory_transfer_change", args=[other.pk])).status_code in (
        302,
        404,
    )
    assert client.post(reverse("admin:inventory_transfer_ship", args=[other.pk])).status_code == 404


def test_the_suggestion_page_makes_the_draft_transfer(client, manager, make_product):
    from inventory.models import Warehouse

    store = Warehouse.objects.get(code="MD01")
    shirt = make_product(code="SHIRT")
    services.receive(items=[(shirt.id, 10)], actor=None, document="po")
    ReplenishmentRule.objects.create(warehouse=store, product=shirt, minimum=2, target=5)
    url = reverse("admin:inventory_transfer_suggestion")

    page = client.get(url)
    assert b"SHIRT" in page.content and b"Create the draft transfer" in page.content

    response = client.post(url, {"store": store.pk, "days": "14"})

    t = Transfer.objects.get()
    assert response.status_code == 302 and t.created_by == manager
    assert {(ln.sample, ln.quantity) for ln in t.lines.all()} == {(False, 5), (True, 1)}


def test_warehouse_staff_cannot_ship_a_transfer(client, store_locations, make_product):
    user = User.objects.create_user(username="wh", password="pw", is_staff=True)
    user.groups.add(Group.objects.get(name="warehouse"))
    client.force_login(user)
    shirt = make_product(code="SHIRT")
    t = transfers.create_transfer(
        from_warehouse="main", to_warehouse="MD01", lines=[(shirt, 1)], actor=None
    )
    assert client.post(reverse("admin:inventory_transfer_ship", args=[t.pk])).status_code == 403
    t.refresh_from_db()
    assert t.status == "draft"
