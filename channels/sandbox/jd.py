"""JD JOS as the sandbox serves it: ``/routerjson`` with ``360buy_param_json``.

Same md5 signature as TOP (secret + sorted key+value + secret, uppercase hex); answers
``<method with _>_responce`` or ``error_response``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

from .state import SandboxState, sku_id
from .top import GMT8, fmt, parse

# JD order states (orderState).
JD_STATE = {
    "WAIT_SELLER_SEND_GOODS": "WAIT_SELLER_STOCK_OUT",
    "SELLER_CONSIGNED_PART": "WAIT_SELLER_STOCK_OUT",
    "WAIT_BUYER_CONFIRM_GOODS": "WAIT_GOODS_RECEIVE_CONFIRM",
    "TRADE_FINISHED": "FINISHED_L",
    "TRADE_CLOSED": "TRADE_CANCELED",
}


def expected_sign(params: dict, secret: str) -> str:
    text = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign" and params[k] != "")
    return hashlib.md5((secret + text + secret).encode()).hexdigest().upper()


def error(code: str, en: str, zh: str):
    from .replies import Reply

    return Reply({"error_response": {"code": code, "en_desc": en, "zh_desc": zh}})


def ok(method: str, payload: dict):
    from .replies import Reply

    key = method.replace(".", "_") + "_responce"
    return Reply({key: {"code": "0", **payload}})


RATE_LIMITED = {
    "error_response": {"code": "90", "en_desc": "Api call limited", "zh_desc": "API调用次数超限"}
}


def handle(state: SandboxState, params: dict):
    from .replies import fault_reply

    app = state.apps["jd"]
    method = params.get("method", "")
    if params.get("app_key") != app["app_key"]:
        return error("18", "Invalid app_key", "app_key无效")
    try:
        ts = parse(params.get("timestamp", ""))
    except ValueError:
        return error("67", "Invalid timestamp", "时间戳格式错误")
    if abs(datetime.now(UTC) - ts) > timedelta(minutes=10):
        return error("67", "Invalid timestamp", "时间戳超出允许范围")
    if not hmac.compare_digest(expected_sign(params, app["secret"]), params.get("sign", "")):
        return error("19", "Invalid signature", "签名无效")
    if params.get("access_token") != app["access_token"]:
        return error("19", "Invalid access_token", "access_token无效")
    try:
        args = json.loads(params.get("360buy_param_json") or "{}")
    except ValueError:
        return error("66", "Invalid 360buy_param_json", "业务参数格式错误")
    with state.lock:
        state.calls[("jd", method)] += 1
    reply, fault = fault_reply(state, "jd", method, RATE_LIMITED)
    if reply is not None:
        return reply
    handler = METHODS.get(method)
    if handler is None:
        return error("20", "Invalid method", "方法不存在")
    result = handler(state, method, args, fault)
    if fault is not None and fault.kind == "timeout_after":
        return result, fault.delay
    return result


def _order(order: dict) -> dict:
    goods = sum((ln["price"] * ln["num"] for ln in order["lines"]), start=0)
    state = JD_STATE.get(order["status"], "WAIT_SELLER_STOCK_OUT")
    if state == "WAIT_SELLER_STOCK_OUT" and any(
        ln["refund_status"] == "WAIT_SELLER_AGREE" for ln in order["lines"]
    ):
        state = "LOCKED"
    return {
        "orderId": order["tid"],
        "orderState": state,
        "orderStartTime": fmt(order["created"]),
        "paymentConfirmTime": fmt(order["pay_time"]),
        "modified": fmt(order["modified"]),
        "pin": order["buyer_nick"],
        "orderTotalPrice": f"{goods:.2f}",
        "freightPrice": f"{order['post_fee']:.2f}",
        "sellerDiscount": f"{order['discount_fee']:.2f}",
        "orderPayment": f"{goods + order['post_fee'] - order['discount_fee']:.2f}",
        "orderRemark": order["buyer_message"],
        "venderRemark": order["seller_memo"],
        "consigneeInfo": {
            "fullname": order["receiver_name"],
            "mobile": order["receiver_mobile"],
            "province": order["receiver_state"],
            "city": order["receiver_city"],
            "county": order["receiver_district"],
            "fullAddress": order["receiver_state"]
            + order["receiver_city"]
            + order["receiver_district"]
            + order["receiver_address"],
        },
        "itemInfoList": [
            {
                "skuId": ln["sku_id"],
                "outerSkuId": ln["outer_sku_id"],
                "skuName": ln["title"],
                "jdPrice": f"{ln['price']:.2f}",
                "itemTotal": str(ln["num"]),
            }
            for ln in order["lines"]
        ],
    }


def order_search(state, method, args, fault):
    from .replies import page_slice

    try:
        start, end = parse(args["start_date"]), parse(args["end_date"])
    except (KeyError, ValueError):
        return error("66", "Invalid start_date/end_date", "开始或结束时间格式错误")
    if end - start > timedelta(days=30):
        return error("66", "Window too long", "查询时间跨度不能超过30天")
    page = max(1, int(args.get("page", 1)))
    size = min(100, max(1, int(args.get("page_size", 50))))
    found = state.orders_modified_between("jd", start, end)
    wanted = set(filter(None, str(args.get("order_state", "")).split(",")))
    if wanted:
        found = [o for o in found if _order(o)["orderState"] in wanted]
    with state.lock:
        chunk = [_order(o) for o in page_slice(found, page, size, fault)]
    return ok(
        method,
        {
            "searchorderinfo_result": {
                "apiResult": {"success": True, "code": "0"},
                "orderTotal": len(found),
                "orderInfoList": chunk,
            }
        },
    )


REFUND_STATUS = {"WAIT_SELLER_AGREE": 0, "SUCCESS": 1, "CLOSED": 2}


def refund_query(state, method, args, fault):
    from .replies import page_slice

    start, end = parse(args["applyTimeStart"]), parse(args["applyTimeEnd"])
    page = max(1, int(args.get("pageIndex", 1)))
    size = min(50, max(1, int(args.get("pageSize", 50))))
    found = state.refunds_modified_between("jd", start, end)
    rows = [
        {
            "id": r["refund_id"],
            "orderId": r["tid"],
            "status": REFUND_STATUS.get(r["status"], 0),
            "applyRefundSum": int(r["refund_fee"] * 100),  # fen
            "applyTime": fmt(r["created"]),
            "checkTime": fmt(r["modified"]),
            "reason": r["reason"],
            "skuId": sku_id(r["outer_sku_id"]),
        }
        for r in page_slice(found, page, size, fault)
    ]
    return ok(
        method,
        {"queryResult": {"success": True, "totalCount": len(found), "result": rows}},
    )


def order_shipment(state, method, args, fault):
    problem = state.ship(
        "jd",
        tid=str(args.get("order_id", "")),
        tracking_no=str(args.get("waybill", "")),
        carrier=str(args.get("logiCoprId", "")),
    )
    if problem == "closed":
        return ok(
            method,
            {"sopjosshipment_result": {"success": False, "chineseErrCode": "订单已取消，不能出库"}},
        )
    if problem == "already_shipped":
        return ok(
            method,
            {"sopjosshipment_result": {"success": False, "chineseErrCode": "订单已出库"}},
        )
    if problem:
        return ok(
            method, {"sopjosshipment_result": {"success": False, "chineseErrCode": "订单不存在"}}
        )
    return ok(method, {"sopjosshipment_result": {"success": True}})


def sku_search(state, method, args, fault):
    outer = args.get("outerId", "")
    rows = [{"skuId": sku_id(outer), "outerId": outer}] if outer in state.catalogue_of("jd") else []
    return ok(method, {"page": {"data": rows, "totalItem": len(rows)}})


def update_sku_stock(state, method, args, fault):
    by_sku = {sku_id(s): s for s in state.catalogue_of("jd")}
    sku = by_sku.get(str(args.get("skuId", "")))
    if sku is None:
        return error("10100039", "sku not exist", "SKU不存在")
    state.set_stock("jd", {sku: int(args.get("stockNum", 0))})
    return ok(method, {"success": True})


METHODS = {
    "jingdong.pop.order.search": order_search,
    "jingdong.pop.afs.soa.refundapply.queryPageList": refund_query,
    "jingdong.pop.order.shipment": order_shipment,
    "jingdong.sku.read.searchSkuList": sku_search,
    "jingdong.stock.write.updateSkuStock": update_sku_stock,
}

__all__ = ["GMT8", "handle"]
