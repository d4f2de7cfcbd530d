"""Every hour, issue the red packets whose after-sales window has passed
(``promotions.tasks.issue_red_packets``; it does nothing until the store app names its order
facts in ``PROMOTIONS_ORDER_FACTS``)."""

from django.db import migrations


def create(apps, schema_editor):
    from promotions.seeds import ensure_red_packet_schedule

    ensure_red_packet_schedule(apps.get_model("django_q", "Schedule"))


def remove(apps, schema_editor):
    from promotions.seeds import SCHEDULE_NAME

    apps.get_model("django_q", "Schedule").objects.filter(name=SCHEDULE_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("promotions", "0002_member_levels"),
        ("django_q", "0019_alter_task_options_alter_ormq_key_alter_ormq_lock_and_more"),
    ]

    operations = [migrations.RunPython(create, remove)]
