"""The packers of the peak drill (bench/peak.py): a process of its own with one thread per packer.

Each packer logs in through the admin login form, opens the scan page (its CSRF cookie), and
then, parcel after parcel, does what a person at a packing table does, over HTTP only: scan
the waybill (``/warehouse/api/order/``), scan every item the answer lists, once per piece
(``/warehouse/api/scan/``), and ship (``/warehouse/api/ship/``). Which parcels lie on the
tables (printed orders) is read from the database, as the physical pile would show them;
nothing else is. A call that fails for the server's sake (connection refused, 5xx, during a
database restart) is tried again; an order the server refuses (held, cancelled) is put aside.

    python -m bench.peak_packers --url http://127.0.0.1:PORT --database-url postgres://… \\
        --packers 50 --password … --stop-file F --out stats.json

Writes the latency of every call per endpoint and the counts to ``--out`` when the stop file
appears.
"""

from __future__ import annotations

import argparse
import json
import queue
import re
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

RETRIES = 40  # a call failing for the server's sake is tried this many times
# A call is given this long: on a loaded machine a shorter timeout makes the packer ask again
# while the server still works on the first request (a login costs ~1 s of CPU: PBKDF2).
TIMEOUT = 120


class Stats:
    def __init__(self):
        self.lock = threading.Lock()
        self.latency: dict[str, list[float]] = {"login": [], "order": [], "scan": [], "ship": []}
        self.counts: dict[str, int] = {}

    def add(self, endpoint: str, seconds: float) -> None:
        with self.lock:
            self.latency[endpoint].append(seconds)

    def count(self, what: str) -> None:
        with self.lock:
            self.counts[what] = self.counts.get(what, 0) + 1


class Refused(Exception):
    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


class Packer:
    def __init__(self, url: str, username: str, password: str, stats: Stats):
        import requests

        self.url, self.username, self.password, self.stats = url, username, password, stats
        self.http = requests.Session()
        self.csrf = ""
        # Seconds a person takes before each scan (picking up the next piece or parcel), or
        # None: a machine (the drill's packers go flat out; bench/scan.py paces them too).
        self.pause: Callable[[], float] | None = None

    def login(self) -> None:
        import requests

        for attempt in range(RETRIES):
            try:
                started = time.perf_counter()
                page = self.http.get(f"{self.url}/admin/login/?next=/warehouse/", timeout=TIMEOUT)
                token = self.http.cookies.get("csrftoken") or re.search(
                    r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text
                ).group(1)
                answer = self.http.post(
                    f"{self.url}/admin/login/?next=/warehouse/",
                    data={
                        "username": self.username,
                        "password": self.password,
                        "csrfmiddlewaretoken": token,
                        "next": "/warehouse/",
                    },
                    headers={"Referer": f"{self.url}/admin/login/"},
                    timeout=TIMEOUT,
                )
                if answer.status_code >= 500 or "sessionid" not in self.http.cookies:
                    raise requests.ConnectionError(f"login answered {answer.status_code}")
                self.http.get(f"{self.url}/warehouse/", timeout=TIMEOUT)
                self.csrf = self.http.cookies.get("csrftoken", "")
                self.stats.add("login", time.perf_counter() - started)
                return
            except (requests.RequestException, AttributeError):
                self.stats.count("login_retry")
                time.sleep(min(5, 0.5 * (attempt + 1)))
        raise RuntimeError(f"{self.username} could not log in")

    def call(self, endpoint: str, body: dict) -> dict:
        import requests

        path = {"order": "order", "scan": "scan", "ship": "ship"}[endpoint]
        if self.pause is not None:
            time.sleep(self.pause())
        for attempt in range(RETRIES):
            try:
                started = time.perf_counter()
                answer = self.http.post(
                    f"{self.url}/warehouse/api/{path}/",
                    data=json.dumps(body),
                    headers={
                        "Content-Type": "application/json",
                        "X-CSRFToken": self.csrf,
                        "Referer": f"{self.url}/warehouse/",
                    },
                    timeout=TIMEOUT,
                )
                elapsed = time.perf_counter() - started
            except requests.RequestException:
                self.stats.count("retry_connection")
                time.sleep(min(3, 0.3 * (attempt + 1)))
                continue
            if answer.status_code >= 500:
                self.stats.count("retry_5xx")
                time.sleep(min(3, 0.3 * (attempt + 1)))
                continue
            if answer.status_code in (401, 403) and "csrf" in answer.text.lower():
                self.login()
                continue
            if answer.status_code == 401:
                self.login()
                continue
            self.stats.add(endpoint, elapsed)
            data = answer.json()
            if not data.get("ok"):
                raise Refused(data.get("error", {}).get("code", str(answer.status_code)))
            return data
        raise Refused("server_unreachable")

    def pack(self, tracking_no: str) -> str:
        """One parcel: returns "shipped" or why not."""
        try:
            opened = self.call("order", {"code": tracking_no})
            order_id = opened["order"]["id"]
            scanned = dict(opened.get("scanned") or {})
            if opened["order"]["status"] != "verified":
                for item in opened["items"]:
                    for _piece in range(item["expected"] - scanned.get(item["code"], 0)):
                        answer = self.call(
                            "scan", {"order_id": order_id, "scanned": scanned, "code": item["code"]}
                        )
                        scanned = answer["scanned"]
            self.call("ship", {"order_id": order_id})
            return "shipped"
        except Refused as exc:
            return exc.code


