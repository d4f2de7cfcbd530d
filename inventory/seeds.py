"""Reference rows every database needs: the platforms, the main, defective and in-transit
locations,
the channel schedules.

They are created by data migrations; this puts them back after every ``migrate`` and after a
``flush`` (which sends post_migrate too: transactional tests flush the database), so a database
is never left without them. The migrations' own functions are the single statement of the rows.
"""

import importlib

SEEDS = [
    ("channels.migrations.0002_seed_platforms", "seed"),
    ("inventory.migrations.0002_ledger_append_only_and_warehouses", "seed_warehouses"),
    ("inventory.migrations.0007_store_locations_transfers", "seed_locations"),
    ("platformsync.migrations.0001_schedules", "create"),
]


def ensure_reference_data(**kwargs):
    from django.apps import apps
    from django.db import connection

    if "inventory_warehouse" not in connection.introspection.table_names():
        return  # migrating backwards, or the tables are not there yet
    for module, function in SEEDS:
        getattr(importlib.import_module(module), function)(apps, None)
