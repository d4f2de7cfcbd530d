"""Importing the standard-format orders file (标准格式订单, docs/import-formats.md).

One row per order line; rows with the same shop and platform order number form one order.
All rows or none: any bad row is reported (row, column, reason) and nothing is written. The
orders then go through the one intake service (``orders.intake.intake_orders``), so a file
imported again creates nothing: an order we already have is left as it is ("unchanged").
``import_orders`` is used by the admin (preview = dry run) and by ``manage.py import_orders``.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels.models import Shop
from channels.types import NormalizedLine, NormalizedOrder
from config.tabular import (
    Column,
    ImportResult,
    PlannedRow,
    RowError,
    RowErrors,
    parse_datetime_shanghai,
    parse_money,
    parse_positive_int,
    read_table,
)

from .intake import intake_orders
from .models import Order

# docs/import-formats.md, 标准格式订单: one row per order line.
ORDER_COLUMNS = [
    Column("shop", "店铺", note=gettext_lazy("the shop's code")),
    Column(
        "platform_order_no",
        "平台订单号",
        note=gettext_lazy("rows with the same shop and number are one order"),
    ),
    Column("buyer_nick", "买家昵称", required=False),
    Column("receiver_name", "收货人"),
    Column("receiver_phone", "联系电话", note=gettext_lazy("mobile or landline")),
    Column("province", "省"),
    Column("city", "市"),
    Column("district", "区县", required=False),
    Column("address", "详细地址"),
    Column(
        "platform_sku",
        "平台商品编码",
        note=gettext_lazy("found in the SKU relation table of the shop"),
    ),
    Column("quantity", "数量", note=gettext_lazy("a positive whole number")),
    Column("unit_price", "单价", note=gettext_lazy("in yuan, e.g. 59.90")),
    Column(
        "paid_at",
        "付款时间",
        note=gettext_lazy("e.g. 2026-11-11 09:30:00, Beijing time unless an offset is given"),
    ),
    Column("buyer_remark", "买家留言", required=False),
    Column("seller_remark", "卖家备注", required=False),
]
REQUIRED = [
    "shop",
    "platform_order_no",
    "receiver_name",
    "receiver_phone",
    "province",
    "city",
    "address",
    "platform_sku",
    "quantity",
    "unit_price",
    "paid_at",
]
MAX_LENGTH = {
    "platform_order_no": 64,
    "buyer_nick": 100,
    "receiver_name": 100,
    "receiver_phone": 40,
    "province": 32,
    "city": 32,
    "district": 32,
    "address": 255,
    "platform_sku": 128,
}
# Values of one order that every one of its rows must agree on (when given).
SAME_IN_EVERY_ROW = ["receiver_name", "receiver_phone", "province", "city", "address", "paid_at"]
HEADER_KEYS = [
    "buyer_nick",
    "receiver_name",
    "receiver_phone",
    "province",
    "city",
    "district",
    "address",
    "buyer_remark",
    "seller_remark",
]


def _parse(table) -> tuple[dict[tuple[str, str], dict], list[RowError]]:
    header = table.header
    shops = set(
        Shop.objects.filter(code__in={v["shop"] for _n, v in table}).values_list("code", flat=True)
    )
    errors: list[RowError] = []
    groups: dict[tuple[str, str], dict] = {}
    for number, values in table:
        bad = False

        def fail(key, reason, number=number):
            nonlocal bad
            bad = True
            errors.append(RowError(number, header(key), reason))

        for key in REQUIRED:
            if not values[key]:
                fail(key, _("a value is required"))
        for key, limit in MAX_LENGTH.items():
            if len(values[key]) > limit:
                fail(key, _("longer than %(limit)d characters") % {"limit": limit})
        if values["shop"] and values["shop"] not in shops:
            fail("shop", _("no shop with code %s") % values["shop"])
        parsed = {}
        for key, parser in (
            ("quantity", parse_positive_int),
            ("unit_price", parse_money),
            ("paid_at", parse_datetime_shanghai),
        ):
            if values[key]:
                try:
                    parsed[key] = parser(values[key])
                except ValueError as exc:
                    fail(key, str(exc))
        if bad:
            continue
        group = groups.setdefault(
            (values["shop"], values["platform_order_no"]),
            {"row": number, "values": {}, "rows": {}, "lines": []},
        )
        for key in SAME_IN_EVERY_ROW:
            value = parsed.get(key, values[key])
            seen = group["values"].get(key)
            if seen is not None and value != seen:
                fail(
                    key,
                    _("differs from row %(row)d of the same order") % {"row": group["rows"][key]},
                )
            elif seen is None:
                group["values"][key] = value
                group["rows"][key] = number
        for key in ("buyer_nick", "district", "buyer_remark", "seller_remark"):
            if values[key] and not group["values"].get(key):
                group["values"][key] = values[key]
        group["lines"].append(
            NormalizedLine(
                platform_sku=values["platform_sku"],
                quantity=Decimal(parsed["quantity"]),
                unit_price=parsed["unit_price"],
                platform_line_id=str(number),
            )
        )
    return groups, errors


def import_orders(
    *, source, actor=None, filename: str | None = None, dry_run: bool = False
) -> ImportResult:
    """Take in the orders of a standard-format file; all rows or none.

    Raises ``FileUnreadable`` or ``RowErrors`` (nothing written). Returns one planned row per
    order: "new", or "skip" when the order exists already (a file carries no modification
    time, so it never overwrites an order we have).
    """
    table = read_table(source, columns=ORDER_COLUMNS, filename=filename)
    groups, errors = _parse(table)
    if errors:
        raise RowErrors(errors)
    by_shop: dict[str, list[tuple[int, NormalizedOrder]]] = {}
    for (shop_code, number), group in groups.items():
        v = group["values"]
        order = NormalizedOrder(
            platform_order_no=number,
            lines=group["lines"],
            paid_at=v["paid_at"],
            **{k: v.get(k, "") for k in HEADER_KEYS},
            raw={"file": filename or "", "row": group["row"]},
        )
        by_shop.setdefault(shop_code, []).append((group["row"], order))
    shops = {s.code: s for s in Shop.objects.filter(code__in=list(by_shop))}
    existing = set()
    for code, items in by_shop.items():
        existing |= {
            (code, n)
            for n in Order.objects.filter(
                shop=shops[code],
                split_from__isnull=True,
                platform_order_no__in=[o.platform_order_no for _r, o in items],
            ).values_list("platform_order_no", flat=True)
        }
    planned = []
    for code, items in by_shop.items():
        for row, o in items:
            planned.append(
                PlannedRow(
                    row=row,
                    action="skip" if (code, o.platform_order_no) in existing else "new",
                    label=f"{code} {o.platform_order_no}",
                    values={
                        "shop": code,
                        "platform_order_no": o.platform_order_no,
                        "receiver_name": o.receiver_name,
                        "lines": ", ".join(
                            f"{line.platform_sku} × {line.quantity}" for line in o.lines
                        ),
                        # Shown in the preview: Beijing time, as people wrote it in the file.
                        "paid_at": (
                            timezone.localtime(o.paid_at).strftime("%Y-%m-%d %H:%M:%S")
                            if o.paid_at
                            else ""
                        ),
                    },
                    changes={},
                )
            )
    planned.sort(key=lambda p: p.row)
    if not dry_run:
        # The plan above is what a preview shows; what the intake did decides the report
        # (another import of the same file may have created the orders meanwhile).
        done: dict[tuple[str, str], str] = {}
        with transaction.atomic():
            for code, items in by_shop.items():
                result = intake_orders(
                    shop=shops[code], orders=[o for _r, o in items], actor=actor or "file import"
                )
                done.update({(code, n): "new" for n in result.created_numbers})
                done.update({(code, n): "update" for n in result.updated_numbers})
        for row in planned:
            row.action = done.get((row.values["shop"], row.values["platform_order_no"]), "skip")
    return ImportResult(rows=planned, dry_run=dry_run)
