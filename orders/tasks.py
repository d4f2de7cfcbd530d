"""django-q2 entry points of the orders app (thin: they call services).

The schedules are created by ``ensure_schedules`` (called after migrate): every 10 minutes
re-map orders held "SKU not mapped" and retry orders held "stock short".
"""

from django.db.models.signals import post_migrate


def remap_unmapped_orders() -> str:
    from .services.review import remap_unmapped_orders as remap

    return f"re-mapped {remap(actor='task:remap')} orders"


def retry_stock_short_orders() -> str:
    from .services.allocation import retry_stock_short

    return f"reserved {retry_stock_short(actor='task:allocation')} stock-short orders"


SCHEDULES = [
    ("orders: re-map unmapped SKUs", "orders.tasks.remap_unmapped_orders", 10),
    ("orders: retry stock-short orders", "orders.tasks.retry_stock_short_orders", 10),
]


def ensure_schedules(**kwargs) -> None:
    from django_q.models import Schedule

    for name, func, minutes in SCHEDULES:
        Schedule.objects.update_or_create(
            name=name,
            defaults={"func": func, "schedule_type": Schedule.MINUTES, "minutes": minutes},
        )


def connect(sender) -> None:
    post_migrate.connect(ensure_schedules, sender=sender, dispatch_uid="orders_ensure_schedules")
