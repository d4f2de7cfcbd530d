"""The platform schedules now call platformsync's tasks (they moved out of channels).

``create`` is also the reference-data seed (inventory/seeds.py): it makes sure the three
schedules exist and call ``platformsync.tasks``, whatever an older database had.
"""

import importlib

from django.db import migrations

TASKS = [
    ("channels: pull orders and refunds", "sync_all_shops", "I", 15),
    ("channels: drain the outbox", "drain_outbox", "I", 1),
    ("channels: full stock push", "full_stock_push", "D", None),
]


def create(apps, schema_editor):
    old = importlib.import_module("channels.migrations.0004_schedules")  # next_0330()
    Schedule = apps.get_model("django_q", "Schedule")
    for name, task, kind, minutes in TASKS:
        func = f"platformsync.tasks.{task}"
        Schedule.objects.filter(func=f"channels.tasks.{task}").update(func=func)
        defaults = {"func": func, "schedule_type": kind, "repeats": -1}
        if minutes:
            defaults["minutes"] = minutes
        else:
            defaults["next_run"] = old.next_0330()
        Schedule.objects.get_or_create(name=name, defaults=defaults)


def back(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    for _name, task, _kind, _minutes in TASKS:
        Schedule.objects.filter(func=f"platformsync.tasks.{task}").update(
            func=f"channels.tasks.{task}"
        )


class Migration(migrations.Migration):
    dependencies = [("channels", "0006_sellablequantity_fillfactor")]

    operations = [migrations.RunPython(create, back)]
