"""The peak-day drill (大促演练, issue 15): the whole flow at once, under load and faults.

    python -m bench peak                          # 100,000 orders, ORM broker
    python -m bench peak --orders 2000            # small, while iterating (and in `make test`)
    python -m bench peak --broker redis           # django-q2 over Redis (REDIS_URL, or db 15)

What runs, as production runs it, every process started here and stopped at the end:
- a PostgreSQL cluster of the drill's own (pgserver's binaries, loopback, a free port), so it
  can be restarted; ``--database-url`` uses a given server instead (then no restart fault);
- the platform sandbox (``manage.py channel_sandbox``) selling for the 4 API shops, with
  misbehaviour injected all along (timeouts, timeouts after processing, 5xx, rate limits,
  malformed bodies, duplicate and out-of-order pages);
- gunicorn (several workers) serving the back office, the scan page and the ERP API;
- two ``manage.py qcluster`` processes running the real schedules (the pull, the outbox, the
  re-map and stock-short retries; the intervals are shortened to a minute for the drill);
- ``manage.py erp_simulator`` extracting sales and returns and sending stock over HTTP;
- 50 packers (bench/peak_packers.py) using the scan page's HTTP endpoints only.
In this process: the platforms' buyers (orders, ~2 % refunds before shipping, ~1 % after,
~3 % changed on the platform after the first pull), the file shops (standard-format files
through ``manage.py import_orders``), the reviewer (orders the automatic review leaves), the
warehouse lead (waves by filter, waybills), after-sales (approve, receive returns), a stock
probe measuring how fast a stock change reaches every platform, and the faults: kill -9 of a
task worker in the middle of a task, a PostgreSQL restart, the sandbox stopped (SIGSTOP) for
60 s (less at small N).

At the end it checks the invariants (exit 1 on any breach) and prints the figures.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from pathlib import Path

from bench.peak_procs import Procs, wait_for

ROOT = Path(__file__).resolve().parent.parent
# The demo shops (load_demo): the API shops' sandbox sellers, and the file shops.
API_SHOPS = {"JD01": "jd", "TB01": "top", "TM01": "top:TM01", "WM01": "weimob"}
FILE_SHOPS = ["FN01", "YHD01", "MGJ01", "OT01"]
CARRIER = "SF"
PASSWORD = "peak-drill-Packer-2026"
PROBE = "PEAK-PROBE"
MISBEHAVE_EVERY = 100  # platform calls per misbehaviour injected (each hits 1 or 2: ~1.3 %)


def pct(values, p: float):
    if not values:
        return None
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def fmt_s(value) -> str:
    return "n/a" if value is None else f"{value:.2f} s"


class Drill:
    def __init__(self, args):
        self.args = args
        self.n = args.orders
        self.rng = random.Random(args.seed)
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.errors: list[str] = []
        self.events: list[str] = []  # the faults and what they did
        self.t0 = time.time()
        self.created: dict[tuple[str, str], float] = {}  # (shop, tid) → wall time created
        self.file_orders: dict[str, list[str]] = defaultdict(list)
        self.api_done = self.file_done = 0
        self.generation_done = False
        self.sandbox_stopped = threading.Event()
        self.quiet = threading.Event()  # every order settled: no more probes nor misbehaviour
        self.pre_refund: dict[tuple[str, str], tuple[str, float]] = {}  # → (kind, time)
        self.post_refund: set[tuple[str, str]] = set()
        self.modified: set[tuple[str, str]] = set()
        self.probe_lags: list[float] = []
        self.probe_missed = 0
        self.probe_why: dict[tuple[float, str], str] = {}  # a miss: what each side held
        self.probe_cut_short = 0  # on their way when the drill ended (neither seen nor missed)
        self.probe_detail: list[tuple[float, str, float | None]] = []  # (committed, seller, lag)
        self.misbehaviours: list[tuple[float, str]] = []  # (when injected, kind)
        self.calls_at_fault = 0  # the platforms' call count when the last fault was injected
        self.loads: list[float] = []  # the 1-minute load average, every monitor round
        self.max_queue = Counter()
        self.stage = Counter()
        self.stage_seconds = Counter()
        self.threads: list[threading.Thread] = []

    # --- helpers ----------------------------------------------------------------------------
    def say(self, text: str) -> None:
        print(f"[{time.time() - self.t0:7.1f}s] {text}", flush=True)

    def event(self, text: str) -> None:
        self.events.append(f"t+{time.time() - self.t0:.0f}s {text}")
        self.say("FAULT " + text)

    def sandbox(self, action: str, body: dict | None = None, timeout: float = 60):
        import requests

        r = requests.post(f"{self.sandbox_url}/_sandbox/{action}", json=body or {}, timeout=timeout)
        r.raise_for_status()
        return r.json()

    def loop(self, name: str, every: float, body) -> None:
        """Run ``body`` every ``every`` seconds until the drill stops; a database restart or a
        passing error is survived (the connection is dropped and the next round tries again)."""
        from django.db import close_old_connections, connection
        from django.db.utils import InterfaceError, OperationalError

        def run():
            while not self.stop.is_set():
                close_old_connections()
                try:
                    body()
                except (OperationalError, InterfaceError) as exc:
                    self.stage[f"{name}: database errors survived"] += 1
                    connection.close()
                    if not self.stop.is_set():
                        self.say(f"{name}: database unavailable ({str(exc).strip()[:80]})")
                except Exception as exc:
                    self.stage[f"{name}: errors"] += 1
                    self.errors.append(f"{name}: {exc!r}")
                    self.say(f"{name}: {exc!r}\n{traceback.format_exc(limit=4)}")
                self.stop.wait(every)
            connection.close()

        thread = threading.Thread(target=run, name=name, daemon=True)
        thread.start()
        self.threads.append(thread)

    # --- set-up -----------------------------------------------------------------------------
    def setup_world(self) -> None:
        from django.contrib.auth.hashers import make_password
        from django.contrib.auth.models import Group, User
        from django.core.management import call_command
        from django_q.models import Schedule

        from channels.models import Shop, SkuComponent, SkuMapping
        from erpbridge.services import create_client
        from inventory import services as stock
        from inventory.models import Product, Warehouse
        from orders.models import Carrier
        from orders.services.tracking import import_tracking_ranges

        call_command("migrate", verbosity=0)
        call_command("load_demo", verbosity=0)
        Shop.objects.update(auto_review_enabled=True, auto_review_max_amount=None)
        for shop in Shop.objects.filter(code__in=API_SHOPS):
            creds = dict(shop.credentials or {})
            creds.update({"timeout": 5, "detail_workers": 4})
            Shop.objects.filter(pk=shop.pk).update(api_base_url=self.sandbox_url, credentials=creds)
        main = Warehouse.main()
        probe = Product.objects.create(code=PROBE, name="演练探针", barcode="PEAKPROBE0001")
        for shop in Shop.objects.filter(code__in=API_SHOPS):
            mapping = SkuMapping.objects.create(shop=shop, platform_sku=f"{shop.code}-PROBE")
            SkuComponent.objects.create(mapping=mapping, product=probe, quantity=Decimal(1))
        per_product = max(500, self.n // 4)
        stock.receive(
            warehouse_id=main.id,
            items=[
                (pid, Decimal(per_product)) for pid in Product.objects.values_list("id", flat=True)
            ],
            actor=None,
            document="peak:stock",
        )
        self.probe_id, self.main_id = probe.id, main.id
        carrier = Carrier.objects.get(code=CARRIER)
        import_tracking_ranges(
            carrier=carrier, text=f"PK,100000000,{100000000 + 2 * self.n + 1000}", actor=None
        )
        hashed = make_password(PASSWORD)
        groups = {g.name: g for g in Group.objects.all()}

        def user(name, group):
            u = User.objects.create(username=name, password=hashed, is_staff=True)
            u.groups.add(groups[group])
            return u

        for i in range(1, self.args.packers + 1):
            user(f"packer{i:03d}", "warehouse")
        self.lead = user("peak-lead", "warehouse")
        self.reviewer = user("peak-reviewer", "reviewer")
        self.clerk = user("peak-clerk", "after_sales")
        self.checker = user("peak-checker", "after_sales_reviewer")
        client, self.erp_secret = create_client(name="peak-erp")
        self.erp_key = client.key_id
        # The real schedules, every minute instead of every 10 or 15 (a drill of minutes).
        Schedule.objects.filter(schedule_type=Schedule.MINUTES).update(
            minutes=1, next_run=datetime.now(UTC)
        )
        self.schedules = list(Schedule.objects.values_list("name", "func", "minutes"))

    def start_processes(self) -> None:
        import requests

        py = sys.executable
        a = self.args
        self.procs.start(
            "sandbox",
            [py, "manage.py", "channel_sandbox", "--port", str(self.sandbox_port)]
            + ["--orders-per-minute", "0", "--seed", str(a.seed)],
        )
        wait_for(
            lambda: requests.get(f"{self.sandbox_url}/_sandbox/state", timeout=2).ok,
            timeout=60,
            what="the sandbox",
        )
        self.sandbox("unsold", {"skus": [f"{code}-PROBE" for code in API_SHOPS]})
        # The day starts with the platforms holding our figures (yesterday's pushes): every
        # mapped SKU is sent once now, before the clock starts, not during the first minute.
        from django.db import connections

        from platformsync.outbox import drain_stock, queue_stock_pushes

        queue_stock_pushes(full=True)
        drain_stock()
        connections.close_all()
        self.procs.start(
            "gunicorn",
            [py, "-m", "gunicorn", "config.wsgi:application", "--workers", str(a.web_workers)]
            + ["--threads", "4", "--bind", f"127.0.0.1:{self.web_port}", "--timeout", "180"]
            + ["--graceful-timeout", "10", "--backlog", "256"],
        )
        wait_for(
            lambda: requests.get(f"{self.web_url}/admin/login/", timeout=5).status_code == 200,
            timeout=90,
            what="gunicorn",
        )
        for i in range(1, a.clusters + 1):
            self.procs.start(f"qcluster{i}", [py, "manage.py", "qcluster"])
        self.procs.start(
            "erp_simulator",
            [py, "manage.py", "erp_simulator", "--url", self.web_url, "--key", self.erp_key]
            + ["--secret", self.erp_secret, "--interval", str(self.erp_interval)]
            + ["--journal", str(self.journal), "--seed", str(a.seed)],
        )
        self.procs.start(
            "packers",
            [py, "-m", "bench.peak_packers", "--url", self.web_url]
            + ["--database-url", self.database_url, "--packers", str(a.packers)]
            + ["--password", PASSWORD, "--stop-file", str(self.workdir / "packers.stop")]
            + ["--out", str(self.workdir / "packers.json")],
        )

    # --- the platforms' side: orders, refunds, changes ---------------------------------------
    def generate_api(self, count: int) -> None:
        sellers = list(API_SHOPS.items())
        share = [count // 4 + (1 if i < count % 4 else 0) for i in range(4)]
        end = datetime.now(UTC).replace(microsecond=0)
        for (code, seller), k in zip(sellers, share, strict=True):
            if not k:
                continue
            answer = self.sandbox(
                "generate",
                {
                    "platform": seller,
                    "count": k,
                    "start": (end - timedelta(seconds=1)).isoformat(),
                    "end": end.isoformat(),
                    "refund_share": 0,
                    "cancel_share": 0,
                },
            )
            now = time.time()
            with self.lock:
                for tid in answer["tids"]:
                    self.created[(code, tid)] = now
            self.api_done += k

    def write_file_orders(self, count: int) -> Path | None:
        """A standard-format orders file (标准格式订单) of ``count`` orders over the file shops."""
        if count <= 0:
            return None
        path = self.workdir / f"orders-{self.file_done:08d}.csv"
        rows = []
        shanghai = timedelta(hours=8)
        for i in range(count):
            shop = FILE_SHOPS[(self.file_done + i) % len(FILE_SHOPS)]
            no = f"{shop}-{self.file_done + i:08d}"
            paid = (datetime.now(UTC) + shanghai).strftime("%Y-%m-%d %H:%M:%S")
            phone = f"139{self.rng.randrange(10**7, 10**8)}"
            for sku, price in self.rng.sample(
                self.file_skus[shop], k=self.rng.choice([1, 1, 2, 3])
            ):
                rows.append(
                    [shop, no, f"fb{i}", "张三", phone]
                    + ["浙江省", "杭州市", "西湖区", f"文三路 {i % 500} 号", sku]
                    + [self.rng.choice([1, 1, 2]), price, paid, "", ""]
                )
            self.file_orders[shop].append(no)
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(
                ["shop", "platform_order_no", "buyer_nick", "receiver_name", "receiver_phone"]
                + ["province", "city", "district", "address", "platform_sku", "quantity"]
                + ["unit_price", "paid_at", "buyer_remark", "seller_remark"]
            )
            w.writerows(rows)
        self.file_done += count
        return path

    def import_file(self, path: Path) -> None:
        started = time.monotonic()
        for attempt in range(20):
            done = subprocess.run(
                [sys.executable, "manage.py", "import_orders", str(path)],
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if done.returncode == 0:
                break
            if "OperationalError" not in done.stderr and "connection" not in done.stderr:
                self.errors.append(f"import_orders {path.name}: {done.stdout[-300:]}")
                return
            self.stage["file import retries (database down)"] += 1
            time.sleep(2 + attempt)
        else:
            self.errors.append(f"import_orders {path.name}: {done.stderr[-300:]}")
        self.stage_seconds["file import"] += time.monotonic() - started

    def generator(self) -> None:
        """The buyers of every platform, at a steady rate over the generation period."""
        api_total = round(self.n * 0.7)
        file_total = self.n - api_total
        period = self.gen_seconds
        files_every = max(5.0, period / 12)
        last_file = time.monotonic()
        imports: list[threading.Thread] = []
        started = time.monotonic()
        while not self.stop.is_set():
            elapsed = time.monotonic() - started
            share = min(1.0, elapsed / period)
            if not self.sandbox_stopped.is_set():
                due = int(api_total * share) - self.api_done
                if due > 0:
                    try:
                        self.generate_api(due)
                    except Exception as exc:  # the sandbox is being stopped: next round
                        self.stage["generate retries"] += 1
                        self.say(f"generator: {exc!r}")
            if time.monotonic() - last_file >= files_every or share >= 1:
                path = self.write_file_orders(int(file_total * share) - self.file_done)
                last_file = time.monotonic()
                if path is not None:
                    t = threading.Thread(target=self.import_file, args=(path,), daemon=True)
                    t.start()
                    imports.append(t)
            if share >= 1 and self.api_done >= api_total and self.file_done >= file_total:
                break
            self.stop.wait(0.5)
        for t in imports:
            t.join()
        # A person imports the first file again by mistake: nothing may be created.
        first = self.workdir / "orders-00000000.csv"
        if first.exists():
            self.import_file(first)
        self.generation_done = True
        self.generation_seconds = time.monotonic() - started
        self.say(f"generation done: {self.api_done:,} API orders, {self.file_done:,} file orders")

    def platform_events(self) -> None:
        """Refunds before shipping (2 %: half a request, half closed by the platform), refunds
        after shipping (1 %) and changes on the platform after the first pull (3 %)."""
        from orders.models import Order

        if self.sandbox_stopped.is_set():
            return
        api_total = round(self.n * 0.7)
        share = min(1.0, self.api_done / max(1, api_total))
        api = Order.objects.filter(shop__code__in=API_SHOPS, split_from__isnull=True)
        want_pre = int(api_total * 0.02 * share) - len(self.pre_refund)
        if want_pre > 0:
            rows = list(
                api.filter(status__in=["pending_review", "reviewed"], wave_item__isnull=True)
                .order_by("?")
                .values_list("shop__code", "platform_order_no")[: want_pre * 3]
            )
            for key in [r for r in rows if r not in self.pre_refund][:want_pre]:
                kind = "close" if len(self.pre_refund) % 2 else "refund"
                body = {"platform": API_SHOPS[key[0]], "tid": key[1]}
                self.sandbox(kind, body)
                self.pre_refund[key] = (kind, time.time())
        want_mod = int(api_total * 0.03 * share) - len(self.modified)
        if want_mod > 0:
            rows = list(
                api.filter(status__in=["pending_review", "reviewed", "printed"])
                .order_by("?")
                .values_list("shop__code", "platform_order_no")[: want_mod * 3]
            )
            for key in rows:
                if want_mod <= 0:
                    break
                if key in self.modified or key in self.pre_refund:
                    continue
                if self.sandbox("modify", {"platform": API_SHOPS[key[0]], "tid": key[1]})[
                    "modified"
                ]:
                    self.modified.add(key)
                    want_mod -= 1
        want_post = int(api_total * 0.01 * share) - len(self.post_refund)
        if want_post > 0:
            rows = list(
                api.filter(status="shipped")
                .order_by("?")
                .values_list("shop__code", "platform_order_no")[: want_post * 3]
            )
            for key in rows:
                if want_post <= 0:
                    break
                if key in self.post_refund or key in self.pre_refund:
                    continue
                order = self.sandbox("order", {"platform": API_SHOPS[key[0]], "tid": key[1]})
                if not order["order"] or not all(ln["shipped"] for ln in order["order"]["lines"]):
                    continue  # the platform has not had our tracking number yet
                self.sandbox("refund", {"platform": API_SHOPS[key[0]], "tid": key[1]})
                self.post_refund.add(key)
                want_post -= 1

    # --- the people of the back office --------------------------------------------------------
    def reviewer_round(self) -> None:
        """Orders the automatic review left (a remark): the reviewer approves them."""
        from orders.models import Order
        from orders.services.review import approve_orders

        pending = list(
            Order.objects.filter(status="pending_review", on_hold=False).order_by("pk")[:500]
        )
        if pending:
            started = time.monotonic()
            approved, _refused = approve_orders(orders=pending, actor=self.reviewer)
            self.stage["approved by the reviewer"] += len(approved)
            self.stage_seconds["review (person)"] += time.monotonic() - started

    def lead_round(self) -> None:
        """The warehouse lead: a wave by filter (up to 300 orders), then its waybills."""
        from orders.models import Carrier, Wave
        from orders.services.kernel import OrderError
        from orders.services.printing import print_waybills
        from orders.services.waves import create_wave_by_filter

        carrier = Carrier.objects.get(code=CARRIER)
        # A wave made but not printed (its printing was cut off by a database restart): the
        # lead sees it in the wave list and prints it.
        for wave in Wave.objects.exclude(status=Wave.Status.PRINTED).order_by("pk")[:20]:
            try:
                outcome = print_waybills(actor=self.lead, wave=wave)
            except OrderError as exc:
                self.stage[f"wave not printed: {exc.code}"] += 1
                continue
            self.stage["unprinted waves printed again"] += 1
            self.stage["waybills printed"] += len(outcome.printed)
        for _ in range(20):
            started = time.monotonic()
            try:
                wave = create_wave_by_filter(carrier=carrier, actor=self.lead, limit=300)
            except OrderError:
                return
            self.stage["waves"] += 1
            self.stage_seconds["waves"] += time.monotonic() - started
            started = time.monotonic()
            try:
                outcome = print_waybills(actor=self.lead, wave=wave)
            except OrderError as exc:
                self.stage[f"wave not printed: {exc.code}"] += 1
                continue
            self.stage["waybills printed"] += len(outcome.printed)
            self.stage_seconds["waybill printing"] += time.monotonic() - started

    def after_sales_round(self) -> None:
        from returns.models import ReturnOrder
        from returns.selectors import receivable_items
        from returns.services import ReturnError, approve_return, receive_return

        for ro in ReturnOrder.objects.filter(status="submitted").order_by("pk")[:200]:
            try:
                approve_return(return_order=ro, actor=self.checker)
                self.stage["returns approved"] += 1
            except ReturnError as exc:
                self.stage[f"return not approved: {exc}"[:60]] += 1
        for ro in ReturnOrder.objects.filter(status="approved", kind="return_goods")[:200]:
            receipts = [
                (item.line, item.product, item.remaining, Decimal(0))
                for item in receivable_items(ro)
                if item.remaining > 0
            ]
            if receipts:
                receive_return(return_order=ro, receipts=receipts, actor=self.clerk)
                self.stage["returns received"] += 1

    # --- measurements ---------------------------------------------------------------------
    def expected_probe(self, change: int = 0) -> dict[str, int]:
        """Each platform's sellable figure of the probe (the design's formula), now or after
        the stock changes by ``change``."""
        from channels.models import Shop
        from inventory.models import StockLevel

        level = StockLevel.objects.get(product_id=self.probe_id, warehouse_id=self.main_id)
        free = level.on_hand - level.reserved + change
        out = {}
        for shop in Shop.objects.filter(code__in=API_SHOPS):
            value = max(Decimal(0), free - shop.safety_stock) * shop.stock_ratio
            out[API_SHOPS[shop.code]] = int(value.to_integral_value(rounding=ROUND_FLOOR))
        return out

    def probe_round(self) -> None:
        """Change the probe product's stock (committed now) and wait until every platform has
        the new sellable figure: the lag stock change → platform received."""
        from django.db import connection

        from inventory import services as stock

        if self.sandbox_stopped.is_set() or self.quiet.is_set():
            return
        # A change that moves every platform's figure (with a ratio below 1, one piece more
        # may leave the floor where it was: nothing would be sent, nothing to measure).
        now = self.expected_probe()
        deltas = self.rng.sample([-3, -2, -1, 1, 2, 3], 6)
        delta = next(
            (d for d in deltas if all(v != now[k] for k, v in self.expected_probe(d).items())),
            None,
        )
        if delta is None:
            return
        stock.adjust(
            warehouse_id=self.main_id,
            product_id=self.probe_id,
            quantity=delta,
            actor=None,
            note="peak drill probe",
        )
        committed = time.time()
        skus = [f"{code}-PROBE" for code in API_SHOPS]
        deadline = committed + 180
        seen: dict[str, float] = {}
        got: dict = {}
        expected: dict[str, int] = {}
        while time.time() < deadline and not self.stop.is_set():
            try:
                got = self.sandbox("stock_of", {"skus": skus}, timeout=5)
                # The figure each platform should hold now. Not only the probe moves the
                # probe's stock: the ERP simulator's purchase receipts (a few of the lowest
                # products get 20 more) and snapshots send the ERP's own figure for it. A
                # figure received after the change and equal to the formula now includes it.
                expected = self.expected_probe()
            except Exception:
                # The sandbox or the database (restarted): a connection PostgreSQL cut stays
                # unusable until dropped, and every later look would fail with it.
                connection.close()
                time.sleep(0.5)
                continue
            for code, seller in API_SHOPS.items():
                value = (got.get(seller) or {}).get(f"{code}-PROBE")
                if value and value[0] == expected[seller] and value[1] >= committed - 0.05:
                    seen.setdefault(seller, value[1])
            if len(seen) == len(API_SHOPS):
                break
            time.sleep(0.2)
        cut_short = self.stop.is_set() and time.time() < deadline
        for seller in API_SHOPS.values():
            if seller in seen:
                self.probe_lags.append(max(0.0, seen[seller] - committed))
                self.probe_detail.append((committed, seller, max(0.0, seen[seller] - committed)))
            elif cut_short:  # the drill ended while this one was on its way: not a miss
                self.probe_cut_short += 1
            else:
                self.probe_missed += 1
                self.probe_detail.append((committed, seller, None))
                self.probe_why[(committed, seller)] = self.probe_state(seller, got, expected)

    def probe_state(self, seller: str, got: dict, expected: dict) -> str:
        """For a probe figure not seen: what the platform holds, what we hold, the outbox."""
        from channels.models import OutboxMessage, SellableQuantity

        code = next(c for c, s in API_SHOPS.items() if s == seller)
        sku = f"{code}-PROBE"
        try:
            row = SellableQuantity.objects.get(mapping__platform_sku=sku, mapping__shop__code=code)
            messages = OutboxMessage.objects.filter(
                kind=OutboxMessage.Kind.STOCK, payload__mapping_id=row.mapping_id
            ).order_by("-id")[:3]

            def describe(m) -> str:
                text = f"#{m.pk} {m.status}, {m.attempts} attempts"
                if m.next_attempt_at:
                    text += f", next at {m.next_attempt_at:%H:%M:%S}"
                return text + (f", {m.last_error[:60]}" if m.last_error else "")

            outbox = "; ".join(describe(m) for m in messages)
            ours = f"sellable {row.quantity}, pushed {row.pushed_quantity} at {row.pushed_at}"
        except Exception as exc:  # noqa: BLE001 - a diagnosis must not fail the drill
            ours, outbox = f"not read ({exc!r})", ""
        theirs = (got or {}).get(seller, {}).get(sku)
        return (
            f"expected {expected.get(seller)}, the platform holds {theirs}; {ours}; "
            f"outbox: {outbox or 'nothing'}"
        )

    def monitor_round(self) -> None:
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("SELECT count(*) FROM django_q_ormq")
            orm_q = cur.fetchone()[0]
            # The file shops' notices wait for the day's tracking file (channel_export at the
            # end): counted apart from what the API shops are owed.
            cur.execute(
                "SELECT m.kind || CASE WHEN s.code = ANY(%s) THEN ' (file shops)' ELSE '' END, "
                "count(*) FROM channels_outboxmessage m JOIN channels_shop s ON s.id = m.shop_id "
                "WHERE m.status = 'pending' GROUP BY 1",
                [FILE_SHOPS],
            )
            outbox = dict(cur.fetchall())
            cur.execute("SELECT status, count(*) FROM orders_order GROUP BY status")
            statuses = dict(cur.fetchall())
        queue = orm_q
        if self.args.broker == "redis":
            import redis

            try:
                r = redis.Redis.from_url(self.args.redis_url, socket_timeout=2)
                queue = sum(r.llen(k) for k in r.keys("django_q:*:q"))
            except redis.RedisError:
                pass
        self.max_queue["task queue"] = max(self.max_queue["task queue"], queue)
        for kind, count in outbox.items():
            self.max_queue[f"outbox {kind}"] = max(self.max_queue[f"outbox {kind}"], count)
        waiting = statuses.get("pending_review", 0) + statuses.get("reviewed", 0)
        self.max_queue["orders waiting (review/wave)"] = max(
            self.max_queue["orders waiting (review/wave)"], waiting
        )
        self.max_queue["printed, not yet packed"] = max(
            self.max_queue["printed, not yet packed"], statuses.get("printed", 0)
        )
        self.last_status = statuses
        self.last_outbox = outbox
        self.loads.append(os.getloadavg()[0])  # the machine may be shared: said with the figures
        now = time.monotonic()
        if now - getattr(self, "_last_print", 0) >= 10:
            self._last_print = now
            self.say(
                f"generated {self.api_done + self.file_done:,}/{self.n:,}; orders "
                + ", ".join(f"{k} {v:,}" for k, v in sorted(statuses.items()))
                + f"; queue {queue}, outbox {outbox or 0}"
            )

    # --- faults -----------------------------------------------------------------------------
    def misbehave_round(self) -> None:
        """A platform misbehaviour per MISBEHAVE_EVERY calls, consumed by the next matching call."""
        if self.sandbox_stopped.is_set() or self.quiet.is_set():
            return
        # One fault per MISBEHAVE_EVERY calls the platforms answered, at most a few waiting:
        # when calls are few, a fault every round would hit most of them (an outage, not a
        # platform's misbehaviour) and retries would back off for minutes.
        state = self.sandbox("faults", timeout=5)
        if state["pending"] >= 3 or state["calls"] - self.calls_at_fault < MISBEHAVE_EVERY:
            return
        self.calls_at_fault = state["calls"]
        kind = self.rng.choice(
            ["timeout", "timeout_after", "http_500", "rate_limit", "malformed"]
            + ["duplicate_page", "out_of_order"]
        )
        body = {"kind": kind, "times": self.rng.choice([1, 1, 2])}
        if kind == "timeout":
            body["delay"] = 6.0  # longer than the shops' 5 s timeout
        if kind == "timeout_after":
            body["delay"] = 6.0  # done, but the answer comes after the client gave up
        self.sandbox("fault", body, timeout=5)
        self.stage[f"misbehaviour {kind}"] += 1
        self.misbehaviours.append((time.time(), kind))

    def worker_busy(self):
        """A django-q worker process in the middle of a task: one whose database session is
        active or inside a transaction right now."""
        import psutil
        from django.db import connection

        workers = []
        for i in range(1, self.args.clusters + 1):
            if not self.procs.alive(f"qcluster{i}"):
                continue
            for child in psutil.Process(self.procs.pid(f"qcluster{i}")).children(recursive=True):
                workers.append(child)
        ports = {}
        for proc in workers:
            try:
                for c in proc.net_connections(kind="tcp"):
                    if c.raddr and c.raddr.port == self.db_port:
                        ports[c.laddr.port] = proc
            except psutil.Error:
                continue
        if not ports:
            return None, ""
        with connection.cursor() as cur:
            cur.execute(
                "SELECT client_port, state, left(query, 90) FROM pg_stat_activity "
                "WHERE client_port = ANY(%s) AND (state = 'active' OR state LIKE 'idle in%%')",
                [list(ports)],
            )
            for port, state, query in cur.fetchall():
                return ports[port], f"{state}: {query}"
        return None, ""

    def fault_plan(self) -> None:
        """kill -9 of a busy worker when ~20 % of the orders have shipped, a PostgreSQL restart
        at ~40 %, the sandbox stopped at ~55 %."""
        from django.db import connection

        def done() -> float:
            """Share of the orders through the flow (shipped or cancelled)."""
            st = getattr(self, "last_status", {}) or {}
            return (st.get("shipped", 0) + st.get("cancelled", 0)) / max(1, self.n)

        while not self.stop.is_set() and done() < 0.2:
            time.sleep(0.5)
        if self.stop.is_set():
            return
        deadline = time.monotonic() + 120
        while not self.stop.is_set() and time.monotonic() < deadline:
            try:
                proc, what = self.worker_busy()
            except Exception as exc:
                proc, what = None, repr(exc)
            if proc is not None:
                cmd = " ".join(proc.cmdline()[-2:]) if proc.is_running() else ""
                proc.kill()
                self.event(f"kill -9 task worker pid {proc.pid} ({cmd}) in the middle of {what}")
                break
            time.sleep(0.1)
        else:
            self.event("kill -9: no worker was found inside a task within 120 s (not killed)")
        connection.close()
        while not self.stop.is_set() and done() < 0.4:
            time.sleep(0.5)
        if self.stop.is_set():
            return
        if self.pg is not None:
            self.pg_cpu_before_restart = self.pg.cpu_seconds()
            seconds = self.pg.restart()
            self.event(f"PostgreSQL restarted (pg_ctl restart -m fast, {seconds:.1f} s down)")
        else:
            self.event("PostgreSQL restart skipped: a given server (--database-url) is not ours")
        while not self.stop.is_set() and done() < 0.55:
            time.sleep(0.5)
        if self.stop.is_set():
            return
        pid = self.procs.pid("sandbox")
        self.sandbox_stopped.set()
        time.sleep(0.3)  # the generator and probe see the flag before the sandbox stops
        os.kill(pid, signal.SIGSTOP)
        self.sandbox_outage = [time.time(), None]
        self.event(f"sandbox stopped (SIGSTOP) for {self.outage:.0f} s")
        self.stop.wait(self.outage)
        os.kill(pid, signal.SIGCONT)
        self.sandbox_outage[1] = time.time()
        self.sandbox_stopped.clear()
        self.event("sandbox continued (SIGCONT)")

    def stopped_during(self, start: float, seconds: float | None) -> bool:
        outage = getattr(self, "sandbox_outage", None)
        if not outage:
            return False
        end = start + (seconds if seconds is not None else 180)
        return outage[0] <= end and (outage[1] or time.time()) >= start

    # --- the end ----------------------------------------------------------------------------
    def settled(self) -> tuple[bool, str]:
        """Every order reached a final state for the drill, the outbox is empty and the ERP
        has every shipped order and received return."""
        from django.db import connection

        if not self.generation_done:
            return False, "generating"
        with connection.cursor() as cur:
            cur.execute(
                "SELECT count(*) FROM orders_order o WHERE o.status IN "
                "('pending_review','reviewed','printed','verified') AND NOT o.on_hold"
            )
            moving = cur.fetchone()[0]
            cur.execute(
                "SELECT count(*) FROM orders_order WHERE split_from_id IS NULL AND shop_id IN "
                "(SELECT id FROM channels_shop WHERE code = ANY(%s))",
                [list(API_SHOPS)],
            )
            api_here = cur.fetchone()[0]
            cur.execute(
                "SELECT count(*) FROM channels_outboxmessage WHERE status = 'pending' AND shop_id "
                "IN (SELECT id FROM channels_shop WHERE code = ANY(%s))",
                [list(API_SHOPS)],
            )
            outbox = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM orders_order WHERE status = 'shipped'")
            shipped = cur.fetchone()[0]
            cur.execute("SELECT count(*) FROM returns_returnorder WHERE status = 'received'")
            received = cur.fetchone()[0]
            cur.execute(
                "SELECT count(*) FROM returns_returnorder WHERE status IN ('submitted','approved') "
                "AND kind = 'return_goods'"
            )
            open_returns = cur.fetchone()[0]
        journal = self.read_journal()
        sales = len({r["order_no"] for r in journal if r["kind"] == "sales"})
        returns = len({r["return_no"] for r in journal if r["kind"] == "returns"})
        post_done = len(self.post_refund) >= int(round(self.n * 0.7) * 0.01)
        waiting = (
            f"{moving} orders moving, {len(self.created) - api_here} API orders not pulled, "
            f"outbox {outbox}, ERP {sales}/{shipped} sales {returns}/{received} returns, "
            f"{open_returns} returns open, refunds after shipping {len(self.post_refund)}"
        )
        orders_settled = (
            moving == 0 and api_here >= len(self.created) and open_returns == 0 and post_done
        )
        if orders_settled and not self.quiet.is_set():
            self.quiet.set()
            self.t_orders_settled = time.time()
            self.say("every order settled; waiting for the outbox and the ERP to catch up")
            # The platforms behave from now on: misbehaviour still waiting for a call is dropped.
            self.sandbox("faults", {"clear": True}, timeout=30)
            self.export_file_shops()
        drained = orders_settled and outbox == 0 and sales == shipped and returns == received
        if not drained:
            self.t_drained = None
            return False, waiting
        if getattr(self, "t_drained", None) is None:
            self.t_drained = time.time()
            self.final_pull()
        # One more complete pull of every API shop after the last shipment reached the
        # platforms (a shipment changes the order there too): then "latest version" is fair.
        with connection.cursor() as cur:
            cur.execute(
                "SELECT code, sync_state->>'orders_watermark', sync_state->>'refunds_watermark' "
                "FROM channels_shop WHERE code = ANY(%s)",
                [list(API_SHOPS)],
            )
            marks = cur.fetchall()
        behind = [
            code
            for code, orders, refunds in marks
            if not orders
            or not refunds
            or min(datetime.fromisoformat(orders), datetime.fromisoformat(refunds)).timestamp()
            < self.t_drained
        ]
        if behind:
            return False, f"drained; waiting for one more pull of {', '.join(behind)}"
        return True, waiting

    def final_pull(self) -> None:
        """Pull every API shop once more now, as a person does with the shop's "sync now"
        (the task it queues), instead of waiting up to a minute for the schedule."""
        import math

        from django_q.tasks import async_task

        from channels.models import Shop

        # A pull reads up to the whole second it started in: start it in the next second, so
        # its watermark is at least the moment the drill saw everything drained.
        time.sleep(max(0.0, math.ceil(self.t_drained) + 0.05 - time.time()))
        for shop_id in Shop.objects.filter(code__in=API_SHOPS).values_list("pk", flat=True):
            async_task("platformsync.tasks.sync_shop", shop_id, "peak drill: final pull")

    def export_file_shops(self) -> None:
        """The file platforms' tracking numbers go out as files (channel_export), as a person
        does at the end of the day; their notices are then sent."""
        for code in FILE_SHOPS:
            done = subprocess.run(
                [sys.executable, "manage.py", "channel_export", code, "tracking"]
                + ["--out", str(self.workdir / f"tracking-{code}.xlsx")],
                cwd=ROOT,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=600,
            )
            if done.returncode != 0:
                self.errors.append(f"channel_export {code} tracking: {done.stderr[-300:]}")

    def read_journal(self) -> list[dict]:
        if not self.journal.exists():
            return []
        return [json.loads(line) for line in self.journal.read_text().splitlines() if line]

    def check(self, dump: dict, packers: dict) -> list[str]:
        """The invariants; returns the breaches (empty: all held)."""
        from channels.models import SellableQuantity, Shop
        from inventory.models import Reservation, StockLevel
        from inventory.selectors import ledger_mismatches, reservation_mismatches
        from orders.models import Order, OrderComponent, OrderHold
        from returns.models import ReturnOrder

        breaches: list[str] = []
        results: list[tuple[str, bool, str]] = []

        def result(name, ok, detail=""):
            results.append((name, ok, detail))
            if not ok:
                breaches.append(f"{name}: {detail}")

        # 1. Every platform order exactly once, with the platform's latest version.
        shops = {s.code: s for s in Shop.objects.all()}
        missing, twice, stale = [], [], []
        for code, seller in API_SHOPS.items():
            ours = defaultdict(list)
            for no, modified in Order.objects.filter(
                shop=shops[code], split_from__isnull=True
            ).values_list("platform_order_no", "platform_modified_at"):
                ours[no].append(modified)
            for o in dump["orders"].get(seller, []):
                rows = ours.get(o["tid"], [])
                if not rows:
                    missing.append(f"{code}:{o['tid']}")
                elif len(rows) > 1:
                    twice.append(f"{code}:{o['tid']}")
                elif rows[0] != datetime.fromisoformat(o["modified"]):
                    stale.append(f"{code}:{o['tid']} ours {rows[0]} platform {o['modified']}")
        for code in FILE_SHOPS:
            counts = Counter(
                Order.objects.filter(shop=shops[code], split_from__isnull=True).values_list(
                    "platform_order_no", flat=True
                )
            )
            missing += [f"{code}:{no}" for no in self.file_orders[code] if counts[no] == 0]
            twice += [f"{code}:{no}" for no, c in counts.items() if c > 1]
        platform_total = sum(len(v) for k, v in dump["orders"].items() if k in API_SHOPS.values())
        result(
            "every platform order exactly once",
            not missing and not twice,
            f"{platform_total + self.file_done:,} orders; missing {len(missing)} {missing[:3]}, "
            f"twice {len(twice)} {twice[:3]}",
        )
        result(
            "every order has the platform's latest version",
            not stale,
            f"{len(self.modified)} changed on the platform after the pull; stale {len(stale)} "
            f"{stale[:2]}",
        )

        # 2. Stock: never negative, every level = its ledger, reservations = open orders.
        negative = (
            StockLevel.objects.filter(on_hand__lt=0).count()
            + StockLevel.objects.filter(reserved__lt=0).count()
        )
        result("no stock level below zero", negative == 0, f"{negative} negative")
        ledger = ledger_mismatches()
        result(
            "every stock level equals its ledger", not ledger, f"{len(ledger)} differ {ledger[:2]}"
        )
        levels = reservation_mismatches()
        need = defaultdict(Decimal)
        open_orders = Order.objects.filter(
            status__in=["pending_review", "reviewed", "printed", "verified"],
            allocated_at__isnull=False,
        )
        docs = {}
        for order in open_orders.only("id", "order_no", "shop_id"):
            docs[order.pk] = order.document
        for line_order, product, quantity in OrderComponent.objects.filter(
            line__order_id__in=list(docs)
        ).values_list("line__order_id", "product_id", "quantity"):
            need[(docs[line_order], product)] += quantity
        held = defaultdict(Decimal)
        for doc, product, quantity in Reservation.objects.values_list(
            "document", "product_id", "quantity"
        ):
            held[(doc, product)] += quantity
        wrong = [k for k in set(need) | set(held) if need.get(k, 0) != held.get(k, 0)]
        result(
            "reservations equal open orders",
            not levels and not wrong,
            f"{len(docs):,} open allocated orders; {len(levels)} level totals differ, "
            f"{len(wrong)} order reservations differ {wrong[:2]}",
        )

        # 3. No order both refunded before shipping and shipped.
        both = []
        refund_holds = OrderHold.objects.filter(reason="refund_requested").values_list(
            "order_id", "created_at"
        )
        first_refund = {}
        for order_id, at in refund_holds:
            first_refund[order_id] = min(at, first_refund.get(order_id, at))
        for pk, shipped_at in Order.objects.filter(
            pk__in=list(first_refund), status="shipped"
        ).values_list("pk", "shipped_at"):
            if first_refund[pk] < shipped_at:
                both.append(pk)
        cancelled_shipped = Order.objects.filter(status="shipped", cancelled_at__isnull=False)
        raced = Order.objects.filter(pk__in=list(first_refund), status="shipped").count() - len(
            both
        )
        result(
            "no order both refunded before shipping and shipped",
            not both and not cancelled_shipped.exists(),
            f"{len(self.pre_refund)} refunds before shipping asked ({len(first_refund)} holds, "
            f"{Order.objects.filter(shop__code__in=API_SHOPS, status='cancelled').count()} "
            f"cancelled); breaches {len(both)}; shipped before the refund was known: {raced}",
        )

        # 4. Tracking numbers reached the platform exactly once; last pushed stock = formula.
        shipments = Counter()
        numbers = {}
        for s in dump["shipments"]:
            shipments[(s["platform"], s["tid"])] += 1
            numbers[(s["platform"], s["tid"])] = s["tracking_no"]
        wrong_ship, refused = [], []
        closed = {
            (seller, o["tid"])
            for seller, orders in dump["orders"].items()
            for o in orders
            if o["status"] == "TRADE_CLOSED"
        }
        shipped_api = Order.objects.filter(status="shipped", shop__code__in=API_SHOPS)
        for code, no, tracking in shipped_api.values_list(
            "shop__code", "platform_order_no", "tracking_no"
        ):
            key = (API_SHOPS[code], no)
            if shipments[key] == 1 and numbers[key] == tracking:
                continue
            if shipments[key] == 0 and key in closed:
                refused.append(key)  # closed by the platform before our notice: parked
                continue
            wrong_ship.append(f"{key} sent {shipments[key]}× {numbers.get(key)} ours {tracking}")
        extra = [k for k, c in shipments.items() if c > 1]
        from channels.models import OutboxMessage

        file_pending = OutboxMessage.objects.filter(
            shop__code__in=FILE_SHOPS, kind="shipment"
        ).exclude(status="sent")
        result(
            "every file shop's shipped order went out in its tracking file",
            not file_pending.exists(),
            f"{file_pending.count()} notices not sent",
        )
        result(
            "every shipped order's tracking number reached its platform exactly once",
            not wrong_ship and not extra,
            f"{shipped_api.count():,} shipped API orders, {len(dump['shipments']):,} shipments "
            f"accepted; wrong {len(wrong_ship)} {wrong_ship[:2]}; refused as closed {len(refused)}",
        )
        pushed = dump["stock"]
        formula = self.formula_quantities()
        stock_wrong = []
        for (code, sku), qty in formula.items():
            got = pushed.get(API_SHOPS[code], {}).get(sku)
            if got != qty:
                stock_wrong.append(f"{code}:{sku} platform {got} formula {qty}")
        sellable = SellableQuantity.objects.filter(mapping__shop__code__in=API_SHOPS).count()
        result(
            "every platform's last pushed stock equals the formula",
            not stock_wrong,
            f"{len(formula):,} SKUs ({sellable:,} sellable rows); differ {len(stock_wrong)} "
            f"{stock_wrong[:3]}",
        )

        # 5. The ERP has every shipped order and received return exactly once, amounts adding up.
        journal = self.read_journal()
        sales = Counter(r["order_no"] for r in journal if r["kind"] == "sales")
        returns = Counter(r["return_no"] for r in journal if r["kind"] == "returns")
        shipped = {
            no: (total, fee)
            for no, total, fee in Order.objects.filter(status="shipped").values_list(
                "order_no", "total_amount", "shipping_fee"
            )
        }
        no_postage = 0
        not_paid: list[str] = []
        bad_sales = [no for no in shipped if sales[no] != 1] + [
            no for no in sales if no not in shipped
        ]
        bad_amounts = []
        for r in journal:
            if r["kind"] != "sales":
                continue
            # total: what was paid for the goods; postage: shipping charged (docs/erp-bridge-api)
            lines = sum(Decimal(ln["amount"]) for ln in r["lines"])
            total = Decimal(r["total"])
            paid, _fee = shipped.get(r["order_no"], (None, None))
            if "postage" not in r:
                no_postage += 1
                not_paid.append(f"{r['order_no']} has no postage")
                continue
            postage = Decimal(r["postage"])
            if lines != total or paid is None:
                bad_amounts.append(f"{r['order_no']} lines {lines} total {total}")
            elif total + postage != paid:
                not_paid.append(f"{r['order_no']} total {total} + postage {postage} paid {paid}")
        received = dict(
            ReturnOrder.objects.filter(status="received").values_list("return_no", "refund_amount")
        )
        bad_returns = [no for no in received if returns[no] != 1] + [
            no for no in returns if no not in received
        ]
        for r in journal:
            if r["kind"] != "returns":
                continue
            lines = sum(Decimal(ln["amount"]) for ln in r["lines"])
            if lines != Decimal(r["refund_total"]):
                bad_amounts.append(f"{r['return_no']} lines {lines} refund {r['refund_total']}")
        result(
            "every shipped order and received return reached the ERP exactly once, lines add up",
            not bad_sales and not bad_returns and not bad_amounts,
            f"{len(shipped):,} shipped, {len(received)} returns received; not once "
            f"{len(bad_sales)} {bad_sales[:2]}, returns {len(bad_returns)}, lines ≠ total "
            f"{len(bad_amounts)} {bad_amounts[:2]}",
        )
        result(
            "ERP sales totals plus postage equal what was paid (docs/erp-api.md)",
            not not_paid,
            f"{len(not_paid)} of {sum(1 for r in journal if r['kind'] == 'sales'):,} differ "
            f"{not_paid[:2]}" + (f"; {no_postage} records without 'postage'" if no_postage else ""),
        )
        self.results = results
        self.packers = packers
        return breaches

    def formula_quantities(self) -> dict[tuple[str, str], int]:
        """design.md: floor(min over c of (max(0, available_c − safety) × ratio / q_c)), main
        warehouse only; computed here from the levels, independently of channels.sellable."""
        from channels.models import Shop, SkuComponent
        from inventory.models import StockLevel

        free = {
            p: on_hand - reserved
            for p, on_hand, reserved in StockLevel.objects.filter(
                warehouse_id=self.main_id
            ).values_list("product_id", "on_hand", "reserved")
        }
        shops = {s.pk: s for s in Shop.objects.filter(code__in=API_SHOPS)}
        per_mapping = defaultdict(list)
        for shop_id, sku, product, q in SkuComponent.objects.filter(
            mapping__shop_id__in=list(shops)
        ).values_list("mapping__shop_id", "mapping__platform_sku", "product_id", "quantity"):
            shop = shops[shop_id]
            value = max(Decimal(0), free.get(product, Decimal(0)) - shop.safety_stock)
            per_mapping[(shop.code, sku)].append(value * shop.stock_ratio / q)
        return {
            k: int(min(v).to_integral_value(rounding=ROUND_FLOOR)) for k, v in per_mapping.items()
        }


def stage_rates() -> list[tuple[str, int, float | None]]:
    """Each stage's throughput from the times the orders carry: count / (last − first)."""
    from django.db import connection

    out = []
    with connection.cursor() as cur:
        for label, column in [
            ("taken in (intake, reserved)", "created_at"),
            ("reviewed (auto + person)", "reviewed_at"),
            ("waybill printed", "printed_at"),
            ("verified by scanning", "verified_at"),
            ("shipped", "shipped_at"),
        ]:
            cur.execute(
                f"SELECT count({column}), extract(epoch FROM max({column}) - min({column})) "
                "FROM orders_order"
            )
            count, span = cur.fetchone()
            out.append((label, count, count / float(span) if span else None))
    return out


