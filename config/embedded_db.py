"""The embedded PostgreSQL used when DATABASE_URL is unset (local use and CI).

pgserver ships PostgreSQL binaries inside its wheel; the data directory lives under ``var/``
and the server keeps running between commands (it is shared by the web server, the task
cluster and the tests), so starting it again is cheap.
"""

from pathlib import Path

DB_NAME = "tongcang"


def embedded_database(base_dir: Path) -> dict:
    import os

    # pgserver asks platformdirs for a runtime directory; give it one of ours, not a warning.
    runtime_dir = base_dir / "var" / "run"
    runtime_dir.mkdir(parents=True, exist_ok=True)
    runtime_dir.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))
    import pgserver

    data_dir = base_dir / "var" / "pgdata"
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode=None)
    exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DB_NAME};")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DB_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(data_dir),
        "PORT": "",
    }
