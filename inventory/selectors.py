"""Reads of the stock core for screens, checks and APIs."""

from dataclasses import dataclass
from decimal import Decimal

from django.db import connection

from .models import Product, StockLevel, Warehouse


def ledger_mismatches() -> list[dict]:
    """Levels whose on_hand differs from the sum of their ledger (should be none)."""
    sql = """
        SELECT w.code, p.code, COALESCE(l.on_hand, 0), COALESCE(m.total, 0)
        FROM inventory_stocklevel l
        FULL OUTER JOIN (
            SELECT warehouse_id, product_id, SUM(quantity) AS total
            FROM inventory_stockmove GROUP BY warehouse_id, product_id
        ) m ON m.warehouse_id = l.warehouse_id AND m.product_id = l.product_id
        JOIN inventory_warehouse w ON w.id = COALESCE(l.warehouse_id, m.warehouse_id)
        JOIN inventory_product p ON p.id = COALESCE(l.product_id, m.product_id)
        WHERE COALESCE(l.on_hand, 0) <> COALESCE(m.total, 0)
        ORDER BY w.code, p.code
    """
    with connection.cursor() as cur:
        cur.execute(sql)
        return [
            {"warehouse": w, "product": p, "on_hand": on_hand, "ledger": ledger}
            for w, p, on_hand, ledger in cur.fetchall()
        ]


def reservation_mismatches() -> list[dict]:
    """Levels whose reserved differs from the sum of their reservations (should be none)."""
    sql = """
        SELECT w.code, p.code, COALESCE(l.reserved, 0), COALESCE(r.total, 0)
        FROM inventory_stocklevel l
        FULL OUTER JOIN (
            SELECT warehouse_id, product_id, SUM(quantity) AS total
            FROM inventory_reservation GROUP BY warehouse_id, product_id
        ) r ON r.warehouse_id = l.warehouse_id AND r.product_id = l.product_id
        JOIN inventory_warehouse w ON w.id = COALESCE(l.warehouse_id, r.warehouse_id)
        JOIN inventory_product p ON p.id = COALESCE(l.product_id, r.product_id)
        WHERE COALESCE(l.reserved, 0) <> COALESCE(r.total, 0)
        ORDER BY w.code, p.code
    """
    with connection.cursor() as cur:
        cur.execute(sql)
        return [
            {"warehouse": w, "product": p, "reserved": reserved, "reservations": total}
            for w, p, reserved, total in cur.fetchall()
        ]


def transit_mismatches() -> list[dict]:
    """Products whose in-transit level differs from what shipped, not yet received transfers
    carry (should be none)."""
    sql = """
        SELECT p.code, COALESCE(l.on_hand, 0), COALESCE(t.total, 0)
        FROM (
            SELECT product_id, on_hand FROM inventory_stocklevel
            WHERE warehouse_id = (SELECT id FROM inventory_warehouse WHERE kind = 'transit')
        ) l
        FULL OUTER JOIN (
            SELECT tl.product_id, SUM(tl.quantity) AS total
            FROM inventory_transferline tl
            JOIN inventory_transfer t ON t.id = tl.transfer_id AND t.status = 'shipped'
            GROUP BY tl.product_id
        ) t ON t.product_id = l.product_id
        JOIN inventory_product p ON p.id = COALESCE(l.product_id, t.product_id)
        WHERE COALESCE(l.on_hand, 0) <> COALESCE(t.total, 0)
        ORDER BY p.code
    """
    with connection.cursor() as cur:
        cur.execute(sql)
        return [
            {"product": p, "in_transit": level, "transfers": total}
            for p, level, total in cur.fetchall()
        ]


# --- garments: a style as a colour × size grid ------------------------------------------------

_SIZE_ORDER = ["XXS", "XS", "S", "M", "L", "XL", "XXL", "2XL", "XXXL", "3XL", "4XL", "5XL"]


def size_sort_key(size: str):
    """Letter sizes in their natural order, then numeric sizes (28, 30, 165/88A) by number,
    then anything else by text."""
    upper = size.upper()
    if upper in _SIZE_ORDER:
        return (0, _SIZE_ORDER.index(upper), "")
    digits = ""
    for ch in size:
        if not ch.isdigit():
            break
        digits += ch
    if digits:
        return (1, int(digits), size)
    return (2, 0, size)


@dataclass
class LocationStock:
    on_hand: Decimal
    reserved: Decimal

    @property
    def available(self) -> Decimal:
        return self.on_hand - self.reserved


@dataclass
class GridCell:
    product: Product
    stock: dict[str, LocationStock]  # location code → its stock (zero when none)


@dataclass
class StyleGrid:
    style_code: str
    name: str  # of the first product of the style
    colours: list[str]
    sizes: list[str]
    cells: dict[tuple[str, str], GridCell]
    locations: list[str]

    def cell(self, colour: str, size: str) -> GridCell | None:
        return self.cells.get((colour, size))

    def rows(self) -> list[tuple[str, list[GridCell | None]]]:
        """[(colour, [cell per size])] for a template."""
        return [(c, [self.cells.get((c, s)) for s in self.sizes]) for c in self.colours]


def style_grid(style_code: str, *, locations=("main",), active_only: bool = True) -> StyleGrid:
    """A style's colour × size grid with the stock of each product in each location (codes:
    ``"main"``, a store's ``"MD01"``, its samples ``"MD01:sample"``). Colours in the order of
    their first product code, sizes in size order. Raises Product.DoesNotExist when the style
    has no product."""
    products = Product.objects.filter(style_code=style_code)
    if active_only:
        products = products.filter(active=True)
    products = list(products.order_by("code"))
    if not products:
        raise Product.DoesNotExist(style_code)
    locations = list(dict.fromkeys(locations))
    warehouses = dict(Warehouse.objects.filter(code__in=locations).values_list("id", "code"))
    levels = {
        (lv.product_id, warehouses[lv.warehouse_id]): lv
        for lv in StockLevel.objects.filter(
            product__in=[p.id for p in products], warehouse_id__in=list(warehouses)
        )
    }
    zero = Decimal("0.0000")
    cells = {}
    for p in products:
        per = {}
        for code in locations:
            lv = levels.get((p.id, code))
            per[code] = LocationStock(lv.on_hand, lv.reserved) if lv else LocationStock(zero, zero)
        cells[(p.colour, p.size)] = GridCell(p, per)
    colours = list(dict.fromkeys(p.colour for p in products))
    sizes = sorted({p.size for p in products}, key=size_sort_key)
    return StyleGrid(style_code, products[0].name, colours, sizes, cells, locations)
