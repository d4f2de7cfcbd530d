"""Benchmark: the scan page's endpoints (复核发货) under 50 packers, over HTTP through gunicorn.

    python -m bench scan [--orders 4000] [--packers 50] [--pause 1.0] [--seconds 60]

Printed orders (1 to 3 lines, 1 to 2 pieces each) wait on the tables; ``--packers`` clients,
each logged in through the admin login form, pack them as the drill's packers do
(bench/peak_packers.py): scan the waybill, scan every piece, ship. Two phases of
``--seconds`` each:

- **at a person's pace**: before each scan the packer takes ``--pause`` seconds on average
  (uniform between half and one and a half times it) to pick up the next piece or parcel;
- **flat out**: no pause at all, every packer a machine: the server's capacity, where the
  latency is mostly the queue for a core (Little's law: 50 clients / calls per second).

Prints each endpoint's p50 / p95 / p99 and calls/s, and parcels shipped per second, for both.
gunicorn runs as in the drill (3 workers × 4 threads) against a database of its own
(``<configured database>_bench``). Target (issue 15): p95 < 100 ms with 50 packers.
"""

from __future__ import annotations

import argparse
import os
import queue
import random
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

from bench.benchdb import bench_database
from bench.peak import pct

PASSWORD = "bench-scan-pass-1"
TARGET_MS = 100.0


def database_url() -> str:
    from django.db import connections

    s = connections.settings["default"]
    host = s.get("HOST") or ""
    auth = quote(s.get("USER") or "", safe="")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"], safe="")
    where = quote(host, safe="") if host.startswith("/") else host
    port = f":{s['PORT']}" if s.get("PORT") and not host.startswith("/") else ""
    url = f"postgres://{auth}@{where}{port}/{s['NAME']}"
    if host.startswith("/") and s.get("PORT"):
        url += f"?port={s['PORT']}"
    return url


def prepare(orders: int, packers: int) -> list[str]:
    """Printed orders and the packers' accounts; the tracking numbers of the parcels."""
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group, User

    from bench.printing import make_orders
    from orders.models import Order
    from orders.services import printing, waves

    lead, carrier, _orders = make_orders(orders)
    wave = waves.create_wave_by_filter(carrier=carrier, limit=orders, actor=lead)
    printing.print_waybills(wave=wave, actor=lead)
    hashed = make_password(PASSWORD)
    warehouse = Group.objects.get(name="warehouse")
    for n in range(1, packers + 1):
        user = User.objects.create(username=f"packer{n:03d}", password=hashed, is_staff=True)
        user.groups.add(warehouse)
    return list(
        Order.objects.filter(status=Order.Status.PRINTED)
        .order_by("pk")
        .values_list("tracking_no", flat=True)
    )


def phase(packers: list, parcels: queue.Queue, *, pause: float, seconds: float):
    """Every packer packs parcels for ``seconds``; returns (stats, parcels shipped, seconds)."""
    from bench.peak_packers import Stats

    stats = Stats()
    stop = threading.Event()
    shipped = []

    def work(packer, rng: random.Random) -> None:
        packer.stats = stats
        packer.pause = (lambda: rng.uniform(0.5 * pause, 1.5 * pause)) if pause else None
        while not stop.is_set():
            try:
                tracking_no = parcels.get_nowait()
            except queue.Empty:
                return
            if packer.pack(tracking_no) == "shipped":
                shipped.append(tracking_no)

    threads = [
        threading.Thread(target=work, args=(p, random.Random(n)), daemon=True)
        for n, p in enumerate(packers)
    ]
    started = time.perf_counter()
    for t in threads:
        t.start()
    stop.wait(seconds)
    stop.set()
    for t in threads:
        t.join(timeout=130)
    return stats, len(shipped), time.perf_counter() - started


def report(title: str, stats, shipped: int, seconds: float) -> float:
    print(f"\n{title}: {shipped} parcels shipped in {seconds:.0f} s = {shipped / seconds:.1f}/s")
    print(
        f"  {'endpoint':<10}{'calls':>8}{'calls/s':>10}{'p50 ms':>10}{'p95 ms':>10}{'p99 ms':>10}"
    )
    every: list[float] = []
    for endpoint in ("order", "scan", "ship"):
        values = stats.latency[endpoint]
        if not values:
            continue
        every += values
        print(
            f"  {endpoint:<10}{len(values):>8}{len(values) / seconds:>10.1f}"
            f"{pct(values, 50) * 1000:>10.0f}{pct(values, 95) * 1000:>10.0f}"
            f"{pct(values, 99) * 1000:>10.0f}"
        )
    p95 = pct(every, 95) * 1000 if every else float("nan")
    print(f"  {'all':<10}{len(every):>8}{len(every) / seconds:>10.1f}{'':>10}{p95:>10.0f}")
    return p95


def main(argv=None) -> int:
    import requests

    parser = argparse.ArgumentParser(prog="bench.scan", description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=4000)
    parser.add_argument("--packers", type=int, default=50)
    parser.add_argument("--pause", type=float, default=1.0, help="a person's seconds per scan")
    parser.add_argument("--seconds", type=float, default=60.0, help="length of each phase")
    parser.add_argument("--web-workers", type=int, default=3)
    args = parser.parse_args(argv)

    from bench.peak_packers import Packer, Stats
    from bench.peak_pg import free_port
    from bench.peak_procs import Procs, wait_for

    with bench_database("scan"), tempfile.TemporaryDirectory(prefix="bench-scan-") as work:
        print(f"preparing {args.orders} printed orders and {args.packers} packers …", flush=True)
        tracking = prepare(args.orders, args.packers)
        from django.db import connections

        env = {**os.environ, "DATABASE_URL": database_url()}
        connections.close_all()
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        procs = Procs(workdir=Path(work), env=env, cwd=Path(__file__).resolve().parent.parent)
        try:
            procs.start(
                "gunicorn",
                [sys.executable, "-m", "gunicorn", "config.wsgi:application"]
                + ["--workers", str(args.web_workers), "--threads", "4"]
                + ["--bind", f"127.0.0.1:{port}", "--timeout", "180", "--backlog", "256"],
            )
            wait_for(
                lambda: requests.get(f"{url}/admin/login/", timeout=5).status_code == 200,
                timeout=90,
                what="gunicorn",
            )
            packers = [
                Packer(url, f"packer{n:03d}", PASSWORD, Stats()) for n in range(1, args.packers + 1)
            ]
            print(f"{args.packers} packers log in …", flush=True)
            for packer in packers:
                packer.login()
            parcels: queue.Queue = queue.Queue()
            for t in tracking:
                parcels.put(t)
            paced = report(
                f"at a person's pace (about {args.pause:g} s a scan), {args.packers} packers",
                *phase(packers, parcels, pause=args.pause, seconds=args.seconds),
            )
            flat = report(
                f"flat out (no pause), {args.packers} packers",
                *phase(packers, parcels, pause=0, seconds=args.seconds),
            )
        finally:
            procs.stop("gunicorn")
    verdict = "met" if paced < TARGET_MS else "NOT met"
    print(
        f"\nbench scan: p95 {paced:.0f} ms at a person's pace (target < {TARGET_MS:.0f} ms: "
        f"{verdict}), {flat:.0f} ms flat out; {args.packers} packers, "
        f"{args.web_workers} gunicorn workers × 4 threads"
    )
    return 0


if __name__ == "__main__":
    from bench.benchdb import setup_django

    setup_django()
    sys.exit(main(sys.argv[1:]))
