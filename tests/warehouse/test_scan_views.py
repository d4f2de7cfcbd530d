import json

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from orders.models import Order
from orders.services import printing

pytestmark = pytest.mark.django_db


@pytest.fixture
def printed(make_order, stocked_product, worker):
    cup = stocked_product("保温杯", barcode="6901234567892")
    order = make_order([(cup, 2, "59.00")])
    printing.print_waybills(orders=[order], actor=worker)
    order.refresh_from_db()
    return order, cup


@pytest.fixture
def client_of(worker):
    def make(user=worker, **kwargs):
        client = Client(**kwargs)
        client.force_login(user)
        return client

    return make


def post(client, name, body):
    response = client.post(reverse(name), json.dumps(body), content_type="application/json")
    return response.status_code, response.json()


def test_the_scan_page_is_for_the_warehouse_group(client_of, db):
    outsider = User.objects.create_user("cs", password="x")
    assert client_of().get(reverse("warehouse:scan")).status_code == 200
    assert client_of(outsider).get(reverse("warehouse:scan")).status_code == 403
    anonymous = Client().get(reverse("warehouse:scan"))
    assert anonymous.status_code == 302 and "/admin/login/" in anonymous["Location"]


def test_a_post_without_the_csrf_token_is_refused(client_of, printed):
    order, _cup = printed
    client = client_of(enforce_csrf_checks=True)
    response = client.post(
        reverse("warehouse:open_order"),
        json.dumps({"code": order.tracking_no}),
        content_type="application/json",
    )
    assert response.status_code == 403


def test_scanning_the_waybill_then_the_items_verifies_and_shipping_ships(
    client_of, printed, worker
):
    order, cup = printed
    client = client_of()

    status, body = post(client, "warehouse:open_order", {"code": order.tracking_no})
    assert status == 200 and body["order"]["order_no"] == order.order_no
    assert body["items"][0]["expected"] == 2 and body["items"][0]["missing"] == 2

    status, body = post(
        client, "warehouse:scan_item", {"order_id": order.pk, "scanned": {}, "code": cup.barcode}
    )
    assert status == 200 and body["scanned"] == {cup.barcode: 1} and not body["complete"]
    status, body = post(
        client,
        "warehouse:scan_item",
        {"order_id": order.pk, "scanned": body["scanned"], "code": cup.barcode},
    )
    assert body["complete"] and body["order"]["status"] == "verified"

    status, body = post(client, "warehouse:ship", {"order_id": order.pk})
    assert status == 200 and body["order"]["status"] == "shipped"
    order.refresh_from_db()
    assert order.status == Order.Status.SHIPPED


def test_a_wrong_item_answers_an_error_and_changes_nothing(client_of, printed):
    order, cup = printed
    status, body = post(
        client_of(),
        "warehouse:scan_item",
        {"order_id": order.pk, "scanned": {cup.barcode: 1}, "code": "6900000000000"},
    )
    assert status == 409 and body["error"]["code"] == "wrong_item"
    order.refresh_from_db()
    assert order.status == Order.Status.PRINTED


def test_a_crafted_post_with_a_client_side_count_cannot_verify_an_order(client_of, printed):
    order, cup = printed
    client = client_of()
    post(client, "warehouse:open_order", {"code": order.tracking_no})

    # The order needs 2 cups; the request claims one was scanned already and scans one.
    status, body = post(
        client,
        "warehouse:scan_item",
        {"order_id": order.pk, "scanned": {cup.barcode: 1}, "code": cup.barcode},
    )

    assert status == 200 and body["scanned"] == {cup.barcode: 1} and not body["complete"]
    order.refresh_from_db()
    assert order.status == Order.Status.PRINTED
    # Without opening the order first, the count starts at zero too.
    status, body = post(
        client_of(),
        "warehouse:scan_item",
        {"order_id": order.pk, "scanned": {cup.barcode: 9}, "code": cup.barcode},
    )
    assert body["scanned"] == {cup.barcode: 2} and body["complete"]


