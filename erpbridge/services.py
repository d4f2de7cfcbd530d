"""Business rules of the ERP bridge: clients, stock in, retail batches out, acknowledgement.

Each function runs in one transaction. Stock messages are applied one at a time (an advisory
lock), retail batches are cut one at a time per (unit code, kind) (another advisory lock), so
concurrent calls cannot apply a message twice nor hand a record out twice.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Prefetch, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core import clock
from inventory import services as stock
from inventory.models import StockMove, Warehouse

from . import auth
from .models import (
    ALL_SCOPES,
    ErpClient,
    MessageLog,
    RecordKind,
    RetailBatch,
    RetailRecord,
    Scope,
    StockMessage,
)

Q4 = Decimal("0.0001")
CENT = Decimal("0.01")
ZERO = Decimal("0")
MAX_BATCH = 500
MAX_MESSAGE_ID = 60
FUTURE_TOLERANCE = timedelta(seconds=auth.WINDOW_SECONDS)
_QTY_RE = re.compile(r"^-?\d{1,14}(\.\d{1,4})?$")
logger = logging.getLogger(__name__)
_STOCK_LOCK = 0x45525053  # "ERPS": stock messages are applied one at a time


class ErpError(Exception):
    """A refusal of the API: HTTP status, a code of the contract and a message."""

    def __init__(self, status: int, code: str, message: str, **extra):
        super().__init__(message)
        self.status, self.code, self.message, self.extra = status, code, message, extra


def invalid(message: str) -> ErpError:
    return ErpError(400, "invalid_request", message)


def suspicious_share() -> Decimal:
    """Share of the stocked products a full snapshot may zero before it is refused."""
    value = getattr(settings, "ERP_SUSPICIOUS_SNAPSHOT_SHARE", None)
    if value is None:
        value = os.environ.get("TONGCANG_ERP_SUSPICIOUS_SHARE", "0.5")
    return Decimal(str(value))


# --- clients ---------------------------------------------------------------------------------


def _clean_unit_codes(unit_codes) -> str:
    if isinstance(unit_codes, str):
        unit_codes = unit_codes.split(",")
    return ",".join(sorted({c.strip() for c in unit_codes or [] if c.strip()}))


def _clean_scopes(scopes) -> str:
    if scopes is None:
        return ALL_SCOPES
    if isinstance(scopes, str):
        scopes = scopes.split(",")
    chosen = {s.strip() for s in scopes if s.strip()}
    unknown = chosen - set(Scope.values)
    if unknown:
        raise ValueError(
            _("unknown scope(s) %(unknown)s; the scopes are %(known)s")
            % {"unknown": ", ".join(sorted(unknown)), "known": ", ".join(Scope.values)}
        )
    return ",".join(s for s in Scope.values if s in chosen)


@transaction.atomic
def create_client(*, name: str, unit_codes=(), scopes=None, actor=None) -> tuple[ErpClient, str]:
    """A new ERP client; returns it with its secret (shown once, stored only encrypted).
    ``scopes``: what its key may do (default: everything, erpbridge.models.Scope)."""
    name = name.strip()
    if not name:
        raise ValueError(_("an ERP client needs a name"))
    if ErpClient.objects.filter(name=name).exists():
        raise ValueError(_("an ERP client named %(name)s exists already") % {"name": name})
    secret = auth.new_secret()
    client = ErpClient.objects.create(
        name=name,
        key_id=auth.new_key_id(),
        secret_encrypted=auth.encrypt_secret(secret),
        unit_codes=_clean_unit_codes(unit_codes),
        scopes=_clean_scopes(scopes),
        created_by=actor,
    )
    return client, secret


@transaction.atomic
def set_client_unit_codes(*, client: ErpClient, unit_codes, actor=None) -> ErpClient:
    """Limit a client to these unit codes (empty: every unit code)."""
    client.unit_codes = _clean_unit_codes(unit_codes)
    ErpClient.objects.filter(pk=client.pk).update(unit_codes=client.unit_codes)
    return client


@transaction.atomic
def set_client_scopes(*, client: ErpClient, scopes, actor=None) -> ErpClient:
    """What the client's key may do (erpbridge.models.Scope)."""
    client.scopes = _clean_scopes(scopes)
    ErpClient.objects.filter(pk=client.pk).update(scopes=client.scopes)
    return client


