"""Electronic waybills (电子面单): numbers and routing data from the carriers' waybill services.

The provider behind ``tracking.provider_for`` for carriers whose ``number_source`` is a
service. Each order is sent under an idempotency key of its own (``<order no>-<n>``, n = one
more than the provider numbers the order had voided), computed from the database, so a retry
after a timeout or a rolled-back print asks with the same key and gets the same number: no
number is wasted and no order gets two. Cancelling a label gives its number back
(``give_back``).

Which service: JD's own for a JD shop's order when the carrier has a JD subscription; Cainiao
for every other order (any shop). An encrypted order (receiver id) is sent with its id, and the
label prints the clear receiver the service answers, which is never stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.connectors.base import ConnectorError, TransientError
from channels.connectors.waybill import (
    Recipient,
    WaybillAccount,
    WaybillRequest,
    client_for,
)
from channels.models import Shop
from orders.models import Carrier, Order, OrderLine, TrackingNumber, WaybillSubscription
from orders.services.kernel import OrderError


@dataclass
class Issued:
    """A number from a waybill service, with what the label prints beside it."""

    number: str
    subscription_id: int | None = None
    request_key: str = ""
    short_address: str = ""
    package_center: str = ""
    package_center_code: str = ""
    sort_code: str = ""
    receiver: Recipient | None = None  # in clear, for the label only (never stored)


class ServiceDown(OrderError):
    """The waybill service did not answer (timeout, 5xx, rate limit): the pool may stand in.
    ``issued``: the numbers the service gave before it stopped answering (order pk → Issued)."""

    issued: dict


# The clients used by the last allocation, for the benchmark's "waiting on the provider".
LAST_CLIENTS: list = []


def account_of(subscription: WaybillSubscription) -> WaybillAccount:
    shop = subscription.account_shop
    cainiao = subscription.service == WaybillSubscription.Service.CAINIAO
    return WaybillAccount(
        service=subscription.service,
        carrier_code=subscription.service_carrier_code,
        base_url=shop.api_base_url,
        credentials=dict(shop.credentials or {}),
        branch_code=subscription.branch_code,
        # Cainiao's customer_code is the monthly-settlement card (月结卡号); JD's is the account
        customer_code=subscription.settlement_code if cainiao else subscription.customer_code,
        sender={
            "name": subscription.sender_name,
            "phone": subscription.sender_phone,
            "province": subscription.sender_province,
            "city": subscription.sender_city,
            "district": subscription.sender_district,
            "address": subscription.sender_address,
        },
    )


def subscriptions_of(carrier: Carrier) -> dict[str, WaybillSubscription]:
    return {
        s.service: s
        for s in WaybillSubscription.objects.filter(carrier=carrier, active=True).select_related(
            "account_shop"
        )
    }


def subscription_for(platform: str, subscriptions: dict) -> WaybillSubscription | None:
    if platform == "jd" and "jd" in subscriptions:
        return subscriptions["jd"]
    return subscriptions.get("cainiao")


def _order_facts(orders: list[Order]) -> tuple[dict, dict]:
    """The platform of each order's shop and its items, in two queries for all orders."""
    platforms = dict(
        Shop.objects.filter(pk__in={o.shop_id for o in orders}).values_list("pk", "platform__code")
    )
    items: dict[int, list] = {}
    for order_id, title, sku, qty in OrderLine.objects.filter(order__in=orders).values_list(
        "order_id", "title", "platform_sku", "quantity"
    ):
        items.setdefault(order_id, []).append((title or sku, int(qty)))
    return {o.pk: platforms[o.shop_id] for o in orders}, items


def request_keys(orders: list[Order]) -> dict[int, str]:
    """The idempotency key of each order's next provider number (see the module docstring)."""
    voided = dict(
        TrackingNumber.objects.filter(
            order__in=orders, subscription__isnull=False, voided_at__isnull=False
        )
        .values("order")
        .annotate(n=Count("id"))
        .values_list("order", "n")
    )
    return {o.pk: f"{o.order_no}-{voided.get(o.pk, 0) + 1}" for o in orders}


def _request(order: Order, key: str, platform: str, items: list) -> WaybillRequest:
    if order.receiver_oaid:
        recipient = Recipient(
            name=order.receiver_name,
            province=order.province,
            city=order.city,
            district=order.district,
            oaid=order.receiver_oaid,
            platform_order_no=order.platform_order_no,
        )
    else:
        recipient = Recipient(
            name=order.receiver_name,
            phone=order.receiver_phone,
            province=order.province,
            city=order.city,
            district=order.district,
            address=order.address,
            platform_order_no=order.platform_order_no,
        )
    return WaybillRequest(
        key=key,
        platform_order_nos=[order.platform_order_no],
        channel=platform,
        recipient=recipient,
        items=items,
    )


