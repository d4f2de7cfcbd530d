"""The three member levels to start with (data: managers may change names and thresholds)."""

from django.db import migrations


def add_levels(apps, schema_editor):
    from promotions.seeds import ensure_member_levels

    ensure_member_levels(apps.get_model("promotions", "MemberLevel"))


class Migration(migrations.Migration):
    dependencies = [("promotions", "0001_members_promotions_red_packets")]

    operations = [migrations.RunPython(add_levels, migrations.RunPython.noop)]
