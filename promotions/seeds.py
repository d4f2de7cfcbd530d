"""Reference data of the promotions app, made by the data migrations and again after a flush
(post_migrate), so tests and fresh databases have them: the member levels to start with (普通,
银卡, 金卡; created when there are none: managers change names, thresholds and discounts as data
afterwards) and the hourly red-packet schedule."""

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


SCHEDULE_NAME = "promotions: issue red packets"


def ensure_red_packet_schedule(Schedule=None, **kwargs):
    """Every hour, issue the red packets whose after-sales window has passed."""
    if Schedule is None:
        from django_q.models import Schedule
    Schedule.objects.get_or_create(
        name=SCHEDULE_NAME,
        defaults={
            "func": "promotions.tasks.issue_red_packets",
            "schedule_type": "H",
            "repeats": -1,
        },
    )
