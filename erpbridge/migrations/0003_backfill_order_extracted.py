"""Orders already acknowledged by the ERP get their extraction time (orders 0010 keeps it on the
order for the reconciliation's small partial index)."""

from django.db import migrations

FORWARD = """
UPDATE orders_order AS o SET erp_extracted_at = rr.acked_at
FROM erpbridge_retailrecord AS rr
WHERE rr.order_id = o.id AND rr.acked_at IS NOT NULL AND o.erp_extracted_at IS NULL
"""


class Migration(migrations.Migration):
    dependencies = [
        ("erpbridge", "0002_client_scopes"),
        ("orders", "0010_order_erp_extracted_at"),
    ]

    operations = [migrations.RunSQL(FORWARD, migrations.RunSQL.noop)]
