"""What an ERP client's key may do: its scopes, and the unit codes it is limited to."""

import pytest

from erpbridge import services

from .conftest import ErpApi, iso

pytestmark = pytest.mark.django_db


def message(message_id, items):
    from django.utils import timezone

    return {
        "message_id": message_id,
        "as_of": iso(timezone.now()),
        "items": [{"product_code": c, "quantity": q} for c, q in items],
    }


def key(http, **kwargs):
    client, secret = services.create_client(name=kwargs.pop("name", "k"), **kwargs)
    return ErpApi(http, client.key_id, secret)


def test_each_endpoint_needs_its_scope(client, make_shop, make_product):
    make_shop("TM01", "tmall")
    make_product("A")
    calls = {
        "stock_read": lambda api: api.get("stock?codes=A"),
        "stock_write": lambda api: api.post("stock/incremental", message("M-x", [("A", "1")])),
        "orders": lambda api: api.get("orders?unit_code=TM01"),
        "retail": lambda api: api.post("retail-batches", {"unit_code": "TM01", "kind": "sales"}),
    }
    for n, scope in enumerate(calls):
        api = key(client, name=f"only-{scope}", scopes=[scope])
        for other, call in calls.items():
            if other == "stock_write":
                api_call = lambda a=api, n=n: a.post(  # noqa: E731
                    "stock/incremental", message(f"M-{n}", [("A", "1")])
                )
            else:
                api_call = lambda a=api, c=call: c(a)  # noqa: E731
            response = api_call()
            if other == scope:
                assert response.status_code in (200, 201), (scope, other, response.content)
            else:
                assert response.status_code == 403, (scope, other)
                assert response.json()["error"]["code"] == "forbidden"


def test_a_key_limited_to_one_shop_never_writes_the_main_warehouse(client, make_shop, make_product):
    from inventory.models import StockMove

    make_shop("TM01", "tmall")
    make_product("A")
    api = key(client, name="tm01-only", unit_codes=["TM01"])  # every scope

    incremental = api.post("stock/incremental", message("M1", [("A", "5")]))
    full = api.post("stock/full", message("F1", [("A", "5")]))

    assert (incremental.status_code, full.status_code) == (403, 403)
    assert not StockMove.objects.filter(reason=StockMove.Reason.ERP_SYNC).exists()
    # …while what is its own still works.
    assert api.get("orders?unit_code=TM01").status_code == 200
    assert api.post("retail-batches", {"unit_code": "TM01", "kind": "sales"}).status_code == 201


def test_an_unknown_scope_is_refused_when_the_client_is_created():
    with pytest.raises(ValueError, match="stock_delete"):
        services.create_client(name="x", scopes=["stock_read", "stock_delete"])


def test_the_command_creates_a_client_with_scopes(db):
    from django.core.management import call_command

    from erpbridge.models import ErpClient

    call_command("erp_client", "create", "reader", "--scopes", "stock_read")
    assert ErpClient.objects.get(name="reader").scopes == "stock_read"
