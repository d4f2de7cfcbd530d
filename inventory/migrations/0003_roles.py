from django.db import migrations

# The permissions of each group are kept in step with config/roles.py after every migrate.
ROLES = ["warehouse", "reviewer", "after_sales", "after_sales_reviewer", "auditor"]


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for name in ROLES:
        Group.objects.get_or_create(name=name)


def drop_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLES).delete()


class Migration(migrations.Migration):
    dependencies = [("inventory", "0002_ledger_append_only_and_warehouses"), ("auth", "0012_alter_user_first_name_max_length")]

    operations = [migrations.RunPython(create_groups, drop_groups)]