class WaybillServiceProvider:
    """Numbers from the carrier's waybill subscriptions, asked for in the services' batches."""

    source = TrackingNumber.Source.PROVIDER

    def allocate(self, *, carrier, orders, actor, keys: dict[int, str] | None = None):
        """One Issued per order, in order. Raises ServiceDown when a service does not answer
        (the numbers issued before stand: asked again, their keys get them back) and
        OrderError when it refuses."""
        subscriptions = subscriptions_of(carrier)
        keys = keys or request_keys(orders)
        platforms, items = _order_facts(orders)
        by_sub: dict[int, list[Order]] = {}
        subs = {}
        for order in orders:
            sub = subscription_for(platforms[order.pk], subscriptions)
            if sub is None:
                raise OrderError(
                    "no_subscription",
                    _("%(carrier)s has no electronic waybill subscription for %(order)s.")
                    % {"carrier": carrier.name, "order": order.order_no},
                )
            by_sub.setdefault(sub.pk, []).append(order)
            subs[sub.pk] = sub
        issued: dict[int, Issued] = {}
        LAST_CLIENTS.clear()
        for sub_pk, group in by_sub.items():
            client = client_for(account_of(subs[sub_pk]))
            LAST_CLIENTS.append(client)
            got, error = client.issue_partial(
                [_request(o, keys[o.pk], platforms[o.pk], items.get(o.pk, [])) for o in group]
            )
            for order, waybill in zip(group, got, strict=False):
                issued[order.pk] = Issued(
                    number=waybill.tracking_no,
                    subscription_id=sub_pk,
                    request_key=keys[order.pk],
                    short_address=waybill.short_address,
                    package_center=waybill.package_center,
                    package_center_code=waybill.package_center_code,
                    sort_code=waybill.sort_code,
                    receiver=waybill.recipient,
                )
            if isinstance(error, TransientError):
                down = ServiceDown(
                    "provider_down",
                    _("The waybill service of %(carrier)s did not answer: %(error)s")
                    % {"carrier": carrier.name, "error": error},
                )
                down.issued = issued
                raise down from error
            if error is not None:
                raise OrderError(
                    "provider_refused",
                    _("The waybill service of %(carrier)s refused: %(error)s")
                    % {"carrier": carrier.name, "error": error},
                ) from error
        return [issued[o.pk] for o in orders]


def give_back(number: TrackingNumber) -> str:
    """Cancel a provider number at its service (取消面单: the number goes back to the account).
    Returns "" when given back, else the service's answer (the caller records it)."""
    if number.subscription_id is None or number.returned_at is not None:
        return ""
    sub = WaybillSubscription.objects.select_related("account_shop").get(pk=number.subscription_id)
    try:
        client_for(account_of(sub)).cancel(number.number)
    except ConnectorError as exc:
        return str(exc)
    number.returned_at = timezone.now()
    number.save(update_fields=["returned_at"])
    return ""


def reissue_labels(orders: list[Order]) -> dict[int, Issued]:
    """Label data of orders printed before with a service's number (a reprint): asked again
    under the same key, the service answers the same number and the clear receiver again."""
    live = {
        n.order_id: n
        for n in TrackingNumber.objects.filter(
            order__in=orders, voided_at__isnull=True, subscription__isnull=False
        ).select_related("subscription__account_shop")
    }
    found: dict[int, Issued] = {}
    groups: dict[int, list[Order]] = {}
    for order in orders:
        if order.pk in live and order.receiver_oaid:
            groups.setdefault(live[order.pk].subscription_id, []).append(order)
    platforms, items = _order_facts([o for g in groups.values() for o in g])
    for _sub_pk, group in groups.items():
        sub = live[group[0].pk].subscription
        try:
            got = client_for(account_of(sub)).issue(
                [
                    _request(o, live[o.pk].request_key, platforms[o.pk], items.get(o.pk, []))
                    for o in group
                ]
            )
        except ConnectorError:
            continue  # the reprint shows the masked receiver; the number is unchanged
        for order, waybill in zip(group, got, strict=True):
            if waybill.tracking_no == order.tracking_no:
                found[order.pk] = Issued(number=waybill.tracking_no, receiver=waybill.recipient)
    return found


def pool_fallback_count(since) -> int:
    return TrackingNumber.objects.filter(~Q(fallback_reason=""), assigned_at__gte=since).count()
