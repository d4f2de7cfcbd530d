"""A throw-away database for benchmarks: ``<configured name>_bench`` (or another suffix),
migrated, dropped after.

    with bench_database():
        ...  # Django's connections (in every thread) now use the bench database

The configured database (DATABASE_URL, or the embedded PostgreSQL) is never touched.
"""

from __future__ import annotations

import os
from contextlib import contextmanager


def setup_django():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()


def conninfo(settings_dict: dict, dbname: str) -> dict:
    info = {"dbname": dbname, "user": settings_dict.get("USER") or None}
    if settings_dict.get("HOST"):
        info["host"] = settings_dict["HOST"]
    if settings_dict.get("PORT"):
        info["port"] = str(settings_dict["PORT"])
    if settings_dict.get("PASSWORD"):
        info["password"] = settings_dict["PASSWORD"]
    return {k: v for k, v in info.items() if v is not None}


@contextmanager
def bench_database(suffix: str = "bench"):
    setup_django()
    import psycopg
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connections

    # Measure as production runs: no query log kept in memory.
    settings.DEBUG = False
    settings_dict = connections.settings["default"]
    original = settings_dict["NAME"]
    name = f"{original}_{suffix}"
    with psycopg.connect(**conninfo(settings_dict, original), autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    connections.close_all()
    settings_dict["NAME"] = name
    try:
        call_command("migrate", verbosity=0)
        yield name
    finally:
        connections.close_all()
        settings_dict["NAME"] = original
        with psycopg.connect(**conninfo(settings_dict, original), autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def bench_conninfo() -> dict:
    """psycopg connection arguments of the (current) bench database."""
    from django.db import connections

    settings_dict = connections.settings["default"]
    return conninfo(settings_dict, settings_dict["NAME"])
