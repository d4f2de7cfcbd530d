"""The channel schedules (hand-written data migration): pulls, outbox drain, nightly full push."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.db import migrations

SHANGHAI = ZoneInfo("Asia/Shanghai")


def next_0330():
    now = datetime.now(SHANGHAI)
    run = datetime.combine(now.date(), time(3, 30), tzinfo=SHANGHAI)
    return run if run > now else run + timedelta(days=1)


def create(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    rows = [
        ("channels: pull orders and refunds", "channels.tasks.sync_all_shops", "I", 15, None),
        ("channels: drain the outbox", "channels.tasks.drain_outbox", "I", 1, None),
        ("channels: full stock push", "channels.tasks.full_stock_push", "D", None, next_0330()),
    ]
    for name, func, kind, minutes, next_run in rows:
        defaults = {"func": func, "schedule_type": kind, "repeats": -1}
        if minutes:
            defaults["minutes"] = minutes
        if next_run:
            defaults["next_run"] = next_run
        Schedule.objects.get_or_create(name=name, defaults=defaults)


def remove(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__startswith="channels: ").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0003_outbox_attempts"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, remove)]
