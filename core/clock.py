"""The clock, injectable: code that asks "what time is it" asks ``core.clock.now()``.

Tests freeze it (``with frozen(dt):``) instead of depending on the wall clock, so nothing
behaves differently at 03:30 Asia/Shanghai or at a month's end.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import threading

from django.utils import timezone

_state = threading.local()
_global: list[dt.datetime] = []


def now() -> dt.datetime:
    """The current time (aware, UTC), or the frozen one."""
    frozen_at = getattr(_state, "frozen", None) or (_global[-1] if _global else None)
    return frozen_at if frozen_at is not None else timezone.now()


@contextlib.contextmanager
def frozen(at: dt.datetime, *, all_threads: bool = True):
    """Freeze ``now()`` at ``at`` (aware) inside the block; every thread sees it by default."""
    if timezone.is_naive(at):
        raise ValueError("frozen() needs an aware datetime")
    if all_threads:
        _global.append(at)
        try:
            yield at
        finally:
            _global.pop()
    else:
        before = getattr(_state, "frozen", None)
        _state.frozen = at
        try:
            yield at
        finally:
            _state.frozen = before
