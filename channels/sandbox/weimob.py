"""Weimob as the sandbox serves it: an OAuth token (client_credentials) and JSON POST calls
with ``?accesstoken=``; every answer carries ``code.errcode`` ("0" = success)."""

from __future__ import annotations

import json
import secrets
from datetime import UTC, datetime, timedelta

from .state import SandboxState

# Weimob order states (orderStatus) the sandbox uses: 1 paid, waiting delivery; 2 delivered;
# 3 completed; 4 cancelled (closed).
WM_STATE = {
    "WAIT_SELLER_SEND_GOODS": 1,
    "SELLER_CONSIGNED_PART": 1,
    "WAIT_BUYER_CONFIRM_GOODS": 2,
    "TRADE_FINISHED": 3,
    "TRADE_CLOSED": 4,
}
RIGHTS_STATUS = {"WAIT_SELLER_AGREE": 1, "SUCCESS": 5, "CLOSED": 6}


def _ms(dt: datetime) -> int:
    return int(dt.timestamp() * 1000)


def _reply(body, status=200):
    from .replies import Reply

    return Reply(body, status=status)


def fail(errcode: str, errmsg: str):
    return _reply({"code": {"errcode": errcode, "errmsg": errmsg}, "data": None})


def ok(data):
    return _reply({"code": {"errcode": "0", "errmsg": "处理成功"}, "data": data})


RATE_LIMITED = {"code": {"errcode": "80001001000429", "errmsg": "调用频率超限"}, "data": None}


def token(state: SandboxState, query: dict):
    app = state.apps["weimob"]
    if query.get("grant_type") != "client_credentials":
        return _reply({"error": "unsupported_grant_type"}, 400)
    if (
        query.get("client_id") != app["client_id"]
        or query.get("client_secret") != app["client_secret"]
    ):
        return _reply({"error": "invalid_client", "error_description": "client 认证失败"}, 401)
    value = secrets.token_hex(16)
    with state.lock:
        state.weimob_tokens[value] = datetime.now(UTC) + timedelta(seconds=state.weimob_token_ttl)
        state.calls[("weimob", "token")] += 1
    return _reply(
        {
            "access_token": value,
            "token_type": "bearer",
            "expires_in": state.weimob_token_ttl,
            "scope": "default",
        }
    )


def handle(state: SandboxState, path: str, query: dict, raw: bytes):
    from .replies import fault_reply

    method = path.removeprefix("/api/1_0/ec/")
    expiry = state.weimob_tokens.get(query.get("accesstoken", ""))
    if expiry is None or expiry <= datetime.now(UTC):
        return fail("80001001000119", "accesstoken无效或已过期")
    try:
        body = json.loads(raw or b"{}")
    except ValueError:
        return fail("80001001000400", "请求体不是合法的 JSON")
    with state.lock:
        state.calls[("weimob", method)] += 1
    reply, fault = fault_reply(state, "weimob", method, RATE_LIMITED)
    if reply is not None:
        return reply
    handler = METHODS.get(method)
    if handler is None:
        return fail("80001001000404", "接口不存在")
    result = handler(state, body, fault)
    if fault is not None and fault.kind == "timeout_after":
        return result, fault.delay
    return result


def _window(q):
    start = datetime.fromtimestamp(int(q["updateStartTime"]) / 1000, UTC)
    end = datetime.fromtimestamp(int(q["updateEndTime"]) / 1000, UTC)
    return start, end


def _order(o):
    return {
        "orderNo": o["tid"],
        "orderStatus": WM_STATE.get(o["status"], 1),
        "createTime": _ms(o["created"]),
        "paymentTime": _ms(o["pay_time"]),
        "updateTime": _ms(o["modified"]),
        "buyerRemark": o["buyer_message"],
        "deliveryAmount": f"{o['post_fee']:.2f}",
        "discountAmount": f"{o['discount_fee']:.2f}",
        "receiverName": o["receiver_name"],
        "receiverMobile": o["receiver_mobile"],
        "receiverProvince": o["receiver_state"],
        "receiverCity": o["receiver_city"],
        "receiverCounty": o["receiver_district"],
        "receiverAddress": o["receiver_address"],
        "buyerNickname": o["buyer_nick"],
        "itemList": [
            {
                "id": ln["oid"],
                "skuCode": ln["outer_sku_id"],
                "goodsTitle": ln["title"],
                "skuNum": ln["num"],
                "price": f"{ln['price']:.2f}",
                "rightsStatus": RIGHTS_STATUS.get(ln["refund_status"], 0),
            }
            for ln in o["lines"]
        ],
    }


def query_order_list(state, body, fault):
    from .replies import page_slice

    start, end = _window(body.get("queryParameter") or {})
    page, size = int(body.get("pageNum", 1)), min(100, int(body.get("pageSize", 50)))
    found = state.orders_modified_between("weimob", start, end)
    with state.lock:
        rows = [_order(o) for o in page_slice(found, page, size, fault)]
    return ok({"pageNum": page, "pageSize": size, "totalCount": len(found), "pageList": rows})


def query_rights_list(state, body, fault):
    from .replies import page_slice

    start, end = _window(body.get("queryParameter") or {})
    page, size = int(body.get("pageNum", 1)), min(100, int(body.get("pageSize", 50)))
    found = state.refunds_modified_between("weimob", start, end)
    rows = [
        {
            "rightsId": r["refund_id"],
            "orderNo": r["tid"],
            "itemId": r["oid"],
            "rightsStatus": RIGHTS_STATUS.get(r["status"], 1),
            "rightsType": 2 if r["has_good_return"] else 1,
            "refundAmount": f"{r['refund_fee']:.2f}",
            "updateTime": _ms(r["modified"]),
            "reason": r["reason"],
        }
        for r in page_slice(found, page, size, fault)
    ]
    return ok({"pageNum": page, "pageSize": size, "totalCount": len(found), "pageList": rows})


def delivery_order(state, body, fault):
    problem = state.ship(
        "weimob",
        tid=str(body.get("orderNo", "")),
        tracking_no=str(body.get("deliveryNo", "")),
        carrier=str(body.get("deliveryCompanyCode", "")),
        oids=body.get("itemIdList") or None,
    )
    if problem == "closed":
        return fail("80001001000501", "订单已关闭，不能发货")
    if problem == "already_shipped":
        return fail("80001001000502", "订单已发货")
    if problem:
        return fail("80001001000503", "订单不存在")
    return ok({"result": True})


def update_sku_stock(state, body, fault):
    quantities = {row["skuCode"]: int(row["stockNum"]) for row in body.get("skuList", [])}
    unknown = state.set_stock("weimob", quantities)
    if unknown:
        return fail("80001001000504", f"商品编码不存在: {','.join(unknown)}")
    return ok({"result": True})


METHODS = {
    "order/queryOrderList": query_order_list,
    "rights/searchRightsOrderList": query_rights_list,
    "order/deliveryOrder": delivery_order,
    "goods/updateSkuStock": update_sku_stock,
}
