"""Our own return numbers (退货单号) draw from a database sequence: unique across workers."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("returns", "0002_events_review_permissions"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS returns_return_no_seq START 1",
            "DROP SEQUENCE IF EXISTS returns_return_no_seq",
        ),
    ]