def cpu_by_process(drill: Drill, procs: Procs) -> dict[str, float]:
    """Where the machine's time went: CPU seconds per process of the drill (descendants
    included), PostgreSQL (both lives across the restart), the short commands (import_orders,
    channel_export) and this process (the buyers, the reviewer, the lead, after-sales, probe)."""
    import resource

    out = procs.cpu_seconds()
    if drill.pg is not None:
        out["postgresql"] = drill.pg.cpu_seconds() + getattr(drill, "pg_cpu_before_restart", 0.0)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    out["import_orders, channel_export"] = children.ru_utime + children.ru_stime
    me = resource.getrusage(resource.RUSAGE_SELF)
    out["drill (buyers, reviewer, lead, after-sales, probe)"] = me.ru_utime + me.ru_stime
    return out


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench peak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--orders", type=int, default=100_000)
    parser.add_argument("--broker", choices=["orm", "redis"], default="orm")
    parser.add_argument(
        "--redis-url", default=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/15")
    )
    parser.add_argument("--database-url", default="", help="a given server (no restart fault)")
    parser.add_argument("--packers", type=int, default=50)
    parser.add_argument("--web-workers", type=int, default=3)
    parser.add_argument("--clusters", type=int, default=2)
    parser.add_argument("--q-workers", type=int, default=2)
    parser.add_argument("--time-limit", type=float, default=0, help="seconds (default: scaled)")
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--keep", action="store_true", help="keep the work directory (logs)")
    args = parser.parse_args(argv)
    if args.orders < 100:
        parser.error("--orders must be at least 100")

    if args.broker == "redis":
        import redis

        try:
            redis.Redis.from_url(args.redis_url, socket_connect_timeout=2).ping()
        except (redis.RedisError, ValueError) as exc:
            print(
                f"peak: no Redis reachable at {args.redis_url} ({exc}); start one or give "
                "--redis-url (or run with --broker orm). Nothing was started."
            )
            return 3

    drill = Drill(args)
    workdir = Path(tempfile.mkdtemp(prefix="tc-peak-"))
    drill.workdir, drill.journal = workdir, workdir / "erp-journal.jsonl"
    from bench.peak_pg import DrillPostgres, free_port

    drill.pg = None
    procs = None
    interrupted = False

    def on_signal(signum, frame):
        raise KeyboardInterrupt

    old_term = signal.signal(signal.SIGTERM, on_signal)
    code = 1
    try:
        if args.database_url:
            import psycopg

            base = args.database_url.rsplit("/", 1)[0]
            name = f"tc_peak_{os.getpid()}"
            with psycopg.connect(args.database_url, autocommit=True) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
            drill.database_url = f"{base}/{name}"
            drill.drop_database = (args.database_url, name)
        else:
            drill.pg = DrillPostgres()
            drill.pg.start()
            drill.database_url = drill.pg.url
            drill.drop_database = None
        drill.db_port = int(drill.database_url.rsplit(":", 1)[1].split("/")[0])
        drill.sandbox_port, drill.web_port = free_port(), free_port()
        drill.sandbox_url = f"http://127.0.0.1:{drill.sandbox_port}"
        drill.web_url = f"http://127.0.0.1:{drill.web_port}"
        env = {
            **os.environ,
            "DATABASE_URL": drill.database_url,
            "DATABASE_CONN_MAX_AGE": "60",
            "DJANGO_DEBUG": "0",
            "DJANGO_SETTINGS_MODULE": "config.settings",
            "TONGCANG_Q_WORKERS": str(args.q_workers),
            "TONGCANG_LOG_LEVEL": "WARNING",
            "PYTHONUNBUFFERED": "1",
        }
        env.pop("REDIS_URL", None)
        if args.broker == "redis":
            env["REDIS_URL"] = args.redis_url
            import redis

            r = redis.Redis.from_url(args.redis_url)
            for key in r.keys("django_q:*"):
                r.delete(key)
        drill.env = env
        # This process logs as the others do: warnings only (not a line per task queued).
        os.environ.update(
            {k: env[k] for k in ("DATABASE_URL", "DJANGO_DEBUG", "TONGCANG_LOG_LEVEL")}
        )
        if args.broker == "redis":
            os.environ["REDIS_URL"] = args.redis_url
        else:
            os.environ.pop("REDIS_URL", None)
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
        import django

        django.setup()
        from django.conf import settings

        settings.DEBUG = False
        n = args.orders
        drill.gen_seconds = min(1200.0, max(40.0, n / 100))
        drill.outage = 60.0 if n >= 50_000 else max(10.0, 60.0 * n / 50_000)
        drill.erp_interval = 10 if n <= 20_000 else 30
        time_limit = args.time_limit or max(1500.0, drill.gen_seconds * 4 + 600)
        print(
            f"peak drill: {n:,} orders over {len(API_SHOPS) + len(FILE_SHOPS)} shops "
            f"({len(API_SHOPS)} API through the sandbox, {len(FILE_SHOPS)} by file), broker "
            f"{args.broker}, {args.packers} packers, {args.web_workers} gunicorn workers, "
            f"{args.clusters} task clusters × {args.q_workers} workers; work dir {workdir}",
            flush=True,
        )
        drill.say(f"PostgreSQL at {drill.database_url}; setting up")
        drill.setup_world()
        from channels.models import SkuMapping

        drill.file_skus = defaultdict(list)
        for code, sku, price in SkuMapping.objects.filter(shop__code__in=FILE_SHOPS).values_list(
            "shop__code", "platform_sku", "components__product__list_price"
        ):
            drill.file_skus[code].append((sku, price or Decimal("19.90")))
        for code in FILE_SHOPS:
            drill.file_skus[code] = sorted(set(drill.file_skus[code]))
        from django.db import connections

        connections.close_all()
        procs = Procs(workdir=workdir, env=env, cwd=ROOT)
        drill.procs = procs
        drill.start_processes()
        drill.say("processes up: " + ", ".join(procs.items))
        drill.t_start = time.time()
        gen = threading.Thread(target=drill.generator, name="generator", daemon=True)
        gen.start()
        drill.loop("platform events", 2.0, drill.platform_events)
        drill.loop("reviewer", 2.0, drill.reviewer_round)
        drill.loop("warehouse lead", 1.0, drill.lead_round)
        drill.loop("after-sales", 3.0, drill.after_sales_round)
        drill.loop("probe", 2.0, drill.probe_round)
        drill.loop("monitor", 2.0, drill.monitor_round)
        drill.loop("misbehaviour", 2.0, drill.misbehave_round)
        faults = threading.Thread(target=drill.fault_plan, name="faults", daemon=True)
        faults.start()
        deadline = time.monotonic() + time_limit
        settled, waiting = False, ""
        last = 0.0
        while time.monotonic() < deadline:
            for name in list(procs.items):
                if not procs.alive(name):
                    raise RuntimeError(f"{name} died:\n{procs.tail(name)}")
            if drill.generation_done and not faults.is_alive():
                try:
                    settled, waiting = drill.settled()
                except Exception as exc:  # the database restarting
                    waiting = repr(exc)
                    connections.close_all()
                if settled:
                    break
                if time.monotonic() - last > 15:
                    last = time.monotonic()
                    drill.say(f"settling: {waiting}")
            time.sleep(1)
        drill.t_settled = time.time()
        drill.cpu = cpu_by_process(drill, procs)
        if not settled:
            drill.errors.append(f"did not settle within {time_limit:.0f} s: {waiting}")
        drill.stop.set()
        (workdir / "packers.stop").write_text("stop")
        for t in drill.threads:
            t.join(timeout=30)
        procs.stop("packers", timeout=60)
        packers = {}
        if (workdir / "packers.json").exists():
            packers = json.loads((workdir / "packers.json").read_text())
        procs.stop("erp_simulator")
        dump = drill.sandbox("dump", timeout=120)
        dump["stock"] = drill.sandbox("stock", timeout=60)
        drill.platform_calls = drill.sandbox("state", timeout=120)["calls"]
        procs.stop_all()
        connections.close_all()
        breaches = drill.check(dump, packers)
        report(drill, packers, time_limit)
        breaches = drill.errors + breaches
        if breaches:
            print("\nBREACHES:")
            for b in breaches:
                print(f"  ✗ {b}")
        wall = drill.t_settled - drill.t_start
        print(
            f"\npeak: {n:,} orders in {wall:.0f} s ({n / wall:.1f} orders/s end to end), "
            f"broker {args.broker}: {'ALL CHECKS HELD' if not breaches else 'FAILED'}",
            flush=True,
        )
        code = 0 if not breaches else 1
    except KeyboardInterrupt:
        interrupted = True
        print("\npeak: interrupted; stopping everything", flush=True)
        code = 130
    except Exception as exc:
        print(f"\npeak: failed: {exc!r}\n{traceback.format_exc()}", flush=True)
        code = 1
    finally:
        drill.stop.set()
        if procs is not None:
            procs.stop_all()
        try:
            from django.db import connections

            connections.close_all()
        except Exception:
            pass
        if drill.pg is not None:
            drill.pg.stop()
        if getattr(drill, "drop_database", None):
            import psycopg

            url, name = drill.drop_database
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if args.keep or (code not in (0, 130) and not interrupted):
            print(f"peak: logs kept in {workdir}")
        else:
            import shutil

            shutil.rmtree(workdir, ignore_errors=True)
        signal.signal(signal.SIGTERM, old_term)
    return code