@transaction.atomic
def disable_client(*, client: ErpClient, actor=None) -> ErpClient:
    client = ErpClient.objects.select_for_update().get(pk=client.pk)
    if client.enabled:
        client.enabled = False
        client.disabled_at = clock.now()
        client.disabled_by = actor
        client.save(update_fields=["enabled", "disabled_at", "disabled_by"])
    return client


def rotate_secret_keys() -> dict:
    """Re-encrypt every stored secret (ERP clients' secrets, shops' API credentials) with the
    first of TONGCANG_ERP_SECRET_KEYS; afterwards the older keys can be dropped. A secret no
    configured key decrypts is left as it is and counted."""
    from channels.models import Shop
    from core import crypto

    counts = {"erp_clients": 0, "shops": 0, "undecryptable": 0}
    with transaction.atomic():
        for client in ErpClient.objects.select_for_update().order_by("pk"):
            try:
                token = crypto.rotate(client.secret_encrypted)
            except crypto.InvalidToken:
                counts["undecryptable"] += 1
                continue
            ErpClient.objects.filter(pk=client.pk).update(secret_encrypted=token)
            counts["erp_clients"] += 1
        with connection.cursor() as cur:
            cur.execute("SELECT id, credentials FROM channels_shop ORDER BY id FOR UPDATE")
            rows = cur.fetchall()
        for pk, token in rows:
            try:
                value = json.loads(crypto.decrypt(token)) if token else {}
            except crypto.InvalidToken:
                counts["undecryptable"] += 1
                continue
            Shop.objects.filter(pk=pk).update(credentials=value)
            counts["shops"] += 1
    return counts


# --- message log -----------------------------------------------------------------------------


def log_message(**fields) -> MessageLog:
    """One row of the message log (written outside the transaction of the work it records)."""
    fields.setdefault("direction", MessageLog.Direction.IN)
    return MessageLog.objects.create(**fields)


def prune_message_log(*, now=None) -> dict:
    """Retention of the message log (a daily task). First the bodies of full snapshots, the
    largest rows, after ``ERP_LOG_SNAPSHOT_BODY_DAYS`` (a refused one keeps its body until it
    is accepted or the row goes: an administrator may still accept it); then every row older
    than ``ERP_LOG_RETENTION_DAYS``. The applied messages (``StockMessage``, what makes a
    repeated message_id a duplicate) stay; they only lose their link to the row."""
    now = now or clock.now()
    retention = timedelta(days=settings.ERP_LOG_RETENTION_DAYS)
    body_days = timedelta(days=settings.ERP_LOG_SNAPSHOT_BODY_DAYS)
    with transaction.atomic():
        bodies = (
            MessageLog.objects.filter(
                kind=MessageLog.Kind.STOCK_FULL, received_at__lt=now - body_days
            )
            .exclude(request_body="")
            .exclude(result=MessageLog.Result.REFUSED)
            .update(
                request_body="", note=_("body dropped after %(n)s days") % {"n": body_days.days}
            )
        )
        old = MessageLog.objects.filter(received_at__lt=now - retention)
        StockMessage.objects.filter(log__in=old).update(log=None)
        rows, _by_model = old.delete()
    return {"bodies": bodies, "rows": rows}


# --- stock in --------------------------------------------------------------------------------


@dataclass
class StockMessageIn:
    message_id: str
    as_of: datetime
    codes: list[str]
    quantities: list[Decimal]


def parse_time(value, field: str) -> datetime:
    if not isinstance(value, str):
        raise invalid(_("%(field)s must be an ISO 8601 time with offset") % {"field": field})
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise invalid(_("%(field)s must be an ISO 8601 time with offset") % {"field": field})
    return parsed


