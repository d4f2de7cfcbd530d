"""Encrypted buyer details (密文订单): seeing a receiver in clear, on the rare screen that truly
needs it (a phone call about a parcel, an after-sales case).

The platform's decryption call is rationed by the platform and audited: it is made only here,
by a person holding ``orders.reveal_receiver``, with a reason; every call is a
``ReceiverReveal`` row (who, when, why, which scene); each person has a daily ration
(``settings.TONGCANG_RECEIVER_REVEALS_PER_DAY``, 30 by default). The clear receiver is returned
to the screen and never stored. Labels never need this: the waybill service prints them.
"""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.connectors import get_connector
from channels.connectors.base import ClearReceiver, ConnectorError
from core.clock import now
from orders.models import Order, ReceiverReveal
from orders.services.kernel import OrderError, actor_user

DEFAULT_PER_DAY = 30
# The platform's scene of "a person of the seller looks at it for after-sales" (TOP 2001,
# JD 1): see PROTOCOLS.md.
SCENES = {"taobao": "2001", "tmall": "2001", "jd": "1"}


def reveals_left(actor) -> int:
    limit = int(getattr(settings, "TONGCANG_RECEIVER_REVEALS_PER_DAY", DEFAULT_PER_DAY))
    local = timezone.localtime(now())
    day_start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    used = ReceiverReveal.objects.filter(
        revealed_by=actor_user(actor), revealed_at__gte=day_start
    ).count()
    return max(0, limit - used)


def reveal_receiver(*, order: Order, actor, reason: str) -> ClearReceiver:
    """The order's receiver in clear, from the platform; recorded with who and why."""
    reason = (reason or "").strip()
    if actor is None or not actor.has_perm("orders.reveal_receiver"):
        raise OrderError("forbidden", _("You may not see receivers in clear."))
    if len(reason) < 4:
        raise OrderError("no_reason", _("Say why you need the receiver in clear."))
    if not order.receiver_oaid:
        raise OrderError("not_encrypted", _("This order's receiver is not encrypted."))
    if reveals_left(actor) <= 0:
        raise OrderError("rationed", _("You have used today's decryptions."))
    connector = get_connector(order.shop)
    if connector is None or not hasattr(connector, "decrypt_receivers"):
        raise OrderError("unsupported", _("This platform offers no decryption."))
    scene = SCENES.get(order.shop.platform.code, "2001")
    try:
        found = connector.decrypt_receivers(
            [(order.platform_order_no, order.receiver_oaid)], scene=scene
        )
    except ConnectorError as exc:
        raise OrderError("platform", _("The platform refused: %(error)s") % {"error": exc}) from exc
    clear = next((c for c in found if c.platform_order_no == order.platform_order_no), None)
    ReceiverReveal.objects.create(
        order=order,
        revealed_by=actor_user(actor),
        reason=reason[:255],
        scene=scene,
        matched=bool(clear and clear.matched),
        privacy_number=bool(clear and clear.privacy_number),
    )
    if clear is None or not clear.matched:
        raise OrderError(
            "stale", _("The receiver changed on the platform: read the order again first.")
        )
    return clear
