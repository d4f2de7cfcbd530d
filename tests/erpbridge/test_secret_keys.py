"""The keys that encrypt the stored secrets: rotatable, and the shops' credentials too."""

import pytest
from django.core.management import call_command
from django.db import connection

from core import crypto
from erpbridge import services

from .conftest import ErpApi

pytestmark = pytest.mark.django_db


def raw_credentials(shop):
    with connection.cursor() as cur:
        cur.execute("SELECT credentials FROM channels_shop WHERE id = %s", [shop.pk])
        return cur.fetchone()[0]


def test_a_new_key_first_keeps_old_secrets_working_and_rotation_moves_them_to_it(
    settings, client, make_shop, capsys
):
    settings.SECRET_KEYS = ["old-key-material"]
    erp, secret = services.create_client(name="yonyou")
    shop = make_shop(code="JD01", platform="jd", credentials={"secret": "jd-SECRET"})
    api = ErpApi(client, erp.key_id, secret)

    settings.SECRET_KEYS = ["new-key-material", "old-key-material"]
    assert api.get("stock?codes=P1").status_code == 200  # the old key still decrypts
    shop.refresh_from_db()
    assert shop.credentials == {"secret": "jd-SECRET"}

    call_command("rotate_secret_keys")
    assert "1 ERP client(s), 1 shop(s)" in capsys.readouterr().out

    settings.SECRET_KEYS = ["new-key-material"]  # the old key is dropped
    assert api.get("stock?codes=P1").status_code == 200
    shop.refresh_from_db()
    assert shop.credentials == {"secret": "jd-SECRET"}
    assert "SECRET" not in raw_credentials(shop)

    settings.SECRET_KEYS = ["old-key-material"]  # the old key alone opens nothing now
    assert api.get("stock?codes=P1").status_code == 401
    with pytest.raises(crypto.InvalidToken):
        crypto.decrypt(raw_credentials(shop))