def parse_stock_message(data) -> StockMessageIn:
    """Validate a stock message (any fault refuses the whole message)."""
    if not isinstance(data, dict):
        raise invalid(_("the body must be a JSON object"))
    message_id = data.get("message_id")
    if not isinstance(message_id, str) or not message_id.strip():
        raise invalid(_("message_id is required"))
    if len(message_id) > MAX_MESSAGE_ID:
        raise invalid(_("message_id is longer than %(n)s characters") % {"n": MAX_MESSAGE_ID})
    as_of = parse_time(data.get("as_of"), "as_of")
    if as_of > clock.now() + FUTURE_TOLERANCE:
        raise invalid(_("as_of lies in the future"))
    items = data.get("items")
    if not isinstance(items, list):
        raise invalid(_("items must be a list"))
    codes: list[str] = []
    quantities: list[Decimal] = []
    seen: set[str] = set()
    match = _QTY_RE.match
    for n, item in enumerate(items, start=1):
        if type(item) is not dict:
            raise invalid(_("item %(n)s: must be an object") % {"n": n})
        code = item.get("product_code")
        quantity = item.get("quantity")
        if type(code) is not str or not code or len(code) > 64:
            raise invalid(_("item %(n)s: product_code is required") % {"n": n})
        if type(quantity) is not str or not match(quantity):
            raise invalid(_('item %(n)s: quantity must be a string like "12.5000"') % {"n": n})
        if code in seen:
            raise invalid(
                _("item %(n)s: product %(code)s is listed twice") % {"n": n, "code": code}
            )
        seen.add(code)
        codes.append(code)
        quantities.append(Decimal(quantity))
    return StockMessageIn(message_id, as_of, codes, quantities)


class SuspiciousSnapshot(ErpError):
    def __init__(self, zeroed: int, stocked: int, share: Decimal):
        super().__init__(
            409,
            "suspicious_snapshot",
            _(
                "this full snapshot would set %(zeroed)s of the %(stocked)s products in stock "
                "to 0 (more than %(share)s%%); refused, an administrator can accept it"
            )
            % {"zeroed": zeroed, "stocked": stocked, "share": (share * 100).normalize()},
        )


# Per product of %(pids)s, in ONE statement (one snapshot): on hand in the main warehouse, and
# what the ERP had not extracted as of %(as_of)s: − shipped − transferred out of main +
# returned into main + transferred back into main (design.md, The experience store); what
# orders shipped counts only what left the main warehouse (not a store's take-away).
# A transfer out counts from its shipment (main's stock left then) until its record is
# extracted; a transfer back in from its receipt (main's stock grew then).
_CURRENT = """
WITH v AS (SELECT DISTINCT unnest(%(pids)s::bigint[]) AS p),
unextracted AS (
    -- the partial index order_shipped_unextracted: as small as the ERP's backlog
    SELECT id FROM orders_order WHERE status = 'shipped' AND erp_extracted_at IS NULL
    UNION ALL
    -- extracted after as_of (minutes' worth): order_erp_extracted_at
    SELECT id FROM orders_order
    WHERE status = 'shipped' AND erp_extracted_at > %(as_of)s
),
shipped AS (
    SELECT oc.product_id AS p, SUM(oc.quantity) AS q
    FROM unextracted o
    JOIN orders_orderline ol ON ol.order_id = o.id
    JOIN orders_ordercomponent oc ON oc.line_id = ol.id
    JOIN v ON v.p = oc.product_id
    GROUP BY oc.product_id
),
returned AS (
    SELECT rc.product_id AS p, SUM(rc.quantity) AS q
    FROM returns_returnreceipt rc
    JOIN v ON v.p = rc.product_id
    JOIN returns_returnline rl ON rl.id = rc.line_id
    LEFT JOIN erpbridge_retailrecord rr ON rr.return_order_id = rl.return_order_id
    WHERE rc.warehouse_id = %(main)s AND (rr.acked_at IS NULL OR rr.acked_at > %(as_of)s)
    GROUP BY rc.product_id
),
store_shipped AS (
    -- what orders shipped out of a store's location (a take-away handed over): it never
    -- left the main warehouse, so it is taken back out of ``shipped`` (the ledger knows).
    -- Driven by the store shops' shipped orders (a store location's code is its shop's unit
    -- code), whose ledger rows are found by document: never a scan of the whole ledger.
    SELECT sm.product_id AS p, -SUM(sm.quantity) AS q
    FROM inventory_warehouse w
    JOIN channels_shop s ON s.unit_code = w.code
    JOIN orders_order o ON o.shop_id = s.id AND o.status = 'shipped'
    LEFT JOIN erpbridge_retailrecord rr ON rr.order_id = o.id
    JOIN inventory_stockmove sm ON sm.document = 'order:' || o.id
        AND sm.warehouse_id = w.id AND sm.reason = 'ship'
    JOIN v ON v.p = sm.product_id
    WHERE w.kind = 'store' AND (rr.acked_at IS NULL OR rr.acked_at > %(as_of)s)
    GROUP BY sm.product_id
),
transferred AS (
    SELECT tl.product_id AS p,
        SUM(CASE WHEN t.to_warehouse_id = %(main)s THEN COALESCE(tl.received_quantity, 0)
                 ELSE -tl.quantity END) AS q
    FROM inventory_transferline tl
    JOIN v ON v.p = tl.product_id
    JOIN inventory_transfer t ON t.id = tl.transfer_id
    LEFT JOIN erpbridge_retailrecord rr ON rr.transfer_id = t.id
    WHERE ((t.from_warehouse_id = %(main)s AND t.status IN ('shipped', 'received'))
           OR (t.to_warehouse_id = %(main)s AND t.status = 'received'))
      AND (rr.acked_at IS NULL OR rr.acked_at > %(as_of)s)
    GROUP BY tl.product_id
)
SELECT v.p, COALESCE(l.on_hand, 0),
    COALESCE(returned.q, 0) - COALESCE(shipped.q, 0) + COALESCE(store_shipped.q, 0)
    + COALESCE(transferred.q, 0)
FROM v
{levels}
LEFT JOIN shipped ON shipped.p = v.p
LEFT JOIN store_shipped ON store_shipped.p = v.p
LEFT JOIN returned ON returned.p = v.p
LEFT JOIN transferred ON transferred.p = v.p
"""


