"""Sellable quantities are rewritten in bulk (an ERP full snapshot can change every figure at
once). Half of each page is left free so that such an update stays on the row's page (a HOT
update: no new index entries), which halves its cost. The table is small (one row per shop SKU).

Only pages written from now on follow the setting; VACUUM FULL rewrites the existing ones.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("channels", "0005_shop_sync_status"),
    ]

    operations = [
        migrations.RunSQL(
            "ALTER TABLE channels_sellablequantity SET (fillfactor = 50)",
            reverse_sql="ALTER TABLE channels_sellablequantity RESET (fillfactor)",
        ),
    ]
