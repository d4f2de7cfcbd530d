"""TOP (Taobao Open Platform) as the sandbox serves it: ``/router/rest``.

Checks what the gateway checks, in its order: app key, timestamp (GMT+8, ±10 min), signature
(md5 / hmac / hmac-sha256 over the sorted key+value pairs, uppercase hex), session.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from datetime import UTC, datetime, timedelta, timezone

from . import privacy
from .state import SandboxState, num_iid, sku_id

GMT8 = timezone(timedelta(hours=8))
TIME_FMT = "%Y-%m-%d %H:%M:%S"
MAX_PAGE_SIZE = 100
MAX_SKUS_PER_STOCK_CALL = 20
# taobao.trades.sold.increment.get without ``type``: only these trade types.
DEFAULT_TRADE_TYPES = {"guarantee_trade", "auto_delivery", "ec", "cod", "step"}


def fmt(dt: datetime) -> str:
    return dt.astimezone(GMT8).strftime(TIME_FMT)


def parse(value: str) -> datetime:
    return datetime.strptime(value, TIME_FMT).replace(tzinfo=GMT8).astimezone(UTC)


def expected_sign(params: dict, secret: str, method: str) -> str:
    text = "".join(f"{k}{params[k]}" for k in sorted(params) if k != "sign" and params[k] != "")
    if method == "md5":
        digest = hashlib.md5((secret + text + secret).encode()).hexdigest()
    elif method == "hmac":
        digest = hmac.new(secret.encode(), text.encode(), hashlib.md5).hexdigest()
    elif method == "hmac-sha256":
        digest = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    else:
        return ""
    return digest.upper()


def error(code: int, msg: str, sub_code: str = "", sub_msg: str = ""):
    from .replies import Reply

    body = {"code": code, "msg": msg, "request_id": uuid.uuid4().hex[:13]}
    if sub_code:
        body.update(sub_code=sub_code, sub_msg=sub_msg)
    return Reply({"error_response": body})


def ok(method: str, payload: dict):
    from .replies import Reply

    key = method.removeprefix("taobao.").replace(".", "_") + "_response"
    payload["request_id"] = uuid.uuid4().hex[:13]
    return Reply({key: payload})


RATE_LIMITED = {
    "error_response": {
        "code": 7,
        "msg": "App Call Limited",
        "sub_code": "accesscontrol.limited-by-app-access-count",
        "sub_msg": "This ban will last for 1 more seconds",
    }
}


def handle(state: SandboxState, params: dict):
    from .replies import fault_reply

    method = params.get("method", "")
    app = state.apps["top"]
    if not method:
        return error(21, "Missing Method")
    if not params.get("app_key"):
        return error(28, "Missing App Key")
    if params["app_key"] != app["app_key"]:
        return error(29, "Invalid App Key")
    if not params.get("timestamp"):
        return error(30, "Missing Timestamp")
    try:
        ts = parse(params["timestamp"])
    except ValueError:
        return error(31, "Invalid Timestamp")
    if abs(datetime.now(UTC) - ts) > timedelta(minutes=10):
        return error(31, "Invalid Timestamp")
    sign_method = params.get("sign_method", "md5")
    want = expected_sign(params, app["secret"], sign_method)
    if not want or not hmac.compare_digest(want, params.get("sign", "")):
        return error(25, "Invalid Signature")
    seller = state.top_seller(params.get("session", ""))
    if seller is None:
        return error(27, "Invalid Session", "invalid-sessionkey", "SessionKey非法")
    params["_seller"] = seller
    with state.lock:
        state.calls[("top", method)] += 1
    reply, fault = fault_reply(state, "top", method, RATE_LIMITED)
    if reply is not None:
        return reply
    handler = METHODS.get(method)
    if handler is None:
        return error(22, "Invalid Method")
    result = handler(state, params, fault)
    if fault is not None and fault.kind == "timeout_after":
        return result, fault.delay
    return result


def _window(params):
    start, end = parse(params["start_modified"]), parse(params["end_modified"])
    if end < start or end - start > timedelta(days=1):
        raise ValueError("window")
    return start, end


def _paging(params):
    page_no = max(1, int(params.get("page_no", 1)))
    page_size = min(MAX_PAGE_SIZE, max(1, int(params.get("page_size", 40))))
    return page_no, page_size


def trade_summary(order: dict) -> dict:
    return {"tid": order["tid"], "status": order["status"], "modified": fmt(order["modified"])}


OAID_FIELDS = {"receiver_name", "receiver_address", "created", "receiver_mobile", "receiver_phone"}


def trade_full(order: dict, *, seller: str = "top", params: dict | None = None, encrypted=False):
    """The full trade. Encrypted (密文): masked receiver; ``oaid`` only when the fields ask for
    the receiver fields and ``created``, or include_oaid=true."""
    lines = []
    for ln in order["lines"]:
        payment = ln["price"] * ln["num"]
        lines.append(
            {
                "oid": ln["oid"],
                "num_iid": ln["num_iid"],
                "sku_id": ln["sku_id"],
                "outer_sku_id": ln["outer_sku_id"],
                "title": ln["title"],
                "num": ln["num"],
                "price": f"{ln['price']:.2f}",
                "total_fee": f"{payment:.2f}",
                "payment": f"{payment:.2f}",
                "refund_status": ln["refund_status"],
                "status": (
                    "TRADE_CLOSED"
                    if ln["refund_status"] == "SUCCESS"
                    else "WAIT_BUYER_CONFIRM_GOODS"
                    if ln["shipped"]
                    else order["status"]
                ),
            }
        )
    goods = sum((ln["price"] * ln["num"] for ln in order["lines"]), start=0)
    payment = goods + order["post_fee"] - order["discount_fee"]
    receiver = {
        "receiver_name": order["receiver_name"],
        "receiver_mobile": order["receiver_mobile"],
        "receiver_state": order["receiver_state"],
        "receiver_city": order["receiver_city"],
        "receiver_district": order["receiver_district"],
        "receiver_address": order["receiver_address"],
    }
    if encrypted:
        receiver.update(
            receiver_name=privacy.mask_name(order["receiver_name"]),
            receiver_mobile=privacy.mask_phone(order["receiver_mobile"]),
            receiver_address=privacy.mask_address(order["receiver_address"]),
        )
        fields = set((params or {}).get("fields", "").split(","))
        if OAID_FIELDS <= fields or (params or {}).get("include_oaid") == "true":
            receiver["oaid"] = privacy.oaid(seller, order)
    return {
        "tid": order["tid"],
        "status": order["status"],
        "type": order.get("type", "fixed"),
        "created": fmt(order["created"]),
        "pay_time": fmt(order["pay_time"]),
        "modified": fmt(order["modified"]),
        "buyer_nick": order["buyer_nick"],
        **receiver,
        "buyer_message": order["buyer_message"],
        "seller_memo": order["seller_memo"],
        "post_fee": f"{order['post_fee']:.2f}",
        "discount_fee": f"{order['discount_fee']:.2f}",
        "total_fee": f"{goods:.2f}",
        "payment": f"{payment:.2f}",
        "orders": {"order": lines},
    }


def trades_sold_increment_get(state, params, fault):
    try:
        start, end = _window(params)
    except (KeyError, ValueError):
        return error(
            41,
            "Invalid Arguments",
            "isv.invalid-parameter:start_modified",
            "start_modified and end_modified must be within one day",
        )
    page_no, page_size = _paging(params)
    types = set(filter(None, params.get("type", "").split(","))) or DEFAULT_TRADE_TYPES
    found = [
        o
        for o in state.orders_modified_between(params["_seller"], start, end)
        if o.get("type", "fixed") in types
    ]
    chunk = page_slice(found, page_no, page_size, fault)
    payload = {"trades": {"trade": [trade_summary(o) for o in chunk]}}
    if params.get("use_has_next") == "true":
        payload["has_next"] = page_no * page_size < len(found)
    else:
        payload["total_results"] = len(found)
    return ok(params["method"], payload)


def trade_fullinfo_get(state, params, fault):
    order = state.orders[params["_seller"]].get(params.get("tid", ""))
    if order is None:
        return error(15, "Remote service error", "isv.trade-not-exist", "交易不存在")
    with state.lock:
        trade = trade_full(
            order,
            seller=params["_seller"],
            params=params,
            encrypted=state.encrypted_receivers.get("top", False),
        )
        return ok(params["method"], {"trade": trade})


def refunds_receive_get(state, params, fault):
    try:
        start, end = _window(params)
    except (KeyError, ValueError):
        return error(41, "Invalid Arguments", "isv.invalid-parameter:start_modified")
    page_no, page_size = _paging(params)
    found = state.refunds_modified_between(params["_seller"], start, end)
    chunk = page_slice(found, page_no, page_size, fault)
    refunds = [
        {
            "refund_id": r["refund_id"],
            "tid": r["tid"],
            "oid": r["oid"],
            "status": r["status"],
            "refund_fee": f"{r['refund_fee']:.2f}",
            "reason": r["reason"],
            "has_good_return": r["has_good_return"],
            "order_status": r["order_status"],
            "outer_id": r["outer_sku_id"],
            "num": r["num"],
            "created": fmt(r["created"]),
            "modified": fmt(r["modified"]),
        }
        for r in chunk
    ]
    payload = {"refunds": {"refund": refunds}}
    if params.get("use_has_next") == "true":
        payload["has_next"] = page_no * page_size < len(found)
    else:
        payload["total_results"] = len(found)
    return ok(params["method"], payload)


def logistics_offline_send(state, params, fault):
    if fault is not None and fault.kind == "b150":
        return error(
            15, "Remote service error", "isv.logistics-offline-service-error:B150", "系统繁忙"
        )
    oids = [s for s in params.get("sub_tid", "").split(",") if s]
    if params.get("is_split") == "1" and not oids:
        return error(40, "Missing Required Arguments", "isv.missing-parameter:sub_tid")
    if not params.get("out_sid") or not params.get("company_code"):
        return error(40, "Missing Required Arguments", "isv.missing-parameter:out_sid")
    problem = state.ship(
        params["_seller"],
        tid=params.get("tid", ""),
        tracking_no=params["out_sid"],
        carrier=params["company_code"],
        oids=oids if params.get("is_split") == "1" else None,
    )
    if problem == "closed":
        return error(
            15,
            "Remote service error",
            "isv.logistics-offline-service-error:B04",
            "交易已关闭，不能发货",
        )
    if problem == "already_shipped":
        return error(
            15,
            "Remote service error",
            "isv.logistics-offline-service-error:B04",
            "订单状态不对该物流订单已经发货或者已关闭，不能重复发货",
        )
    if problem == "forbidden":
        return error(
            15,
            "Remote service error",
            "isv.logistics-offline-service-error:PAID_FORBID_CONSIGN",
            "订单已付款但禁止发货",
        )
    if problem:
        return error(15, "Remote service error", "isv.trade-not-exist", "交易不存在")
    return ok(params["method"], {"shipping": {"is_success": True}})


def skus_custom_get(state, params, fault):
    outer = params.get("outer_id", "")
    if outer not in state.catalogue_of(params["_seller"]):
        return error(15, "Remote service error", "isv.item-not-exist", f"商家编码 {outer} 不存在")
    return ok(
        params["method"],
        {
            "skus": {
                "sku": [{"outer_id": outer, "num_iid": num_iid(outer), "sku_id": sku_id(outer)}]
            }
        },
    )


def skus_quantity_update(state, params, fault):
    if params.get("type", "1") != "1":
        return error(41, "Invalid Arguments", "isv.invalid-parameter:type")
    by_sku = {sku_id(s): s for s in state.catalogue_of(params["_seller"])}
    quantities = {}
    pairs = [p for p in params.get("skuid_quantities", "").split(";") if p]
    if len(pairs) > MAX_SKUS_PER_STOCK_CALL:
        return error(
            41,
            "Invalid Arguments",
            "isv.invalid-parameter:skuid_quantities",
            f"最多支持{MAX_SKUS_PER_STOCK_CALL}个SKU同时修改",
        )
    for pair in pairs:
        if not pair:
            continue
        sid, _, qty = pair.partition(":")
        sku = by_sku.get(sid)
        if sku is None or num_iid(sku) != params.get("num_iid"):
            return error(15, "Remote service error", "isv.item-not-exist", f"SKU {sid} 不存在")
        if int(qty) < 0:
            return error(41, "Invalid Arguments", "isv.invalid-parameter:quantity")
        quantities[sku] = int(qty)
    if not quantities:
        return error(40, "Missing Required Arguments", "isv.missing-parameter:skuid_quantities")
    state.set_stock(params["_seller"], quantities)
    return ok(params["method"], {"item": {"num_iid": params["num_iid"]}})


DECRYPT_SCENES = {"1001", "1002", "1003", "1004", "1005", "1006", "1007", "2001", "2002"}
MAX_DECRYPT = 20


def top_oaid_decrypt(state, params, fault):
    """taobao.top.oaid.decrypt: up to 20 {oaid, tid, scene}; answers each receiver in clear,
    ``matched`` false when the oaid is not the trade's current one, a privacy number
    (``privacy_protection``) for some. Rationed: ``state.decrypt_quota`` per seller."""
    try:
        queries = json.loads(params.get("query_list") or "[]")
    except ValueError:
        return error(41, "Invalid Arguments", "isv.invalid-parameter:query_list")
    if not isinstance(queries, list) or not queries:
        return error(40, "Missing Required Arguments", "isv.missing-parameter:query_list")
    if len(queries) > MAX_DECRYPT:
        return error(41, "Invalid Arguments", "isv.invalid-parameter:query_list", "最多支持20个")
    seller = params["_seller"]
    receivers = []
    with state.lock:
        used = state.decrypts[seller]
        if used + len(queries) > state.decrypt_quota:
            return error(15, "Remote service error", "isv.decrypt-quota-exceeded", "解密额度已用完")
        for q in queries:
            if str(q.get("scene", "")) not in DECRYPT_SCENES:
                return error(41, "Invalid Arguments", "isv.invalid-parameter:scene")
            order = state.orders[seller].get(str(q.get("tid", "")))
            if order is None:
                return error(15, "Remote service error", "isv.trade-not-exist", "交易不存在")
            current = privacy.oaid(seller, order)
            row = {
                "tid": order["tid"],
                "oaid": q.get("oaid", ""),
                "matched": current == q.get("oaid"),
            }
            if row["matched"]:
                row.update(privacy.receiver_clear(order))
                virtual = privacy.privacy_number(order)
                if virtual:
                    row.update(mobile=virtual, privacy_protection=True)
            receivers.append(row)
        state.decrypts[seller] = used + len(queries)
        state.decrypt_log.append({"seller": seller, "queries": queries})
    return ok(params["method"], {"receiver_list": {"receiver": receivers}})


# Cainiao's waybill methods are added by waybill.py (they run on this gateway too).
METHODS = {
    "taobao.top.oaid.decrypt": top_oaid_decrypt,
    "taobao.trades.sold.increment.get": trades_sold_increment_get,
    "taobao.trade.fullinfo.get": trade_fullinfo_get,
    "taobao.refunds.receive.get": refunds_receive_get,
    "taobao.logistics.offline.send": logistics_offline_send,
    "taobao.skus.custom.get": skus_custom_get,
    "taobao.skus.quantity.update": skus_quantity_update,
}


def page_slice(items, page, size, fault):
    from .replies import page_slice as _slice

    return _slice(items, page, size, fault)
