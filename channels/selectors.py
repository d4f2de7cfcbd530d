"""Reads of the channels app for screens."""

from .models import OutboxMessage


def parked_outbox():
    """Platform calls refused for good, waiting for a person (发件箱, status parked)."""
    return OutboxMessage.objects.filter(status=OutboxMessage.Status.PARKED)
