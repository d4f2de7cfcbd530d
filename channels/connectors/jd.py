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
)

# orderState → ours. LOCKED: the buyer asked for a refund before shipping (锁定).
# POP_ORDER_PAUSE: "POP business paused" (e.g. 3C number cards, gold): shipping is forbidden for
# now, the order is not cancelled: held until the platform lifts the pause.
UNPAID = {"WAIT_PAY", "NOT_PAY"}
CLOSED = {"TRADE_CANCELED"}
SHIP_FORBIDDEN = {"POP_ORDER_PAUSE", "PAUSE"}
ORDER_STATES = (
    "WAIT_SELLER_STOCK_OUT,WAIT_GOODS_RECEIVE_CONFIRM,FINISHED_L,TRADE_CANCELED,LOCKED,"
    "POP_ORDER_PAUSE"
)
# jingdong.pop.order.search: optional_fields (required) names the fields of each order.
ORDER_FIELDS = (
    "orderId,venderId,orderState,orderStartTime,paymentConfirmTime,modified,pin,"
    "orderTotalPrice,orderPayment,freightPrice,sellerDiscount,orderRemark,venderRemark,"
    "consigneeInfo,itemInfoList,open_id_buyer,xid_buyer"
)
# Refund application (退款审核单) status, 0–9: 0 not reviewed, 1 approved, 2 refused, 3 JD finance
# approved, 4 JD finance refused, 5 approved by hand, 6 intercepted and refunded, 7 intercepted
# by JD logistics (青龙), 8 interception failed, 9 force-closed and refunded.
REFUND_STATES = {
    0: "requested",
    1: "requested",  # the seller approved; the money has not gone back yet
    2: "refused",
    3: "refunded",  # JD finance approved: the money goes back to the buyer
    4: "refused",
    5: "requested",
    6: "refunded",
    7: "refunded",
    8: "requested",  # the parcel could not be stopped: a person must look
    9: "refunded",
}
# Gateway errors: 2 call limit; 8 invalid timestamp (more than 6 minutes off); 12 invalid
# signature; 15 invalid method; 18/19 missing/invalid access token; 20/21 missing/invalid
# app key.
RATE_LIMIT_CODES = {"2"}
AUTH_CODES = {"12", "18", "19", "20", "21"}
TRANSIENT_CODES = {"8"}  # our clock is off: nothing refused for good
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
            if code in TRANSIENT_CODES:
                raise TransientError(text, code=code, raw=err)
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
            order_state=ORDER_STATES,
            optional_fields=ORDER_FIELDS,
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
            receiver_oaid=str(o.get("oaid") or ""),
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
                "cancelled"
                if state in CLOSED
                else "ship_forbidden"
                if state in SHIP_FORBIDDEN
                else "refund_requested"
                if state == "LOCKED"
                else ""
            ),
            raw=o,
        )

    # --- encrypted receivers (密文订单) ------------------------------------------------------
    def decrypt_receivers(self, queries, *, scene: str = "1") -> list[ClearReceiver]:
        """jingdong.jos.order.oaid.decrypt for [(platform_order_no, oaid)], 20 per call."""
        found = []
        queries = list(queries)
        for i in range(0, len(queries), 20):
            body = self.call(
                "jingdong.jos.order.oaid.decrypt",
                getReceiverInfoListReqVO={
                    "orderType": "POP",
                    "appName": "tongcang",
                    "scenesType": scene,
                    "orderInfos": [{"orderId": t, "oaid": o} for t, o in queries[i : i + 20]],
                },
            )
            result = body.get("returnType") or {}
            if str(result.get("code")) != "0":
                raise PermanentError(result.get("msg") or "decryption refused", raw=result)
            for r in (result.get("data") or {}).get("receiverInfoList") or []:
                found.append(
                    ClearReceiver(
                        platform_order_no=str(r.get("orderId", "")),
                        receiver_oaid=str(r.get("oaid", "")),
                        matched=bool(r.get("matched")),
                        name=r.get("customerName", ""),
                        phone=r.get("customerPhone", ""),
                        province=r.get("province", ""),
                        city=r.get("city", ""),
                        district=r.get("county", ""),
                        address=r.get("address", ""),
                    )
                )
        return found

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
            orderId=str(notice.platform_order_no),
            logiCoprId=str(notice.carrier),
            logiNo=str(notice.tracking_no),
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
                    # The filter is outId (a list); outerId is only the returned field. Only a
                    # row whose outerId is ours is taken: never "the first SKU returned".
                    rows = (
                        self.call(
                            "jingdong.sku.read.searchSkuList",
                            outId=[outer],
                            field="skuId,outerId",
                        ).get("page")
                        or {}
                    ).get("data") or []
                    matches = [r for r in rows if str(r.get("outerId", "")) == outer]
                    if len(matches) != 1:
                        raise PermanentError(
                            f"{len(matches)} JD SKUs with outer code {outer} (expected one)"
                        )
                    cache[outer] = str(matches[0]["skuId"])
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
