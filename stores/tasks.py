"""django-q2 entry points of the stores app (thin: they call services). Schedules: stores
migration 0002 (every minute: unpaid orders expire; hourly: uncollected pick-ups)."""


def expire_unpaid_orders() -> str:
    from .services import expire_unpaid_orders as expire

    return f"cancelled {expire()} unpaid store orders"


def uncollected_pickups() -> str:
    from .services import uncollected_pickups as run

    told, cancelled = run()
    return f"told the stores of {told} uncollected pick-ups, cancelled {cancelled}"
