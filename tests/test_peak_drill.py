"""The peak-day drill (bench/peak.py) at a small size, as a test of its invariants.

It runs the real processes (its own PostgreSQL, gunicorn, two task clusters, the platform
sandbox with misbehaviour, the ERP simulator, 50 packers over HTTP) with the faults (kill -9 of
a task worker, a PostgreSQL restart, the sandbox stopped) and fails on any breach. About three
minutes on two cores; part of `make test` (select it alone with `pytest -m drill`, leave it out
while iterating with `-m 'not drill'`).
"""

import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHECKS = [
    "every platform order exactly once",
    "every order has the platform's latest version",
    "no stock level below zero",
    "every stock level equals its ledger",
    "reservations equal open orders",
    "no order both refunded before shipping and shipped",
    "every file shop's shipped order went out in its tracking file",
    "every shipped order's tracking number reached its platform exactly once",
    "every platform's last pushed stock equals the formula",
    "every shipped order and received return reached the ERP exactly once, lines add up",
    "ERP sales totals plus postage equal what was paid",
]


@pytest.mark.drill
def test_the_peak_drill_at_2000_orders_loses_nothing_and_applies_nothing_twice():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("DATABASE_URL", None)  # its own PostgreSQL, so that it can restart it
    done = subprocess.run(
        [sys.executable, "-m", "bench", "peak", "--orders", "2000"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=12 * 60,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-6000:]
    assert "ALL CHECKS HELD" in out
    for check in CHECKS:
        assert f"✓ {check}" in out, f"{check} not held:\n{out[-4000:]}"
    for fault in ("kill -9 task worker pid", "PostgreSQL restarted", "sandbox stopped"):
        assert fault in out, f"fault {fault!r} did not happen:\n{out[-4000:]}"
    assert "no worker was found inside a task" not in out
    print(out[out.find("FIGURES") :])  # the figures, for `pytest -rP` and the CI log


def test_the_drill_on_redis_says_clearly_when_no_redis_is_reachable_and_starts_nothing():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    url = f"redis://127.0.0.1:{port}/15"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "peak", "--broker", "redis", "--redis-url", url],
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert done.returncode == 3, done.stdout + done.stderr
    assert f"peak: no Redis reachable at {url}" in done.stdout
    assert "Nothing was started." in done.stdout
    assert "peak drill:" not in done.stdout  # no PostgreSQL, no processes, no orders
