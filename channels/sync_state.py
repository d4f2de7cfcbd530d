"""A shop's sync state (watermarks, cursors): a JSON column of the shop, updated by key."""

from __future__ import annotations

import json

from django.db import connection

from .models import Shop


def update_sync_state(shop_id: int, **values) -> None:
    with connection.cursor() as cur:
        cur.execute(
            "UPDATE channels_shop SET sync_state = COALESCE(sync_state, '{}'::jsonb) || %s::jsonb"
            " WHERE id = %s",
            [json.dumps(values, default=str), shop_id],
        )


def read_sync_state(shop_id: int) -> dict:
    return Shop.objects.values_list("sync_state", flat=True).get(pk=shop_id) or {}
