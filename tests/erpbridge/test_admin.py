"""The ERP bridge's admin pages open for an administrator, with what an auditor looks for."""

import pytest

from erpbridge import services
from erpbridge.models import ErpStock, MessageLog, RetailBatch, StockMessage

pytestmark = pytest.mark.django_db


def test_every_erp_admin_page_opens_and_shows_the_exchange(
    admin_client, api, shop, make_product, stock_in, make_shipped_order
):
    a = make_product("A")
    stock_in(a, 5)
    make_shipped_order(shop, [("A", 1, "9.90", [(a, 1)])])
    api.post(
        "stock/incremental",
        {
            "message_id": "M1",
            "as_of": "2026-11-24T09:15:00+08:00",
            "items": [{"product_code": "A", "quantity": "3"}],
        },
    )
    batch, _ = services.next_retail_batch(unit_code="TM01", kind="sales")

    pages = {
        "/admin/erpbridge/erpclient/": "yonyou",
        "/admin/erpbridge/messagelog/": "M1",
        f"/admin/erpbridge/messagelog/{MessageLog.objects.get().pk}/change/": "product_code",
        "/admin/erpbridge/retailbatch/": batch.batch_id,
        f"/admin/erpbridge/retailbatch/{batch.pk}/change/": "9.90",
        "/admin/erpbridge/stockmessage/": "M1",
        f"/admin/erpbridge/stockmessage/{StockMessage.objects.get().pk}/change/": "M1",
        "/admin/erpbridge/erpstock/": "A",
        f"/admin/erpbridge/erpstock/{ErpStock.objects.get().pk}/change/": "3.0000",
    }
    for url, text in pages.items():
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url
    assert RetailBatch.objects.count() == 1


def test_a_search_in_the_message_log_keeps_the_filters(admin_client, api, make_product):
    make_product("A")
    body = {
        "message_id": "M1",
        "as_of": "2026-11-24T09:15:00+08:00",
        "items": [{"product_code": "A", "quantity": "3"}],
    }
    api.post("stock/incremental", body)
    api.post("stock/incremental", body)  # duplicate

    response = admin_client.get(
        "/admin/erpbridge/messagelog/", {"q": '"A"', "result__exact": "duplicate"}
    )

    found = list(response.context["cl"].result_list)
    assert [log.result for log in found] == ["duplicate"]


def test_an_administrator_limits_a_client_to_unit_codes(admin_client, erp_client):
    response = admin_client.post(
        f"/admin/erpbridge/erpclient/{erp_client.pk}/change/",
        {"unit_codes": " TM01, JD01 ,TM01"},
    )
    assert response.status_code == 302
    erp_client.refresh_from_db()
    assert erp_client.unit_codes == "JD01,TM01"


def test_an_auditor_cannot_disable_an_erp_client(client, erp_client, django_user_model):
    from django.contrib.auth.models import Group

    auditor = django_user_model.objects.create_user("audit", password="x", is_staff=True)
    auditor.groups.add(Group.objects.get(name="auditor"))
    client.force_login(auditor)

    page = client.get("/admin/erpbridge/erpclient/").content.decode()
    client.post(
        "/admin/erpbridge/erpclient/",
        {"action": "disable_clients", "_selected_action": [erp_client.pk]},
    )

    assert "disable_clients" not in page
    erp_client.refresh_from_db()
    assert erp_client.enabled
