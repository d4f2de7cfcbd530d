"""Bulk writes for intake: PostgreSQL COPY of many rows, and ids drawn from a table's sequence.

Used where thousands of orders arrive at once; the rows are the same the ORM would write
(every concrete field, defaults and auto_now values filled in from the model).
"""

from __future__ import annotations

import json

from django.db import connection, models
from django.utils import timezone

_SEQUENCES: dict[tuple[str, str], str] = {}


def next_ids(model, count: int) -> list[int]:
    """``count`` ids of the model's table, drawn from its id sequence (ascending)."""
    if count <= 0:
        return []
    with connection.cursor() as cur:
        # The sequence's name is looked up once per table: pg_get_serial_sequence() inside the
        # select list runs for every id drawn (5× the time of the nextval calls themselves).
        key = (connection.settings_dict["NAME"], model._meta.db_table)
        sequence = _SEQUENCES.get(key)
        if sequence is None:
            cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", [model._meta.db_table])
            sequence = _SEQUENCES[key] = cur.fetchone()[0]
        cur.execute(
            "SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, int(count)]
        )
        return sorted(r[0] for r in cur.fetchall())


def copy_tuples(model, columns: list[str], rows) -> int:
    """Insert rows given as tuples of ``columns`` (attnames) with COPY; every other field
    (the id aside) takes the model's default, as with ``copy_insert``. For the many narrow
    rows of intake (lines, components): no dict per row, no lookup per field, and ``rows`` may
    be a generator, so later rows are made while the server takes in the earlier ones."""
    by_name = {f.attname: f for f in model._meta.concrete_fields}
    rest = [
        f for f in model._meta.concrete_fields if f.attname not in columns and not f.primary_key
    ]
    now = timezone.now()
    tail = []
    for f in rest:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            tail.append(now)
        else:
            value = f.get_default()
            if isinstance(f, models.JSONField) and value is not None:
                value = json.dumps(value, ensure_ascii=False)
            tail.append(value)
    tail = tuple(tail)
    if any(isinstance(by_name[c], models.JSONField) for c in columns):
        raise ValueError("copy_tuples takes no JSON column: use copy_insert")
    quote = connection.ops.quote_name
    names = ", ".join(quote(by_name[c].column) for c in columns) + "".join(
        f", {quote(f.column)}" for f in rest
    )
    sql = f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"
    count = 0
    with connection.cursor() as cur, connection.wrap_database_errors:
        with cur.cursor.copy(sql) as copy:
            write = copy.write_row
            for row in rows:
                write(row + tail)
                count += 1
    return count


def copy_insert(model, rows: list[dict], *, with_id: bool = False) -> int:
    """Insert rows ({attname: value}) with COPY; fields not given take the model's default."""
    if not rows:
        return 0
    fields = [f for f in model._meta.concrete_fields if with_id or not f.primary_key]
    now = timezone.now()
    defaults = {}
    for f in fields:
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            defaults[f.attname] = now
        else:  # the model's default; "" for text fields that are not nullable, else None
            defaults[f.attname] = f.get_default()
    # Per row: one list comprehension over (name, default) pairs, then JSON for the few JSON
    # columns (a per-field branch inside the loop cost more than the COPY itself).
    pairs = [(f.attname, defaults[f.attname]) for f in fields]
    json_at = [i for i, f in enumerate(fields) if isinstance(f, models.JSONField)]
    dumps = json.dumps
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    sql = f"COPY {connection.ops.quote_name(model._meta.db_table)} ({columns}) FROM STDIN"
    with connection.cursor() as cur, connection.wrap_database_errors:
        with cur.cursor.copy(sql) as copy:
            write = copy.write_row
            for row in rows:
                get = row.get
                values = [get(name, default) for name, default in pairs]
                for i in json_at:
                    value = values[i]
                    if value is not None:
                        # an empty object is most orders' raw platform data: no encoder call
                        values[i] = "{}" if value == {} else dumps(value, ensure_ascii=False)
                write(values)
    return len(rows)