def feed(database_url: str, parcels: queue.Queue, stop: threading.Event, stats: Stats) -> None:
    """Put printed (or verified, not yet shipped) orders on the tables. A parcel its packer
    could not finish for the server's sake goes back on the pile (see ``work``); one still not
    shipped ten minutes after it was handed is handed again (a packer thread lost it)."""
    import psycopg

    handed: dict[int, float] = {}
    last_id = 0
    while not stop.is_set():
        try:
            with psycopg.connect(database_url, connect_timeout=5, autocommit=True) as conn:
                while not stop.is_set():
                    rows = conn.execute(
                        "SELECT id, tracking_no FROM orders_order WHERE status IN "
                        "('printed', 'verified') AND NOT on_hold AND id > %s ORDER BY id "
                        "LIMIT 2000",
                        [last_id],
                    ).fetchall()
                    now = time.monotonic()
                    fresh = [(i, t) for i, t in rows if now - handed.get(i, -1e9) > 600]
                    for order_id, tracking_no in fresh:
                        if order_id in handed:
                            stats.count("parcel handed again")
                        handed[order_id] = now
                        parcels.put(tracking_no)
                    if len(rows) < 2000:
                        last_id = 0  # from the start again: orders printed late, low ids
                        stop.wait(0.5)
                    else:
                        last_id = rows[-1][0]
                    while parcels.qsize() > 2000 and not stop.is_set():
                        stop.wait(0.2)
        except psycopg.Error:
            stats.count("feeder_reconnect")
            stop.wait(1)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="bench.peak_packers")
    parser.add_argument("--url", required=True)
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--packers", type=int, default=50)
    parser.add_argument("--user-prefix", default="packer")
    parser.add_argument("--password", required=True)
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--out", required=True)
    args = parser.parse_args(argv)

    stats = Stats()
    stop = threading.Event()
    parcels: queue.Queue = queue.Queue()
    feeder = threading.Thread(
        target=feed, args=(args.database_url, parcels, stop, stats), daemon=True
    )
    feeder.start()

    def work(n: int) -> None:
        packer = Packer(args.url, f"{args.user_prefix}{n:03d}", args.password, stats)
        stop.wait(0.2 * n)  # the shift starts: packers arrive one after another
        packer.login()
        while not stop.is_set():
            try:
                tracking_no = parcels.get(timeout=0.5)
            except queue.Empty:
                continue
            outcome = packer.pack(tracking_no)
            stats.count(outcome)
            if outcome == "server_unreachable":
                parcels.put(tracking_no)  # back on the pile: someone packs it later

    threads = [
        threading.Thread(target=work, args=(n,), daemon=True) for n in range(1, args.packers + 1)
    ]
    for t in threads:
        t.start()
    stop_file = Path(args.stop_file)

    def write() -> None:
        with stats.lock:
            text = json.dumps({"latency": stats.latency, "counts": stats.counts})
        Path(args.out + ".tmp").write_text(text)
        Path(args.out + ".tmp").replace(args.out)

    last = time.monotonic()
    while not stop_file.exists():
        time.sleep(0.3)
        if time.monotonic() - last > 10:  # also on disk while running (a kill loses little)
            write()
            last = time.monotonic()
    stop.set()
    deadline = time.monotonic() + 35
    for t in threads:
        t.join(timeout=max(0.1, deadline - time.monotonic()))
    write()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
