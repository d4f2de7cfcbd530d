"""Counts that stay fast on big tables: at most ``limit`` rows are counted, never the whole table.

A work queue of a million orders reads "1000+", which is all a person needs to know, and costs
one index range scan with a LIMIT instead of a full ``COUNT(*)``.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_LIMIT = 1000


@dataclass(frozen=True)
class BoundedCount:
    value: int
    more: bool  # True when there are more than ``value`` rows

    def __str__(self) -> str:
        return f"{self.value}+" if self.more else str(self.value)

    def __bool__(self) -> bool:
        return self.value > 0


def bounded_count(queryset, limit: int = DEFAULT_LIMIT) -> BoundedCount:
    """How many rows ``queryset`` has, counting at most ``limit`` of them."""
    n = queryset.order_by().values("pk")[: limit + 1].count()
    return BoundedCount(min(n, limit), n > limit)
