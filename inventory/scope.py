"""Which stock locations a user may see and act on (a store's staff: their own store only).

inventory knows locations by code and nothing of stores or staff (the layers); the stores app
registers the rule once (``set_location_scope``), and the inventory screens ask
``location_codes(user)``: None means every location, a set means only those codes (a store's
``MD01`` and ``MD01:sample``), besides the main, defective and in-transit locations, which
every transfer touches.
"""

from __future__ import annotations

from collections.abc import Callable

_rule: Callable[[object], set[str] | None] | None = None


def set_location_scope(rule: Callable[[object], set[str] | None] | None) -> None:
    """Register ``rule(user) -> set of location codes | None`` (None: every location)."""
    global _rule
    _rule = rule


def location_codes(user) -> set[str] | None:
    if user is None or getattr(user, "is_superuser", False) or _rule is None:
        return None
    return _rule(user)