_LEVELS_JOIN = (
    "LEFT JOIN inventory_stocklevel l ON l.product_id = v.p AND l.warehouse_id = %(main)s"
)
_LEVELS_LOOKUP = (
    "LEFT JOIN LATERAL (SELECT on_hand FROM inventory_stocklevel "
    "WHERE product_id = v.p AND warehouse_id = %(main)s) l ON TRUE"
)


def reconciled_deltas(
    *, targets: dict[int, Decimal], as_of: datetime, main_id: int
) -> dict[int, Decimal]:
    """The change of on hand that makes each product's level
    max(0, Q − shipped − transferred out + returned into main + transferred back in), each
    "not extracted as of as_of"; non-zero only. The ERP's books may go below zero; physical
    stock never does.
    """
    if not targets:
        return {}
    params = {"pids": stock._int_array(targets), "as_of": as_of, "main": main_id}
    if len(targets) < 5000:  # a few products: one index lookup each beats hashing them all
        levels = _LEVELS_LOOKUP
    else:
        levels = _LEVELS_JOIN
    with connection.cursor() as cur:
        cur.execute(_CURRENT.format(levels=levels), params)
        rows = cur.fetchall()
    deltas = {}
    for pid, on_hand, adjust in rows:
        delta = max(ZERO, targets[pid] + adjust) - on_hand
        if delta:
            deltas[pid] = delta
    return deltas


