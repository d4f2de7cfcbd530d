"""`make run` serves the web app, the task cluster and the sandbox together; Ctrl-C stops all."""

import os
import signal
import socket
import subprocess
import sys
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


def test_ctrl_c_stops_the_web_server_the_task_cluster_and_the_sandbox():
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
    serve = subprocess.Popen(
        [sys.executable, "manage.py", "serve", "--addr", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/") as page:
                    assert page.status == 200
                    break
            except OSError:
                assert serve.poll() is None, serve.stdout.read().decode()
                assert time.monotonic() < deadline, "the web server did not come up"
                time.sleep(0.5)
        assert len(processes_with(marker)) >= 4  # serve, runserver, qcluster, sandbox

        serve.send_signal(signal.SIGINT)
        serve.wait(timeout=30)

        deadline = time.monotonic() + 10
        while processes_with(marker) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert processes_with(marker) == []
        with pytest.raises(OSError):
            urllib.request.urlopen(f"http://127.0.0.1:{port}/admin/login/", timeout=2)
    finally:
        if serve.poll() is None:
            serve.kill()
