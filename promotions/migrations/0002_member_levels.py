"""The three member levels to start with (data: managers may change names and thresholds)."""

from decimal import Decimal

from django.db import migrations

LEVELS = [
    ("normal", "普通", 0, Decimal("0.00"), Decimal("0.00")),
    ("silver", "银卡", 1, Decimal("2000.00"), Decimal("2.00")),
    ("gold", "金卡", 2, Decimal("10000.00"), Decimal("5.00")),
]


def add_levels(apps, schema_editor):
    MemberLevel = apps.get_model("promotions", "MemberLevel")
    for code, name, rank, min_spend, discount in LEVELS:
        MemberLevel.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "rank": rank,
                "min_spend": min_spend,
                "discount_percent": discount,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("promotions", "0001_members_promotions_red_packets")]

    operations = [migrations.RunPython(add_levels, migrations.RunPython.noop)]
