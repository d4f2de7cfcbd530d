"""JD JOS (京东开放平台): ``routerjson`` with the business parameters in ``360buy_param_json``.

Credentials: app_key, secret, access_token, timeout. Platform SKU = the outer SKU code
(outerSkuId); the JD skuId needed by the stock API is looked up by outer code.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from channels.types import NormalizedLine, NormalizedOrder, RefundNotice, ShipmentNotice

from .base import (
    AuthError,
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
)

# orderState → ours. LOCKED: the buyer asked for a refund before shipping (锁定).
UNPAID = {"WAIT_PAY", "NOT_PAY"}
CLOSED = {"TRADE_CANCELED", "POP_ORDER_PAUSE"}
REFUND_STATES = {0: "requested", 1: "refunded", 2: "refused", 3: "closed"}
RATE_LIMIT_CODES = {"90", "91"}
AUTH_CODES = {"18", "19"}  # app_key, signature / access_token refused
ALREADY_SHIPPED = "订单已出库"


def sign(params: dict, secret: str) -> str:
    text = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign" and params[k] != "")
    return hashlib.md5((secret + text + secret).encode()).hexdigest().upper()


class JdConnector(Connector):
    platform_codes = ("jd",)
    page_size = 100
    refund_page_size = 50
    window = timedelta(days=1)

    def call(self, method: str, **args) -> dict:
        params = {
            "method": method,
            "app_key": self.credentials.get("app_key", ""),
            "access_token": self.credentials.get("access_token", ""),
            "timestamp": to_platform_time(datetime.now(UTC)),
            "v": "2.0",
            "360buy_param_json": json.dumps(args, ensure_ascii=False, separators=(",", ":")),
        }
        params["sign"] = sign(params, self.credentials.get("secret", ""))
        data = self._send("POST", f"{self.base_url}/routerjson", data=params)
        if "error_response" in data:
            err = data["error_response"] or {}
            code = str(err.get("code", ""))
            text = err.get("zh_desc") or err.get("en_desc") or "error"
            if code in AUTH_CODES:
                raise AuthError(text, code=code, raw=err)
            if code in RATE_LIMIT_CODES:
                raise RateLimited(text, code=code, raw=err)
            raise PermanentError(text, code=code, raw=err)
        key = method.replace(".", "_") + "_responce"
        if not isinstance(data.get(key), dict):
            raise TransientError(f"malformed body: no {key}")
        return data[key]

    # --- orders ----------------------------------------------------------------------------
    def order_page(self, start, end, page) -> Page:
        body = self.call(
            "jingdong.pop.order.search",
            start_date=to_platform_time(start),
            end_date=to_platform_time(end),
            order_state="WAIT_SELLER_STOCK_OUT,WAIT_GOODS_RECEIVE_CONFIRM,FINISHED_L,"
            "TRADE_CANCELED,LOCKED",
            page=str(page),
            page_size=str(self.page_size),
            dateType="0",
        )
        result = body.get("searchorderinfo_result") or {}
        if not (result.get("apiResult") or {}).get("success"):
            raise TransientError("order search failed", raw=result)
        try:
            return Page(items=result.get("orderInfoList") or [], total=int(result["orderTotal"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise TransientError("malformed order page") from exc

    def order_key(self, item) -> str:
        return str(item["orderId"])

    def normalize_orders(self, items) -> list[NormalizedOrder]:
        return [o for o in (self.normalize_order(i) for i in items) if o is not None]

    @staticmethod
    def normalize_order(o: dict) -> NormalizedOrder | None:
        state = o.get("orderState", "")
        if state in UNPAID:
            return None
        consignee = o.get("consigneeInfo") or {}
        lines = [
            NormalizedLine(
                platform_sku=str(i.get("outerSkuId") or i["skuId"]),
                quantity=quantity(i.get("itemTotal", 0)),
                unit_price=money(i.get("jdPrice")),
                platform_line_id=str(i.get("skuId", "")),
                title=i.get("skuName", ""),
            )
            for i in o.get("itemInfoList") or []
        ]
        if not lines:
            raise TransientError(f"malformed order {o.get('orderId')}: no items")
        address = consignee.get("fullAddress", "")
        for part in ("province", "city", "county"):
            address = address.removeprefix(consignee.get(part, ""))
        return NormalizedOrder(
            platform_order_no=str(o["orderId"]),
            receiver_name=consignee.get("fullname", ""),
            receiver_phone=consignee.get("mobile") or consignee.get("telephone", ""),
            province=consignee.get("province", ""),
            city=consignee.get("city", ""),
            district=consignee.get("county", ""),
            address=address,
            lines=lines,
            paid_at=from_platform_time(o.get("paymentConfirmTime")),
            buyer_nick=o.get("pin", ""),
            buyer_remark=o.get("orderRemark", ""),
            seller_remark=o.get("venderRemark", ""),
            shipping_fee=money(o.get("freightPrice")),
            discount_amount=money(o.get("sellerDiscount")),
            total_amount=money(o["orderPayment"]) if o.get("orderPayment") else None,
            platform_created_at=from_platform_time(o.get("orderStartTime")),
            platform_modified_at=from_platform_time(o.get("modified")),
            platform_status=state,
            platform_change=(
                "cancelled" if state in CLOSED else "refund_requested" if state == "LOCKED" else ""
            ),
            raw=o,
        )

    # --- refunds ---------------------------------------------------------------------------
    def refund_page(self, start, end, page) -> Page:
        body = self.call(
            "jingdong.pop.afs.soa.refundapply.queryPageList",
            applyTimeStart=to_platform_time(start),
            applyTimeEnd=to_platform_time(end),
            pageIndex=page,
            pageSize=self.refund_page_size,
        )
        result = body.get("queryResult") or {}
        try:
            return Page(items=result.get("result") or [], total=int(result["totalCount"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise TransientError("malformed refund page") from exc

    def refund_key(self, item) -> str:
        return str(item["id"])

    def normalize_refunds(self, items) -> list[RefundNotice]:
        return [
            RefundNotice(
                platform_refund_id=str(r["id"]),
                platform_order_no=str(r["orderId"]),
                platform_line_id=str(r.get("skuId", "")),
                status=REFUND_STATES.get(int(r.get("status", 0)), "requested"),
                amount=money(Decimal(str(r.get("applyRefundSum") or 0)) / 100),  # fen
                reason=r.get("reason", ""),
                modified_at=from_platform_time(r.get("checkTime") or r.get("applyTime")),
                raw=r,
            )
            for r in items
        ]

    # --- shipments and stock ---------------------------------------------------------------
    def send_shipment(self, notice: ShipmentNotice) -> None:
        body = self.call(
            "jingdong.pop.order.shipment",
            order_id=str(notice.platform_order_no),
            logiCoprId=str(notice.carrier),
            waybill=str(notice.tracking_no),
        )
        result = body.get("sopjosshipment_result") or {}
        if result.get("success"):
            return
        reason = result.get("chineseErrCode") or "shipment refused"
        if reason == ALREADY_SHIPPED:
            return
        raise PermanentError(reason, raw=result)

    def push_stock(self, quantities: dict[str, int]) -> dict[str, ConnectorError | None]:
        results: dict[str, ConnectorError | None] = {}
        cache = getattr(self, "_sku_cache", {})
        for outer in sorted(quantities):
            try:
                if outer not in cache:
                    rows = (
                        self.call("jingdong.sku.read.searchSkuList", outerId=outer).get("page")
                        or {}
                    ).get("data") or []
                    if not rows:
                        raise PermanentError(f"no JD SKU with outer code {outer}")
                    cache[outer] = str(rows[0]["skuId"])
                # JD takes one SKU per call.
                self.call(
                    "jingdong.stock.write.updateSkuStock",
                    skuId=cache[outer],
                    stockNum=max(0, int(quantities[outer])),
                )
                results[outer] = None
            except ConnectorError as exc:
                results[outer] = exc
        self._sku_cache = cache
        return results
