"""Queue a call owed to a platform. Call inside the transaction of the change that causes it."""

from __future__ import annotations

from .models import OutboxMessage


def enqueue(*, shop, kind: str, payload: dict, dedupe_key: str) -> OutboxMessage:
    """Queue once per dedupe_key: queuing the same key again returns the existing message."""
    message, _created = OutboxMessage.objects.get_or_create(
        dedupe_key=dedupe_key, defaults={"shop": shop, "kind": kind, "payload": payload}
    )
    return message
