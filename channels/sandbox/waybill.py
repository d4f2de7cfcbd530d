"""Electronic waybill services (电子面单) as the sandbox serves them.

Cainiao through the TOP gateway (``cainiao.waybill.ii.get`` / ``cainiao.waybill.ii.cancel``) and
JD's own (``jingdong.ldop.waybill.receive`` / ``jingdong.ldop.delivery.provider.cancelWayBill``)
through JOS. An account (订购关系) per service and carrier holds the branch (网点), the customer
code and a balance of numbers; a cancelled number goes back to the balance.

Sandbox choices (PROTOCOLS.md): the number formats; the routing data (大头笔, 集包地, 三段码) and
where it sits in the answer; asking again for the same order and package id gives the number
already issued (not a second one); error codes and texts.
"""

from __future__ import annotations

import json
import zlib

from . import jd, privacy, top

PREFIX = {"YTO": "YT", "ZTO": "78", "STO": "77", "YUNDA": "43", "SF": "SF", "EMS": "98"}
MAX_CAINIAO_DTOS = 10


def add_account(state, *, service: str, cp_code: str, **values) -> dict:
    account = {
        "service": service,
        "cp_code": cp_code,
        "branch_code": values.get("branch_code", ""),
        "customer_code": values.get("customer_code", ""),
        "balance": int(values.get("balance", 100000)),
        "next": int(values.get("next", 1)),
    }
    with state.lock:
        state.waybill_accounts[(service, cp_code)] = account
    return account


def _number(service: str, cp_code: str, n: int) -> str:
    if service == "jd":
        return f"JDVA{n:011d}"
    prefix = PREFIX.get(cp_code, cp_code[:2])
    return f"{prefix}{n:0{15 - len(prefix)}d}"


def routing(province: str, city: str, district: str) -> dict:
    """大头笔 (the destination written large), 集包地 (the consolidation hub) and 三段码 (the
    sorting code), derived from the address as the sandbox's carriers would."""
    hub = zlib.crc32((province + city).encode()) % 900 + 100
    leg = zlib.crc32((city + district).encode()) % 90 + 10
    return {
        "sortation": {"name": f"{city.removesuffix('市')[:3]} {district[:3]}".strip()},
        "consolidation": {"name": f"{city.removesuffix('市')[:3]}集包中心", "code": str(hub)},
        "routeCode": f"{hub}-{leg}-{zlib.crc32(district.encode()) % 100:02d}",
    }


def _issue(state, service, account, key, recipient):
    """The number of this key: the one issued before (not cancelled), else a new one."""
    cp_code = account["cp_code"]
    code = state.waybill_keys.get((service, cp_code, key))
    if code and state.waybills[(service, cp_code, code)]["status"] == "issued":
        return state.waybills[(service, cp_code, code)], None
    if account["balance"] <= 0:
        return None, "balance"
    code = _number(service, cp_code, account["next"])
    account["next"] += 1
    account["balance"] -= 1
    waybill = {
        "waybill_code": code,
        "key": key,
        "status": "issued",
        "recipient": recipient,
        "routing": routing(recipient["province"], recipient["city"], recipient["district"]),
    }
    state.waybills[(service, cp_code, code)] = waybill
    state.waybill_keys[(service, cp_code, key)] = code
    return waybill, None


def _cancel(state, service, cp_code, code) -> str:
    with state.lock:
        waybill = state.waybills.get((service, cp_code, code))
        if waybill is None:
            return "unknown"
        if waybill["status"] != "issued":
            return "cancelled"
        waybill["status"] = "cancelled"
        state.waybill_accounts[(service, cp_code)]["balance"] += 1
        state.waybill_keys.pop((service, cp_code, waybill["key"]), None)
        return ""


# --- Cainiao through TOP ---------------------------------------------------------------------


def _cainiao_recipient(state, r: dict):
    """The clear receiver: given in clear, or resolved from oaid + tid (a TOP order)."""
    if r.get("oaid"):
        tops = [p for p in state.orders if p == "top" or p.startswith("top:")]
        found = privacy.find_by_oaid(state, tops, r["oaid"], r.get("tid", ""))
        if found is None or privacy.oaid(found[0], found[1]) != r["oaid"]:
            return None
        clear = privacy.receiver_clear(found[1])
        return {
            "name": clear["name"],
            "mobile": clear["mobile"],
            "province": clear["state"],
            "city": clear["city"],
            "district": clear["district"],
            "detail": clear["address_detail"],
        }
    address = r.get("address") or {}
    values = {
        "name": r.get("name", ""),
        "mobile": r.get("mobile") or r.get("phone", ""),
        "province": address.get("province", ""),
        "city": address.get("city", ""),
        "district": address.get("district", ""),
        "detail": address.get("detail", ""),
    }
    if not all(values[k] for k in ("name", "mobile", "province", "city", "detail")):
        return None
    if "*" in values["name"] + values["mobile"] + values["detail"]:
        return None  # masked text is not an address
    return values