def test_each_packer_counts_their_own_parcel(client_of, printed, worker):
    from django.contrib.auth.models import Group

    order, cup = printed
    other = User.objects.create_user("packer2", password="pw-packer-2")
    other.groups.add(Group.objects.get(name="warehouse"))
    post(client_of(), "warehouse:scan_item", {"order_id": order.pk, "code": cup.barcode})

    status, body = post(
        client_of(other), "warehouse:scan_item", {"order_id": order.pk, "code": cup.barcode}
    )

    assert body["scanned"] == {cup.barcode: 1}
    order.refresh_from_db()
    assert order.status == Order.Status.PRINTED


def test_the_next_waybill_is_refused_while_a_verified_parcel_waits_to_ship(
    client_of, printed, make_order, stocked_product, worker
):
    order, cup = printed
    nxt = make_order([(stocked_product("雨伞"), 1, "30.00")])
    printing.print_waybills(orders=[nxt], actor=worker)
    nxt.refresh_from_db()
    client = client_of()
    for _ in range(2):
        post(client, "warehouse:scan_item", {"order_id": order.pk, "code": cup.barcode})

    status, body = post(client, "warehouse:open_order", {"code": nxt.tracking_no})
    assert status == 409 and body["error"]["code"] == "verified_not_shipped"
    status, body = post(
        client, "warehouse:scan_item", {"order_id": order.pk, "code": nxt.tracking_no}
    )
    assert body["error"]["code"] == "verified_not_shipped"
    status, body = post(client, "warehouse:scan_item", {"order_id": order.pk, "code": cup.barcode})
    assert body["error"]["code"] == "too_many"

    post(client, "warehouse:ship", {"order_id": order.pk})
    status, body = post(client, "warehouse:open_order", {"code": nxt.tracking_no})
    assert status == 200 and body["order"]["order_no"] == nxt.order_no


def test_a_user_without_the_ship_permission_cannot_ship(db, printed):
    from django.contrib.auth.models import Permission

    order, _cup = printed
    checker = User.objects.create_user("checker")
    checker.user_permissions.add(Permission.objects.get(codename="verify_order"))
    client = Client()
    client.force_login(checker)
    status, body = post(client, "warehouse:ship", {"order_id": order.pk})
    assert status == 403 and body["error"]["code"] == "forbidden"


def test_garbage_in_the_request_gets_a_clear_error(client_of, printed):
    client = client_of()
    response = client.post(reverse("warehouse:scan_item"), "not json", content_type="text/plain")
    assert response.status_code == 400 and response.json()["error"]["code"] == "bad_request"
    status, body = post(client, "warehouse:scan_item", {"order_id": "x", "code": "1"})
    assert status == 409 and body["error"]["code"] == "unknown_order"


def test_a_shipment_postgresql_aborts_for_a_deadlock_is_run_again_and_ships_once(
    client_of, printed, worker, monkeypatch
):
    """The first attempt ships, then PostgreSQL aborts the transaction (a deadlock with an intake
    batch): nothing of it is kept, the view runs it again, the packer sees "shipped", and the
    stock leaves once."""
    import psycopg
    from django.db import OperationalError

    from channels.models import OutboxMessage
    from inventory.models import StockMove
    from orders.services import shipping

    order, cup = printed
    client = client_of()
    post(client, "warehouse:open_order", {"code": order.tracking_no})
    for _piece in range(2):
        post(client, "warehouse:scan_item", {"order_id": order.pk, "code": cup.barcode})
    real, attempts = shipping.ship_order, []

    def ship_then_deadlock(**kwargs):
        attempts.append(1)
        shipped = real(**kwargs)
        if len(attempts) == 1:
            raise OperationalError("deadlock detected") from psycopg.errors.DeadlockDetected()
        return shipped

    monkeypatch.setattr(shipping, "ship_order", ship_then_deadlock)

    status, body = post(client, "warehouse:ship", {"order_id": order.pk})

    assert status == 200 and body["order"]["status"] == "shipped" and len(attempts) == 2
    shipped_out = StockMove.objects.filter(document=order.document, reason=StockMove.Reason.SHIP)
    assert [m.quantity for m in shipped_out] == [-2]
    assert OutboxMessage.objects.filter(kind=OutboxMessage.Kind.SHIPMENT).count() == 1
