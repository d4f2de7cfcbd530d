"""The kiosk (a device by its token: its own store's catalogue, prices, unpaid orders only)
and the counter page (a store's guides, on their own store's orders only)."""

import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client

from orders.models import Order, Payment
from stores import services

from .conftest import put

pytestmark = pytest.mark.django_db


@pytest.fixture
def device(store, manager):
    return services.register_device(store=store, name="试衣间旁", actor=manager)


@pytest.fixture
def kiosk(device):
    client = Client()
    response = client.get(f"/store/kiosk/start/?token={device[1]}")
    assert response.status_code == 302
    return client


def post(client, url, body, **extra):
    return client.post(url, json.dumps(body), content_type="application/json", **extra)


def test_a_device_token_is_stored_only_as_its_hash(device):
    dev, token = device
    assert token not in (dev.token_hash, dev.token_hint)
    assert dev.token_hash == services.hash_token(token)


def test_the_kiosk_page_shows_the_stores_catalogue(kiosk, stocked, other_store, make_product):
    foreign = make_product(
        "OTHER-1",
        name="别店商品",
        style_code="OT01",
        colour="红",
        size="M",
        list_price=Decimal("5"),
    )
    put(other_store.sample_location_id, [(foreign, 1)])
    page = kiosk.get("/store/kiosk/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "TX2601" in text and "纯棉圆领T恤" in text
    assert "OT01" not in text


def test_scanning_a_sample_tag_opens_its_style_grid(kiosk, stocked):
    found = kiosk.get("/store/kiosk/api/scan/", {"code": "6926001S"}).json()
    assert found == {"ok": True, "style": "TX2601"}
    grid = kiosk.get("/store/kiosk/api/style/TX2601/").json()["grid"]
    assert grid["colours"] == ["白色", "黑色"] and grid["sizes"] == ["S", "M", "L"]
    assert grid["cells"]["白色|S"] == {
        "code": "TX2601-01-S",
        "name": "纯棉圆领T恤 白色 S",
        "price": "99.00",
        "store": 2,
        "main": 10,
    }
    assert grid["cells"]["黑色|L"]["store"] == 0


def test_the_kiosk_cannot_see_another_stores_style(kiosk, stocked, other_store, make_product):
    foreign = make_product(
        "OTHER-1",
        name="别店商品",
        style_code="OT01",
        colour="红",
        size="M",
        list_price=Decimal("5"),
    )
    put(other_store.sample_location_id, [(foreign, 1)])
    assert kiosk.get("/store/kiosk/api/style/OT01/").status_code == 404
    assert kiosk.get("/store/kiosk/api/scan/", {"code": "OTHER-1"}).status_code == 404


def test_a_revoked_or_unknown_token_is_refused(kiosk, device, stocked, manager):
    services.revoke_device(device=device[0], actor=manager)
    assert kiosk.get("/store/kiosk/").status_code == 403
    response = post(kiosk, "/store/kiosk/api/order/", {"lines": [], "fulfilment": "takeaway"})
    assert response.status_code == 401
    assert Client().get("/store/kiosk/start/?token=nope").status_code == 403
    assert not Order.objects.exists()


def test_the_kiosk_prices_a_cart_and_ignores_a_tampered_price(kiosk, stocked):
    lines = [{"code": "TX2601-01-S", "quantity": 2, "unit_price": "0.01", "amount": "0.02"}]
    quote = post(kiosk, "/store/kiosk/api/quote/", {"lines": lines}).json()["quote"]
    assert quote["total"] == "198.00"
    created = post(
        kiosk, "/store/kiosk/api/order/", {"lines": lines, "fulfilment": "takeaway"}
    ).json()
    assert created["ok"] and created["total"] == "198.00"
    assert created["qr"].startswith("<svg")
    order = Order.objects.get(order_no=created["order_no"])
    assert order.total_amount == Decimal("198.00") and order.paid_at is None


def test_the_kiosk_refusals_are_clear_and_write_nothing(kiosk, stocked, store):
    short = post(
        kiosk,
        "/store/kiosk/api/order/",
        {"lines": [{"code": "TX2601-02-S", "quantity": 1}], "fulfilment": "takeaway"},
    )
    assert short.status_code == 409 and short.json()["error"]["code"] == "short"
    sample = post(
        kiosk,
        "/store/kiosk/api/order/",
        {
            "lines": [{"code": "TX2601-01-S", "quantity": 1}],
            "fulfilment": "takeaway",
            "location": store.sample_location.code,
        },
    )
    assert sample.status_code == 400 and sample.json()["error"]["code"] == "sample"
    assert post(kiosk, "/store/kiosk/api/order/", []).status_code == 400
    assert not Order.objects.exists()


def test_the_counter_is_for_the_stores_own_staff_and_orders(
    kiosk, stocked, store, other_store, guide
):
    created = post(
        kiosk,
        "/store/kiosk/api/order/",
        {"lines": [{"code": "TX2601-01-S", "quantity": 1}], "fulfilment": "takeaway"},
    ).json()
    own = Client()
    own.force_login(guide)
    page = own.get("/store/counter/")
    assert page.status_code == 200 and created["order_no"] in page.content.decode()

    stranger = User.objects.create_user("guide2", password="x-pass-12345")
    services.add_staff(store=other_store, user=stranger, role="store_guide")
    other = Client()
    other.force_login(stranger)
    assert created["order_no"] not in other.get("/store/counter/").content.decode()
    assert other.get(f"/store/counter/order/{created['order_no']}/").status_code == 404
    response = other.post(
        f"/store/counter/order/{created['order_no']}/pay/",
        {"method": "cash", "amount": "99.00"},
    )
    assert response.status_code == 404
    assert not Payment.objects.exists()

    nobody = Client()
    nobody.force_login(User.objects.create_user("clerk", password="x-pass-12345"))
    assert nobody.get("/store/counter/").status_code == 403


def test_the_counter_takes_payment_and_hands_over(kiosk, stocked, guide):
    created = post(
        kiosk,
        "/store/kiosk/api/order/",
        {"lines": [{"code": "TX2601-01-S", "quantity": 1}], "fulfilment": "takeaway"},
    ).json()
    counter = Client()
    counter.force_login(guide)
    no = created["order_no"]
    assert counter.get("/store/counter/", {"open": no}).status_code == 302
    counter.post(f"/store/counter/order/{no}/pay/", {"method": "cash", "amount": "99.00"})
    counter.post(f"/store/counter/order/{no}/handover/")
    order = Order.objects.get(order_no=no)
    assert order.status == Order.Status.SHIPPED and order.guide_id == guide.pk
    receipt = counter.get(f"/store/counter/order/{no}/receipt.pdf")
    assert receipt.status_code == 200 and receipt.content.startswith(b"%PDF")


def test_the_receipt_escapes_product_names(store, stocked, guide, make_product):
    import io

    from pypdf import PdfReader

    from stores.pdf.receipt import receipt_pdf

    odd = make_product("ODD-1", name="<b>限量</b> & <款", list_price=Decimal("10.00"))
    put(store.location_id, [(odd, 1)])
    order = services.place_order(
        store=store,
        lines=[{"code": "ODD-1", "quantity": 1}],
        fulfilment="pickup",
        customer={"name": "王", "phone": "13800001234"},
        actor=guide,
    )
    services.take_payment(order=order, store=store, method="cash", amount="10.00", actor=guide)
    order.refresh_from_db()
    pdf = receipt_pdf(order, store)
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    assert order.pickup_code in text and order.order_no in text
    assert "<b>限量</b> & <款" in text


def test_store_staff_see_no_other_orders_in_the_back_office(store, guide, manager):
    for user in (guide, manager):
        user.is_staff = True
        user.save()
        client = Client()
        client.force_login(user)
        assert client.get("/admin/orders/order/").status_code == 403
        assert client.get("/admin/returns/returnorder/").status_code == 403
        assert client.get("/admin/stores/store/").status_code == 200


def test_a_manager_registers_a_kiosk_in_the_admin_and_sees_the_token_once(
    store, other_store, manager
):
    from stores.models import KioskDevice

    services.register_device(store=other_store, name="别店设备", actor=None)
    manager.is_staff = True
    manager.save()
    client = Client()
    client.force_login(manager)
    response = client.post(
        "/admin/stores/kioskdevice/add/", {"store": store.pk, "name": "门口"}, follow=True
    )
    text = response.content.decode()
    device = KioskDevice.objects.get(name="门口")
    token = text.split("/store/kiosk/start/?token=")[1].split("<")[0].split()[0]
    assert services.device_for_token(token) == device
    listing = client.get("/admin/stores/kioskdevice/").content.decode()
    assert "门口" in listing and "别店设备" not in listing
    assert token not in listing
    refused = client.post("/admin/stores/kioskdevice/add/", {"store": other_store.pk, "name": "x"})
    assert refused.status_code == 200  # the form refuses a store that is not theirs
    assert not KioskDevice.objects.filter(name="x").exists()


def test_a_return_at_the_counter_is_received_into_the_store(kiosk, stocked, store, guide):
    from django.contrib.auth.models import Group

    from returns.models import ReturnOrder
    from returns.services import approve_return

    from .conftest import level

    created = post(
        kiosk,
        "/store/kiosk/api/order/",
        {"lines": [{"code": "TX2601-01-S", "quantity": 2}], "fulfilment": "takeaway"},
    ).json()
    no = created["order_no"]
    counter = Client()
    counter.force_login(guide)
    counter.post(f"/store/counter/order/{no}/pay/", {"method": "cash", "amount": "198.00"})
    counter.post(f"/store/counter/order/{no}/handover/")
    line = Order.objects.get(order_no=no).lines.get()
    asked = {f"qty_{line.pk}": "1", "reason": "偏大"}
    shown = counter.post(f"/store/counter/order/{no}/return/", asked)
    assert 'id="refund-amount">99.00<' in shown.content.decode()  # shown first, not created
    assert not ReturnOrder.objects.exists()
    counter.post(
        f"/store/counter/order/{no}/return/", {**asked, "confirm": "1", "expected_refund": "99.00"}
    )
    ro = ReturnOrder.objects.get()
    assert ro.refund_amount == Decimal("99.00")
    reviewer = User.objects.create_user("rev", password="x-pass-12345")
    reviewer.groups.add(Group.objects.get(name="after_sales_reviewer"))
    approve_return(return_order=ro, actor=reviewer)
    assert ro.return_no in counter.get("/store/counter/").content.decode()
    counter.post(f"/store/counter/return/{ro.return_no}/", {"into": "store"})
    ro.refresh_from_db()
    assert ro.status == ReturnOrder.Status.RECEIVED
    assert level(store.location_id, stocked["TX2601-01-S"]) == (1, 0)


def test_the_stores_order_list_shows_its_three_fulfilments_and_filters_them(
    store, other_store, stocked, guide, clock
):
    made = {
        f: services.place_order(
            store=store,
            lines=[{"code": "TX2601-01-S", "quantity": 1}],
            fulfilment=f,
            customer={
                "name": "张三",
                "phone": "13800001234",
                "province": "上海市",
                "city": "上海市",
                "address": "长寿路9号",
            },
            actor=guide,
        )
        for f in ("takeaway", "pickup", "delivery")
    }
    counter = Client()
    counter.force_login(guide)
    text = counter.get("/store/counter/orders/").content.decode()
    assert all(o.order_no in text for o in made.values())
    only = counter.get("/store/counter/orders/", {"fulfilment": "pickup"}).content.decode()
    assert made["pickup"].order_no in only and made["delivery"].order_no not in only


def test_a_style_that_arrives_shows_in_the_catalogue_at_once(
    kiosk, stocked, store, make_product, django_capture_on_commit_callbacks
):
    assert "NEW26" not in kiosk.get("/store/kiosk/").content.decode()
    new = make_product(
        "NEW26-01-M",
        name="新款 白色 M",
        style_code="NEW26",
        colour="白色",
        size="M",
        list_price=Decimal(1),
    )
    with django_capture_on_commit_callbacks(execute=True):  # the receipt commits
        put(store.sample_location_id, [(new, 1)])
    assert "NEW26" in kiosk.get("/store/kiosk/").content.decode()
    assert "NEW26" in kiosk.get("/store/kiosk/", {"q": "new"}).content.decode()