def cainiao_get(state, params, fault):
    error, ok = top.error, top.ok
    try:
        req = json.loads(params.get("param_waybill_cloud_print_apply_new_request") or "")
    except ValueError:
        return error(41, "Invalid Arguments", "isv.invalid-parameter:param_waybill")
    dtos = req.get("trade_order_info_dtos") or []
    if not dtos:
        return error(40, "Missing Required Arguments", "isv.missing-parameter:trade_order_info")
    if len(dtos) > MAX_CAINIAO_DTOS:
        return error(41, "Invalid Arguments", "isv.invalid-parameter:trade_order_info_dtos")
    account = state.waybill_accounts.get(("cainiao", req.get("cp_code", "")))
    if account is None:
        return error(15, "Remote service error", "isv.waybill-not-subscribed", "未订购该快递公司")
    if account["branch_code"] and req.get("shipping_branch_code") != account["branch_code"]:
        return error(15, "Remote service error", "isv.waybill-branch-mismatch", "网点不匹配")
    modules = []
    with state.lock:
        for dto in dtos:
            orders = (dto.get("order_info") or {}).get("trade_order_list") or []
            package = (dto.get("package_info") or {}).get("id", "")
            if not orders or not package:
                return error(40, "Missing Required Arguments", "isv.missing-parameter:order_info")
            recipient = _cainiao_recipient(state, dto.get("recipient") or {})
            if recipient is None:
                return error(
                    15, "Remote service error", "isv.waybill-recipient-invalid", "收件人信息无效"
                )
            key = "|".join(orders) + "#" + package
            waybill, problem = _issue(state, "cainiao", account, key, recipient)
            if problem == "balance":
                return error(
                    15, "Remote service error", "isv.waybill-balance-insufficient", "面单余额不足"
                )
            print_data = {
                "data": {
                    "waybillCode": waybill["waybill_code"],
                    "cpCode": account["cp_code"],
                    "recipient": {
                        "name": recipient["name"],
                        "mobile": recipient["mobile"],
                        "address": {
                            "province": recipient["province"],
                            "city": recipient["city"],
                            "district": recipient["district"],
                            "detail": recipient["detail"],
                        },
                    },
                    "routingInfo": waybill["routing"],
                },
                "templateURL": dto.get("template_url", ""),
                "signature": "sandbox",
            }
            modules.append(
                {
                    "object_id": dto.get("object_id", ""),
                    "waybill_code": waybill["waybill_code"],
                    "cp_code": account["cp_code"],
                    "real_cp_code": account["cp_code"],
                    "print_data": json.dumps(print_data, ensure_ascii=False),
                }
            )
        state.waybill_calls.append({"service": "cainiao", "count": len(dtos)})
    return ok(params["method"], {"modules": {"waybill_cloud_print_response": modules}})


def cainiao_cancel(state, params, fault):
    error, ok = top.error, top.ok
    problem = _cancel(state, "cainiao", params.get("cp_code", ""), params.get("waybill_code", ""))
    if problem == "unknown":
        return error(15, "Remote service error", "isv.waybill-not-exist", "面单号不存在")
    if problem == "cancelled":
        return error(15, "Remote service error", "isv.waybill-already-cancelled", "面单已取消")
    return ok(params["method"], {"cancel_result": True})


# --- JD's own waybill service through JOS ----------------------------------------------------


def jd_receive(state, method, args, fault):
    error, ok = jd.error, jd.ok
    account = state.waybill_accounts.get(("jd", "JD"))
    if account is None or args.get("customerCode") != account["customer_code"]:
        return ok(
            method,
            {"receiveorderinfo_result": {"resultCode": 103, "resultMessage": "商家编码无效"}},
        )
    key = str(args.get("orderId", ""))
    if not key:
        return error("66", "Missing orderId", "orderId为必填参数")
    with state.lock:
        recipient = None
        platform_order = state.orders["jd"].get(str(args.get("thrOrderId", "")))
        if args.get("salePlat") == "0010001" and platform_order is not None:
            clear = privacy.receiver_clear(platform_order)  # JD resolves its own orders
            recipient = {
                "name": clear["name"],
                "mobile": clear["mobile"],
                "province": clear["state"],
                "city": clear["city"],
                "district": clear["district"],
                "detail": clear["address_detail"],
            }
        elif args.get("receiveName") and args.get("receiveAddress"):
            recipient = {
                "name": args["receiveName"],
                "mobile": args.get("receiveMobile", ""),
                "province": args.get("province", ""),
                "city": args.get("city", ""),
                "district": args.get("county", ""),
                "detail": args["receiveAddress"],
            }
        if recipient is None or "*" in recipient["name"] + recipient["detail"]:
            return ok(
                method,
                {"receiveorderinfo_result": {"resultCode": 106, "resultMessage": "收件人信息无效"}},
            )
        waybill, problem = _issue(state, "jd", account, key, recipient)
        if problem == "balance":
            return ok(
                method,
                {"receiveorderinfo_result": {"resultCode": 110, "resultMessage": "运单号余额不足"}},
            )
        state.waybill_calls.append({"service": "jd", "count": 1})
    r = waybill["routing"]
    return ok(
        method,
        {
            "receiveorderinfo_result": {
                "resultCode": 100,
                "resultMessage": "成功",
                "deliveryId": waybill["waybill_code"],
                "preSortResult": {
                    "siteName": r["sortation"]["name"],
                    "road": r["routeCode"],
                    "targetSortCenterName": r["consolidation"]["name"],
                    "targetSortCenterId": r["consolidation"]["code"],
                },
                "receiver": recipient,
            }
        },
    )


def jd_cancel(state, method, args, fault):
    ok = jd.ok
    problem = _cancel(state, "jd", "JD", str(args.get("waybillCode", "")))
    status = {"": 0, "unknown": 1, "cancelled": 2}[problem]
    text = {"": "成功", "unknown": "运单不存在", "cancelled": "运单已取消"}[problem]
    return ok(method, {"responseDTO": {"statusCode": status, "statusMessage": text}})


top.METHODS.update(
    {"cainiao.waybill.ii.get": cainiao_get, "cainiao.waybill.ii.cancel": cainiao_cancel}
)
jd.METHODS.update(
    {
        "jingdong.ldop.waybill.receive": jd_receive,
        "jingdong.ldop.delivery.provider.cancelWayBill": jd_cancel,
    }
)
