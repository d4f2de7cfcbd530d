"""Stock in: the ERP's quantity as of its as_of, reconciled with what it has not extracted."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from channels.models import SellableQuantity, SkuComponent, SkuMapping
from erpbridge.models import ErpStock, MessageLog, StockMessage
from inventory.models import StockMove
from inventory.selectors import ledger_mismatches

from .conftest import iso, on_hand

pytestmark = pytest.mark.django_db


def message(message_id, items, as_of=None):
    return {
        "message_id": message_id,
        "as_of": iso(as_of or timezone.now()),
        "items": [{"product_code": c, "quantity": q} for c, q in items],
    }


def test_an_incremental_message_sets_the_erp_quantity_through_the_ledger(
    api, make_product, stock_in
):
    a, b = make_product("A"), make_product("B")
    stock_in(a, 3)
    response = api.post("stock/incremental", message("M1", [("A", "12.5000"), ("B", "7")]))

    assert response.status_code == 200
    assert response.json() == {
        "message_id": "M1",
        "status": "applied",
        "applied": 2,
        "stale": [],
        "unknown_products": [],
        "negative": [],
    }
    assert (on_hand(a), on_hand(b)) == (Decimal("12.5"), Decimal("7"))
    sync = StockMove.objects.get(product=a, reason=StockMove.Reason.ERP_SYNC)
    assert (sync.quantity, sync.document) == (Decimal("9.5"), "erp:M1")
    assert ledger_mismatches() == []


def test_shipped_and_returned_goods_the_erp_has_not_extracted_are_reconciled(
    api, make_product, stock_in, shop, make_shipped_order, make_received_return
):
    a = make_product("A")
    stock_in(a, 10)
    order = make_shipped_order(shop, [("SKU-A", 3, "30.00", [(a, 1)])])
    make_received_return(order, [(order.lines.get(), 1, "10.00", [(a, 1, "main")])])
    make_received_return(order, [(order.lines.get(), 1, "10.00", [(a, 1, "defective")])])
    assert on_hand(a) == Decimal("8")

    # The ERP still counts 20 because it has extracted neither the order nor the return.
    api.post("stock/incremental", message("M1", [("A", "20")]))

    assert on_hand(a) == Decimal("20") - 3 + 1
    assert ledger_mismatches() == []


def test_records_acknowledged_before_as_of_are_no_longer_reconciled(
    api, make_product, stock_in, shop, make_shipped_order
):
    a = make_product("A")
    stock_in(a, 10)
    make_shipped_order(shop, [("SKU-A", 3, "30.00", [(a, 1)])])
    before_ack = timezone.now()
    batch = api.post("retail-batches", {"unit_code": "TM01", "kind": "sales"}).json()
    api.post(f"retail-batches/{batch['batch_id']}/ack")

    # A quantity as of before the acknowledgement does not know the shipment yet.
    api.post("stock/incremental", message("M1", [("A", "10")], as_of=before_ack))
    assert on_hand(a) == Decimal("7")
    # A later quantity already has it deducted by the ERP itself.
    api.post("stock/incremental", message("M2", [("A", "7")]))
    assert on_hand(a) == Decimal("7")


def test_a_message_applied_before_answers_its_first_answer_and_changes_nothing(api, make_product):
    a = make_product("A")
    first = api.post("stock/incremental", message("M1", [("A", "5"), ("ZZ", "1")])).json()

    again = api.post("stock/incremental", message("M1", [("A", "99")]))

    assert again.status_code == 200
    assert again.json() == first | {"status": "duplicate"}
    assert on_hand(a) == Decimal("5")
    assert list(MessageLog.objects.order_by("id").values_list("result", flat=True)) == [
        "applied",
        "duplicate",
    ]


def test_a_quantity_older_than_the_one_applied_is_skipped_as_stale(api, make_product):
    a, b = make_product("A"), make_product("B")
    now = timezone.now()
    api.post("stock/incremental", message("M2", [("A", "5")], as_of=now))

    late = api.post(
        "stock/incremental",
        message("M1", [("A", "3"), ("B", "4")], as_of=now - timedelta(minutes=15)),
    ).json()

    assert late["stale"] == ["A"] and late["applied"] == 1
    assert (on_hand(a), on_hand(b)) == (Decimal("5"), Decimal("4"))
    assert ErpStock.objects.get(product=a).quantity == Decimal("5")


def test_unknown_products_are_reported_and_the_rest_applied(api, make_product):
    a = make_product("A")
    answer = api.post("stock/incremental", message("M1", [("NOPE", "1"), ("A", "2")])).json()
    assert answer["unknown_products"] == ["NOPE"]
    assert on_hand(a) == Decimal("2")


def test_a_full_snapshot_sets_unlisted_products_to_zero(api, make_product, stock_in):
    a, b, c = make_product("A"), make_product("B"), make_product("C")
    for p in (a, b, c):
        stock_in(p, 10)

    answer = api.post("stock/full", message("F1", [("A", "4"), ("B", "6")])).json()

    assert answer["status"] == "applied"
    assert (on_hand(a), on_hand(b), on_hand(c)) == (4, 6, 0)
    assert ErpStock.objects.get(product=c).quantity == 0


def test_a_full_snapshot_zeroing_more_than_half_the_stocked_products_is_refused(
    api, make_product, stock_in
):
    products = [make_product(f"P{i}") for i in range(4)]
    for p in products:
        stock_in(p, 10)

    response = api.post("stock/full", message("F1", [("P0", "4")]))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "suspicious_snapshot"
    assert [on_hand(p) for p in products] == [10] * 4
    assert not StockMessage.objects.exists() and not ErpStock.objects.exists()
    log = MessageLog.objects.get(message_id="F1")
    assert log.result == MessageLog.Result.REFUSED and '"P0"' in log.request_body


def test_exactly_half_zeroed_is_accepted_and_the_share_is_configurable(
    api, make_product, stock_in, settings
):
    products = [make_product(f"P{i}") for i in range(4)]
    for p in products:
        stock_in(p, 10)
    assert api.post("stock/full", message("F1", [("P0", "1"), ("P1", "1")])).status_code == 200

    settings.ERP_SUSPICIOUS_SNAPSHOT_SHARE = "0.2"
    for p in products:
        stock_in(p, 1)
    response = api.post("stock/full", message("F2", [("P0", "1"), ("P1", "1"), ("P2", "1")]))
    assert response.status_code == 409


def test_an_administrator_accepts_a_refused_snapshot_from_the_message_log(
    api, make_product, stock_in, admin_client, admin_user
):
    products = [make_product(f"P{i}") for i in range(3)]
    for p in products:
        stock_in(p, 10)
    api.post("stock/full", message("F1", [("P0", "4")]))
    log = MessageLog.objects.get(message_id="F1")

    response = admin_client.post(
        "/admin/erpbridge/messagelog/",
        {"action": "accept_snapshots", "_selected_action": [log.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert [on_hand(p) for p in products] == [4, 0, 0]
    log.refresh_from_db()
    assert (log.result, log.accepted_by) == (MessageLog.Result.ACCEPTED, admin_user)
    assert StockMessage.objects.get(message_id="F1").applied_by == admin_user
    # The ERP sending it again now gets the accepted answer, without effect.
    again = api.post("stock/full", message("F1", [("P0", "4")]))
    assert again.status_code == 200 and again.json()["status"] == "duplicate"


def test_an_auditor_sees_and_searches_the_message_log_but_cannot_accept(
    api, make_product, stock_in, client, django_user_model
):
    from django.contrib.auth.models import Group

    products = [make_product(f"P{i}") for i in range(3)]
    for p in products:
        stock_in(p, 10)
    api.post("stock/full", message("F1", [("P0", "4")]))
    auditor = django_user_model.objects.create_user("audit", password="x", is_staff=True)
    auditor.groups.add(Group.objects.get(name="auditor"))
    client.force_login(auditor)

    page = client.get("/admin/erpbridge/messagelog/", {"q": "P0"})
    assert page.status_code == 200 and "F1" in page.content.decode()
    assert "accept_snapshots" not in page.content.decode()
    client.post(
        "/admin/erpbridge/messagelog/",
        {"action": "accept_snapshots", "_selected_action": [MessageLog.objects.get().pk]},
    )
    assert [on_hand(p) for p in products] == [10, 10, 10]


@pytest.mark.parametrize(
    "body, code",
    [
        (b"not json", "invalid_json"),
        (b"", "invalid_json"),
        (b"[]", "invalid_request"),
        (b'{"as_of": "2026-11-24T09:15:00+08:00", "items": []}', "invalid_request"),
        (b'{"message_id": "X", "as_of": "2026-11-24T09:15:00", "items": []}', "invalid_request"),
        (b'{"message_id": "X", "as_of": "yesterday", "items": []}', "invalid_request"),
        (
            b'{"message_id": "X", "as_of": "2099-01-01T00:00:00+08:00", "items": []}',
            "invalid_request",
        ),
        (b'{"message_id": "X", "as_of": "2026-11-24T09:15:00+08:00"}', "invalid_request"),
        (
            b'{"message_id": "X", "as_of": "2026-11-24T09:15:00+08:00", "items": [{"product_code": "A", "quantity": 5}]}',
            "invalid_request",
        ),
        (
            b'{"message_id": "X", "as_of": "2026-11-24T09:15:00+08:00", "items": [{"product_code": "A", "quantity": "1e3"}]}',
            "invalid_request",
        ),
        (
            b'{"message_id": "X", "as_of": "2026-11-24T09:15:00+08:00", "items": [{"product_code": "A", "quantity": "1.00001"}]}',
            "invalid_request",
        ),
        (
            b'{"message_id": "X", "as_of": "2026-11-24T09:15:00+08:00", "items": [{"quantity": "1"}]}',
            "invalid_request",
        ),
        (
            b'{"message_id": "X", "as_of": "2026-11-24T09:15:00+08:00", "items": [{"product_code": "A", "quantity": "1"}, {"product_code": "A", "quantity": "2"}]}',
            "invalid_request",
        ),
    ],
)
def test_a_message_off_the_contract_gets_400_and_changes_nothing(api, make_product, body, code):
    a = make_product("A")
    response = api.post("stock/incremental", body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["message"]
    assert on_hand(a) == 0 and not StockMessage.objects.exists()


def test_a_get_on_a_stock_message_endpoint_is_405(api):
    response = api.get("stock/full")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"


def test_an_unknown_path_is_a_json_404(api):
    response = api.get("nothing-here")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


def test_applied_stock_recomputes_the_sellable_quantity_of_the_shops(
    api, make_product, shop, django_capture_on_commit_callbacks
):
    a = make_product("A")
    mapping = SkuMapping.objects.create(shop=shop, platform_sku="SKU-A2")
    SkuComponent.objects.create(mapping=mapping, product=a, quantity=Decimal("2"))
    with django_capture_on_commit_callbacks(execute=True):
        api.post("stock/incremental", message("M1", [("A", "9")]))
    assert SellableQuantity.objects.get(mapping=mapping).quantity == 4


def test_stock_out_lists_both_warehouses_with_the_erp_quantity(
    api, make_product, stock_in, defective_warehouse
):
    a = make_product("A")
    make_product("B")
    stock_in(a, 2, defective_warehouse)
    api.post("stock/incremental", message("M1", [("A", "5")], as_of=timezone.now()))

    body = api.get("stock?codes=A,B,NOPE").json()

    assert body["unknown_products"] == ["NOPE"]
    rows = {(i["product_code"], i["warehouse"]): i for i in body["items"]}
    assert rows[("A", "main")]["on_hand"] == "5.0000"
    assert rows[("A", "main")]["erp_quantity"] == "5.0000"
    assert rows[("A", "main")]["erp_as_of"].endswith("+08:00")
    assert rows[("A", "defective")]["available"] == "2.0000"
    assert rows[("B", "main")] | {} == {
        "product_code": "B",
        "warehouse": "main",
        "on_hand": "0.0000",
        "reserved": "0.0000",
        "available": "0.0000",
        "erp_quantity": None,
        "erp_as_of": None,
    }


def test_stock_out_pages_every_product_with_a_cursor(api, make_product):
    from inventory.models import Product

    Product.objects.bulk_create([Product(code=f"X{i:05d}", name="x") for i in range(1001)])
    first = api.get("stock").json()
    assert len(first["items"]) == 2000 and first["next_cursor"]
    second = api.get(f"stock?cursor={first['next_cursor']}").json()
    assert len(second["items"]) == 2 and second["next_cursor"] is None


def test_stock_out_refuses_more_than_1000_codes_and_a_forged_cursor(api):
    codes = ",".join(f"P{i}" for i in range(1001))
    assert api.get(f"stock?codes={codes}").json()["error"]["code"] == "invalid_request"
    assert api.get("stock?cursor=garbage").status_code == 400


def test_a_snapshot_that_agrees_with_tongcang_writes_nothing_to_the_ledger(
    api, make_product, stock_in, shop, make_shipped_order
):
    a, b = make_product("A"), make_product("B")
    stock_in(a, 10)
    stock_in(b, 4)
    make_shipped_order(shop, [("A", 3, "3.00", [(a, 1)])])
    moves = StockMove.objects.count()

    # The ERP still counts the 3 shipped but not extracted: 10 for A, and 4 for B.
    answer = api.post("stock/full", message("F1", [("A", "10"), ("B", "4")])).json()

    assert answer["applied"] == 2
    assert StockMove.objects.count() == moves
    assert (on_hand(a), on_hand(b)) == (7, 4)
    assert ErpStock.objects.get(product=a).quantity == 10


def test_a_negative_erp_quantity_is_recorded_but_physical_stock_stops_at_zero(
    api, make_product, stock_in
):
    a, b, c = make_product("A"), make_product("B"), make_product("C")
    stock_in(a, 5)
    stock_in(b, 5)

    response = api.post(
        "stock/incremental", message("M1", [("A", "-2.5000"), ("B", "3"), ("C", "-1")])
    )

    assert response.status_code == 200
    assert response.json()["negative"] == ["A", "C"]
    assert (on_hand(a), on_hand(b), on_hand(c)) == (0, 3, 0)
    assert ErpStock.objects.get(product=a).quantity == Decimal("-2.5")
    assert ErpStock.objects.get(product=c).quantity == Decimal("-1")
    assert ledger_mismatches() == []
    stock = api.get("stock?codes=A").json()["items"]
    main = next(i for i in stock if i["warehouse"] == "main")
    assert (main["on_hand"], main["erp_quantity"]) == ("0.0000", "-2.5000")


def test_a_positive_erp_quantity_below_what_it_has_not_extracted_leaves_zero(
    api, make_product, stock_in, shop, make_shipped_order
):
    a = make_product("A")
    stock_in(a, 5)
    make_shipped_order(shop, [("SKU-A", 4, "40", [(a, 1)])])  # on hand 1, not extracted 4

    response = api.post("stock/incremental", message("M1", [("A", "2")]))

    assert response.json()["negative"] == []
    assert on_hand(a) == 0  # 2 − 4 would be −2


def test_more_stock_from_the_erp_signals_that_held_orders_may_now_be_allocated(
    api, make_product, stock_in, django_capture_on_commit_callbacks
):
    from inventory.signals import stock_changed

    a, b = make_product("A"), make_product("B")
    stock_in(a, 1)
    stock_in(b, 1)
    received = []

    def listener(sender, product_ids, warehouse_ids, grew, **kwargs):
        received.append((set(product_ids), grew))

    stock_changed.connect(listener)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            api.post("stock/incremental", message("M1", [("A", "6"), ("B", "1")]))
    finally:
        stock_changed.disconnect(listener)

    assert received == [({a.id}, True)]


def test_error_messages_are_chinese_by_default_and_english_on_request(api):
    chinese = api.post("stock/incremental", b"[]").json()["error"]["message"]
    english = api.post("stock/incremental", b"[]", headers={"Accept-Language": "en"}).json()[
        "error"
    ]["message"]
    assert chinese == "请求内容必须是JSON对象"
    assert english == "the body must be a JSON object"


def test_a_full_snapshot_queues_a_full_push_to_the_platforms(
    api, make_product, stock_in, django_capture_on_commit_callbacks
):
    from django_q.models import OrmQ

    stock_in(make_product(code="A"), 5)
    with django_capture_on_commit_callbacks(execute=True):
        api.post("stock/incremental", message("I1", [("A", "4")]))
    # an incremental message only changes stock: its push goes out within seconds, no full push
    queued = [q.task["func"] for q in OrmQ.objects.order_by("id")]
    assert queued == ["platformsync.tasks.push_stock_soon"]

    with django_capture_on_commit_callbacks(execute=True):
        api.post("stock/full", message("F1", [("A", "4")]))

    queued = [q.task["func"] for q in OrmQ.objects.order_by("id")]
    assert queued == ["platformsync.tasks.push_stock_soon", "platformsync.tasks.full_stock_push"]
