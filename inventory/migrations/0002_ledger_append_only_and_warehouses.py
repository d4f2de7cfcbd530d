from django.db import migrations

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION inventory_stockmove_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'the stock ledger is append-only (% refused)', TG_OP;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER inventory_stockmove_append_only
    BEFORE UPDATE OR DELETE ON inventory_stockmove
    FOR EACH ROW EXECUTE FUNCTION inventory_stockmove_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS inventory_stockmove_append_only ON inventory_stockmove;
DROP FUNCTION IF EXISTS inventory_stockmove_append_only();
"""


def seed_warehouses(apps, schema_editor):
    Warehouse = apps.get_model("inventory", "Warehouse")
    Warehouse.objects.get_or_create(
        kind="main", defaults={"code": "main", "name": "电商总仓", "sellable": True}
    )
    Warehouse.objects.get_or_create(
        kind="defective", defaults={"code": "defective", "name": "次品仓", "sellable": False}
    )


class Migration(migrations.Migration):
    dependencies = [("inventory", "0001_initial")]

    operations = [
        migrations.RunSQL(APPEND_ONLY, DROP),
        migrations.RunPython(seed_warehouses, migrations.RunPython.noop),
    ]
