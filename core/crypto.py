"""Secrets kept in the database, encrypted: the ERP clients' secrets (HMAC needs them back) and
the shops' API credentials.

The keys are ``settings.SECRET_KEYS`` (``TONGCANG_ERP_SECRET_KEYS``, a comma-separated list,
required in production and different from ``DJANGO_SECRET_KEY``): the first encrypts, every one
decrypts (``MultiFernet``), so a key is rotated by putting a new one first, running
``manage.py rotate_secret_keys`` (re-encrypts everything with it), then dropping the old one.
Each key is any string; the Fernet key is derived from it.
"""

from __future__ import annotations

import base64
import hashlib
import json
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.db import models

__all__ = ["InvalidToken", "encrypt", "decrypt", "rotate", "EncryptedJSONField"]


@lru_cache(maxsize=8)
def _multi(keys: tuple[str, ...]) -> MultiFernet:
    if not keys:
        raise ValueError("no secret key configured (TONGCANG_ERP_SECRET_KEYS)")
    fernets = []
    for material in keys:
        digest = hashlib.sha256(b"tongcang.erpbridge.secret:" + material.encode()).digest()
        fernets.append(Fernet(base64.urlsafe_b64encode(digest)))
    return MultiFernet(fernets)


def fernet() -> MultiFernet:
    return _multi(tuple(settings.SECRET_KEYS))


def encrypt(text: str) -> str:
    return fernet().encrypt(text.encode()).decode()


def decrypt(token: str) -> str:
    """The text, or InvalidToken when no configured key can decrypt it."""
    return fernet().decrypt(token.encode()).decode()


def rotate(token: str) -> str:
    """The same text encrypted with the first key (decrypted with any)."""
    return fernet().rotate(token.encode()).decode()


class EncryptedJSONField(models.TextField):
    """A JSON value stored encrypted (a Fernet token in a text column); reads back as the value.

    Not searchable, by design. A value no configured key decrypts reads as ``{}`` rather than
    failing every page that shows the row (the shop then reports bad credentials)."""

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return {}
        try:
            return json.loads(decrypt(value))
        except InvalidToken:
            return {}

    def to_python(self, value):
        if isinstance(value, str):
            try:
                return json.loads(value) if value.strip() else {}
            except ValueError:
                from django.core.exceptions import ValidationError

                raise ValidationError("enter valid JSON") from None
        return {} if value is None else value

    def get_prep_value(self, value):
        if value is None:
            value = {}
        return encrypt(json.dumps(value, ensure_ascii=False, sort_keys=True))

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), ensure_ascii=False)

    def formfield(self, **kwargs):
        from django import forms
        from django.utils.text import capfirst

        defaults = {
            "required": not self.blank,
            "label": capfirst(self.verbose_name),  # the field's own name, translated
            "help_text": self.help_text,
        }
        return forms.JSONField(**{**defaults, **kwargs})
