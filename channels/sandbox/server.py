"""The platform sandbox: a real HTTP server speaking TOP, JD (JOS) and Weimob.

    /router/rest                 TOP (Taobao, Tmall)
    /routerjson                  JD JOS
    /fuwu/b/oauth2/token         Weimob OAuth (client_credentials)
    /api/1_0/ec/...              Weimob open API (JSON POST, ?accesstoken=)
    /_sandbox/...                control: state, generate, fault, refund, close, modify, reset,
                                 apps, catalogue, unsold, order, dump, stock, stock_of

Django-free (the standard library's ThreadingHTTPServer), so tests, the benchmark and
``manage.py channel_sandbox`` all run the same thing. Faults are consumed per call.
"""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

from . import jd, top, waybill, weimob
from .replies import Reply, fault_reply, page_slice  # noqa: F401  (the handlers' shared pieces)
from .state import SandboxState


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tongcang-sandbox/1"
    # Keep-alive answers go out at once: no Nagle delay between the headers and the body.
    disable_nagle_algorithm = True
    wbufsize = 64 * 1024  # headers and body in one write, flushed after each request

    def log_message(self, format, *args):  # quiet unless asked
        if getattr(self.server, "verbose", False):
            super().log_message(format, *args)

    @property
    def state(self) -> SandboxState:
        return self.server.state

    def do_GET(self):
        self.dispatch()

    def do_POST(self):
        self.dispatch()

    def dispatch(self):
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        query = dict(parse_qsl(url.query, keep_blank_values=True))
        ctype = self.headers.get("Content-Type", "")
        try:
            if url.path == "/router/rest":
                params = dict(query)
                if "form-urlencoded" in ctype:
                    params.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
                reply = top.handle(self.state, params)
            elif url.path == "/routerjson":
                params = dict(query)
                if "form-urlencoded" in ctype:
                    params.update(parse_qsl(raw.decode("utf-8"), keep_blank_values=True))
                reply = jd.handle(self.state, params)
            elif url.path == "/fuwu/b/oauth2/token":
                reply = weimob.token(self.state, query)
            elif url.path.startswith("/api/1_0/ec/"):
                reply = weimob.handle(self.state, url.path, query, raw)
            elif url.path.startswith("/_sandbox/"):
                reply = self.control(url.path.removeprefix("/_sandbox/"), raw)
            else:
                reply = Reply({"error": "not found"}, status=404)
        except Exception as exc:  # the sandbox answers like a broken gateway, never crashes
            reply = Reply({"error": repr(exc)}, status=500)
        if isinstance(reply, tuple):  # (reply, delay after processing) from timeout_after
            reply, delay = reply
            time.sleep(delay)
        self.send_response(reply.status)
        self.send_header("Content-Type", f"{reply.content_type}; charset=utf-8")
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        try:
            self.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass

    def control(self, action: str, raw: bytes) -> Reply:
        data = json.loads(raw or b"{}")
        st = self.state
        if action == "state":
            return Reply(st.snapshot())
        if action == "reset":
            st.reset(seed=int(data.get("seed", 7)))
            return Reply({"ok": True})
        if action == "generate":
            end = datetime.fromisoformat(data["end"]) if data.get("end") else None
            start = datetime.fromisoformat(data["start"]) if data.get("start") else None
            tids = st.generate(
                platform=data.get("platform", "top"),
                count=int(data.get("count", 10)),
                start=start,
                end=end,
                refund_share=float(data.get("refund_share", 0.1)),
                cancel_share=float(data.get("cancel_share", 0.05)),
            )
            return Reply({"tids": tids})
        if action == "put_order":
            tid = st.put_order(
                platform=data.get("platform", "top"),
                lines=data["lines"],
                at=datetime.fromisoformat(data["at"]),
                post_fee=data.get("post_fee", "0.00"),
                discount_fee=data.get("discount_fee", "0.00"),
                tid=data.get("tid"),
            )
            return Reply({"tid": tid})
        if action == "fault":
            st.add_fault(**data)
            return Reply({"ok": True, "pending": len(st.faults)})
        if action == "faults":  # misbehaviours waiting for a call, calls so far; "clear": drop
            with st.lock:
                if data.get("clear"):
                    st.faults.clear()
                return Reply({"pending": len(st.faults), "calls": sum(st.calls.values())})
        if action == "refund":
            at = datetime.fromisoformat(data["at"]) if data.get("at") else None
            rid = st.request_refund(data["platform"], data["tid"], at=at, line=data.get("line", 0))
            return Reply({"refund_id": rid})
        if action == "close":
            st.close_order(data["platform"], data["tid"])
            return Reply({"ok": True})
        if action == "waybill_account":  # an electronic waybill subscription (订购关系)
            return Reply({"account": waybill.add_account(st, **data)})
        if action == "receiver":  # give an order another receiver (same person as another)
            with st.lock:
                order = st.orders[data["platform"]][data["tid"]]
                order.update({k: v for k, v in data.items() if k.startswith("receiver_")})
            return Reply({"ok": True})
        if action == "privacy":  # encrypted receivers per platform, the decryption ration
            with st.lock:
                st.encrypted_receivers.update(data.get("encrypted") or {})
                if "decrypt_quota" in data:
                    st.decrypt_quota = int(data["decrypt_quota"])
            return Reply({"ok": True})
        if action == "refund_status":
            with st.lock:
                refund = st.refunds[data["platform"]][data["refund_id"]]
                refund.update({k: v for k, v in data.items() if k in ("status", "jd_status")})
                st.touch(refund, None)
            return Reply({"ok": True})
        if action == "pause":
            at = datetime.fromisoformat(data["at"]) if data.get("at") else None
            st.pause_order(
                data["platform"], data["tid"], paused=bool(data.get("paused", True)), at=at
            )
            return Reply({"ok": True})
        if action == "order":
            order = st.orders[data["platform"]].get(data["tid"])
            return Reply({"order": order})
        if action == "unsold":  # these SKUs take stock pushes but get no generated orders
            with st.lock:
                st.unsold.update(data.get("skus", []))
            return Reply({"ok": True})
        if action == "modify":
            done = st.modify(data["platform"], data["tid"], memo=data.get("memo", ""))
            return Reply({"modified": done})
        if action == "dump":  # every order, compactly, and every shipment accepted
            with st.lock:
                return Reply({"orders": st.dump(), "shipments": list(st.shipments)})
        if action == "stock_of":  # what each platform last received for these SKUs, and when
            with st.lock:
                return Reply(
                    {
                        platform: {s: received.get(s) for s in data.get("skus", [])}
                        for platform, received in st.stock_received.items()
                    }
                )
        if action == "stock":  # the last quantity each platform received, every SKU
            with st.lock:
                return Reply({p: dict(v) for p, v in st.stock.items()})
        if action == "apps":
            with st.lock:
                for platform, values in data.items():
                    st.apps[platform].update(values)
            return Reply({"ok": True})
        if action == "catalogue":
            from decimal import Decimal

            with st.lock:
                st.catalogue = {k: (v[0], Decimal(str(v[1]))) for k, v in data.items()}
            return Reply({"ok": True})
        return Reply({"error": f"unknown control {action}"}, status=404)


class SandboxServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address=("127.0.0.1", 0), state: SandboxState | None = None, verbose=False):
        super().__init__(address, Handler)
        self.state = state or SandboxState()
        self.verbose = verbose

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host}:{port}"

    def start_in_thread(self) -> threading.Thread:
        thread = threading.Thread(target=self.serve_forever, name="sandbox", daemon=True)
        thread.start()
        return thread


def stream_orders(state: SandboxState, *, per_minute: float, stop: threading.Event) -> None:
    """The steady stream of `make run`: new orders on every platform, some refunds later."""
    interval = 60.0 / per_minute if per_minute > 0 else 3600
    while not stop.wait(interval):
        now = datetime.now(UTC)
        for platform in list(state.orders):
            state.generate(platform=platform, count=1, start=now - timedelta(seconds=5), end=now)
            # now and then a buyer of an earlier order asks for a refund (after shipping: 售后)
            with state.lock:
                earlier = [
                    tid
                    for tid, o in state.orders[platform].items()
                    if o["status"] != "TRADE_CLOSED"
                    and o["lines"][0]["refund_status"] == "NO_REFUND"
                ]
                if earlier and state.rng.random() < 0.15:
                    state.request_refund(platform, state.rng.choice(earlier))
