"""django-q2 entry points of the ERP bridge (thin: they call services).

The schedule is created by ``ensure_schedules`` (after every migrate): once a day the message
log is pruned (``services.prune_message_log``: full-snapshot bodies first, then old rows).
"""

from django.db.models.signals import post_migrate


def prune_message_log() -> str:
    from . import services

    counts = services.prune_message_log()
    return (
        f"ERP message log: {counts['bodies']} snapshot bodies dropped, "
        f"{counts['rows']} rows deleted"
    )


SCHEDULES = [
    ("erpbridge: prune the message log", "erpbridge.tasks.prune_message_log", 24 * 60),
]


def ensure_schedules(**kwargs) -> None:
    from django_q.models import Schedule

    for name, func, minutes in SCHEDULES:
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes},
        )


def connect(sender) -> None:
    post_migrate.connect(ensure_schedules, sender=sender, dispatch_uid="erpbridge_ensure_schedules")
