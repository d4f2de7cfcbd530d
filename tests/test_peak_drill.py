"""The peak-day drill (bench/peak.py) at a small size, as a test of its invariants.

It runs the real processes (its own PostgreSQL, gunicorn, two task clusters, the platform
sandbox with misbehaviour, the ERP simulator, 50 packers over HTTP) with the faults (kill -9 of
a task worker, a PostgreSQL restart, the sandbox stopped) and fails on any breach. Minutes long:
`make drill` runs it (pytest's addopts leave it out of `make test` until it is seen passing
inside that command's 15-minute budget).
"""

import os
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
    "every shipped order's tracking number reached its platform exactly once",
    "every platform's last pushed stock equals the formula",
    "every shipped order and received return reached the ERP exactly once, lines add up",
]


@pytest.mark.drill
def test_the_peak_drill_at_2000_orders_loses_nothing_and_applies_nothing_twice():
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # The ERP's sales records do not yet allocate order discounts nor give postage
    # (docs/erp-api.md): reported by the drill, not counted, until the ERP bridge does.
    done = subprocess.run(
        [sys.executable, "-m", "bench", "peak", "--orders", "2000", "--known-gap", "erp-paid"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=14 * 60,
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-6000:]
    assert "ALL CHECKS HELD" in out
    for check in CHECKS:
        assert f"✓ {check}" in out, f"{check} not held:\n{out[-4000:]}"
    for fault in ("kill -9 task worker", "PostgreSQL restarted", "sandbox stopped"):
        assert fault in out, f"fault {fault!r} did not happen:\n{out[-4000:]}"
