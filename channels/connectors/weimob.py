"""Weimob (微盟): an OAuth token (client_credentials), then JSON POST calls with ``accesstoken``.

Credentials: client_id, client_secret, timeout. The token is kept in the shop's sync state and
refreshed five minutes before it expires (or at once when the platform calls it invalid).
Platform SKU = the SKU code (skuCode).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from channels.types import NormalizedLine, NormalizedOrder, RefundNotice, ShipmentNotice

from .base import (
    AuthError,
    Connector,
    ConnectorError,
    Page,
    PermanentError,
    RateLimited,
    TransientError,
    from_millis,
    money,
    quantity,
)

REFRESH_BEFORE = timedelta(minutes=5)
TOKEN_INVALID = {"80001001000119"}
RATE_LIMITED = {"80001001000429"}
ALREADY_SHIPPED = {"80001001000502"}
UNPAID = {0}
CLOSED = {4}
RIGHTS = {1: "requested", 2: "requested", 3: "requested", 5: "refunded", 6: "closed", 7: "refused"}


class WeimobConnector(Connector):
    platform_codes = ("weimob",)
    page_size = 100
    window = timedelta(days=1)

    # --- token -----------------------------------------------------------------------------
    def token(self, *, force: bool = False) -> str:
        from channels.sync_state import read_sync_state, update_sync_state

        cached = read_sync_state(self.shop.pk).get("weimob_token") or {}
        expires = cached.get("expires_at")
        if (
            not force
            and cached.get("value")
            and expires
            and datetime.fromisoformat(expires) - REFRESH_BEFORE > datetime.now(UTC)
        ):
            return cached["value"]
        data = self._send(
            "POST",
            f"{self.base_url}/fuwu/b/oauth2/token",
            params={
                "grant_type": "client_credentials",
                "client_id": self.credentials.get("client_id", ""),
                "client_secret": self.credentials.get("client_secret", ""),
            },
        )
        if not data.get("access_token"):
            raise AuthError(
                data.get("error_description") or data.get("error") or "no token", raw=data
            )
        expires_at = datetime.now(UTC) + timedelta(seconds=int(data.get("expires_in", 7200)))
        update_sync_state(
            self.shop.pk,
            weimob_token={"value": data["access_token"], "expires_at": expires_at.isoformat()},
        )
        return data["access_token"]

    def call(self, path: str, body: dict, *, _retry: bool = True) -> dict:
        data = self._send(
            "POST",
            f"{self.base_url}/api/1_0/ec/{path}",
            params={"accesstoken": self.token()},
            json=body,
        )
        code = data.get("code")
        if not isinstance(code, dict) or "errcode" not in code:
            raise TransientError("malformed body: no code.errcode")
        errcode = str(code["errcode"])
        if errcode == "0":
            return data.get("data") or {}
        if errcode in TOKEN_INVALID:
            if not _retry:
                raise AuthError(code.get("errmsg", ""), code=errcode, raw=code)
            self.token(force=True)
            return self.call(path, body, _retry=False)
        if errcode in RATE_LIMITED:
            raise RateLimited(code.get("errmsg", ""), code=errcode, raw=code)
        raise PermanentError(code.get("errmsg", "") or "refused", code=errcode, raw=code)

    # --- orders ----------------------------------------------------------------------------
    @staticmethod
    def _window(start, end):
        return {
            "updateStartTime": int(start.timestamp() * 1000),
            "updateEndTime": int(end.timestamp() * 1000),
        }

    def order_page(self, start, end, page) -> Page:
        data = self.call(
            "order/queryOrderList",
            {
                "pageNum": page,
                "pageSize": self.page_size,
                "queryParameter": self._window(start, end),
            },
        )
        try:
            return Page(items=data.get("pageList") or [], total=int(data["totalCount"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise TransientError("malformed order page") from exc

    def order_key(self, item) -> str:
        return str(item["orderNo"])

    def normalize_orders(self, items) -> list[NormalizedOrder]:
        return [o for o in (self.normalize_order(i) for i in items) if o is not None]

    @staticmethod
    def normalize_order(o: dict) -> NormalizedOrder | None:
        status = int(o.get("orderStatus", 0))
        if status in UNPAID:
            return None
        lines, refund_open = [], False
        for i in o.get("itemList") or []:
            rights = RIGHTS.get(int(i.get("rightsStatus") or 0), "")
            refund_open = refund_open or rights == "requested"
            lines.append(
                NormalizedLine(
                    platform_sku=str(i["skuCode"]),
                    quantity=quantity(i.get("skuNum", 0)),
                    unit_price=money(i.get("price")),
                    platform_line_id=str(i.get("id", "")),
                    title=i.get("goodsTitle", ""),
                    refund_status=str(i.get("rightsStatus") or "") if rights else "",
                )
            )
        if not lines:
            raise TransientError(f"malformed order {o.get('orderNo')}: no items")
        return NormalizedOrder(
            platform_order_no=str(o["orderNo"]),
            receiver_name=o.get("receiverName", ""),
            receiver_phone=o.get("receiverMobile", ""),
            province=o.get("receiverProvince", ""),
            city=o.get("receiverCity", ""),
            district=o.get("receiverCounty", ""),
            address=o.get("receiverAddress", ""),
            lines=lines,
            paid_at=from_millis(o.get("paymentTime")),
            buyer_nick=o.get("buyerNickname", ""),
            buyer_remark=o.get("buyerRemark", ""),
            shipping_fee=money(o.get("deliveryAmount")),
            discount_amount=money(o.get("discountAmount")),
            platform_created_at=from_millis(o.get("createTime")),
            platform_modified_at=from_millis(o.get("updateTime")),
            platform_status=str(status),
            platform_change=(
                "cancelled" if status in CLOSED else "refund_requested" if refund_open else ""
            ),
            raw=o,
        )

    # --- refunds (rights, 维权) -------------------------------------------------------------
    def refund_page(self, start, end, page) -> Page:
        data = self.call(
            "rights/searchRightsOrderList",
            {
                "pageNum": page,
                "pageSize": self.page_size,
                "queryParameter": self._window(start, end),
            },
        )
        try:
            return Page(items=data.get("pageList") or [], total=int(data["totalCount"]))
        except (KeyError, TypeError, ValueError) as exc:
            raise TransientError("malformed rights page") from exc

    def refund_key(self, item) -> str:
        return str(item["rightsId"])

    def normalize_refunds(self, items) -> list[RefundNotice]:
        return [
            RefundNotice(
                platform_refund_id=str(r["rightsId"]),
                platform_order_no=str(r["orderNo"]),
                platform_line_id=str(r.get("itemId", "")),
                status=RIGHTS.get(int(r.get("rightsStatus") or 1), "requested"),
                amount=money(r.get("refundAmount")),
                reason=r.get("reason", ""),
                with_goods=int(r.get("rightsType") or 1) == 2,
                modified_at=from_millis(r.get("updateTime")),
                raw=r,
            )
            for r in items
        ]

    # --- shipments and stock ---------------------------------------------------------------
    def send_shipment(self, notice: ShipmentNotice) -> None:
        body = {
            "orderNo": str(notice.platform_order_no),
            "deliveryCompanyCode": notice.carrier,
            "deliveryNo": notice.tracking_no,
        }
        if notice.partial:
            body["itemIdList"] = [str(x) for x in notice.platform_line_ids]
        try:
            self.call("order/deliveryOrder", body)
        except PermanentError as exc:
            if exc.code in ALREADY_SHIPPED:
                return
            raise

    def push_stock(self, quantities: dict[str, int]) -> dict[str, ConnectorError | None]:
        skus = sorted(quantities)
        results: dict[str, ConnectorError | None] = {}
        for i in range(0, len(skus), 50):  # up to 50 SKUs a call
            chunk = skus[i : i + 50]
            rows = [{"skuCode": s, "stockNum": max(0, int(quantities[s]))} for s in chunk]
            try:
                self.call("goods/updateSkuStock", {"skuList": rows})
                results.update(dict.fromkeys(chunk, None))
            except PermanentError as exc:
                if len(chunk) == 1:
                    results[chunk[0]] = exc
                    continue
                # one unknown code refuses the whole call: send them one by one to find it
                results.update(self.push_stock_one_by_one(chunk, quantities))
            except ConnectorError as exc:
                results.update(dict.fromkeys(chunk, exc))
        return results

    def push_stock_one_by_one(self, skus, quantities):
        results = {}
        for s in skus:
            try:
                self.call(
                    "goods/updateSkuStock",
                    {"skuList": [{"skuCode": s, "stockNum": max(0, int(quantities[s]))}]},
                )
                results[s] = None
            except ConnectorError as exc:
                results[s] = exc
        return results
