"""Each role sees and does only its own work; the auditor sees everything and changes nothing."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Group, User
from django.urls import reverse

from channels.models import SkuComponent, SkuMapping
from inventory.models import Product, StockLevel, StockMove

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client):
    def as_role(role):
        user = User.objects.create_user(username=f"u_{role}", password="pw", is_staff=True)
        user.groups.add(Group.objects.get(name=role))
        client.force_login(user)
        return user

    return as_role


@pytest.fixture
def mapping(make_shop, make_product):
    shop = make_shop(code="TM01")
    product = make_product(code="P1", barcode="690001")
    m = SkuMapping.objects.create(shop=shop, platform_sku="SKU-1")
    SkuComponent.objects.create(mapping=m, product=product, quantity=Decimal("1"))
    return m


def product_form(product, **changes):
    data = {
        "code": product.code,
        "name": product.name,
        "barcode": product.barcode or "",
        "unit": product.unit,
        "spec": product.spec,
        "weight_kg": "",
        "list_price": "",
        "active": "on",
    }
    data.update(changes)
    return data


def mapping_form(mapping, product, quantity):
    component = mapping.components.get()
    return {
        "shop": mapping.shop_id,
        "platform_sku": mapping.platform_sku,
        "components-TOTAL_FORMS": "1",
        "components-INITIAL_FORMS": "1",
        "components-MIN_NUM_FORMS": "1",
        "components-MAX_NUM_FORMS": "1000",
        "components-0-id": component.id,
        "components-0-mapping": mapping.id,
        "components-0-product": product.id,
        "components-0-quantity": quantity,
    }


def test_the_groups_of_every_role_exist():
    assert set(Group.objects.values_list("name", flat=True)) >= {
        "warehouse",
        "reviewer",
        "after_sales",
        "after_sales_reviewer",
        "auditor",
    }


def test_an_anonymous_visitor_sees_only_the_login_page(client, mapping):
    for url in [
        reverse("admin:index"),
        reverse("admin:inventory_product_changelist"),
        reverse("admin:channels_skumapping_import"),
        reverse("admin:inventory_stocklevel_adjust"),
        "/",
    ]:
        response = client.get(url, follow=True)
        assert response.redirect_chain, url
        assert response.redirect_chain[-1][0].startswith(reverse("admin:login")), url
    login_page = client.get(reverse("admin:login"))
    assert login_page.status_code == 200
    assert b'id="language-switcher"' in login_page.content


def test_the_auditor_sees_everything(client, login, mapping, main_warehouse):
    login("auditor")
    product = mapping.components.get().product
    for name in [
        "admin:inventory_product_changelist",
        "admin:inventory_stocklevel_changelist",
        "admin:inventory_stockmove_changelist",
        "admin:inventory_reservation_changelist",
        "admin:channels_skumapping_changelist",
        "admin:channels_shop_changelist",
        "admin:channels_platform_changelist",
        "admin:channels_sellablequantity_changelist",
        "admin:channels_historicalskucomponent_changelist",
        "admin:inventory_product_export",
    ]:
        assert client.get(reverse(name)).status_code == 200, name
    assert (
        client.get(reverse("admin:inventory_product_history", args=[product.pk])).status_code == 200
    )


def test_the_auditor_changes_nothing(client, login, mapping):
    login("auditor")
    product = mapping.components.get().product
    change_url = reverse("admin:inventory_product_change", args=[product.pk])

    page = client.get(change_url)
    assert page.status_code == 200 and b'name="_save"' not in page.content
    assert client.post(change_url, product_form(product, name="改名")).status_code == 403
    assert client.get(reverse("admin:inventory_product_add")).status_code == 403
    assert client.get(reverse("admin:inventory_product_import")).status_code == 403
    assert client.get(reverse("admin:channels_skumapping_import")).status_code == 403
    assert client.get(reverse("admin:inventory_stocklevel_adjust")).status_code == 403
    assert (
        client.post(
            reverse("admin:channels_skumapping_change", args=[mapping.pk]),
            mapping_form(mapping, product, "3"),
        ).status_code
        == 403
    )
    product.refresh_from_db()
    assert product.name != "改名"
    assert mapping.components.get().quantity == Decimal("1")


def test_a_reviewer_edits_sku_relations_but_not_products(client, login, mapping):
    reviewer = login("reviewer")
    product = mapping.components.get().product

    response = client.post(
        reverse("admin:channels_skumapping_change", args=[mapping.pk]),
        mapping_form(mapping, product, "2.5"),
    )

    assert response.status_code == 302
    component = mapping.components.get()
    assert component.quantity == Decimal("2.5")
    assert component.history.first().history_user == reviewer
    assert client.get(reverse("admin:channels_skumapping_import")).status_code == 200
    change_url = reverse("admin:inventory_product_change", args=[product.pk])
    assert client.post(change_url, product_form(product, name="改名")).status_code == 403
    assert client.get(reverse("admin:inventory_product_import")).status_code == 403
    assert client.get(reverse("admin:inventory_stocklevel_adjust")).status_code == 403


def test_warehouse_staff_see_stock_and_the_ledger_but_change_no_master_data(client, login, mapping):
    login("warehouse")
    product = mapping.components.get().product
    assert client.get(reverse("admin:inventory_stocklevel_changelist")).status_code == 200
    assert client.get(reverse("admin:inventory_stockmove_changelist")).status_code == 200
    assert (
        client.post(
            reverse("admin:channels_skumapping_change", args=[mapping.pk]),
            mapping_form(mapping, product, "3"),
        ).status_code
        == 403
    )
    assert client.get(reverse("admin:channels_skumapping_import")).status_code == 403
    assert client.get(reverse("admin:channels_shop_add")).status_code == 403
    assert client.get(reverse("admin:inventory_stocklevel_adjust")).status_code == 403


@pytest.mark.parametrize("role", ["after_sales", "after_sales_reviewer"])
def test_after_sales_roles_see_master_data_but_not_the_ledger_or_the_history(
    client, login, mapping, role
):
    login(role)
    assert client.get(reverse("admin:inventory_product_changelist")).status_code == 200
    assert client.get(reverse("admin:inventory_stockmove_changelist")).status_code == 403
    assert (
        client.get(reverse("admin:channels_historicalskucomponent_changelist")).status_code == 403
    )
    assert client.get(reverse("admin:inventory_product_import")).status_code == 403


def test_an_administrator_adjusts_stock_with_a_reason_through_the_ledger(
    client, admin_user, make_product, main_warehouse
):
    client.force_login(admin_user)
    product = make_product(code="ADJ-1", barcode="690999")

    response = client.post(
        reverse("admin:inventory_stocklevel_adjust"),
        {
            "warehouse": main_warehouse.id,
            "product": "690999",
            "quantity": "12.5",
            "note": "盘点",
        },
    )

    assert response.status_code == 302
    assert StockLevel.objects.get(product=product, warehouse=main_warehouse).on_hand == Decimal(
        "12.5"
    )
    move = StockMove.objects.get(product=product)
    assert (move.actor, move.note, move.reason) == (admin_user, "盘点", "adjust")


def test_an_adjustment_cannot_remove_reserved_stock(
    client, admin_user, make_product, main_warehouse
):
    from inventory import services

    client.force_login(admin_user)
    product = make_product(code="ADJ-2")
    services.adjust(warehouse_id=main_warehouse.id, product_id=product.id, quantity=5, actor=None)
    services.reserve(document="order:1", items=[(product.id, Decimal("4"))])

    response = client.post(
        reverse("admin:inventory_stocklevel_adjust"),
        {"warehouse": main_warehouse.id, "product": "ADJ-2", "quantity": "-2", "note": "破损"},
    )

    assert response.status_code == 200
    assert StockLevel.objects.get(product=product).on_hand == Decimal("5")
    assert Product.objects.filter(code="ADJ-2").exists()


def test_the_auditor_sees_who_changed_a_product_when_and_what_before_and_after(
    client, login, admin_user
):
    from inventory.imports import import_products

    import_products(
        source="商品编码,商品名称,条码,单位,零售价\nAUD-1,审计茶,690777,盒,18.00\n".encode(),
        actor=admin_user,
    )
    import_products(
        source="商品编码,商品名称,条码,单位,零售价\nAUD-1,审计茶,690777,盒,19.50\n".encode(),
        filename="price-rise.csv",
        actor=admin_user,
    )
    login("auditor")
    product = Product.objects.get(code="AUD-1")

    client.cookies["django_language"] = "en"
    page = client.get(
        reverse("admin:inventory_product_history", args=[product.pk])
    ).content.decode()

    assert admin_user.username in page
    assert "18.00" in page and "19.50" in page and "&rarr;" in page
    assert "price-rise.csv" in page


def test_the_auditor_sees_every_change_to_sku_relation_components(client, login, mapping):
    reviewer = User.objects.create_user(username="rev2", password="pw", is_staff=True)
    reviewer.groups.add(Group.objects.get(name="reviewer"))
    client.force_login(reviewer)
    product = mapping.components.get().product
    client.post(
        reverse("admin:channels_skumapping_change", args=[mapping.pk]),
        mapping_form(mapping, product, "4"),
    )
    login("auditor")

    page = client.get(reverse("admin:channels_historicalskucomponent_changelist")).content.decode()

    assert "rev2" in page and "4.0000" in page and "1.0000" in page


BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_a_visitor_switches_the_login_page_to_english_and_signs_in(live_server):
    from playwright.sync_api import sync_playwright

    User.objects.create_user(username="auditor1", password="pw-123456", is_staff=True).groups.add(
        Group.objects.get(name="auditor")
    )
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=BROWSER_ARGS)
        try:
            page = browser.new_page(locale="zh-CN")
            page.goto(f"{live_server.url}/admin/inventory/product/")
            assert "/admin/login/" in page.url
            assert "统仓后台" in page.content()

            with page.expect_navigation():
                page.select_option("#language-select", "en")
            assert "tongcang back office" in page.content()

            page.fill("#id_username", "auditor1")
            page.fill("#id_password", "pw-123456")
            page.click("input[type=submit]")
            page.wait_for_url("**/admin/inventory/product/")
            assert "Select product to view" in page.content()
            assert page.locator("#language-select").input_value() == "en"
        finally:
            browser.close()


def test_the_auditor_never_sees_a_shop_secret_and_history_rows_never_hold_one(
    client, login, make_shop
):
    from django.db import connection

    shop = make_shop(code="JD01", platform="jd", credentials={"app_secret": "old-SECRET-1"})
    shop.credentials = {"app_secret": "new-SECRET-2"}
    shop.save()
    login("auditor")

    history = client.get(reverse("admin:channels_shop_history", args=[shop.pk])).content.decode()
    change = client.get(reverse("admin:channels_shop_change", args=[shop.pk])).content.decode()

    versions = [
        client.get(reverse("admin:channels_shop_simple_history", args=[shop.pk, record.pk]))
        for record in shop.history.all()
    ]

    assert "SECRET" not in history and "SECRET" not in change
    assert all(v.status_code == 200 and b"SECRET" not in v.content for v in versions)
    # Stored encrypted, and never copied into the history table.
    with connection.cursor() as cur:
        cur.execute("SELECT credentials FROM channels_shop WHERE id = %s", [shop.pk])
        assert "SECRET" not in cur.fetchone()[0]
        cur.execute("SELECT * FROM channels_historicalshop WHERE id = %s", [shop.pk])
        assert all("SECRET" not in str(row) for row in cur.fetchall())
    shop.refresh_from_db()
    assert shop.credentials == {"app_secret": "new-SECRET-2"}


def test_putting_a_user_in_a_role_lets_them_sign_in_to_the_back_office(db):
    from django.contrib.auth.models import Group, User

    user = User.objects.create_user("new-packer", password="pw-packer-123")
    assert not user.is_staff
    user.groups.add(Group.objects.get(name="warehouse"))
    user.refresh_from_db()
    assert user.is_staff

    other = User.objects.create_user("another", password="pw-another-123")
    Group.objects.get(name="reviewer").user_set.add(other)
    other.refresh_from_db()
    assert other.is_staff
