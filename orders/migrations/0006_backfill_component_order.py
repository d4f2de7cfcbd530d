"""Components written before 0005 get their line's order (hand-written data migration)."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0005_component_order"),
    ]

    operations = [
        migrations.RunSQL(
            "UPDATE orders_ordercomponent c SET order_id = l.order_id "
            "FROM orders_orderline l WHERE l.id = c.line_id AND c.order_id IS NULL",
            migrations.RunSQL.noop,
        )
    ]
