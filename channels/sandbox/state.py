"""What the platform sandbox knows: its apps, orders, refunds, stock, shipments and faults.

Kept in memory, behind one lock, in a neutral shape; ``top.py``, ``jd.py`` and ``weimob.py``
render it in each platform's own protocol. Times are aware datetimes in UTC; the renderers
turn them into GMT+8 strings as the platforms do.
"""

from __future__ import annotations

import random
import threading
import time
import zlib
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

PLATFORMS = ("top", "jd", "weimob")

DEFAULT_APPS = {
    "top": {"app_key": "12345678", "secret": "sandbox-top-secret", "session": "sandbox-session"},
    "jd": {"app_key": "JDSANDBOXKEY", "secret": "sandbox-jd-secret", "access_token": "jd-token"},
    "weimob": {"client_id": "WMSANDBOX", "client_secret": "sandbox-weimob-secret"},
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红娥玲芬燕飞鹏"
PLACES = [
    ("浙江省", "杭州市", "西湖区", "文三路"),
    ("浙江省", "宁波市", "鄞州区", "天童南路"),
    ("上海市", "上海市", "浦东新区", "张杨路"),
    ("北京市", "北京市", "朝阳区", "建国路"),
    ("广东省", "广州市", "天河区", "天河路"),
    ("广东省", "深圳市", "南山区", "科技园南路"),
    ("江苏省", "南京市", "鼓楼区", "中山北路"),
    ("江苏省", "苏州市", "姑苏区", "人民路"),
    ("四川省", "成都市", "武侯区", "人民南路"),
    ("湖北省", "武汉市", "洪山区", "珞喻路"),
    ("山东省", "青岛市", "市南区", "香港中路"),
    ("福建省", "厦门市", "思明区", "湖滨南路"),
]
REMARKS = ["", "", "", "请尽快发货", "周末送货", "不要放快递柜", "送人的，别放发票"]
# The sandbox's catalogue: outer SKU code → (title, unit price). Tests may replace it.
DEFAULT_CATALOGUE = {
    "TEA-001": ("西湖龙井 明前特级 250g", Decimal("368.00")),
    "TEA-002": ("安吉白茶 100g", Decimal("158.00")),
    "CUP-001": ("青瓷茶杯 单只", Decimal("39.90")),
    "CUP-SET2": ("青瓷茶杯 两只装", Decimal("69.90")),
    "GIFT-01": ("龙井礼盒（茶叶＋茶杯两只）", Decimal("428.00")),
    "HALF-001": ("散装红茶 半斤", Decimal("45.50")),
    "POT-001": ("紫砂壶 朱泥", Decimal("599.00")),
}


def num_iid(sku: str) -> str:
    """The sandbox's item id of an outer SKU: SKUs sharing a prefix (TEA-001, TEA-002) are
    SKUs of one item. Stable across processes."""
    return str(600000000000 + zlib.crc32(sku.split("-")[0].encode()) % 10**9)


def sku_id(sku: str) -> str:
    return str(4000000000000 + zlib.crc32(("sku:" + sku).encode()) % 10**9)


def _tid(rng: random.Random, platform: str) -> str:
    digits = {"top": 19, "jd": 12, "weimob": 16}[platform.split(":")[0]]
    return str(rng.randrange(10 ** (digits - 1), 10**digits))


@dataclass
class Fault:
    """One misbehaviour, applied to the next ``times`` matching calls (method "" = any)."""

    kind: str  # timeout | timeout_after | http_500 | rate_limit | malformed | duplicate_page | out_of_order
    method: str = ""
    platform: str = ""
    times: int = 1
    delay: float = 2.0


@dataclass
class SandboxState:
    seed: int = 7
    apps: dict = field(default_factory=lambda: {k: dict(v) for k, v in DEFAULT_APPS.items()})
    catalogue: dict = field(default_factory=lambda: dict(DEFAULT_CATALOGUE))
    catalogues: dict = field(default_factory=dict)  # platform → its own catalogue (demo shops)
    unsold: set = field(default_factory=set)  # SKUs that take stock but get no generated orders
    orders: dict = field(default_factory=lambda: {p: {} for p in PLATFORMS})
    refunds: dict = field(default_factory=lambda: {p: {} for p in PLATFORMS})
    stock: dict = field(default_factory=lambda: defaultdict(dict))  # platform → sku → qty
    stock_calls: list = field(default_factory=list)
    # platform → sku → (quantity, time.time() it was received): what a drill asks for one SKU
    stock_received: dict = field(default_factory=lambda: defaultdict(dict))
    shipments: list = field(default_factory=list)  # accepted shipment calls
    calls: Counter = field(default_factory=Counter)  # (platform, method) → count
    faults: list = field(default_factory=list)
    weimob_tokens: dict = field(default_factory=dict)  # token → expiry (UTC)
    weimob_token_ttl: int = 7200
    # TOP sessions → the seller they open (each seller has its own orders, stock, catalogue;
    # "top" is the default seller). More sellers: add_top_seller (the demo's Tmall shop).
    top_sessions: dict = field(default_factory=lambda: {DEFAULT_APPS["top"]["session"]: "top"})
    # Encrypted buyer details (密文订单): masked receivers plus the receiver's id.
    encrypted_receivers: dict = field(default_factory=lambda: {"top": True, "jd": True})
    decrypt_quota: int = 1000  # decryptions per seller (rationed by the platform)
    decrypts: Counter = field(default_factory=Counter)
    decrypt_log: list = field(default_factory=list)
    # Electronic waybill services (电子面单): see waybill.py.
    waybill_accounts: dict = field(default_factory=dict)  # (service, cp_code) → account
    waybills: dict = field(default_factory=dict)  # (service, cp_code, waybill_code) → waybill
    waybill_keys: dict = field(default_factory=dict)  # (service, cp_code, key) → waybill_code
    waybill_calls: list = field(default_factory=list)
    # `make run`: any subscription the demo asks with is open (tests set accounts explicitly)
    open_waybill_accounts: bool = False

    def __post_init__(self):
        self.lock = threading.RLock()
        self.rng = random.Random(self.seed)
        # (platform, start, end) → the orders modified in that window, valid while the
        # platform's orders are unchanged: the pages of one window are read one call each.
        self._window_cache: dict = {}
        self._version: Counter = Counter()

    def changed(self, platform: str) -> None:
        """Orders of the platform changed: cached windows of it are stale."""
        self._version[platform] += 1

    def top_seller(self, session: str) -> str | None:
        return self.top_sessions.get(session)

    def add_top_seller(self, *, session: str, seller: str) -> None:
        """Another TOP seller (``top:<name>``) reached with its own session."""
        with self.lock:
            self.top_sessions[session] = seller
            self.orders.setdefault(seller, {})
            self.refunds.setdefault(seller, {})

    def catalogue_of(self, platform: str) -> dict:
        return self.catalogues.get(platform) or self.catalogue

    # --- control --------------------------------------------------------------------------
    def reset(self, seed: int = 7) -> None:
        with self.lock:
            fresh = SandboxState(seed=seed)
            for name in (
                "apps catalogue catalogues unsold orders refunds stock stock_calls stock_received "
                "shipments calls faults weimob_tokens weimob_token_ttl top_sessions "
                "encrypted_receivers decrypt_quota decrypts decrypt_log waybill_accounts waybills "
                "waybill_keys waybill_calls"
            ).split():
                setattr(self, name, getattr(fresh, name))
            self.rng = random.Random(seed)

    def add_fault(self, **kwargs) -> None:
        with self.lock:
            self.faults.append(Fault(**kwargs))

    def take_fault(self, platform: str, method: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.platform and fault.platform != platform:
                    continue
                if fault.method and fault.method != method:
                    continue
                fault.times -= 1
                if fault.times <= 0:
                    self.faults.remove(fault)
                return fault
        return None

    # --- the order stream -----------------------------------------------------------------
    def generate(
        self,
        *,
        platform: str = "top",
        count: int = 10,
        start: datetime | None = None,
        end: datetime | None = None,
        refund_share: float = 0.1,
        cancel_share: float = 0.05,
    ) -> list[str]:
        """Create ``count`` paid orders modified between start and end (default: the last minute)."""
        end = end or datetime.now(UTC)
        start = start or end - timedelta(minutes=1)
        span = max((end - start).total_seconds(), 1)
        made = []
        with self.lock:
            catalogue = self.catalogue_of(platform)
            skus = [s for s in catalogue if s not in self.unsold]
            for i in range(count):
                rng = self.rng
                tid = _tid(rng, platform)
                while tid in self.orders[platform]:
                    tid = _tid(rng, platform)
                created = start + timedelta(seconds=span * i / max(count, 1))
                created = created.replace(microsecond=0)
                lines = []
                for n, sku in enumerate(rng.sample(skus, k=rng.choice([1, 1, 2, 2, 3]))):
                    title, price = catalogue[sku]
                    lines.append(
                        {
                            "oid": f"{tid}{n + 1:02d}",
                            "num_iid": num_iid(sku),
                            "sku_id": sku_id(sku),
                            "outer_sku_id": sku,
                            "title": title,
                            "num": rng.choice([1, 1, 1, 2, 3]),
                            "price": price,
                            "refund_status": "NO_REFUND",
                            "shipped": False,
                        }
                    )
                province, city, district, road = rng.choice(PLACES)
                name = rng.choice(SURNAMES) + "".join(rng.sample(GIVEN, k=rng.choice([1, 2])))
                order = {
                    "tid": tid,
                    "status": "WAIT_SELLER_SEND_GOODS",
                    "type": "fixed",  # 一口价: left out by the increment call without ``type``
                    "created": created,
                    "pay_time": created + timedelta(seconds=rng.randrange(5, 60)),
                    "modified": created + timedelta(seconds=rng.randrange(60, 90)),
                    "buyer_nick": f"tb{rng.randrange(10**7, 10**8)}",
                    "receiver_name": name,
                    "receiver_mobile": f"1{rng.choice('3578')}{rng.randrange(10**8, 10**9)}",
                    "receiver_state": province,
                    "receiver_city": city,
                    "receiver_district": district,
                    "receiver_address": f"{road}{rng.randrange(1, 999)}号{rng.randrange(1, 30)}幢"
                    f"{rng.randrange(101, 2999)}室",
                    "buyer_message": rng.choice(REMARKS),
                    "seller_memo": "",
                    "post_fee": rng.choice([Decimal("0.00"), Decimal("0.00"), Decimal("8.00")]),
                    "discount_fee": rng.choice([Decimal("0.00"), Decimal("10.00")]),
                    "lines": lines,
                }
                if order["modified"] > end:
                    order["modified"] = end
                self.orders[platform][tid] = order
                self.changed(platform)
                made.append(tid)
                roll = rng.random()
                if roll < cancel_share:
                    self.close_order(platform, tid, at=order["modified"])
                elif roll < cancel_share + refund_share:
                    self.request_refund(platform, tid, at=order["modified"])
        return made

    def put_order(
        self,
        *,
        platform: str = "top",
        lines: list,
        at: datetime,
        post_fee: Decimal = Decimal("0.00"),
        discount_fee: Decimal = Decimal("0.00"),
        tid: str | None = None,
    ) -> str:
        """One paid order exactly as given (tests): ``lines`` [(outer SKU, num[, price])],
        created and modified at ``at``; the rest of it as ``generate`` would make it."""
        with self.lock:
            made = self.generate(
                platform=platform, count=1, start=at, end=at, refund_share=0, cancel_share=0
            )[0]
            order = self.orders[platform].pop(made)
            tid = tid or made
            catalogue = self.catalogue_of(platform)
            order["lines"] = [
                {
                    "oid": f"{tid}{n + 1:02d}",
                    "num_iid": num_iid(sku),
                    "sku_id": sku_id(sku),
                    "outer_sku_id": sku,
                    "title": catalogue.get(sku, (sku, 0))[0],
                    "num": int(spec[1]),
                    "price": Decimal(str(spec[2])) if len(spec) > 2 else catalogue[sku][1],
                    "refund_status": "NO_REFUND",
                    "shipped": False,
                }
                for n, spec in enumerate(lines)
                for sku in [spec[0]]
            ]
            at = at.replace(microsecond=0)
            order.update(
                tid=tid,
                created=at,
                pay_time=at,
                modified=at,
                post_fee=Decimal(str(post_fee)),
                discount_fee=Decimal(str(discount_fee)),
            )
            self.orders[platform][tid] = order
            return tid

    def touch(self, order: dict, at: datetime | None) -> None:
        at = (at or datetime.now(UTC)).replace(microsecond=0)
        order["modified"] = max(order["modified"], at)
        for platform, orders in self.orders.items():
            if orders.get(order["tid"]) is order:
                self.changed(platform)

    def modify(self, platform: str, tid: str, *, memo: str = "") -> bool:
        """The seller (or buyer) changed an order on the platform after it was pulled: a new
        seller memo and a later modification time (at least a second later, so a reader
        comparing times sees a newer version). False when it is shipped or closed."""
        with self.lock:
            order = self.orders[platform][tid]
            if order["status"] != "WAIT_SELLER_SEND_GOODS":
                return False
            order["seller_memo"] = memo or f"改过 {order['modified']:%H%M%S}"
            later = order["modified"] + timedelta(seconds=1)
            self.touch(order, max(datetime.now(UTC), later))
            return True

    def dump(self) -> dict:
        """Every order in a compact form (what a drill compares with the back office)."""
        with self.lock:
            return {
                platform: [
                    {
                        "tid": o["tid"],
                        "created": o["created"].isoformat(),
                        "modified": o["modified"].isoformat(),
                        "status": o["status"],
                        "lines": [
                            {
                                "oid": ln["oid"],
                                "refund_status": ln["refund_status"],
                                "shipped": ln["shipped"],
                                "tracking_no": ln.get("tracking_no", ""),
                            }
                            for ln in o["lines"]
                        ],
                    }
                    for o in orders.values()
                ]
                for platform, orders in self.orders.items()
            }

    def request_refund(self, platform: str, tid: str, *, at=None, line: int = 0) -> str:
        with self.lock:
            order = self.orders[platform][tid]
            ln = order["lines"][line]
            ln["refund_status"] = "WAIT_SELLER_AGREE"
            refund_id = f"{tid[-10:]}{len(self.refunds[platform]) + 1:04d}"
            self.touch(order, at)
            self.refunds[platform][refund_id] = {
                "refund_id": refund_id,
                "tid": tid,
                "oid": ln["oid"],
                "status": "WAIT_SELLER_AGREE",
                "refund_fee": ln["price"] * ln["num"],
                "reason": "不想要了",
                "has_good_return": order["status"] != "WAIT_SELLER_SEND_GOODS",
                "created": order["modified"],
                "modified": order["modified"],
                "num": ln["num"],
                "outer_sku_id": ln["outer_sku_id"],
                "order_status": order["status"],
            }
            return refund_id

    def close_order(self, platform: str, tid: str, *, at=None) -> None:
        """The buyer's refund of everything succeeded before shipping: the platform closes it."""
        with self.lock:
            order = self.orders[platform][tid]
            order["status"] = "TRADE_CLOSED"
            for ln in order["lines"]:
                ln["refund_status"] = "SUCCESS"
            self.touch(order, at)

    def pause_order(self, platform: str, tid: str, *, paused: bool = True, at=None) -> None:
        """Paid, but shipping forbidden (TOP PAID_FORBID_CONSIGN, JD POP_ORDER_PAUSE), or the
        pause lifted again."""
        with self.lock:
            order = self.orders[platform][tid]
            if paused and order["status"] == "WAIT_SELLER_SEND_GOODS":
                order["status"] = "PAID_FORBID_CONSIGN"
            elif not paused and order["status"] == "PAID_FORBID_CONSIGN":
                order["status"] = "WAIT_SELLER_SEND_GOODS"
            self.touch(order, at)

    # --- calls from connectors ------------------------------------------------------------
    def orders_modified_between(self, platform: str, start: datetime, end: datetime) -> list:
        with self.lock:
            key = (platform, start, end)
            cached = self._window_cache.get(key)
            if cached is not None and cached[0] == self._version[platform]:
                return cached[1]
            found = [o for o in self.orders[platform].values() if start <= o["modified"] < end]
            found.sort(key=lambda o: (o["modified"], o["tid"]))
            if len(self._window_cache) > 256:
                self._window_cache.clear()
            self._window_cache[key] = (self._version[platform], found)
        return found

    def refunds_modified_between(self, platform: str, start: datetime, end: datetime) -> list:
        with self.lock:
            found = [r for r in self.refunds[platform].values() if start <= r["modified"] < end]
        return sorted(found, key=lambda r: (r["modified"], r["refund_id"]))

    def ship(self, platform: str, *, tid: str, tracking_no: str, carrier: str, oids=None):
        """Accept a shipment; returns an error code ("" when accepted)."""
        with self.lock:
            order = self.orders[platform].get(tid)
            if order is None:
                return "not_found"
            if order["status"] == "TRADE_CLOSED":
                return "closed"
            if order["status"] == "PAID_FORBID_CONSIGN":
                return "forbidden"
            targets = [ln for ln in order["lines"] if not oids or ln["oid"] in oids]
            if oids and len(targets) != len(set(oids)):
                return "not_found"
            if all(ln["shipped"] for ln in targets):
                return "already_shipped"
            for ln in targets:
                ln["shipped"] = True
                ln["tracking_no"] = tracking_no
            shipped_all = all(ln["shipped"] for ln in order["lines"])
            order["status"] = "WAIT_BUYER_CONFIRM_GOODS" if shipped_all else "SELLER_CONSIGNED_PART"
            self.touch(order, None)
            self.shipments.append(
                {
                    "platform": platform,
                    "tid": tid,
                    "oids": [ln["oid"] for ln in targets],
                    "tracking_no": tracking_no,
                    "carrier": carrier,
                }
            )
            return ""

    def set_stock(self, platform: str, quantities: dict[str, int]) -> list[str]:
        """Set absolute stock per outer SKU; returns the SKUs the platform does not know."""
        with self.lock:
            unknown = [s for s in quantities if s not in self.catalogue_of(platform)]
            if unknown:
                return unknown
            at = time.time()
            for sku, qty in quantities.items():
                self.stock[platform][sku] = int(qty)
                self.stock_received[platform][sku] = (int(qty), at)
            self.stock_calls.append({"platform": platform, "quantities": dict(quantities)})
            return []

    def snapshot(self) -> dict:
        with self.lock:
            return {
                "orders": {p: len(v) for p, v in self.orders.items()},
                "refunds": {p: len(v) for p, v in self.refunds.items()},
                "stock": {p: dict(v) for p, v in self.stock.items()},
                "stock_calls": list(self.stock_calls),
                "shipments": list(self.shipments),
                "calls": {f"{p}:{m}": n for (p, m), n in self.calls.items()},
                "faults": len(self.faults),
                "decrypts": dict(self.decrypts),
                "waybills": [
                    {"service": s, "cp_code": cp, **w}
                    for (s, cp, _code), w in self.waybills.items()
                ],
            }
