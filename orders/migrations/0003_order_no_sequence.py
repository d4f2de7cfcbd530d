"""Our own order numbers come from a PostgreSQL sequence (fast to draw in bulk, never reused)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0002_review_queue_and_allocation"),
    ]

    operations = [
        migrations.RunSQL(
            "CREATE SEQUENCE IF NOT EXISTS orders_order_no_seq START 1 CACHE 100",
            "DROP SEQUENCE IF EXISTS orders_order_no_seq",
        )
    ]