def apply_stock_message(
    *,
    kind: str,
    message: StockMessageIn,
    client: ErpClient | None = None,
    log: MessageLog | None = None,
    force: bool = False,
    actor=None,
) -> dict:
    """Apply the ERP's quantities to the main warehouse (docs/design.md, The offline ERP).

    on_hand = Q − shipped − transferred out + returned into main + transferred back in (each:
    not extracted as of as_of), through delta moves of the ledger (reason ERP sync). A message_id seen before answers its
    first answer (status duplicate) and changes nothing; a product whose last applied as_of is
    newer is skipped (stale); unknown codes are reported. A full snapshot also sets every
    unlisted product to 0, and is refused (SuspiciousSnapshot) when that would zero more than
    the configured share of the products in stock, unless ``force`` (an administrator).
    """
    full = kind == MessageLog.Kind.STOCK_FULL
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(%s)", [_STOCK_LOCK])
            first = StockMessage.objects.filter(message_id=message.message_id).first()
            if first is not None:
                return {**first.answer, "status": "duplicate"}

            cur.execute(
                "SELECT v.code, p.id FROM unnest(%s::text[]) AS v(code) "
                "JOIN inventory_product p ON p.code = v.code",
                [message.codes],
            )
            ids = dict(cur.fetchall())
            unknown = [c for c in message.codes if c not in ids]
            wanted: dict[int, Decimal] = {
                ids[c]: q
                for c, q in zip(message.codes, message.quantities, strict=True)
                if c in ids
            }
            main_id = stock.main_warehouse_id()
            if full:
                cur.execute(
                    "SELECT product_id FROM inventory_stocklevel WHERE warehouse_id = %s "
                    "UNION SELECT product_id FROM erpbridge_erpstock",
                    [main_id],
                )
                for (pid,) in cur.fetchall():
                    wanted.setdefault(pid, ZERO)
            pids = list(wanted)
            cur.execute(
                "SELECT s.product_id, p.code FROM erpbridge_erpstock s "
                "JOIN inventory_product p ON p.id = s.product_id "
                "JOIN unnest(%s::bigint[]) AS v(p) ON v.p = s.product_id "
                "WHERE s.as_of > %s ORDER BY p.code",
                [stock._int_array(pids), message.as_of],
            )
            stale_rows = cur.fetchall()
            stale_ids = {r[0] for r in stale_rows}
            targets = {p: q for p, q in wanted.items() if p not in stale_ids}

            if full and not force:
                cur.execute(
                    "SELECT product_id FROM inventory_stocklevel "
                    "WHERE warehouse_id = %s AND on_hand > 0",
                    [main_id],
                )
                stocked = [r[0] for r in cur.fetchall()]
                zeroed = sum(1 for p in stocked if targets.get(p) == 0)
                share = suspicious_share()
                if stocked and zeroed > share * len(stocked):
                    raise SuspiciousSnapshot(zeroed, len(stocked), share)

            # The changes are computed in ONE statement (one snapshot), then the levels to
            # change are locked in product order and moved by those deltas. A shipment or
            # receipt committing in between moves on hand and the unextracted quantities
            # alike, so the sum stays right (a delta, never an overwrite); most products of a
            # nightly snapshot are right already and are neither locked nor written.
            target_ids = sorted(targets)
            deltas = reconciled_deltas(targets=targets, as_of=message.as_of, main_id=main_id)
            if deltas:
                stock.lock_levels(warehouse_id=main_id, product_ids=deltas)
                stock.apply_deltas(
                    warehouse_id=main_id,
                    deltas=deltas,
                    reason=StockMove.Reason.ERP_SYNC,
                    actor=actor,
                    document=f"erp:{message.message_id}",
                    note=f"{kind} as of {message.as_of.isoformat()}"
                    + (f" ({client.name})" if client else ""),
                    levels_locked=True,
                )
            if target_ids:
                cur.execute(
                    "INSERT INTO erpbridge_erpstock AS s (product_id, quantity, as_of, message_id, "
                    "updated_at) SELECT v.p, v.q, %s, %s, now() "
                    "FROM unnest(%s::bigint[], %s::numeric[]) AS v(p, q) "
                    "ON CONFLICT (product_id) DO UPDATE SET quantity = EXCLUDED.quantity, "
                    "as_of = EXCLUDED.as_of, message_id = EXCLUDED.message_id, "
                    "updated_at = EXCLUDED.updated_at",
                    [
                        message.as_of,
                        message.message_id,
                        stock._int_array(target_ids),
                        "{" + ",".join(str(targets[p]) for p in target_ids) + "}",
                    ],
                )
        answer = {
            "message_id": message.message_id,
            "status": "applied",
            "applied": len(target_ids),
            "stale": [r[1] for r in stale_rows],
            "unknown_products": unknown,
            "negative": [
                c
                for c, q in zip(message.codes, message.quantities, strict=True)
                if q < 0 and c in ids and ids[c] in targets
            ],
        }
        StockMessage.objects.create(
            message_id=message.message_id,
            kind=kind,
            as_of=message.as_of,
            answer=answer,
            client=client,
            log=log,
            applied_by=actor,
        )
        if full:
            # docs/design.md: every mapped SKU is pushed to the platforms after the full sync.
            # After the commit, and robust: a broker that fails then cannot undo nor hide what
            # was applied (the nightly full push catches up).
            transaction.on_commit(queue_full_stock_push, robust=True)
    return answer


def queue_full_stock_push() -> None:
    """Queue the full push of every mapped SKU (channels) for the task cluster. A broker that
    cannot take it is logged, not raised: the snapshot is applied already."""
    from django_q.tasks import async_task

    try:
        async_task(
            "platformsync.tasks.full_stock_push", task_name="full stock push after ERP snapshot"
        )
    except Exception:  # noqa: BLE001 - any broker failure; the scheduled full push catches up
        logger.exception("could not queue the full stock push after an ERP snapshot")


