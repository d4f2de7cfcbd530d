"""The one interface every platform connector offers, and the errors they raise.

A connector speaks one platform protocol over HTTP for one shop. It reads orders and refunds
a page at a time (the sync service decides windows, paging order and watermarks), turns them
into ``channels.types.NormalizedOrder`` / ``RefundNotice`` values, and sends shipments and
stock. It keeps no state of its own beyond an HTTP session and, for OAuth platforms, a token.

Errors: ``TransientError`` (timeouts, connection errors, 5xx, rate limits, malformed bodies:
try again later) and ``PermanentError`` (the platform refused the call for good: a person must
look). "Already done" answers (a shipment the platform already has) are not errors.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

import requests

from channels.types import RefundNotice, ShipmentNotice

GMT8 = timezone(timedelta(hours=8))
PLATFORM_TIME = "%Y-%m-%d %H:%M:%S"


class ConnectorError(Exception):
    def __init__(self, message: str, *, code: str = "", sub_code: str = "", raw=None):
        super().__init__(message)
        self.code = str(code)
        self.sub_code = sub_code
        self.raw = raw

    def __str__(self):
        head = super().__str__()
        codes = "/".join(c for c in (self.code, self.sub_code) if c)
        return f"{head} [{codes}]" if codes else head


class TransientError(ConnectorError):
    """Try again later: nothing was refused for good."""


class RateLimited(TransientError):
    pass


class AuthError(TransientError):
    """The platform does not accept our credentials (wrong key, secret or expired session).

    Not a refusal of the call itself: outbox messages wait (with backoff) until a person fixes
    the shop's credentials, instead of every one of them being parked."""


class PermanentError(ConnectorError):
    """The platform refused this call for good; retrying the same call will not help."""


@dataclass
class Page:
    items: list
    total: int | None = None  # None when the platform only says has_next
    has_next: bool = False


@dataclass
class ClearReceiver:
    """A receiver in clear, from a platform's rationed decryption call (解密)."""

    platform_order_no: str
    receiver_oaid: str
    matched: bool  # False: the id is no longer the order's (read the order again)
    name: str = ""
    phone: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    address: str = ""
    privacy_number: bool = False  # the phone is a virtual number (隐私号)


def to_platform_time(dt: datetime) -> str:
    return dt.astimezone(GMT8).strftime(PLATFORM_TIME)


def from_platform_time(value) -> datetime | None:
    if not value:
        return None
    return datetime.strptime(str(value), PLATFORM_TIME).replace(tzinfo=GMT8).astimezone(UTC)


def from_millis(value) -> datetime | None:
    if value in (None, "", 0):
        return None
    return datetime.fromtimestamp(int(value) / 1000, UTC)


def money(value, default: str = "0") -> Decimal:
    """A platform amount as Decimal with 2 places; a malformed one is a transient error (the
    body was broken), never a silent zero."""
    if value in (None, ""):
        value = default
    try:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    except InvalidOperation as exc:
        raise TransientError(f"malformed amount {value!r}") from exc


def quantity(value) -> Decimal:
    try:
        return Decimal(str(value)).quantize(Decimal("0.0001"))
    except InvalidOperation as exc:
        raise TransientError(f"malformed quantity {value!r}") from exc


