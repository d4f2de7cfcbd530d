"""Writes to the channels master data.

``import_sku_relations``: the SKU relation table file (商品关系表, docs/import-formats.md).
One row per component; rows with the same shop and platform SKU form one mapping, and importing
a mapping replaces its components. All rows or none. ``replace_components`` is the same change
for one mapping (the admin inline and the reviewers' fixes use it).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from channels.sellable import recompute_sellable
from config.tabular import (
    Column,
    ImportResult,
    PlannedRow,
    RowError,
    RowErrors,
    parse_decimal,
    read_table,
)
from inventory.models import Product

from .models import Shop, SkuComponent, SkuMapping

# docs/import-formats.md, 商品关系表: one row per component.
SKU_RELATION_COLUMNS = [
    Column("shop", "店铺", note=gettext_lazy("the shop's code")),
    Column(
        "platform_sku",
        "平台商品编码",
        note=gettext_lazy(
            "rows with the same shop and platform SKU are one mapping (a bundle when several)"
        ),
    ),
    Column("product_code", "商品编码", note=gettext_lazy("the ERP's product code")),
    Column("quantity", "数量", note=gettext_lazy("more than 0, up to 4 decimals")),
]


def _components_text(components: dict[str, Decimal]) -> str:
    return ", ".join(f"{code} × {format(q.normalize(), 'f')}" for code, q in components.items())


@transaction.atomic
def replace_components(*, mapping: SkuMapping, components: dict[int, Decimal], actor, reason=""):
    """Make the mapping's components exactly ``{product_id: quantity}``; history records each
    change with the actor. Returns True when anything changed."""
    if not components or any(q <= 0 for q in components.values()):
        raise ValueError(_("a SKU relation needs at least one product with a quantity above 0"))
    current = {c.product_id: c for c in mapping.components.all()}
    changed = False
    for product_id, component in current.items():
        if product_id not in components:
            component._history_user = actor
            component._change_reason = reason[:100]
            component.delete()
            changed = True
    for product_id, quantity in components.items():
        component = current.get(product_id)
        if component is None:
            component = SkuComponent(mapping=mapping, product_id=product_id, quantity=quantity)
        elif component.quantity == quantity:
            continue
        else:
            component.quantity = quantity
        component._history_user = actor
        component._change_reason = reason[:100]
        component.save()
        changed = True
    if changed:
        mapping._history_user = actor
        mapping._change_reason = reason[:100]
        mapping.save()  # updated_at moves: the mapping changed
        recompute_sellable(set(current) | set(components))
    return changed


def import_sku_relations(*, source, actor, filename: str | None = None, dry_run: bool = False):
    """Create or replace the SKU relations of a file; all rows or none.

    Raises ``FileUnreadable`` when the file cannot be read, ``RowErrors`` (nothing written)
    when any row is bad. Returns an :class:`ImportResult` with one entry per mapping.
    """
    table = read_table(source, columns=SKU_RELATION_COLUMNS, filename=filename)
    header = table.header
    shops = {s.code: s for s in Shop.objects.filter(code__in={v["shop"] for _n, v in table})}
    products = dict(
        Product.objects.filter(code__in={v["product_code"] for _n, v in table}).values_list(
            "code", "id"
        )
    )
    errors: list[RowError] = []
    # (shop code, platform sku) -> {"row": first row, "components": {product code: (row, qty)}}
    groups: dict[tuple[str, str], dict] = {}
    for number, values in table:
        ok = True
        for key in ("shop", "platform_sku", "product_code", "quantity"):
            if not values[key]:
                errors.append(RowError(number, header(key), _("a value is required")))
                ok = False
        if values["shop"] and values["shop"] not in shops:
            errors.append(
                RowError(number, header("shop"), _("no shop with code %s") % values["shop"])
            )
            ok = False
        if len(values["platform_sku"]) > 128:
            errors.append(RowError(number, header("platform_sku"), _("longer than 128 characters")))
            ok = False
        if values["product_code"] and values["product_code"] not in products:
            errors.append(
                RowError(
                    number,
                    header("product_code"),
                    _("no product with code %s") % values["product_code"],
                )
            )
            ok = False
        quantity = None
        if values["quantity"]:
            try:
                quantity = parse_decimal(values["quantity"], 4, positive=True)
            except ValueError as exc:
                errors.append(RowError(number, header("quantity"), str(exc)))
                ok = False
        if not ok:
            continue
        group = groups.setdefault(
            (values["shop"], values["platform_sku"]), {"row": number, "components": {}}
        )
        first = group["components"].get(values["product_code"])
        if first is not None:
            errors.append(
                RowError(
                    number,
                    header("product_code"),
                    _("%(code)s appears again for this platform SKU (first in row %(row)d)")
                    % {"code": values["product_code"], "row": first[0]},
                )
            )
            continue
        group["components"][values["product_code"]] = (number, quantity)
    if errors:
        raise RowErrors(errors)

    existing = {
        (m.shop.code, m.platform_sku): m
        for m in SkuMapping.objects.filter(
            shop__code__in={k[0] for k in groups}, platform_sku__in={k[1] for k in groups}
        )
        .select_related("shop")
        .prefetch_related("components__product")
    }
    planned: list[tuple[PlannedRow, tuple[str, str], dict[str, Decimal]]] = []
    for key, group in groups.items():
        wanted = {code: q for code, (_row, q) in group["components"].items()}
        after = _components_text(wanted)
        values = {"shop": key[0], "platform_sku": key[1], "components": after}
        label = f"{key[0]} {key[1]}"
        mapping = existing.get(key)
        if mapping is None:
            planned.append((PlannedRow(group["row"], "new", label, values, {}), key, wanted))
            continue
        current = {c.product.code: c.quantity for c in mapping.components.all()}
        if current == wanted:
            planned.append((PlannedRow(group["row"], "skip", label, values, {}), key, wanted))
        else:
            before = _components_text(current)
            planned.append(
                (
                    PlannedRow(
                        group["row"], "update", label, values, {"components": (before, after)}
                    ),
                    key,
                    wanted,
                )
            )

    result = ImportResult(rows=[p for p, _k, _w in planned], dry_run=dry_run)
    if dry_run:
        return result
    reason = _("imported from %(file)s") % {"file": filename or str(getattr(source, "name", ""))}
    with transaction.atomic():
        for row, key, wanted in planned:
            if row.action == "skip":
                continue
            mapping = existing.get(key)
            if mapping is None:
                mapping = SkuMapping(shop=shops[key[0]], platform_sku=key[1])
                mapping._history_user = actor
                mapping._change_reason = reason[:100]
                mapping.save()
            replace_components(
                mapping=mapping,
                components={products[code]: q for code, q in wanted.items()},
                actor=actor,
                reason=reason,
            )
    return result
