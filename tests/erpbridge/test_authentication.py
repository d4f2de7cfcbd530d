"""HMAC authentication exactly as the contract says: one 401 `unauthorized`, saying nothing
else, for every failure; 403 for a unit code outside a limited key."""

import json
import time

import pytest

from erpbridge import services
from erpbridge.models import ErpNonce, MessageLog, StockMessage

from .conftest import API

pytestmark = pytest.mark.django_db

MESSAGE = {"message_id": "M-1", "as_of": "2026-01-01T00:00:00+08:00", "items": []}


def assert_unauthorized(response):
    assert response.status_code == 401
    body = response.json()
    assert list(body) == ["error"]
    assert body["error"]["code"] == "unauthorized"
    return body["error"]["message"]


def test_a_correctly_signed_request_is_answered(api):
    response = api.get("stock?codes=P1")
    assert response.status_code == 200
    assert response.json()["unknown_products"] == ["P1"]


def test_every_authentication_failure_gets_the_same_401_that_explains_nothing(api, erp_client):
    other, other_secret = services.create_client(name="other")
    services.disable_client(client=other)
    now = int(time.time())
    used = "n" * 32
    assert api.get("stock?codes=P1", nonce=used).status_code == 200

    failures = {
        "timestamp 301 s late": api.get("stock?codes=P1", timestamp=now - 301),
        # 310 s ahead: still refused when the check runs a few seconds after `now` was taken
        "timestamp 310 s early": api.get("stock?codes=P1", timestamp=now + 310),
        "timestamp not a number": api.get("stock?codes=P1", timestamp="yesterday"),
        "nonce reused": api.get("stock?codes=P1", nonce=used),
        "nonce of 15 characters": api.get("stock?codes=P1", nonce="x" * 15),
        "nonce of 65 characters": api.get("stock?codes=P1", nonce="x" * 65),
        "unknown key": api.get("stock?codes=P1", key_id="erp_nobody"),
        "disabled key": api.get("stock?codes=P1", key_id=other.key_id, secret=other_secret),
        "wrong secret": api.get("stock?codes=P1", secret="not-the-secret"),
        "query string not signed as sent": api.get(
            "stock?codes=P1,P2", sign_path=API + "stock?codes=P1"
        ),
        "missing signature": api.get("stock?codes=P1", headers={"X-Erp-Signature": None}),
        "missing key": api.get("stock?codes=P1", headers={"X-Erp-Key": None}),
        # Malformed headers once gave 500: "²".isdigit() is true, and a non-ASCII
        # signature made hmac.compare_digest raise.
        "timestamp a superscript digit": api.get("stock?codes=P1", timestamp="²"),
        "timestamp with full-width digits": api.get("stock?codes=P1", timestamp="１２３"),
        "signature not ASCII": api.get("stock?codes=P1", headers={"X-Erp-Signature": "签名"}),
        "nonce not ASCII": api.get("stock?codes=P1", nonce="随机数" * 6),
        "key not ASCII": api.get("stock?codes=P1", key_id="钥匙"),
    }
    messages = {name: assert_unauthorized(r) for name, r in failures.items()}
    assert len(set(messages.values())) == 1, messages


def test_a_timestamp_within_300_seconds_is_accepted(api):
    now = int(time.time())
    assert api.get("stock?codes=P1", timestamp=now - 290).status_code == 200
    assert api.get("stock?codes=P1", timestamp=now + 290).status_code == 200


def test_nonces_of_16_and_64_characters_are_accepted_once_per_key(api, client):
    from .conftest import ErpApi

    assert api.get("stock?codes=P1", nonce="a" * 16).status_code == 200
    assert api.get("stock?codes=P1", nonce="b" * 64).status_code == 200
    other, secret = services.create_client(name="second")
    second = ErpApi(client, other.key_id, secret)
    # The same nonce from another key is that key's first use of it.
    assert second.get("stock?codes=P1", nonce="a" * 16).status_code == 200
    assert ErpNonce.objects.count() == 3


def test_a_body_changed_after_signing_is_refused_and_applies_nothing(api, erp_client, make_product):
    make_product("P1")
    signed = json.dumps(MESSAGE | {"items": [{"product_code": "P1", "quantity": "5"}]}).encode()
    tampered = signed.replace(b'"5"', b'"500"')
    import secrets as _s
    import time as _t

    from erpbridge import auth

    ts, nonce = str(int(_t.time())), _s.token_hex(16)
    sig = auth.signature(erp_client.secret, "POST", API + "stock/incremental", ts, nonce, signed)
    response = api.http.generic(
        "POST",
        API + "stock/incremental",
        tampered,
        content_type="application/json",
        headers={
            "X-Erp-Key": erp_client.key_id,
            "X-Erp-Timestamp": ts,
            "X-Erp-Nonce": nonce,
            "X-Erp-Signature": sig,
        },
    )
    assert_unauthorized(response)
    assert not StockMessage.objects.exists()


def test_refused_requests_are_in_the_message_log_with_the_reason_kept_inside(api):
    api.get("stock?codes=P1", secret="wrong")
    log = MessageLog.objects.get()
    assert (log.status_code, log.error_code, log.client) == (401, "unauthorized", None)
    assert log.note == "wrong signature"


def test_a_key_limited_to_unit_codes_gets_403_for_other_unit_codes(client, make_shop):
    from .conftest import ErpApi

    make_shop("TM01", "tmall")
    make_shop("JD01", "jd")
    limited, secret = services.create_client(name="tmall only", unit_codes="TM01")
    erp = ErpApi(client, limited.key_id, secret)

    assert erp.get("orders?unit_code=TM01").status_code == 200
    refused = erp.get("orders?unit_code=JD01")
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    batch = erp.post("retail-batches", {"unit_code": "JD01", "kind": "sales"})
    assert batch.status_code == 403


def test_a_batch_of_another_unit_code_cannot_be_acknowledged_by_a_limited_key(
    api, client, make_shop
):
    from erpbridge.models import RetailBatch

    from .conftest import ErpApi

    make_shop("TM01", "tmall")
    make_shop("JD01", "jd")
    batch, _ = services.next_retail_batch(unit_code="JD01", kind="sales")
    RetailBatch.objects.filter(pk=batch.pk).update(acked_at=None)
    limited, secret = services.create_client(name="tmall only", unit_codes="TM01")
    response = ErpApi(client, limited.key_id, secret).post(f"retail-batches/{batch.batch_id}/ack")
    assert response.status_code == 403
    assert RetailBatch.objects.get(pk=batch.pk).acked_at is None


def test_nonces_older_than_the_replay_window_are_pruned(api, erp_client, monkeypatch):
    from datetime import timedelta

    from django.utils import timezone

    from erpbridge import auth

    old = ErpNonce.objects.create(client=erp_client, nonce="o" * 20)
    ErpNonce.objects.filter(pk=old.pk).update(
        created_at=timezone.now() - timedelta(seconds=auth.NONCE_KEEP_SECONDS + 1)
    )
    recent = ErpNonce.objects.create(client=erp_client, nonce="r" * 20)
    monkeypatch.setattr(auth, "_last_prune", 0.0)

    assert api.get("stock?codes=P1").status_code == 200

    assert not ErpNonce.objects.filter(pk=old.pk).exists()
    assert ErpNonce.objects.filter(pk=recent.pk).exists()


def test_a_body_over_the_upload_limit_gets_413_and_changes_nothing(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = api.post(
        "stock/incremental", MESSAGE | {"items": [{"product_code": "A" * 60, "quantity": "1"}] * 3}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "payload_too_large"
    assert not StockMessage.objects.exists()
