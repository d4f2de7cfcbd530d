"""The embedded PostgreSQL used when DATABASE_URL is unset (local use and CI).

pgserver ships PostgreSQL binaries inside its wheel; the data directory lives under ``var/``
and the server keeps running between commands (it is shared by the web server, the task
cluster and the tests), so starting it again is cheap. ``make run`` (``config.runlocal``) stops
it at the end when that run started it.
"""

import os
import time
from pathlib import Path

DB_NAME = "tongcang"
READY_TIMEOUT = 60.0


def _runtime_dir(base_dir: Path) -> None:
    # pgserver asks platformdirs for a runtime directory; give it one of ours, not a warning.
    runtime_dir = base_dir / "var" / "run"
    runtime_dir.mkdir(parents=True, exist_ok=True)
    runtime_dir.chmod(0o700)
    os.environ.setdefault("XDG_RUNTIME_DIR", str(runtime_dir))


def data_dir(base_dir: Path) -> Path:
    return base_dir / "var" / "pgdata"


def _postmaster(base_dir: Path):
    from pgserver.utils import PostmasterInfo

    try:
        return PostmasterInfo.read_from_pgdata(data_dir(base_dir))
    except Exception:  # noqa: BLE001 - a half-written postmaster.pid: not ready
        return None


def running(base_dir: Path) -> bool:
    """Whether an embedded server is up (ready or not) for this data directory."""
    _runtime_dir(base_dir)
    info = _postmaster(base_dir)
    return info is not None and info.is_running()


def _wait_while_changing(base_dir: Path) -> None:
    """A server that is starting or stopping (a previous `make run` ending) is waited for:
    using it then fails with "Connection refused"."""
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        info = _postmaster(base_dir)
        if info is None or not info.is_running() or info.status == "ready":
            return
        time.sleep(0.2)


def stop(base_dir: Path) -> None:
    """Stop the embedded server (fast shutdown: sessions are ended, nothing is lost)."""
    from pgserver._commands import pg_ctl

    _runtime_dir(base_dir)
    if running(base_dir):
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=data_dir(base_dir), timeout=60)


def embedded_database(base_dir: Path) -> dict:
    _runtime_dir(base_dir)
    import pgserver

    pgdata = data_dir(base_dir)
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _wait_while_changing(base_dir)
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    deadline = time.monotonic() + READY_TIMEOUT
    while True:
        try:
            exists = server.psql(f"SELECT 1 FROM pg_database WHERE datname = '{DB_NAME}';")
            break
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)  # accepting connections in a moment
    if "1 row" not in exists:
        server.psql(f"CREATE DATABASE {DB_NAME};")
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DB_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(pgdata),
        "PORT": "",
    }
