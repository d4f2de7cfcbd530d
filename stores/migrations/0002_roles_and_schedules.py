"""The store roles (groups; their permissions follow config/roles.py after every migrate) and
the store schedules: unpaid orders expire, uncollected pick-ups are told then cancelled."""

from django.db import migrations

ROLES = ["store_guide", "store_manager"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def drop_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


def create_schedules(apps, schema_editor):
    Schedule = apps.get_model("django_q", "Schedule")
    rows = [
        ("stores: expire unpaid orders", "stores.tasks.expire_unpaid_orders", 1),
        ("stores: uncollected pick-ups", "stores.tasks.uncollected_pickups", 60),
    ]
    for name, func, minutes in rows:
        Schedule.objects.get_or_create(
            name=name,
            defaults={"func": func, "schedule_type": "I", "minutes": minutes, "repeats": -1},
        )


def drop_schedules(apps, schema_editor):
    apps.get_model("django_q", "Schedule").objects.filter(name__startswith="stores: ").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("stores", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [
        migrations.RunPython(create_groups, drop_groups),
        migrations.RunPython(create_schedules, drop_schedules),
    ]
