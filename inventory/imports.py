"""Importing the products file (商品, docs/import-formats.md): all rows or none.

``import_products`` is the one entry point, used by the admin (preview = dry run, then the real
import) and by ``manage.py import_products``. Every change is saved through the model so the
master-data history records who imported what, before and after.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from config.tabular import (
    Column,
    ImportResult,
    PlannedRow,
    RowError,
    RowErrors,
    parse_decimal,
    parse_money,
    read_table,
)

from .models import Product

GARMENT_NOTE = gettext_lazy("clothing: style code, colour and size, all three or none")
PRODUCT_COLUMNS = [
    Column("product_code", "商品编码", note=gettext_lazy("the ERP's product code")),
    Column("name", "商品名称"),
    Column("barcode", "条码"),
    Column("unit", "单位", note=gettext_lazy("e.g. 件, kg")),
    Column("spec", "规格", required=False),
    Column("weight_kg", "重量", required=False, note=gettext_lazy("in kg")),
    Column("list_price", "零售价", required=False, note=gettext_lazy("in yuan")),
    Column("style_code", "款号", required=False, note=GARMENT_NOTE),
    Column("colour", "颜色", required=False, note=GARMENT_NOTE),
    Column("size", "尺码", required=False, note=GARMENT_NOTE),
    Column("location", "库位", required=False, note=gettext_lazy("the bin shown on pick lists")),
]
GARMENT_KEYS = ("style_code", "colour", "size")

# column key -> model field
_FIELDS = {
    "name": "name",
    "barcode": "barcode",
    "unit": "unit",
    "spec": "spec",
    "weight_kg": "weight_kg",
    "list_price": "list_price",
    "style_code": "style_code",
    "colour": "colour",
    "size": "size",
    "location": "location",
}
_MAX_LENGTH = {
    "product_code": 64,
    "name": 200,
    "barcode": 64,
    "unit": 16,
    "spec": 100,
    "style_code": 64,
    "colour": 32,
    "size": 16,
    "location": 32,
}


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return format(value, "f")
    return str(value)


def _parse_row(values: dict[str, str], header, number: int, errors: list[RowError]):
    parsed: dict = {}
    ok = True

    def fail(key, reason):
        nonlocal ok
        ok = False
        errors.append(RowError(number, header(key), reason))

    for key in ("product_code", "name"):
        if not values[key]:
            fail(key, _("a value is required"))
    for key, limit in _MAX_LENGTH.items():
        if len(values[key]) > limit:
            fail(key, _("longer than %(limit)d characters") % {"limit": limit})
    parsed["code"] = values["product_code"]
    parsed["name"] = values["name"]
    parsed["barcode"] = values["barcode"] or None
    parsed["unit"] = values["unit"]
    parsed["spec"] = values["spec"]
    parsed["location"] = values["location"]
    parsed["weight_kg"] = None
    if values["weight_kg"]:
        try:
            parsed["weight_kg"] = parse_decimal(values["weight_kg"], 3)
            if parsed["weight_kg"] < 0:
                fail("weight_kg", _("cannot be negative"))
        except ValueError as exc:
            fail("weight_kg", str(exc))
    garment = {key: values[key] for key in GARMENT_KEYS}
    given = [key for key in GARMENT_KEYS if garment[key]]
    if given and len(given) < len(GARMENT_KEYS):
        for key in GARMENT_KEYS:
            if not garment[key]:
                fail(key, _("style code, colour and size go together: all three or none"))
    parsed.update(garment)
    parsed["list_price"] = None
    if values["list_price"]:
        try:
            parsed["list_price"] = parse_money(values["list_price"])
        except ValueError as exc:
            fail("list_price", str(exc))
    return parsed if ok else None


def import_products(*, source, actor, filename: str | None = None, dry_run: bool = False):
    """Create or update the products of a file, keyed by product code; all rows or none.

    Raises ``FileUnreadable`` when the file cannot be read, ``RowErrors`` (nothing written)
    when any row is bad. Returns an :class:`ImportResult` (``dry_run``: what would happen).
    """
    table = read_table(source, columns=PRODUCT_COLUMNS, filename=filename)
    header = table.header
    errors: list[RowError] = []
    parsed_rows: list[tuple[int, dict]] = []
    seen_codes: dict[str, int] = {}
    seen_barcodes: dict[str, int] = {}
    seen_garments: dict[tuple[str, str, str], int] = {}
    for number, values in table:
        parsed = _parse_row(values, header, number, errors)
        if parsed is None:
            continue
        if parsed["code"] in seen_codes:
            errors.append(
                RowError(
                    number,
                    header("product_code"),
                    _("%(code)s appears again (first in row %(row)d)")
                    % {"code": parsed["code"], "row": seen_codes[parsed["code"]]},
                )
            )
            continue
        seen_codes[parsed["code"]] = number
        if parsed["barcode"]:
            if parsed["barcode"] in seen_barcodes:
                errors.append(
                    RowError(
                        number,
                        header("barcode"),
                        _("barcode %(barcode)s appears again (first in row %(row)d)")
                        % {"barcode": parsed["barcode"], "row": seen_barcodes[parsed["barcode"]]},
                    )
                )
                continue
            seen_barcodes[parsed["barcode"]] = number
        if parsed["style_code"]:
            garment = (parsed["style_code"], parsed["colour"], parsed["size"])
            if garment in seen_garments:
                errors.append(
                    RowError(
                        number,
                        header("size"),
                        _("%(style)s %(colour)s %(size)s appears again (first in row %(row)d)")
                        % {
                            "style": garment[0],
                            "colour": garment[1],
                            "size": garment[2],
                            "row": seen_garments[garment],
                        },
                    )
                )
                continue
            seen_garments[garment] = number
        parsed_rows.append((number, parsed))

    existing = {p.code: p for p in Product.objects.filter(code__in=list(seen_codes))}
    barcode_owners = dict(
        Product.objects.filter(barcode__in=list(seen_barcodes)).values_list("barcode", "code")
    )
    for number, parsed in parsed_rows:
        owner = barcode_owners.get(parsed["barcode"]) if parsed["barcode"] else None
        if owner and owner != parsed["code"] and owner not in seen_codes:
            errors.append(
                RowError(
                    number,
                    header("barcode"),
                    _("barcode %(barcode)s already belongs to product %(code)s")
                    % {"barcode": parsed["barcode"], "code": owner},
                )
            )
    if seen_garments:
        taken = {
            (style, colour, size): code
            for style, colour, size, code in Product.objects.filter(
                style_code__in={g[0] for g in seen_garments}
            ).values_list("style_code", "colour", "size", "code")
        }
        for number, parsed in parsed_rows:
            garment = (parsed["style_code"], parsed["colour"], parsed["size"])
            owner = taken.get(garment)
            if owner and owner != parsed["code"] and owner not in seen_codes:
                errors.append(
                    RowError(
                        number,
                        header("size"),
                        _("%(style)s %(colour)s %(size)s already belongs to product %(code)s")
                        % {
                            "style": garment[0],
                            "colour": garment[1],
                            "size": garment[2],
                            "code": owner,
                        },
                    )
                )
    if errors:
        raise RowErrors(errors)

    planned: list[tuple[PlannedRow, Product]] = []
    for number, parsed in parsed_rows:
        product = existing.get(parsed["code"])
        shown = {"product_code": parsed["code"]} | {
            key: _text(parsed[field]) for key, field in _FIELDS.items()
        }
        if product is None:
            product = Product(**parsed)
            planned.append((PlannedRow(number, "new", parsed["code"], shown, {}), product))
            continue
        changes = {}
        for key, field in _FIELDS.items():
            before, after = getattr(product, field), parsed[field]
            if field == "barcode":
                before = before or None
            if before != after:
                changes[key] = (_text(before), _text(after))
                setattr(product, field, after)
        action = "update" if changes else "skip"
        planned.append((PlannedRow(number, action, parsed["code"], shown, changes), product))

    result = ImportResult(rows=[p for p, _obj in planned], dry_run=dry_run)
    if dry_run:
        return result
    reason = _("imported from %(file)s") % {"file": filename or _text(getattr(source, "name", ""))}
    with transaction.atomic():
        # Barcodes that move between products of this file: free them first so the unique
        # constraint never sees two owners in the middle of the import.
        moving = [
            obj
            for row, obj in planned
            if row.action == "update" and "barcode" in row.changes and row.changes["barcode"][0]
        ]
        if moving:
            Product.objects.filter(pk__in=[o.pk for o in moving]).update(barcode=None)
        # The same for a style/colour/size that moves between products of this file.
        regrouped = [
            obj
            for row, obj in planned
            if row.action == "update" and {"style_code", "colour", "size"} & row.changes.keys()
        ]
        if regrouped:
            Product.objects.filter(pk__in=[o.pk for o in regrouped]).update(
                style_code="", colour="", size=""
            )
        for row, product in planned:
            if row.action == "skip":
                continue
            product._history_user = actor
            product._change_reason = reason[:100]
            product.save()
    return result