def accept_refused_snapshot(*, log: MessageLog, actor) -> dict:
    """An administrator accepts a full snapshot refused as suspicious: it is applied now, and
    the log entry marked accepted, in one transaction (both or neither)."""
    with transaction.atomic():
        log = MessageLog.objects.select_for_update().get(pk=log.pk)
        if log.kind != MessageLog.Kind.STOCK_FULL or log.result != MessageLog.Result.REFUSED:
            raise ValueError(_("only a refused full snapshot can be accepted"))
        if not log.request_body:
            raise ValueError(_("the body of this message is no longer kept"))
        message = parse_stock_message(json.loads(log.request_body))
        answer = apply_stock_message(
            kind=log.kind, message=message, client=log.client, log=log, force=True, actor=actor
        )
        if answer["status"] == "duplicate":
            raise ValueError(
                _("message %(id)s has been applied already") % {"id": message.message_id}
            )
        MessageLog.objects.filter(pk=log.pk).update(
            result=MessageLog.Result.ACCEPTED, accepted_by=actor, accepted_at=clock.now()
        )
    return answer


# --- amounts ---------------------------------------------------------------------------------


def split_amount(amount: Decimal, weights: list[Decimal]) -> list[Decimal]:
    """Split a money amount by weights into parts of 0.01 that add up to it exactly.

    Largest remainder: every part is first rounded down, the cents left over go to the parts
    with the largest remainders (the first of equal ones). Zero weights: equal shares.
    """
    n = len(weights)
    if n == 0:
        return []
    cents = int((Decimal(amount) / CENT).to_integral_value(rounding=ROUND_HALF_UP))
    total = sum(weights, ZERO)
    if total <= 0:
        weights, total = [Decimal(1)] * n, Decimal(n)
    raw = [Decimal(cents) * w / total for w in weights]
    floors = [int(r.to_integral_value(rounding=ROUND_FLOOR)) for r in raw]
    left = cents - sum(floors)
    for i in sorted(range(n), key=lambda i: (-(raw[i] - floors[i]), i))[:left]:
        floors[i] += 1
    return [(Decimal(c) * CENT).quantize(CENT) for c in floors]


def _weights(parts: list[tuple[Decimal | None, Decimal]]) -> list[Decimal]:
    """Weights of (list price, quantity) parts: price × quantity, or quantity when any lacks one."""
    if all(price is not None and price > 0 for price, _q in parts):
        return [price * q for price, q in parts]
    return [q for _p, q in parts]


def fmt_qty(value: Decimal) -> str:
    return str(Decimal(value).quantize(Q4))


def fmt_money(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT))


def fmt_time(value: datetime | None) -> str | None:
    return None if value is None else timezone.localtime(value).isoformat()


def order_product_lines(order) -> list[dict]:
    """An order's lines as products: a line mapping to several products is split into
    component lines whose amounts add up to the platform line's amount exactly.

    Needs ``lines__components__product`` prefetched for speed. A line without components
    (never the case for a shipped order) is given under its platform SKU.
    """
    out = []
    for line in order.lines.all():
        comps = list(line.components.all())
        if not comps:
            out.append(
                {
                    "product_code": line.platform_sku,
                    "quantity": line.quantity,
                    "amount": line.amount,
                }
            )
            continue
        weights = _weights([(c.product.list_price, c.quantity) for c in comps])
        for comp, amount in zip(comps, split_amount(line.amount, weights), strict=True):
            out.append(
                {"product_code": comp.product.code, "quantity": comp.quantity, "amount": amount}
            )
    return out


def _unit_price(amount: Decimal, quantity: Decimal) -> Decimal:
    if not quantity:
        return amount
    return (amount / quantity).quantize(CENT, rounding=ROUND_HALF_UP)


STORE_PLATFORM = "store"


def _guide_code(order) -> str | None:
    """The guide's staff code in the order's store (``StoreMember.staff_code`` of the stores
    app), else their user name; None when no guide is attached."""
    guide = getattr(order, "guide", None)
    if guide is None:
        return None
    memberships = getattr(guide, "store_memberships", None)
    if memberships is not None:
        code = (
            memberships.filter(store__shop_id=order.shop_id)
            .exclude(staff_code="")
            .values_list("staff_code", flat=True)
            .first()
        )
        if code:
            return code
    return guide.get_username()


