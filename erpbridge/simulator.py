"""A stand-in for the offline ERP (Yonyou) for the demo: it keeps its own stock book and talks
to a running tongcang over HTTP exactly as the real ERP would (docs/erp-api.md).

Each cycle: look at the orders that changed per unit code; extract and acknowledge the retail batches (sales, returns) of every unit code and
book them; now and then receive some goods (a purchase); send the quantities that changed
(incremental). Once a day at 03:00 Asia/Shanghai, and on the first cycle, the whole book (full).
"""

from __future__ import annotations

import json
import random
import secrets
from collections.abc import Callable, Iterable
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import requests

from core import clock

from . import auth

SHANGHAI = ZoneInfo("Asia/Shanghai")
API = "/api/erp/v1/"


class ApiFailure(Exception):
    pass


class ErpSimulator:
    def __init__(
        self,
        *,
        url: str,
        key_id: str,
        secret: str,
        unit_codes: list[str],
        out: Callable[[str], None] = print,
        restock: int = 3,
        timeout: float = 60,
        journal: str | None = None,
        store_unit_codes: Iterable[str] = (),
    ):
        self.url = url.rstrip("/")
        self.key_id, self.secret = key_id, secret
        self.unit_codes = unit_codes
        self.store_unit_codes = set(store_unit_codes)  # transfers are asked for these only
        self.out = out
        self.restock = restock
        self.timeout = timeout
        self.http = requests.Session()
        self.book: dict[str, Decimal] | None = None  # the ERP's quantity per product (main)
        self.changed: set[str] = set()
        self.sequence = 0
        self.last_full_day = None
        self.orders_seen_at: dict[str, str] = {}
        # Batches already booked: a batch answered again (its acknowledgement was lost) is
        # acknowledged again but not booked twice.
        self.booked_batches: set[str] = set()
        # Optional JSON-lines file of every record booked (a drill checks it against tongcang).
        self.journal = journal

    # --- HTTP ------------------------------------------------------------------------------

    def call(self, method: str, path: str, body: dict | None = None):
        full = API + path
        raw = b"" if body is None else json.dumps(body, ensure_ascii=False).encode()
        headers = auth.signed_headers(
            key_id=self.key_id, secret=self.secret, method=method, path=full, body=raw
        )
        headers["Content-Type"] = "application/json"
        response = self.http.request(
            method, self.url + full, data=raw or None, headers=headers, timeout=self.timeout
        )
        try:
            payload = response.json()
        except ValueError:
            payload = {"error": {"code": "not_json", "message": response.text[:200]}}
        return response.status_code, payload

    # --- the book ---------------------------------------------------------------------------

    def load_book(self) -> None:
        """Start from what tongcang has on hand in the main warehouse."""
        book: dict[str, Decimal] = {}
        cursor = None
        while True:
            path = "stock" + (f"?cursor={cursor}" if cursor else "")
            status, page = self.call("GET", path)
            if status != 200:
                raise ApiFailure(f"GET stock: {status} {page}")
            for item in page["items"]:
                if item["warehouse"] == "main":
                    book[item["product_code"]] = max(Decimal(item["on_hand"]), Decimal(0))
            cursor = page["next_cursor"]
            if not cursor:
                break
        self.book = book
        self.out(f"erp: book loaded, {len(book)} products")

    def next_message_id(self, now: datetime) -> str:
        self.sequence += 1
        local = now.astimezone(SHANGHAI)
        return f"ERP-{local:%Y%m%d-%H%M}-{self.sequence:04d}-{secrets.token_hex(2)}"

    # --- the exchanges ----------------------------------------------------------------------

    def watch_orders(self) -> None:
        """Ask which orders of each unit code changed since the last cycle, and in which state."""
        for unit_code in self.unit_codes:
            since = self.orders_seen_at.get(unit_code)
            counts: dict[str, int] = {}
            cursor, pages = None, 0
            while True:
                query = {"unit_code": unit_code}
                if since:
                    query["updated_since"] = since
                if cursor:
                    query["cursor"] = cursor
                status, page = self.call("GET", "orders?" + urlencode(query))
                if status != 200:
                    self.out(f"erp: {unit_code} orders: {status} {page['error']['code']}")
                    return
                pages += 1
                for order in page["orders"]:
                    if order["updated_at"] == since:  # seen last time (updated_since is ≥)
                        continue
                    counts[order["status"]] = counts.get(order["status"], 0) + 1
                    self.orders_seen_at[unit_code] = order["updated_at"]
                cursor = page["next_cursor"]
                if not cursor:
                    break
            summary = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none"
            self.out(f"erp: {unit_code} orders changed since {since or 'the start'}: {summary}")

    def extract(self) -> dict[str, int]:
        """Extract and acknowledge every batch of every unit code; book what they say."""
        counts = {"sales": 0, "returns": 0, "transfers": 0}
        for unit_code in self.unit_codes:
            kinds = ["sales", "returns"]
            if unit_code in self.store_unit_codes:
                kinds.append("transfers")
            for kind in kinds:
                while True:
                    status, batch = self.call(
                        "POST", "retail-batches", {"unit_code": unit_code, "kind": kind}
                    )
                    if status not in (200, 201):
                        self.out(f"erp: {unit_code} {kind}: {status} {batch['error']['code']}")
                        break
                    records = batch["records"]
                    if not records:
                        break
                    if batch["batch_id"] not in self.booked_batches:
                        for record in records:
                            self.book_record(kind, record)
                        self.write_journal(unit_code, kind, batch["batch_id"], records)
                        self.booked_batches.add(batch["batch_id"])
                    ack_status, _ = self.call("POST", f"retail-batches/{batch['batch_id']}/ack")
                    counts[kind] += len(records)
                    self.out(
                        f"erp: {unit_code} {kind}: batch {batch['batch_id']} with "
                        f"{len(records)} records extracted, ack {ack_status}"
                    )
                    if ack_status != 200:
                        break
        return counts

    def write_journal(self, unit_code: str, kind: str, batch_id: str, records: list) -> None:
        if not self.journal:
            return
        with open(self.journal, "a", encoding="utf-8") as f:
            for record in records:
                line = {"unit_code": unit_code, "kind": kind, "batch_id": batch_id, **record}
                f.write(json.dumps(line, ensure_ascii=False) + "\n")

    def book_record(self, kind: str, record: dict) -> None:
        if self.book is None:  # not started yet: the book is loaded after this extraction
            return
        if kind == "transfers":  # the book is the main warehouse's
            for line in record["lines"]:
                code = line["product_code"]
                if record["from"] == "main":
                    self.book[code] = self.book.get(code, Decimal(0)) - Decimal(line["shipped"])
                elif record["to"] == "main":
                    self.book[code] = self.book.get(code, Decimal(0)) + Decimal(line["received"])
                else:
                    continue
                self.changed.add(code)
            return
        if record.get("fulfilment") not in (None, "delivery"):
            return  # a store's take-away or pick-up: booked on the store's stock, not main's
        for line in record["lines"]:
            code, quantity = line["product_code"], Decimal(line["quantity"])
            if kind == "sales":
                self.book[code] = self.book.get(code, Decimal(0)) - quantity
            elif line["warehouse"] == "main":
                self.book[code] = self.book.get(code, Decimal(0)) + quantity
            else:
                continue
            self.changed.add(code)

    def receive_goods(self, rng: random.Random) -> None:
        """A purchase arrives: a few of the lowest products get 20 more."""
        if not self.restock or not self.book:
            return
        low = sorted(self.book, key=lambda c: (self.book[c], c))[: self.restock * 3]
        for code in rng.sample(low, min(self.restock, len(low))):
            self.book[code] += 20
            self.changed.add(code)
            self.out(f"erp: purchase receipt {code} +20 → {self.book[code]}")

    def send(self, kind: str, now: datetime, codes: list[str]) -> dict | None:
        body = {
            "message_id": self.next_message_id(now),
            "as_of": now.astimezone(SHANGHAI).isoformat(),
            "items": [{"product_code": c, "quantity": f"{self.book[c]:.4f}"} for c in codes],
        }
        status, answer = self.call("POST", f"stock/{kind}", body)
        if status == 200:
            self.out(
                f"erp: stock {kind} {body['message_id']}: {len(codes)} sent, "
                f"{answer['applied']} applied, {len(answer['stale'])} stale, "
                f"{len(answer['unknown_products'])} unknown"
            )
            if kind == "incremental":
                self.changed -= set(codes)
            else:
                self.changed.clear()
        else:
            self.out(f"erp: stock {kind} {body['message_id']}: {status} {answer['error']}")
        return answer if status == 200 else None

    def cycle(self, *, full: bool = False, rng: random.Random | None = None):
        """One round of the ERP's work (every 15 minutes)."""
        self.watch_orders()
        counts = self.extract()
        if self.book is None:
            # After a first extraction everything shipped is booked, so tongcang's on hand
            # is what the ERP would count.
            self.load_book()
        self.receive_goods(rng or random.Random())
        # The quantities are as of now, after the acknowledgements (full precision: an as_of
        # rounded down to the second could fall before them and count them twice).
        now = clock.now().astimezone(SHANGHAI)  # injectable: tests run it at fixed times
        local = now
        due_full = local.hour == 3 and self.last_full_day != local.date()
        if full or due_full:
            self.last_full_day = local.date()
            self.send("full", now, sorted(self.book))
        elif self.changed:
            self.send("incremental", now, sorted(self.changed))
        else:
            self.out("erp: no stock change to send")
        self.out(
            f"erp: cycle done at {local:%Y-%m-%d %H:%M:%S}: {counts['sales']} sales, "
            f"{counts['returns']} returns and {counts['transfers']} transfers records extracted"
        )
        return counts
