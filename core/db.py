"""Running a transaction again when PostgreSQL aborted it for a reason that a retry cures.

Two transactions that lock rows in different orders may deadlock (40P01), and a serializable
one may fail to serialize (40001); PostgreSQL then aborts one of them, which can simply run
again from the start. This is the one place that decides which errors those are and how to
wait between attempts. Only for work that is safe to repeat (idempotent or all-or-nothing).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from django.db import OperationalError

RETRYABLE_SQLSTATES = {"40P01", "40001"}  # deadlock detected, serialization failure
T = TypeVar("T")


def is_retryable(exc: Exception) -> bool:
    cause = exc.__cause__ or exc
    return getattr(cause, "sqlstate", None) in RETRYABLE_SQLSTATES


def retrying(work: Callable[[], T], *, attempts: int, pause: float = 0.02) -> T:
    """``work()``, run again (up to ``attempts`` times in all) after a deadlock or a
    serialization failure, with a short random pause that grows with each attempt."""
    for attempt in range(1, attempts + 1):
        try:
            return work()
        except OperationalError as exc:
            if attempt == attempts or not is_retryable(exc):
                raise
            time.sleep(random.uniform(pause / 4, pause) * attempt)
    raise AssertionError("unreachable")
