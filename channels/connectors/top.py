"""TOP (Taobao Open Platform): Taobao and Tmall shops. See PROTOCOLS.md for the sources.

Credentials (Shop.credentials): app_key, secret, session, sign_method (md5 | hmac | hmac-sha256,
default md5), timeout (seconds). Platform SKU = the merchant's outer SKU code (商家编码).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime

from channels.types import NormalizedLine, NormalizedOrder, RefundNotice, ShipmentNotice

from .base import (
    AuthError,
    ClearReceiver,
    Connector,
    ConnectorError,
    Page,
    PermanentError,
    RateLimited,
    TransientError,
    from_platform_time,
    money,
    quantity,
    to_platform_time,
    with_retries,
)

# The receiver_* fields and ``created`` must all be asked for, or TOP returns no ``oaid`` (the
# receiver's id of an order whose buyer details are encrypted); include_oaid=true asks for it too.
TRADE_FIELDS = (
    "tid,status,type,created,pay_time,modified,buyer_nick,receiver_name,receiver_mobile,"
    "receiver_phone,receiver_state,receiver_city,receiver_district,receiver_town,"
    "receiver_address,oaid,buyer_message,seller_memo,post_fee,discount_fee,total_fee,payment,orders"
)
# taobao.trades.sold.increment.get without ``type`` returns only guarantee_trade, auto_delivery,
# ec, cod and step trades: a plain fixed-price (一口价) trade would never be read. Ask for all
# the physical-goods types the documentation lists.
TRADE_TYPES = (
    "fixed,auction,guarantee_trade,step,independent_simple_trade,independent_shop_trade,"
    "auto_delivery,ec,cod,fenxiao,game_equipment,shopex_trade,netcn_trade,external_trade,"
    "o2o_offlinetrade,pre_auth_type"
)
REFUND_FIELDS = (
    "refund_id,tid,oid,status,refund_fee,reason,has_good_return,order_status,outer_id,num,"
    "created,modified"
)
# Trade states (taobao.trade.fullinfo.get status) → what it means for us.
UNPAID = {"TRADE_NO_CREATE_PAY", "WAIT_BUYER_PAY", "PAY_PENDING", "WAIT_PRE_AUTH_CONFIRM"}
CLOSED = {"TRADE_CLOSED", "TRADE_CLOSED_BY_TAOBAO"}
# Paid, but the platform forbids shipping for now (group buying not complete, shipping under
# control): held, never shipped, never cancelled.
SHIP_FORBIDDEN = {"PAID_FORBID_CONSIGN"}
SHIPPED = {
    "SELLER_CONSIGNED_PART",
    "WAIT_BUYER_CONFIRM_GOODS",
    "TRADE_BUYER_SIGNED",
    "TRADE_FINISHED",
}
# Refund states (refund_status of a line, status of a refund) → ours.
REFUND_STATES = {
    "WAIT_SELLER_AGREE": "requested",
    "WAIT_BUYER_RETURN_GOODS": "requested",
    "WAIT_SELLER_CONFIRM_GOODS": "requested",
    "SELLER_REFUSE_BUYER": "refused",
    "CLOSED": "closed",
    "SUCCESS": "refunded",
    # Exchanges (换货) and an exchange turned into a refund: still open, the order stays held.
    "WAIT_BUYER_CONFIRM_EXCHANGE_SELLER_SEND_GOODS": "requested",
    "EXCHANGE_TRANSFORM_TO_REFUND": "requested",
    "WAIT_SELLER_CONSIGN_GOODS": "requested",
}
# Errors that mean "try later" (TOP: code 7 call limits, isp.* platform-side failures).
TRANSIENT_CODES = {"7", "15"}
# Credentials refused: 25 invalid signature, 26/27 missing/invalid session, 28/29 app key.
AUTH_CODES = {"25", "26", "27", "28", "29"}
# taobao.logistics.offline.send refusals: B04 = the trade is already shipped or closed (which
# of the two: ask the trade); B27 = already shipped; B150 is an ``isv.*`` code that public
# integrations retry (a platform-side hiccup despite its prefix).
ALREADY_SHIPPED_OR_CLOSED = "isv.logistics-offline-service-error:B04"
ALREADY_SHIPPED = "isv.logistics-offline-service-error:B27"
RETRYABLE_SUB_CODES = {"isv.logistics-offline-service-error:B150"}
MAX_SKUS_PER_STOCK_CALL = 20  # taobao.skus.quantity.update: at most 20 SKUs at once
MAX_DECRYPT = 20  # taobao.top.oaid.decrypt: at most 20 {oaid, tid, scene} per call


def sign(params: dict, secret: str, method: str = "md5") -> str:
    """TOP signature: sorted key+value of every non-empty parameter but ``sign``; md5 wraps the
    text in the secret, hmac / hmac-sha256 key it with the secret; uppercase hex."""
    text = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign" and params[k] != "")
    if method == "md5":
        return hashlib.md5((secret + text + secret).encode()).hexdigest().upper()
    if method == "hmac":
        return hmac.new(secret.encode(), text.encode(), hashlib.md5).hexdigest().upper()
    if method == "hmac-sha256":
        return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()
    raise PermanentError(f"unknown TOP sign_method {method!r}")


class TopConnector(Connector):
    platform_codes = ("taobao", "tmall")
    page_size = 100

    def call(self, method: str, **api_params) -> dict:
        params = {
            "method": method,
            "app_key": self.credentials.get("app_key", ""),
            "session": self.credentials.get("session", ""),
            "timestamp": to_platform_time(datetime.now(UTC)),
            "format": "json",
            "v": "2.0",
            "sign_method": self.credentials.get("sign_method", "md5"),
        }
        params.update({k: str(v) for k, v in api_params.items() if v is not None})
        params["sign"] = sign(params, self.credentials.get("secret", ""), params["sign_method"])
        data = self._send("POST", f"{self.base_url}/router/rest", data=params)
        if "error_response" in data:
            err = data["error_response"] or {}
            code, sub = str(err.get("code", "")), err.get("sub_code", "") or ""
            text = err.get("sub_msg") or err.get("msg") or "error"
            if code in AUTH_CODES:
                raise AuthError(text, code=code, sub_code=sub, raw=err)
            if code == "7" or sub.startswith("accesscontrol."):
                raise RateLimited(text, code=code, sub_code=sub, raw=err)
            if sub in RETRYABLE_SUB_CODES or (
                code in TRANSIENT_CODES and (not sub or sub.startswith("isp."))
            ):
                raise TransientError(text, code=code, sub_code=sub, raw=err)
            raise PermanentError(text, code=code, sub_code=sub, raw=err)
        key = method.removeprefix("taobao.").replace(".", "_") + "_response"
        if key not in data or not isinstance(data[key], dict):
            raise TransientError(f"malformed body: no {key}")
        return data[key]

    # --- orders ----------------------------------------------------------------------------
    def order_page(self, start, end, page) -> Page:
        body = self.call(
            "taobao.trades.sold.increment.get",
            fields="tid,status,modified",
            start_modified=to_platform_time(start),
            end_modified=to_platform_time(end),
            page_no=page,
            page_size=self.page_size,
            use_has_next="false",
            type=TRADE_TYPES,
        )
        try:
            items = (body.get("trades") or {}).get("trade") or []
            return Page(items=items, total=int(body.get("total_results", 0)))
        except (AttributeError, TypeError, ValueError) as exc:
            raise TransientError("malformed trades page") from exc

    def order_key(self, item) -> str:
        return str(item["tid"])

    def summary_modified(self, item):
        return from_platform_time(item.get("modified"))

    def fetch_trade(self, tid: str) -> dict:
        body = self.call(
            "taobao.trade.fullinfo.get", fields=TRADE_FIELDS, tid=tid, include_oaid="true"
        )
        trade = body.get("trade")
        if not isinstance(trade, dict) or str(trade.get("tid")) != str(tid):
            raise TransientError(f"malformed trade {tid}")
        return trade

    def normalize_orders(self, items) -> list[NormalizedOrder]:
        return self.fetch_orders([self.order_key(i) for i in items])

    def fetch_orders(self, platform_order_nos) -> list[NormalizedOrder]:
        trades = self.parallel(
            lambda tid: with_retries(lambda: self.fetch_trade(tid)),
            list(platform_order_nos),
            workers=int(self.credentials.get("detail_workers", 4)),
        )
        return [o for o in map(self.normalize_trade, trades) if o is not None]

    @staticmethod
    def normalize_trade(trade: dict) -> NormalizedOrder | None:
        """One fullinfo trade → NormalizedOrder; None for a trade never paid."""
        status = trade.get("status", "")
        paid_at = from_platform_time(trade.get("pay_time"))
        if status in UNPAID or (status == "TRADE_CLOSED_BY_TAOBAO" and paid_at is None):
            return None
        lines = []
        any_refund_open = False
        for o in (trade.get("orders") or {}).get("order") or []:
            refund = o.get("refund_status") or "NO_REFUND"
            if REFUND_STATES.get(refund) == "requested":
                any_refund_open = True
            lines.append(
                NormalizedLine(
                    platform_sku=str(o.get("outer_sku_id") or o.get("outer_iid") or o["num_iid"]),
                    quantity=quantity(o.get("num", 0)),
                    unit_price=money(o.get("price")),
                    amount=money(o.get("total_fee") or o.get("payment")),
                    platform_line_id=str(o.get("oid", "")),
                    title=o.get("title", ""),
                    refund_status="" if refund == "NO_REFUND" else refund,
                )
            )
        if not lines:
            raise TransientError(f"malformed trade {trade.get('tid')}: no lines")
        change = ""
        if status in CLOSED:
            change = "cancelled"
        elif status in SHIP_FORBIDDEN:
            change = "ship_forbidden"
        elif any_refund_open:
            change = "refund_requested"
        return NormalizedOrder(
            platform_order_no=str(trade["tid"]),
            receiver_name=trade.get("receiver_name", ""),
            receiver_phone=trade.get("receiver_mobile") or trade.get("receiver_phone", ""),
            province=trade.get("receiver_state", ""),
            city=trade.get("receiver_city", ""),
            district=trade.get("receiver_district", ""),
            address=trade.get("receiver_address", ""),
            receiver_oaid=str(trade.get("oaid") or ""),
            lines=lines,
            paid_at=paid_at,
            buyer_nick=trade.get("buyer_nick", ""),
            buyer_remark=trade.get("buyer_message", ""),
            seller_remark=trade.get("seller_memo", ""),
            shipping_fee=money(trade.get("post_fee")),
            discount_amount=money(trade.get("discount_fee")),
            total_amount=money(trade.get("payment")) if trade.get("payment") else None,
            platform_created_at=from_platform_time(trade.get("created")),
            platform_modified_at=from_platform_time(trade.get("modified")),
            platform_status=status,
            platform_change=change,
            raw=trade,
        )

    def order_is_closed(self, tid: str) -> bool:
        return (
            self.call("taobao.trade.fullinfo.get", fields="tid,status", tid=tid)
            .get("trade", {})
            .get("status")
            in CLOSED
        )

    # --- encrypted receivers (密文订单) ------------------------------------------------------
    def decrypt_receivers(self, queries, *, scene: str = "1004") -> list[ClearReceiver]:
        """taobao.top.oaid.decrypt for [(platform_order_no, oaid)], 20 per call. Rationed by
        the platform: the caller decides and records why (orders.privacy)."""
        found = []
        queries = list(queries)
        for i in range(0, len(queries), MAX_DECRYPT):
            chunk = [
                {"oaid": oaid, "tid": tid, "scene": scene} for tid, oaid in queries[i : i + 20]
            ]
            body = self.call("taobao.top.oaid.decrypt", query_list=json.dumps(chunk))
            for r in (body.get("receiver_list") or {}).get("receiver") or []:
                found.append(
                    ClearReceiver(
                        platform_order_no=str(r.get("tid", "")),
                        receiver_oaid=str(r.get("oaid", "")),
                        matched=bool(r.get("matched")),
                        name=r.get("name", ""),
                        phone=r.get("mobile") or r.get("phone", ""),
                        province=r.get("state", ""),
                        city=r.get("city", ""),
                        district=r.get("district", ""),
                        address=r.get("address_detail", ""),
                        privacy_number=bool(r.get("privacy_protection")),
                    )
                )
        return found

    # --- refunds ---------------------------------------------------------------------------
    def refund_page(self, start, end, page) -> Page:
        body = self.call(
            "taobao.refunds.receive.get",
            fields=REFUND_FIELDS,
            start_modified=to_platform_time(start),
            end_modified=to_platform_time(end),
            page_no=page,
            page_size=self.page_size,
            use_has_next="false",
        )
        try:
            items = (body.get("refunds") or {}).get("refund") or []
            return Page(items=items, total=int(body.get("total_results", 0)))
        except (AttributeError, TypeError, ValueError) as exc:
            raise TransientError("malformed refunds page") from exc

    def refund_key(self, item) -> str:
        return str(item["refund_id"])

    def normalize_refunds(self, items) -> list[RefundNotice]:
        return [
            RefundNotice(
                platform_refund_id=str(r["refund_id"]),
                platform_order_no=str(r["tid"]),
                platform_line_id=str(r.get("oid", "")),
                platform_sku=str(r.get("outer_id", "")),
                quantity=quantity(r.get("num", 0)),
                status=REFUND_STATES.get(r.get("status", ""), "requested"),
                amount=money(r.get("refund_fee")),
                reason=r.get("reason", ""),
                with_goods=bool(r.get("has_good_return")),
                modified_at=from_platform_time(r.get("modified")),
                raw=r,
            )
            for r in items
        ]

    # --- shipments -------------------------------------------------------------------------
    def send_shipment(self, notice: ShipmentNotice) -> None:
        tid = str(notice.platform_order_no)
        params = {
            "tid": tid,
            "out_sid": notice.tracking_no,
            "company_code": notice.carrier,
        }
        if notice.partial:
            params["is_split"] = "1"
            params["sub_tid"] = ",".join(str(x) for x in notice.platform_line_ids)
        try:
            self.call("taobao.logistics.offline.send", **params)
        except PermanentError as exc:
            if exc.sub_code == ALREADY_SHIPPED:
                return  # a retry after an answer that was lost: the platform has it
            if exc.sub_code == ALREADY_SHIPPED_OR_CLOSED and not self.order_is_closed(tid):
                return  # shipped, not closed: the same lost-answer retry
            raise

    # --- stock -----------------------------------------------------------------------------
    def resolve_skus(self, outer_ids) -> tuple[dict, dict]:
        """outer SKU code → (num_iid, sku_id), via taobao.skus.custom.get."""
        found, refused = {}, {}
        cache = getattr(self, "_sku_cache", {})
        for outer in outer_ids:
            if outer in cache:
                found[outer] = cache[outer]
                continue
            try:
                body = self.call("taobao.skus.custom.get", outer_id=outer, fields="num_iid,sku_id")
            except ConnectorError as exc:
                refused[outer] = exc
                continue
            skus = (body.get("skus") or {}).get("sku") or []
            if not skus:
                refused[outer] = PermanentError(f"no SKU with outer_id {outer}")
                continue
            cache[outer] = found[outer] = (str(skus[0]["num_iid"]), str(skus[0]["sku_id"]))
        self._sku_cache = cache
        return found, refused

    def push_stock(self, quantities: dict[str, int]) -> dict[str, ConnectorError | None]:
        ids, results = self.resolve_skus(sorted(quantities))
        by_item: dict[str, list[str]] = {}
        for outer, (num_iid, _sku) in ids.items():
            by_item.setdefault(num_iid, []).append(outer)
        batches = [
            (num_iid, outers[i : i + MAX_SKUS_PER_STOCK_CALL])
            for num_iid, outers in sorted(by_item.items())
            for i in range(0, len(outers), MAX_SKUS_PER_STOCK_CALL)
        ]
        for num_iid, outers in batches:
            # One call per item and up to 20 of its SKUs, full quantities (type=1).
            pairs = ";".join(f"{ids[o][1]}:{max(0, int(quantities[o]))}" for o in outers)
            try:
                self.call(
                    "taobao.skus.quantity.update",
                    num_iid=num_iid,
                    skuid_quantities=pairs,
                    type=1,
                )
                outcome = None
            except ConnectorError as exc:
                outcome = exc
            for o in outers:
                results[o] = outcome
        return results
