"""JD JOS as the sandbox serves it: ``/routerjson`` with ``360buy_param_json``.

Same md5 signature as TOP (secret + sorted key+value + secret, uppercase hex); answers
``<method with _>_responce`` or ``error_response``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta

from . import privacy
from .state import SandboxState, sku_id
from .top import GMT8, fmt, parse

# JD order states (orderState).
JD_STATE = {
    "WAIT_SELLER_SEND_GOODS": "WAIT_SELLER_STOCK_OUT",
    "SELLER_CONSIGNED_PART": "WAIT_SELLER_STOCK_OUT",
    "WAIT_BUYER_CONFIRM_GOODS": "WAIT_GOODS_RECEIVE_CONFIRM",
    "TRADE_FINISHED": "FINISHED_L",
    "TRADE_CLOSED": "TRADE_CANCELED",
    "PAID_FORBID_CONSIGN": "POP_ORDER_PAUSE",  # POP business paused: shipping forbidden
}
# Gateway errors as JOS numbers them.
CALL_LIMIT, BAD_TIMESTAMP, BAD_SIGN, BAD_METHOD = "2", "8", "12", "15"
NO_TOKEN, BAD_TOKEN, NO_APP_KEY, BAD_APP_KEY = "18", "19", "20", "21"
TIMESTAMP_TOLERANCE = timedelta(minutes=6)


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
    "error_response": {"code": CALL_LIMIT, "en_desc": "Api call limited", "zh_desc": "调用次数超限"}
}


def handle(state: SandboxState, params: dict):
    from .replies import fault_reply

    app = state.apps["jd"]
    method = params.get("method", "")
    if not params.get("app_key"):
        return error(NO_APP_KEY, "Missing app_key", "缺少app_key参数")
    if params["app_key"] != app["app_key"]:
        return error(BAD_APP_KEY, "Invalid app_key", "无效的app_key")
    try:
        ts = parse(params.get("timestamp", ""))
    except ValueError:
        return error(BAD_TIMESTAMP, "Invalid timestamp", "时间戳格式错误")
    if abs(datetime.now(UTC) - ts) > TIMESTAMP_TOLERANCE:
        return error(BAD_TIMESTAMP, "Invalid timestamp", "时间戳与服务器时间相差超过6分钟")
    if not hmac.compare_digest(expected_sign(params, app["secret"]), params.get("sign", "")):
        return error(BAD_SIGN, "Invalid signature", "签名无效")
    if not params.get("access_token"):
        return error(NO_TOKEN, "Missing access_token", "缺少access_token参数")
    if params["access_token"] != app["access_token"]:
        return error(BAD_TOKEN, "Invalid access_token", "无效的access_token")
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
        return error(BAD_METHOD, "Invalid method", "无效的方法名")
    result = handler(state, method, args, fault)
    if fault is not None and fault.kind == "timeout_after":
        return result, fault.delay
    return result


def _consignee(order: dict, encrypted: bool) -> dict:
    full = (
        order["receiver_state"]
        + order["receiver_city"]
        + order["receiver_district"]
        + order["receiver_address"]
    )
    info = {
        "fullname": order["receiver_name"],
        "mobile": order["receiver_mobile"],
        "province": order["receiver_state"],
        "city": order["receiver_city"],
        "county": order["receiver_district"],
        "fullAddress": full,
    }
    if encrypted:
        info.update(
            fullname=privacy.mask_name(order["receiver_name"]),
            mobile=privacy.mask_phone(order["receiver_mobile"]),
            fullAddress=order["receiver_state"]
            + order["receiver_city"]
            + order["receiver_district"]
            + privacy.mask_address(order["receiver_address"]),
        )
    return info


def _order(order: dict, encrypted: bool = False) -> dict:
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
        "consigneeInfo": _consignee(order, encrypted),
        **({"oaid": privacy.oaid("jd", order)} if encrypted else {}),
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
    if not args.get("optional_fields"):
        return error("66", "Missing optional_fields", "optional_fields为必填参数")
    page = max(1, int(args.get("page", 1)))
    size = min(100, max(1, int(args.get("page_size", 50))))
    found = state.orders_modified_between("jd", start, end)
    wanted = set(filter(None, str(args.get("order_state", "")).split(",")))
    if wanted:
        found = [o for o in found if _order(o)["orderState"] in wanted]
    encrypted = state.encrypted_receivers.get("jd", False)
    with state.lock:
        chunk = [_order(o, encrypted) for o in page_slice(found, page, size, fault)]
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


# 0 not reviewed, 1 approved, 2 refused, 3 JD finance approved (the money goes back), 4 JD
# finance refused, 5 approved by hand, 6 intercepted and refunded, 7/8 JD logistics
# interception succeeded / failed, 9 force-closed and refunded. A refund may carry its own
# ``jd_status`` (tests); otherwise the neutral state is rendered.
REFUND_STATUS = {"WAIT_SELLER_AGREE": 0, "SUCCESS": 3, "CLOSED": 2, "SELLER_REFUSE_BUYER": 2}


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
            "status": r.get("jd_status", REFUND_STATUS.get(r["status"], 0)),
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
        tid=str(args.get("orderId", "")),
        tracking_no=str(args.get("logiNo", "")),
        carrier=str(args.get("logiCoprId", "")),
    )
    if problem == "forbidden":
        return ok(
            method,
            {"sopjosshipment_result": {"success": False, "chineseErrCode": "订单已暂停，不能出库"}},
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
    """Filters by ``outId`` (a list of outer codes). Like JD, an unknown filter (``outerId``) is
    ignored: every SKU of the shop comes back."""
    catalogue = sorted(state.catalogue_of("jd"))
    wanted = args.get("outId")
    if wanted is not None:
        if not isinstance(wanted, list):
            return error("66", "outId must be a list", "outId必须为数组")
        catalogue = [s for s in catalogue if s in set(map(str, wanted))]
    rows = [{"skuId": sku_id(s), "outerId": s} for s in catalogue]
    return ok(method, {"page": {"data": rows, "totalItem": len(rows)}})


def update_sku_stock(state, method, args, fault):
    by_sku = {sku_id(s): s for s in state.catalogue_of("jd")}
    sku = by_sku.get(str(args.get("skuId", "")))
    if sku is None:
        return error("10100039", "sku not exist", "SKU不存在")
    state.set_stock("jd", {sku: int(args.get("stockNum", 0))})
    return ok(method, {"success": True})


def oaid_decrypt(state, method, args, fault):
    """jingdong.jos.order.oaid.decrypt: ``getReceiverInfoListReqVO`` with ``orderInfos``
    [{orderId, oaid}] and ``scenesType``. The answer's shape is a sandbox choice."""
    req = args.get("getReceiverInfoListReqVO") or {}
    infos = req.get("orderInfos") or []
    if not infos or not req.get("scenesType"):
        return error("66", "Missing orderInfos/scenesType", "orderInfos和scenesType为必填参数")
    if len(infos) > 20:
        return error("66", "Too many orderInfos", "orderInfos最多20个")
    rows = []
    with state.lock:
        if state.decrypts["jd"] + len(infos) > state.decrypt_quota:
            return ok(method, {"returnType": {"code": 1002, "msg": "解密额度已用完"}})
        for info in infos:
            order = state.orders["jd"].get(str(info.get("orderId", "")))
            if order is None:
                return ok(method, {"returnType": {"code": 1001, "msg": "订单不存在"}})
            matched = privacy.oaid("jd", order) == info.get("oaid")
            row = {"orderId": order["tid"], "oaid": info.get("oaid"), "matched": matched}
            if matched:
                clear = privacy.receiver_clear(order)
                row.update(
                    customerName=clear["name"],
                    customerPhone=clear["mobile"],
                    province=clear["state"],
                    city=clear["city"],
                    county=clear["district"],
                    address=clear["address_detail"],
                )
            rows.append(row)
        state.decrypts["jd"] += len(infos)
        state.decrypt_log.append({"seller": "jd", "queries": infos})
    return ok(method, {"returnType": {"code": 0, "data": {"receiverInfoList": rows}}})


# JD's waybill methods are added by waybill.py (they run on this gateway too).
METHODS = {
    "jingdong.jos.order.oaid.decrypt": oaid_decrypt,
    "jingdong.pop.order.search": order_search,
    "jingdong.pop.afs.soa.refundapply.queryPageList": refund_query,
    "jingdong.pop.order.shipment": order_shipment,
    "jingdong.sku.read.searchSkuList": sku_search,
    "jingdong.stock.write.updateSkuStock": update_sku_stock,
}

__all__ = ["GMT8", "handle"]
