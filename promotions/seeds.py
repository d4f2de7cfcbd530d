"""The member levels to start with (普通, 银卡, 金卡): created when there are none, by the data
migration and again after a flush (post_migrate), so tests and fresh databases have them.
Managers change names, thresholds and discounts as data afterwards."""

from decimal import Decimal

LEVELS = [
    ("normal", "普通", 0, Decimal("0.00"), Decimal("0.00")),
    ("silver", "银卡", 1, Decimal("2000.00"), Decimal("2.00")),
    ("gold", "金卡", 2, Decimal("10000.00"), Decimal("5.00")),
]


def ensure_member_levels(MemberLevel=None, **kwargs):
    if MemberLevel is None:
        from .models import MemberLevel
    if MemberLevel.objects.exists():
        return
    for code, name, rank, min_spend, discount in LEVELS:
        MemberLevel.objects.create(
            code=code, name=name, rank=rank, min_spend=min_spend, discount_percent=discount
        )
