"""The order event log: every transition and edit is written here, with actor and time."""

from __future__ import annotations

from orders.models import OrderEvent


def actor_fields(actor) -> dict:
    """A user, or a label for a system actor ("intake", "task:sync", "erp"), or None."""
    if actor is None:
        return {"actor": None, "actor_label": "system"}
    if isinstance(actor, str):
        return {"actor": None, "actor_label": actor[:64]}
    return {"actor": actor, "actor_label": actor.get_username()[:64]}


def record_event(
    *, order, kind: str, actor=None, message: str = "", before=None, after=None
) -> OrderEvent:
    """Write one order event. ``kind`` must be one of ``OrderEvent.Kind`` (a typo fails here,
    not silently in the history)."""
    return OrderEvent.objects.create(
        order=order,
        kind=OrderEvent.Kind(kind),
        message=str(message)[:500],
        before=before,
        after=after,
        **actor_fields(actor),
    )