def _store_fields(order) -> dict:
    """The fields of a store's sales record (contract): fulfilment, guide, payments.

    ``Order.fulfilment``, ``Order.guide`` and the ``Payment`` rows (``order.payments``) come
    with the stores work (h13); they are read with getattr so this module stands without them
    (TODO: plain attribute access once they are on main).
    """
    payments = getattr(order, "payments", None)
    rows = sorted(payments.all(), key=lambda p: p.pk) if payments is not None else []
    return {
        "fulfilment": getattr(order, "fulfilment", None) or None,
        "guide": _guide_code(order),
        "payments": [
            {
                "method": p.method,
                "amount": fmt_money(p.amount),
                "reference": p.reference or None,
            }
            for p in rows
        ],
    }


def is_store_order(order) -> bool:
    shop = getattr(order, "shop", None)
    platform = getattr(shop, "platform", None)
    return getattr(platform, "code", None) == STORE_PLATFORM


def sales_record(order) -> dict:
    lines = order_product_lines(order)
    record = {
        "order_no": order.order_no,
        "platform_order_no": order.platform_order_no,
        "shipped_at": fmt_time(order.shipped_at),
        "lines": [
            {
                "product_code": ln["product_code"],
                "quantity": fmt_qty(ln["quantity"]),
                "unit_price": fmt_money(_unit_price(ln["amount"], ln["quantity"])),
                "amount": fmt_money(ln["amount"]),
            }
            for ln in lines
        ],
        "total": fmt_money(sum((ln["amount"] for ln in lines), ZERO)),
    }
    if is_store_order(order):
        record.update(_store_fields(order))
    return record


def transfers_record(transfer) -> dict:
    """A received transfer (contract): from/to are "main" or the store's unit code (its
    sample location is the store's too); a shortfall is shipped − received."""

    def side(w):
        return w.store_code or w.code

    return {
        "transfer_no": transfer.number,
        "from": side(transfer.from_warehouse),
        "to": side(transfer.to_warehouse),
        "shipped_at": fmt_time(transfer.shipped_at),
        "received_at": fmt_time(transfer.received_at),
        "lines": [
            {
                "product_code": ln.product.code,
                "shipped": fmt_qty(ln.quantity),
                "received": fmt_qty(ln.received_quantity or ZERO),
            }
            for ln in transfer.lines.all()
        ],
    }


_RETURN_WAREHOUSE = {
    Warehouse.Kind.MAIN: "main",
    Warehouse.Kind.DEFECTIVE: "defective",
    Warehouse.Kind.STORE: "store",
}


def returns_record(return_order) -> dict:
    lines = []
    for rline in return_order.lines.all():
        receipts = list(rline.receipts.all())
        if not receipts:
            continue
        weights = _weights([(r.product.list_price, r.quantity) for r in receipts])
        for receipt, amount in zip(receipts, split_amount(rline.amount, weights), strict=True):
            lines.append(
                {
                    "product_code": receipt.product.code,
                    "quantity": fmt_qty(receipt.quantity),
                    "warehouse": _RETURN_WAREHOUSE.get(receipt.warehouse.kind, "main"),
                    "amount": fmt_money(amount),
                }
            )
    return {
        "return_no": return_order.return_no,
        "order_no": return_order.order.order_no,
        "platform_order_no": return_order.order.platform_order_no,
        "received_at": fmt_time(return_order.received_at),
        "lines": lines,
        "refund_total": fmt_money(return_order.refund_amount),
    }


# --- retail batches --------------------------------------------------------------------------


def _pending_sales(unit_code: str, limit: int):
    from orders.models import Order, OrderComponent, OrderLine

    done = RetailRecord.objects.filter(order_id=OuterRef("pk"))
    qs = (
        Order.objects.filter(
            shop__unit_code=unit_code,
            status=Order.Status.SHIPPED,
            erp_extracted_at__isnull=True,  # order_shipped_unextracted
        )
        .filter(~Exists(done))
        .select_related("shop__platform")
        .order_by("shipped_at", "id")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
            Prefetch(
                "lines__components",
                queryset=OrderComponent.objects.select_related("product").order_by("id"),
            ),
        )
    )
    if hasattr(Order, "payments"):  # the stores app's payments of store orders (h13)
        qs = qs.prefetch_related("payments")
    return list(qs[:limit])


