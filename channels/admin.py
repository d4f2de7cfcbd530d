"""Admin of the channels app (the foundation issue writes the rest of this module)."""

from . import admin_sync  # noqa: F401  the sync status page and the outbox