def report(drill: Drill, packers: dict, time_limit: float) -> None:
    print("\nCHECKS")
    for name, ok, detail in drill.results:
        print(f"  {'✓' if ok else '✗'} {name}: {detail}")
    wall = drill.t_settled - drill.t_start
    print("\nFIGURES")
    print(f"  end to end: {drill.n:,} orders in {wall:.0f} s = {drill.n / wall:.1f} orders/s")
    print(f"  generation period {drill.gen_seconds:.0f} s (orders arrive at a steady rate)")
    for label, count, rate in stage_rates():
        print(f"  stage {label:<30} {count:>8,} orders  {rate or 0:8.1f}/s")
    for key in sorted(drill.stage_seconds):
        print(f"  time in {key}: {drill.stage_seconds[key]:.1f} s")
    lat = packers.get("latency", {})
    for endpoint in ("order", "scan", "ship", "login"):
        values = lat.get(endpoint, [])
        if values:
            print(
                f"  scan page {endpoint:<6} {len(values):>8,} calls  p50 "
                f"{1000 * pct(values, 50):6.1f} ms  p95 {1000 * pct(values, 95):6.1f} ms  "
                f"max {1000 * max(values):7.1f} ms"
            )
    every = [v for k in ("order", "scan", "ship") for v in lat.get(k, [])]
    if every:
        print(
            f"  scan endpoints together at {drill.args.packers} packers: p95 {1000 * pct(every, 95):.1f} ms"
        )
    print(f"  packers: {dict(sorted(packers.get('counts', {}).items()))}")
    lags = drill.reserve_lags()
    print(
        f"  platform created → reserved here: p50 {fmt_s(pct(lags, 50))}, p95 "
        f"{fmt_s(pct(lags, 95))} ({len(lags):,} API orders; pull schedule every minute)"
    )
    print(
        f"  stock change → platform received: p50 {fmt_s(pct(drill.probe_lags, 50))}, p95 "
        f"{fmt_s(pct(drill.probe_lags, 95))} ({len(drill.probe_lags)} probe pushes, "
        f"{drill.probe_missed} not seen within 180 s, {drill.probe_cut_short} on their way "
        "when the drill ended)"
    )
    slow = sorted(
        (d for d in drill.probe_detail if d[2] is None or d[2] > 5),
        key=lambda d: -(d[2] if d[2] is not None else 1e9),
    )
    for committed, seller, lag in slow[:6]:
        near = [
            kind
            for at, kind in drill.misbehaviours
            if committed - 4 <= at <= committed + (lag if lag is not None else 180)
        ]
        print(
            f"    slow probe: {seller} {fmt_s(lag)} at t+{committed - drill.t0:.0f}s; "
            f"misbehaviour injected meanwhile: {', '.join(near) or 'none'}"
            + ("; sandbox stopped meanwhile" if drill.stopped_during(committed, lag) else "")
        )
        if (committed, seller) in drill.probe_why:
            print(f"      {drill.probe_why[(committed, seller)]}")
    waits, runs = push_task_times()
    if runs:
        print(
            f"  stock push tasks: queued → started p50 {fmt_s(pct(waits, 50))}, p95 "
            f"{fmt_s(pct(waits, 95))}; running (window + sending) p50 {fmt_s(pct(runs, 50))}, "
            f"p95 {fmt_s(pct(runs, 95))} ({len(runs)} tasks kept by django-q)"
        )
    calls = getattr(drill, "platform_calls", {})
    if calls:
        print(
            "  platform calls: "
            + ", ".join(f"{k} {v:,}" for k, v in sorted(calls.items(), key=lambda kv: -kv[1]))
        )
    cpu = getattr(drill, "cpu", {})
    if cpu:
        print(
            f"  CPU seconds by process ({sum(cpu.values()):.0f} s in all over {wall:.0f} s): "
            + ", ".join(f"{k} {v:.0f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]))
        )
    print("  largest queue depth: " + ", ".join(f"{k} {v:,}" for k, v in drill.max_queue.items()))
    print("  counts: " + ", ".join(f"{k} {v:,}" for k, v in sorted(drill.stage.items())))
    print(f"  schedules: {drill.schedules}")
    print("\nFAULTS")
    for e in drill.events:
        print(f"  {e}")
    if drill.loads:
        print(
            f"  load average (1 min) during the run: min {min(drill.loads):.1f}, median "
            f"{pct(drill.loads, 50):.1f}, max {max(drill.loads):.1f} ({os.cpu_count()} CPUs)"
        )


def push_task_times() -> tuple[list[float], list[float]]:
    """The event-driven stock push tasks django-q kept: how long each waited for a worker
    (its name carries the time it was queued) and how long it ran."""
    from django_q.models import Task

    waits, runs = [], []
    for name, started, stopped in Task.objects.filter(group="stock push").values_list(
        "name", "started", "stopped"
    ):
        runs.append((stopped - started).total_seconds())
        try:
            queued = datetime.combine(
                started.date(), datetime.strptime(name.rsplit(" ", 1)[1], "%H:%M:%S.%f").time()
            ).replace(tzinfo=started.tzinfo)
        except (ValueError, IndexError):
            continue
        wait = (started - queued).total_seconds()
        if wait < -3600:  # queued before midnight, started after
            wait += 86400
        waits.append(max(0.0, wait))
    return waits, runs


def _reserve_lags(self) -> list[float]:
    from orders.models import Order

    lags = []
    by_key = {}
    for code, no, created in Order.objects.filter(
        shop__code__in=API_SHOPS, split_from__isnull=True
    ).values_list("shop__code", "platform_order_no", "created_at"):
        by_key[(code, no)] = created.timestamp()
    for key, t in self.created.items():
        if key in by_key:
            lags.append(max(0.0, by_key[key] - t))
    return lags


Drill.reserve_lags = _reserve_lags


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main(sys.argv[1:]))
