"""The SMS seam for one-time codes. A provider is a class with ``send(phone, text)``;
``settings.PROMOTIONS_SMS_PROVIDER`` names it. ``ConsoleSms`` (development, tests) logs the
message and keeps it in ``ConsoleSms.outbox``, like Django's locmem mail backend."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

log = logging.getLogger(__name__)


class ConsoleSms:
    outbox: list[tuple[str, str]] = []

    def send(self, phone: str, text: str) -> None:
        type(self).outbox.append((phone, text))
        from .phones import mask_phone

        log.info("SMS to %s: %s", mask_phone(phone), text)


def provider():
    return import_string(settings.PROMOTIONS_SMS_PROVIDER)()