class Connector:
    """Base class: HTTP plumbing shared by the API connectors."""

    platform_codes: tuple[str, ...] = ()
    window: timedelta = timedelta(days=1)  # the longest window one list call accepts
    page_size: int = 100
    refund_page_size: int = 100
    default_timeout: float = 10.0

    def __init__(self, shop, *, http: requests.Session | None = None):
        self.shop = shop
        self.credentials = dict(shop.credentials or {})
        self.base_url = (shop.api_base_url or "").rstrip("/")
        if not self.base_url:
            raise PermanentError(f"shop {shop.code} has no API base URL")
        self.timeout = float(self.credentials.get("timeout", self.default_timeout))
        self.http = http or requests.Session()
        self._local = threading.local()
        self.http_seconds = 0.0  # time spent waiting on the platform (for the benchmark)
        self.http_calls = 0

    # --- HTTP ------------------------------------------------------------------------------
    def _send(self, method: str, url: str, **kwargs) -> dict:
        started = time.perf_counter()
        in_pool = getattr(self._local, "session", None)
        try:
            resp = (in_pool or self.http).request(method, url, timeout=self.timeout, **kwargs)
        except requests.Timeout as exc:
            raise TransientError(f"timeout after {self.timeout:g} s") from exc
        except requests.ConnectionError as exc:
            raise TransientError(f"connection failed: {exc.__class__.__name__}") from exc
        finally:
            if in_pool is None:  # calls made in parallel are timed by parallel() as a whole
                self.http_seconds += time.perf_counter() - started
            self.http_calls += 1
        if resp.status_code == 429:
            raise RateLimited(f"HTTP {resp.status_code}", code=str(resp.status_code))
        if resp.status_code >= 500:
            raise TransientError(f"HTTP {resp.status_code}", code=str(resp.status_code))
        try:
            data = resp.json()
        except ValueError as exc:
            raise TransientError(f"malformed body (HTTP {resp.status_code})") from exc
        if not isinstance(data, dict):
            raise TransientError("malformed body: not a JSON object")
        if resp.status_code in (401, 403) and not data.get("access_token"):
            raise AuthError(
                data.get("error_description") or f"HTTP {resp.status_code}",
                code=str(resp.status_code),
            )
        if resp.status_code >= 400 and not data:
            raise PermanentError(f"HTTP {resp.status_code}", code=str(resp.status_code))
        return data

    def parallel(self, func, items: list, workers: int) -> list:
        """``[func(i) for i in items]`` over ``workers`` HTTP sessions at once (pure HTTP work:
        no database access in ``func``); the first error is raised after all have finished.
        The time counted as HTTP is the wall time of the whole batch."""
        if workers <= 1 or len(items) <= 1:
            return [func(i) for i in items]
        sessions: list[requests.Session] = []

        def run(item):
            if getattr(self._local, "session", None) is None:
                self._local.session = requests.Session()
                sessions.append(self._local.session)
            return func(item)

        started = time.perf_counter()
        try:
            with ThreadPoolExecutor(max_workers=workers) as pool:
                return list(pool.map(run, items))
        finally:
            self.http_seconds += time.perf_counter() - started
            for s in sessions:
                s.close()

    # --- the interface ---------------------------------------------------------------------
    def order_page(self, start: datetime, end: datetime, page: int) -> Page:
        raise NotImplementedError

    def order_key(self, item) -> str:
        """The platform order number of one list item."""
        raise NotImplementedError

    def summary_modified(self, item) -> datetime | None:
        """The modification time a list item carries, when the list is only a summary (then an
        order we already hold at that time needs no detail call); None otherwise."""
        return None

    def normalize_orders(self, items: list) -> list:
        """List items → NormalizedOrder values (fetching details when the list is a summary)."""
        raise NotImplementedError

    def refund_page(self, start: datetime, end: datetime, page: int) -> Page:
        raise NotImplementedError

    def refund_key(self, item) -> str:
        raise NotImplementedError

    def normalize_refunds(self, items: list) -> list[RefundNotice]:
        raise NotImplementedError

    def fetch_orders(self, platform_order_nos: list[str]) -> list:
        """Fresh NormalizedOrder values of these orders (e.g. after a refund changed them)."""
        raise NotImplementedError

    def send_shipment(self, notice: ShipmentNotice) -> None:
        """Tell the platform an order (or part of it) shipped. Idempotent: an order the
        platform already shipped with this tracking number is success."""
        raise NotImplementedError

    def push_stock(self, quantities: dict[str, int]) -> dict[str, ConnectorError | None]:
        """Set absolute sellable stock per platform SKU, batched as the API allows.

        Returns every SKU's outcome: None (accepted), a PermanentError (refused for good) or
        a TransientError (unknown: try again later).
        """
        raise NotImplementedError


def with_retries(call, *, attempts: int = 3, pauses=(0.2, 1.0)):
    """Run ``call()``, retrying transient errors a few times with short pauses (pulls only:
    the outbox has its own, longer backoff)."""
    for attempt in range(attempts):
        try:
            return call()
        except AuthError:
            raise  # trying again at once will not change the credentials
        except TransientError:
            if attempt == attempts - 1:
                raise
            time.sleep(pauses[min(attempt, len(pauses) - 1)])
    raise AssertionError("unreachable")
