"""`make run` serves the web app, the task cluster and the sandbox together; Ctrl-C, a closed
terminal or a kill stops all of it within 5 seconds."""

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def processes_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if marker.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def start_serve():
    db = connection.settings_dict  # the test database, so the children see its tables
    host = quote(str(db["HOST"] or "127.0.0.1"), safe="")
    marker = f"TONGCANG_SERVE_TEST={uuid.uuid4().hex}"
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{host}:{db['PORT'] or 5432}/{db['NAME']}",
        "TONGCANG_SANDBOX_PORT": str(free_port()),
        marker.split("=")[0]: marker.split("=")[1],
    }
    port = free_port()
    log = tempfile.TemporaryFile()  # a pipe nobody reads would block the children's logging
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--addr", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 90
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/") as page:
                assert page.status == 200
                break
        except OSError:
            if serve.poll() is not None:
                log.seek(0)
                raise AssertionError(log.read().decode(errors="replace")) from None
            assert time.monotonic() < deadline, "the web server did not come up"
            time.sleep(0.5)
    # serve, runserver, qcluster (with its sentinel, pusher, monitor, workers), the sandbox
    # and the reaper
    assert len(processes_with(marker)) >= 6
    return serve, marker, port


def gone_within(marker, seconds) -> float:
    started = time.monotonic()
    while processes_with(marker) and time.monotonic() - started < seconds:
        time.sleep(0.1)
    assert processes_with(marker) == [], "left running: " + ", ".join(
        Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        for pid in processes_with(marker)
        if Path(f"/proc/{pid}").exists()
    )
    return time.monotonic() - started


@pytest.mark.parametrize(
    "how",
    [
        "Ctrl-C",  # SIGINT
        "closed terminal",  # SIGHUP
        "killed",  # SIGKILL: serve cannot clean up; its children die with it anyway
    ],
)
def test_serve_stops_everything_within_5_seconds_however_it_ends(how):
    serve, marker, port = start_serve()
    try:
        sig = {"Ctrl-C": signal.SIGINT, "closed terminal": signal.SIGHUP, "killed": signal.SIGKILL}
        started = time.monotonic()
        serve.send_signal(sig[how])
        serve.wait(timeout=5)
        gone_within(marker, 5 - (time.monotonic() - started))
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=2)
    finally:
        if serve.poll() is None:
            serve.kill()


def test_make_run_stops_the_embedded_server_only_when_it_started_it(monkeypatch):
    """config.runlocal: the steps run in order; the embedded PostgreSQL is stopped at the end
    only when it was not running before (another run's server is left alone)."""
    from config import embedded_db, runlocal
    from core import processes

    ran, stopped = [], []
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setattr(
        processes,
        "start",
        lambda command, **kw: (
            ran.append(command[2:]),
            subprocess.Popen([sys.executable, "-c", ""]),
        )[1],
    )
    monkeypatch.setattr(embedded_db, "stop", lambda base: stopped.append(base))

    monkeypatch.setattr(embedded_db, "running", lambda base: False)
    assert runlocal.main() == 0
    assert ran == runlocal.STEPS and stopped == [runlocal.BASE_DIR]

    ran.clear(), stopped.clear()
    monkeypatch.setattr(embedded_db, "running", lambda base: True)
    assert runlocal.main() == 0
    assert ran == runlocal.STEPS and stopped == []
