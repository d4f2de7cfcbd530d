"""The HTTP face of the ERP API (docs/erp-api.md). Thin: parse, authorise, call a
service or selector, answer JSON, and write one message-log row per request."""

from __future__ import annotations

import json
import logging
import re
import time
from functools import wraps

from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from channels.models import Shop

from . import auth, selectors, services
from .models import MessageLog, RecordKind, RetailBatch, Scope
from .services import ErpError, invalid

logger = logging.getLogger(__name__)
MAX_CODES = 1000
_OFFSET_AS_SPACE = re.compile(r"(\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?) (\d{2}(?::?\d{2})?)$")

Kind = MessageLog.Kind
Result = MessageLog.Result


def _error(code: str, message: str) -> dict:
    return {"error": {"code": code, "message": message}}


def _json_body(body: bytes):
    if not body:
        raise ErpError(400, "invalid_json", _("the body must be JSON"))
    try:
        return json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ErpError(400, "invalid_json", _("the body is not valid UTF-8 JSON")) from exc


def _check_unit_code(client, unit_code: str) -> None:
    if not client.may_use(unit_code):
        raise ErpError(
            403, "forbidden", _("this key may not use unit code %(code)s") % {"code": unit_code}
        )
    if not Shop.objects.filter(unit_code=unit_code).exists():
        raise ErpError(404, "not_found", _("unknown unit code %(code)s") % {"code": unit_code})


def _check_scope(client, scope: str | None) -> None:
    if scope is None or client.may(scope):
        return
    if scope == Scope.STOCK_WRITE and client.allowed_unit_codes and scope in client.scope_set:
        message = _("a key limited to unit codes may not write the main warehouse's stock")
    else:
        message = _("this key may not %(what)s") % {"what": Scope(scope).label}
    raise ErpError(403, "forbidden", message)


def erp_endpoint(kind: str, direction: str, methods: tuple[str, ...], scope: str | None = None):
    """Authenticate, dispatch, turn refusals into contract errors, and log the exchange.
    ``scope``: what the client's key must be allowed (erpbridge.models.Scope)."""

    def decorate(handler):
        @csrf_exempt
        @wraps(handler)
        def view(request, **kwargs):
            started = time.monotonic()
            ctx = {"message_id": "", "unit_code": "", "batch_id": ""}
            client, body, note = None, b"", ""
            result = Result.ANSWERED
            try:
                try:
                    body = request.body
                except RequestDataTooBig as exc:
                    raise ErpError(413, "payload_too_large", _("the body is too large")) from exc
                client = auth.authenticate(request, body)
                if request.method not in methods:
                    raise ErpError(
                        405,
                        "method_not_allowed",
                        _("use %(methods)s here") % {"methods": ", ".join(methods)},
                    )
                _check_scope(client, scope)
                status, payload, result = handler(request, body, client, ctx, **kwargs)
            except auth.Unauthorized as exc:
                status, payload, result = 401, _error("unauthorized", _("unauthorized")), None
                note = str(exc)
            except ErpError as exc:
                status, payload = exc.status, _error(exc.code, exc.message)
                result = Result.REFUSED if exc.code == "suspicious_snapshot" else None
            except Exception:  # noqa: BLE001 - answer JSON, keep the trace in the log
                logger.exception("ERP API %s %s failed", request.method, request.path)
                status = 500
                payload = _error("internal_error", _("internal error; nothing was changed"))
                result = Result.FAILED
            if result is None:
                result = Result.REJECTED
            text = json.dumps(payload, ensure_ascii=False)
            logged = text
            if request.method == "GET" and status < 400:
                # Queries are not messages: keep what was asked and how much was answered.
                logged = json.dumps(
                    {
                        "items": len(payload.get("items", payload.get("orders", []))),
                        "unknown_products": len(payload.get("unknown_products", [])),
                        "next_cursor": payload.get("next_cursor"),
                    }
                )
            # A request nobody signed leaves its metadata only: anyone can send one, and the
            # log must not become a free store for strangers' bytes.
            raw = body.decode("utf-8", errors="replace") if client is not None else ""
            services.log_message(
                client=client,
                direction=direction,
                kind=kind,
                method=request.method[:8],
                path=auth.request_path(request)[:500],
                message_id=ctx["message_id"][:128],
                unit_code=ctx["unit_code"][:32],
                batch_id=ctx["batch_id"][:40],
                request_body=raw,
                status_code=status,
                result=result,
                error_code=payload["error"]["code"] if status >= 400 else "",
                note=note[:255],
                response_body=logged,
                duration_ms=int((time.monotonic() - started) * 1000),
            )
            return HttpResponse(text, status=status, content_type="application/json")

        return view

    return decorate


def _stock_in(kind: str):
    def handler(request, body, client, ctx):
        message = services.parse_stock_message(_json_body(body))
        ctx["message_id"] = message.message_id
        answer = services.apply_stock_message(kind=kind, message=message, client=client)
        result = Result.DUPLICATE if answer["status"] == "duplicate" else Result.APPLIED
        return 200, answer, result

    return handler