def _pending_returns(unit_code: str, limit: int):
    from returns.models import ReturnLine, ReturnOrder, ReturnReceipt

    done = RetailRecord.objects.filter(return_order_id=OuterRef("pk"))
    return list(
        ReturnOrder.objects.filter(
            shop__unit_code=unit_code,
            status__in=[ReturnOrder.Status.RECEIVED, ReturnOrder.Status.CLOSED],
            received_at__isnull=False,
        )
        .filter(~Exists(done))
        .select_related("order")
        .order_by("received_at", "id")
        .prefetch_related(
            Prefetch("lines", queryset=ReturnLine.objects.order_by("id")),
            Prefetch(
                "lines__receipts",
                queryset=ReturnReceipt.objects.select_related("product", "warehouse").order_by(
                    "id"
                ),
            ),
        )[:limit]
    )


def _pending_transfers(unit_code: str, limit: int):
    """Received transfers between the main warehouse and the store of this unit code (its
    location's code is the unit code) never handed out before."""
    from inventory.models import Transfer, TransferLine

    done = RetailRecord.objects.filter(transfer_id=OuterRef("pk"))
    return list(
        Transfer.objects.filter(status=Transfer.Status.RECEIVED)
        .filter(Q(from_warehouse__code=unit_code) | Q(to_warehouse__code=unit_code))
        .filter(~Exists(done))
        .select_related("from_warehouse", "to_warehouse")
        .order_by("received_at", "id")
        .prefetch_related(
            Prefetch(
                "lines", queryset=TransferLine.objects.select_related("product").order_by("id")
            )
        )[:limit]
    )


def next_retail_batch(
    *, unit_code: str, kind: str, limit: int = MAX_BATCH, client: ErpClient | None = None
) -> tuple[RetailBatch, bool]:
    """The open batch of (unit code, kind) if any (created False), else a new one.

    Cut under a lock per (unit code, kind), so two racing calls get the same batch; an empty
    batch is closed at once (nothing to acknowledge, nothing kept open).
    """
    with transaction.atomic():
        with connection.cursor() as cur:
            cur.execute(
                "SELECT pg_advisory_xact_lock(hashtext('erpbridge.retail'), hashtext(%s))",
                [f"{unit_code}\n{kind}"],
            )
        batch = RetailBatch.objects.filter(
            unit_code=unit_code, kind=kind, acked_at__isnull=True
        ).first()
        if batch is not None:
            return batch, False
        if kind == RecordKind.SALES:
            sources = _pending_sales(unit_code, limit)
            records = [sales_record(o) for o in sources]
        elif kind == RecordKind.TRANSFERS:
            sources = _pending_transfers(unit_code, limit)
            records = [transfers_record(t) for t in sources]
        else:
            sources = _pending_returns(unit_code, limit)
            records = [returns_record(r) for r in sources]
        now = clock.now()
        batch = RetailBatch.objects.create(
            batch_id="rb_" + secrets.token_hex(12),
            unit_code=unit_code,
            kind=kind,
            records=records,
            record_count=len(records),
            client=client,
            created_at=now,
            acked_at=None if records else now,
            acked_by=None if records else client,
        )
        key = {
            RecordKind.SALES: "order",
            RecordKind.RETURNS: "return_order",
            RecordKind.TRANSFERS: "transfer",
        }[kind]
        RetailRecord.objects.bulk_create(
            [RetailRecord(batch=batch, kind=kind, **{key: src}) for src in sources]
        )
    return batch, True


def ack_retail_batch(*, batch: RetailBatch, client: ErpClient | None = None) -> RetailBatch:
    """Every record of the batch is extracted as of now; acknowledging again changes nothing."""
    with transaction.atomic():
        batch = RetailBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.acked_at is None:
            from orders.models import Order

            batch.acked_at = clock.now()
            batch.acked_by = client
            batch.save(update_fields=["acked_at", "acked_by"])
            batch.items.update(acked_at=batch.acked_at)
            if batch.kind == RecordKind.SALES:
                Order.objects.filter(
                    pk__in=batch.items.filter(order__isnull=False).values("order_id")
                ).update(erp_extracted_at=batch.acked_at)
    return batch
