"""`manage.py erp_client`: the secret printed once, stored only encrypted."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import translation

from erpbridge import auth
from erpbridge.models import ErpClient

pytestmark = pytest.mark.django_db


def run(*args):
    out = StringIO()
    with translation.override("en"):
        call_command("erp_client", *args, stdout=out)
    return out.getvalue()


def test_create_prints_the_key_and_the_secret_on_two_lines(api, client):
    lines = run("create", "yonyou-main", "--unit-codes", "TM01,JD01").splitlines()

    assert lines[0].startswith("key: ") and lines[1].startswith("secret: ")
    key, secret = lines[0][5:], lines[1][8:]
    created = ErpClient.objects.get(name="yonyou-main")
    assert created.key_id == key and created.allowed_unit_codes == {"TM01", "JD01"}
    assert secret not in created.secret_encrypted
    assert auth.decrypt_secret(created.secret_encrypted) == secret
    from .conftest import ErpApi

    assert ErpApi(client, key, secret).get("stock?codes=X").status_code == 200


def test_list_shows_clients_without_their_secrets_and_disable_stops_a_key(api, client):
    lines = run("create", "second").splitlines()
    secret = lines[1][8:]

    listing = run("list")
    assert "second" in listing and "yonyou" in listing and secret not in listing

    assert "second disabled" in run("disable", "second")
    from .conftest import ErpApi

    refused = ErpApi(client, lines[0][5:], secret).get("stock?codes=X")
    assert refused.status_code == 401
    assert "disabled" in run("list")


def test_a_second_client_of_the_same_name_or_an_unknown_one_is_an_error(erp_client):
    with pytest.raises(CommandError):
        run("create", "yonyou")
    with pytest.raises(CommandError):
        run("disable", "nobody")


def test_the_admin_shows_a_new_clients_secret_once_in_the_answer_only(admin_client):
    response = admin_client.post(
        "/admin/erpbridge/erpclient/add/",
        {"name": "from-admin", "unit_codes": "TM01", "scopes": ["orders", "retail"]},
    )
    assert response.status_code == 200  # the page itself, not a redirect to a message
    created = ErpClient.objects.get(name="from-admin")
    assert created.scopes == "orders,retail"
    page = response.content.decode()
    secret = auth.decrypt_secret(created.secret_encrypted)
    assert secret in page and created.key_id in page
    assert "no-store" in response["Cache-Control"]
    # Never in a cookie nor in a message kept for the next page.
    assert all(secret not in morsel.value for morsel in response.cookies.values())
    assert all(secret not in morsel.value for morsel in admin_client.cookies.values())
    following = admin_client.get("/admin/erpbridge/erpclient/").content.decode()
    assert secret not in following
    from django.contrib.sessions.models import Session

    assert all(secret not in str(s.get_decoded()) for s in Session.objects.all())
    detail = admin_client.get(f"/admin/erpbridge/erpclient/{created.pk}/change/").content.decode()
    assert secret not in detail and created.key_id in detail