stock_incremental = erp_endpoint(Kind.STOCK_INCREMENTAL, "in", ("POST",), Scope.STOCK_WRITE)(
    _stock_in(Kind.STOCK_INCREMENTAL)
)
stock_full = erp_endpoint(Kind.STOCK_FULL, "in", ("POST",), Scope.STOCK_WRITE)(
    _stock_in(Kind.STOCK_FULL)
)


@erp_endpoint(Kind.STOCK_QUERY, "out", ("GET",), Scope.STOCK_READ)
def stock(request, body, client, ctx):
    codes_param = request.GET.get("codes")
    if codes_param is not None:
        codes = [c.strip() for c in codes_param.split(",") if c.strip()]
        if not codes:
            raise invalid(_("codes is empty"))
        if len(codes) > MAX_CODES:
            raise invalid(_("at most %(n)s codes at a time") % {"n": MAX_CODES})
        answer = selectors.stock_for_codes(codes, unit_codes=client.allowed_unit_codes)
        return 200, answer, Result.ANSWERED
    try:
        page = selectors.stock_page(
            request.GET.get("cursor") or None, unit_codes=client.allowed_unit_codes
        )
        return 200, page, Result.ANSWERED
    except selectors.BadCursor as exc:
        raise invalid(_("cursor is not one this API gave")) from exc


@erp_endpoint(Kind.ORDERS_QUERY, "out", ("GET",), Scope.ORDERS)
def orders(request, body, client, ctx):
    from orders.models import Order

    unit_code = request.GET.get("unit_code", "").strip()
    if not unit_code:
        raise invalid(_("unit_code is required"))
    ctx["unit_code"] = unit_code
    status = request.GET.get("status") or None
    if status is not None and status not in Order.Status.values:
        raise invalid(
            _("status must be one of %(values)s") % {"values": ", ".join(Order.Status.values)}
        )
    since = request.GET.get("updated_since")
    if since:
        # An unencoded "+08:00" arrives as " 08:00" (a plus is a space in a query string).
        since = _OFFSET_AS_SPACE.sub(r"\1+\2", since)
    updated_since = services.parse_time(since, "updated_since") if since else None
    _check_unit_code(client, unit_code)
    try:
        page = selectors.orders_page(
            unit_code=unit_code,
            status=status,
            updated_since=updated_since,
            cursor=request.GET.get("cursor") or None,
        )
    except selectors.BadCursor as exc:
        raise invalid(_("cursor is not one this API gave")) from exc
    return 200, {"orders": page["items"], "next_cursor": page["next_cursor"]}, Result.ANSWERED


def _batch_answer(batch: RetailBatch) -> dict:
    return {
        "batch_id": batch.batch_id,
        "unit_code": batch.unit_code,
        "kind": batch.kind,
        "records": batch.records,
    }


@erp_endpoint(Kind.RETAIL_BATCH, "out", ("POST",), Scope.RETAIL)
def retail_batches(request, body, client, ctx):
    data = _json_body(body)
    if not isinstance(data, dict):
        raise invalid(_("the body must be a JSON object"))
    unit_code = data.get("unit_code")
    if not isinstance(unit_code, str) or not unit_code.strip():
        raise invalid(_("unit_code is required"))
    ctx["unit_code"] = unit_code
    kind = data.get("kind")
    if kind not in RecordKind.values:
        raise invalid(_("kind must be sales, returns or transfers"))
    limit = data.get("limit", services.MAX_BATCH)
    if type(limit) is not int or not 1 <= limit <= services.MAX_BATCH:
        raise invalid(_("limit must be a whole number from 1 to %(n)s") % {"n": services.MAX_BATCH})
    _check_unit_code(client, unit_code)
    batch, created = services.next_retail_batch(
        unit_code=unit_code, kind=kind, limit=limit, client=client
    )
    ctx["batch_id"] = batch.batch_id
    return (201 if created else 200), _batch_answer(batch), Result.ANSWERED


@erp_endpoint(Kind.RETAIL_ACK, "in", ("POST",), Scope.RETAIL)
def retail_batch_ack(request, body, client, ctx, batch_id):
    ctx["batch_id"] = batch_id
    if body.strip():
        data = _json_body(body)
        if not isinstance(data, dict):
            raise invalid(_("the body must be empty or a JSON object"))
    batch = RetailBatch.objects.filter(batch_id=batch_id).first()
    if batch is None:
        raise ErpError(404, "not_found", _("unknown batch %(id)s") % {"id": batch_id})
    ctx["unit_code"] = batch.unit_code
    if not client.may_use(batch.unit_code):
        raise ErpError(
            403,
            "forbidden",
            _("this key may not use unit code %(code)s") % {"code": batch.unit_code},
        )
    batch = services.ack_retail_batch(batch=batch, client=client)
    answer = {
        "batch_id": batch.batch_id,
        "unit_code": batch.unit_code,
        "kind": batch.kind,
        "acked_at": services.fmt_time(batch.acked_at),
        "records": batch.record_count,
    }
    return 200, answer, Result.ANSWERED


@csrf_exempt
def unknown_path(request, rest=""):
    """Any other path under the API: authenticated like the rest, then 404."""

    @erp_endpoint(Kind.OTHER, "in", ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD"))
    def handler(request, body, client, ctx):
        raise ErpError(404, "not_found", _("no such endpoint"))

    return handler(request)
