"""HMAC authentication of the ERP's requests (docs/erp-api.md, Authentication).

Every request carries X-Erp-Key, X-Erp-Timestamp, X-Erp-Nonce and X-Erp-Signature, the lowercase
hex HMAC-SHA256(secret, "METHOD\\nPATH\\nTIMESTAMP\\nNONCE\\nSHA256HEX(BODY)"). Any failure is one
answer, 401 ``unauthorized``, that says nothing about why.

The secret is needed to verify, so it is stored encrypted with the rotatable keys of
``core.crypto`` (TONGCANG_ERP_SECRET_KEYS).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
from datetime import timedelta

from django.db import connection
from django.utils import timezone
from django.utils.encoding import escape_uri_path

from core import crypto
from core.crypto import InvalidToken

WINDOW_SECONDS = 300
_DIGITS = re.compile(r"^[0-9]{1,12}\Z")
NONCE_MIN, NONCE_MAX = 16, 64
# A nonce can only be replayed while its timestamp is inside the window, i.e. at most
# 2 × WINDOW after it was first seen; keep a margin.
NONCE_KEEP_SECONDS = 3 * WINDOW_SECONDS
_PRUNE_EVERY_SECONDS = 60
_last_prune = 0.0


class Unauthorized(Exception):
    """Any authentication failure (the reason is logged nowhere the client can see)."""


# --- secrets ---------------------------------------------------------------------------------


def new_key_id() -> str:
    return "erp_" + secrets.token_hex(8)


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def encrypt_secret(secret: str) -> str:
    return crypto.encrypt(secret)


def decrypt_secret(token: str) -> str:
    return crypto.decrypt(token)


# --- signatures (used by the server, the simulator, tests and benchmarks) --------------------


def string_to_sign(method: str, path: str, timestamp: str, nonce: str, body: bytes) -> bytes:
    body_hash = hashlib.sha256(body or b"").hexdigest()
    return f"{method.upper()}\n{path}\n{timestamp}\n{nonce}\n{body_hash}".encode()


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    message = string_to_sign(method, path, timestamp, nonce, body)
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signed_headers(
    *, key_id: str, secret: str, method: str, path: str, body: bytes = b"", timestamp=None
) -> dict[str, str]:
    """The four headers of a request (``path`` with its query string, exactly as sent)."""
    ts = str(int(time.time()) if timestamp is None else int(timestamp))
    nonce = secrets.token_hex(16)
    return {
        "X-Erp-Key": key_id,
        "X-Erp-Timestamp": ts,
        "X-Erp-Nonce": nonce,
        "X-Erp-Signature": signature(secret, method, path, ts, nonce, body),
    }


# --- verification ----------------------------------------------------------------------------


def request_path(request) -> str:
    """The path and query string as the client sent them (the raw request line when the
    server gives it, as gunicorn does; else rebuilt from the decoded path)."""
    raw = request.META.get("RAW_URI") or request.META.get("REQUEST_URI")
    if raw and raw.startswith("/"):
        return raw
    path = escape_uri_path(request.path)
    query = request.META.get("QUERY_STRING", "")
    return f"{path}?{query}" if query else path


def authenticate(request, body: bytes):
    """The ErpClient of a correctly signed request, or Unauthorized. Records the nonce."""
    from .models import ErpClient

    meta = request.META
    key_id = meta.get("HTTP_X_ERP_KEY", "")
    timestamp = meta.get("HTTP_X_ERP_TIMESTAMP", "")
    nonce = meta.get("HTTP_X_ERP_NONCE", "")
    sent = meta.get("HTTP_X_ERP_SIGNATURE", "")
    if not (key_id and timestamp and nonce and sent):
        raise Unauthorized("missing header")
    # ASCII only: "²".isdigit() is true but int("²") fails, and hmac.compare_digest refuses
    # non-ASCII text; any such header is just another bad request.
    if not all(h.isascii() for h in (key_id, timestamp, nonce, sent)):
        raise Unauthorized("non-ASCII header")
    if not _DIGITS.match(timestamp) or abs(time.time() - int(timestamp)) > WINDOW_SECONDS:
        raise Unauthorized("timestamp outside the window")
    if not (NONCE_MIN <= len(nonce) <= NONCE_MAX) or not nonce.isprintable():
        raise Unauthorized("bad nonce")
    client = ErpClient.objects.filter(key_id=key_id).first()
    if client is None or not client.enabled:
        raise Unauthorized("unknown or disabled key")
    try:
        secret = decrypt_secret(client.secret_encrypted)
    except InvalidToken as exc:  # the encryption key changed: the client must be recreated
        raise Unauthorized("secret cannot be decrypted") from exc
    expected = signature(secret, request.method, request_path(request), timestamp, nonce, body)
    if not hmac.compare_digest(expected, sent.strip()):
        raise Unauthorized("wrong signature")
    _prune_nonces()
    # One statement, one commit: the nonce is recorded (or found used) and the key's last use.
    with connection.cursor() as cur:
        cur.execute(
            "WITH n AS (INSERT INTO erpbridge_erpnonce (client_id, nonce, created_at) "
            "VALUES (%s, %s, now()) ON CONFLICT (client_id, nonce) DO NOTHING RETURNING 1) "
            "UPDATE erpbridge_erpclient SET last_used_at = now() "
            "WHERE id = %s AND EXISTS (SELECT 1 FROM n) RETURNING 1",
            [client.pk, nonce, client.pk],
        )
        if cur.fetchone() is None:
            raise Unauthorized("nonce reused")
    return client


def _prune_nonces() -> None:
    global _last_prune
    now = time.monotonic()
    if now - _last_prune < _PRUNE_EVERY_SECONDS:
        return
    _last_prune = now
    from .models import ErpNonce

    cutoff = timezone.now() - timedelta(seconds=NONCE_KEEP_SECONDS)
    ErpNonce.objects.filter(created_at__lt=cutoff).delete()
