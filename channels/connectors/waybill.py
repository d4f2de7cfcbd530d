"""Electronic waybill services (电子面单): a number and its routing data for a parcel, and the
number given back when the label is cancelled.

Two services, each over the platform gateway it belongs to (see PROTOCOLS.md):

- Cainiao (菜鸟) through TOP: ``cainiao.waybill.ii.get`` (up to 10 parcels a call) and
  ``cainiao.waybill.ii.cancel``. Usable for any shop's order; an encrypted TOP order is sent
  with its ``oaid`` and ``tid`` instead of the masked receiver, and the service prints the
  clear one.
- JD (京东物流) through JOS: ``jingdong.ldop.waybill.receive`` (one parcel a call) and
  ``jingdong.ldop.delivery.provider.cancelWayBill``; JD resolves its own orders' receivers.

Every parcel carries our idempotency key (one per order): asking again with the same key gives
the number already issued, so a retry after a timeout neither wastes a number nor gives one
order two. Plain values in, plain values out: no Django models here.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from types import SimpleNamespace

from .base import ConnectorError, PermanentError, TransientError
from .jd import JdConnector
from .top import TopConnector


@dataclass
class Recipient:
    name: str = ""
    phone: str = ""
    province: str = ""
    city: str = ""
    district: str = ""
    address: str = ""
    oaid: str = ""  # encrypted order: the receiver's id (the masked text is not sent)
    platform_order_no: str = ""


@dataclass
class WaybillRequest:
    key: str  # one per order parcel: the same key always gets the same number
    platform_order_nos: list[str]
    channel: str  # the order's platform: taobao, tmall, jd, weimob, store, ...
    recipient: Recipient
    items: list[tuple[str, int]] = field(default_factory=list)


@dataclass
class IssuedWaybill:
    key: str
    tracking_no: str
    short_address: str = ""  # 大头笔
    package_center: str = ""  # 集包地
    package_center_code: str = ""
    sort_code: str = ""  # 三段码
    recipient: Recipient | None = None  # in clear, as the service prints it
    raw: dict = field(default_factory=dict)


@dataclass
class WaybillAccount:
    """A subscription (订购关系) as the service needs it."""

    service: str  # cainiao | jd
    carrier_code: str  # the service's code of the carrier (cp_code: YTO, ZTO, ...; JD)
    base_url: str
    credentials: dict
    branch_code: str = ""  # 网点
    customer_code: str = ""  # account / monthly-settlement code (月结)
    sender: dict = field(default_factory=dict)  # name, phone, province, city, district, address


CHANNELS = {"taobao": "TB", "tmall": "TM", "jd": "JD", "pdd": "PDD", "weimob": "OTHERS"}


class WaybillClient:
    batch_size = 1

    def __init__(self, account: WaybillAccount, *, http=None):
        self.account = account
        shop = SimpleNamespace(
            code=f"waybill:{account.service}:{account.carrier_code}",
            credentials=account.credentials,
            api_base_url=account.base_url,
        )
        self.gateway = self.gateway_class(shop, http=http)
        self.wait_seconds = 0.0  # time spent waiting on the service (for the benchmark)

    def issue(self, requests: list[WaybillRequest]) -> list[IssuedWaybill]:
        """Numbers for these parcels, in batches as the service takes them. A batch refused or
        lost raises (the numbers of earlier batches stand: their keys are known)."""
        issued, error = self.issue_partial(requests)
        if error is not None:
            raise error
        return issued

    def issue_partial(
        self, requests: list[WaybillRequest]
    ) -> tuple[list[IssuedWaybill], ConnectorError | None]:
        """Like ``issue``, but stops at the first batch that fails and returns what was issued
        before it together with the error."""
        issued = []
        for i in range(0, len(requests), self.batch_size):
            started = time.perf_counter()
            try:
                issued.extend(self._issue(requests[i : i + self.batch_size]))
            except ConnectorError as exc:
                return issued, exc
            finally:
                self.wait_seconds += time.perf_counter() - started
        return issued, None

    def cancel(self, tracking_no: str) -> None:
        started = time.perf_counter()
        try:
            self._cancel(tracking_no)
        finally:
            self.wait_seconds += time.perf_counter() - started


class CainiaoClient(WaybillClient):
    gateway_class = TopConnector
    batch_size = 10  # trade_order_info_dtos: at most 10 per call

    def _dto(self, r: WaybillRequest) -> dict:
        rc = r.recipient
        if rc.oaid:
            recipient = {"oaid": rc.oaid, "tid": rc.platform_order_no}
            # the masked text is useless to the carrier; the province and city help routing
            recipient["address"] = {"province": rc.province, "city": rc.city}
        else:
            recipient = {
                "name": rc.name,
                "mobile": rc.phone,
                "address": {
                    "province": rc.province,
                    "city": rc.city,
                    "district": rc.district,
                    "detail": rc.address,
                },
            }
        return {
            "object_id": r.key,
            "order_info": {
                "order_channels_type": CHANNELS.get(r.channel, "OTHERS"),
                "trade_order_list": list(r.platform_order_nos),
            },
            "package_info": {
                "id": r.key,
                "items": [{"name": n[:50], "count": int(c)} for n, c in r.items] or None,
            },
            "recipient": recipient,
            "template_url": "http://cloudprint.cainiao.com/template/standard/76x130",
        }

    def _issue(self, batch):
        s = self.account.sender
        request = {
            "cp_code": self.account.carrier_code,
            "shipping_branch_code": self.account.branch_code or None,
            "customer_code": self.account.customer_code or None,
            "sender": {
                "name": s.get("name", ""),
                "mobile": s.get("phone", ""),
                "address": {
                    "province": s.get("province", ""),
                    "city": s.get("city", ""),
                    "district": s.get("district", ""),
                    "detail": s.get("address", ""),
                },
            },
            "trade_order_info_dtos": [self._dto(r) for r in batch],
        }
        request = {k: v for k, v in request.items() if v is not None}
        body = self.gateway.call(
            "cainiao.waybill.ii.get",
            param_waybill_cloud_print_apply_new_request=json.dumps(request, ensure_ascii=False),
        )
        modules = (body.get("modules") or {}).get("waybill_cloud_print_response") or []
        by_key = {}
        for m in modules:
            try:
                data = json.loads(m.get("print_data") or "{}").get("data") or {}
            except ValueError as exc:
                raise TransientError("malformed print data") from exc
            route = data.get("routingInfo") or {}
            rc = data.get("recipient") or {}
            address = rc.get("address") or {}
            by_key[str(m.get("object_id", ""))] = IssuedWaybill(
                key=str(m.get("object_id", "")),
                tracking_no=str(m.get("waybill_code", "")),
                short_address=(route.get("sortation") or {}).get("name", ""),
                package_center=(route.get("consolidation") or {}).get("name", ""),
                package_center_code=str((route.get("consolidation") or {}).get("code", "")),
                sort_code=route.get("routeCode", ""),
                recipient=Recipient(
                    name=rc.get("name", ""),
                    phone=rc.get("mobile", ""),
                    province=address.get("province", ""),
                    city=address.get("city", ""),
                    district=address.get("district", ""),
                    address=address.get("detail", ""),
                ),
                raw=m,
            )
        missing = [r.key for r in batch if not by_key.get(r.key, None)]
        if missing or any(not w.tracking_no for w in by_key.values()):
            raise TransientError(f"no waybill for {', '.join(missing) or 'a parcel'}")
        return [by_key[r.key] for r in batch]

    def _cancel(self, tracking_no):
        body = self.gateway.call(
            "cainiao.waybill.ii.cancel",
            cp_code=self.account.carrier_code,
            waybill_code=tracking_no,
        )
        if not body.get("cancel_result"):
            raise PermanentError(f"waybill {tracking_no} not cancelled", raw=body)


class JdWaybillClient(WaybillClient):
    gateway_class = JdConnector
    batch_size = 1  # jingdong.ldop.waybill.receive: one parcel per call

    def _issue(self, batch):
        (r,) = batch
        s, rc = self.account.sender, r.recipient
        args = {
            "salePlat": "0010001" if r.channel == "jd" else "0030001",
            "customerCode": self.account.customer_code,
            "orderId": r.key,
            "thrOrderId": ",".join(r.platform_order_nos),
            "senderName": s.get("name", ""),
            "senderAddress": "".join(
                s.get(k, "") for k in ("province", "city", "district", "address")
            ),
            "senderMobile": s.get("phone", ""),
            "packageCount": 1,
            "weight": 1,
            "vloumn": 1,
        }
        if not rc.oaid:  # JD resolves the receivers of its own encrypted orders
            args.update(
                receiveName=rc.name,
                receiveMobile=rc.phone,
                province=rc.province,
                city=rc.city,
                county=rc.district,
                receiveAddress=rc.address,
            )
        body = self.gateway.call("jingdong.ldop.waybill.receive", **args)
        result = body.get("receiveorderinfo_result") or {}
        if result.get("resultCode") != 100:
            raise PermanentError(
                result.get("resultMessage") or "waybill refused",
                code=str(result.get("resultCode", "")),
                raw=result,
            )
        pre = result.get("preSortResult") or {}
        clear = result.get("receiver") or {}
        return [
            IssuedWaybill(
                key=r.key,
                tracking_no=str(result.get("deliveryId", "")),
                short_address=pre.get("siteName", ""),
                package_center=pre.get("targetSortCenterName", ""),
                package_center_code=str(pre.get("targetSortCenterId", "")),
                sort_code=pre.get("road", ""),
                recipient=Recipient(
                    name=clear.get("name", ""),
                    phone=clear.get("mobile", ""),
                    province=clear.get("province", ""),
                    city=clear.get("city", ""),
                    district=clear.get("district", ""),
                    address=clear.get("detail", ""),
                )
                if clear
                else None,
                raw=result,
            )
        ]

    def _cancel(self, tracking_no):
        body = self.gateway.call(
            "jingdong.ldop.delivery.provider.cancelWayBill",
            waybillCode=tracking_no,
            customerCode=self.account.customer_code,
            source="tongcang",
            cancelReason="label cancelled",
            operatorName="tongcang",
        )
        dto = body.get("responseDTO") or {}
        if dto.get("statusCode") != 0:
            raise PermanentError(dto.get("statusMessage") or "not cancelled", raw=dto)


CLIENTS = {"cainiao": CainiaoClient, "jd": JdWaybillClient}


def client_for(account: WaybillAccount, *, http=None) -> WaybillClient:
    try:
        return CLIENTS[account.service](account, http=http)
    except KeyError as exc:
        raise ConnectorError(f"unknown waybill service {account.service!r}") from exc
