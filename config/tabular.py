"""Reading the files people import: CSV (UTF-8 with or without BOM, GB18030) or XLSX.

One reader for every import (products, SKU relations, standard-format orders), so that every
import accepts the same files and reports problems the same way (docs/import-formats.md):

* ``read_table(source, columns=[Column(...), ...])`` returns ``(row_number, {key: value})`` for
  every non-blank row, with the headers given in Chinese or English, in any order. A file that
  cannot be read at all raises :class:`FileUnreadable` (commands exit 2 with ``str(exc)``).
* Importers check every row, collect a :class:`RowError` per bad cell and raise
  :class:`RowErrors` before writing anything (commands print each as ``row N: column: reason``
  and exit 1).
* ``parse_decimal``/``parse_money``/``parse_positive_int``/``parse_datetime_shanghai`` turn a
  cell into a value or raise ``ValueError`` with a reason a person understands.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
import zipfile
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

SHANGHAI = ZoneInfo("Asia/Shanghai")

__all__ = [
    "Column",
    "FileUnreadable",
    "RowError",
    "RowErrors",
    "Table",
    "PlannedRow",
    "ImportResult",
    "read_table",
    "parse_decimal",
    "parse_money",
    "parse_positive_int",
    "parse_datetime_shanghai",
]


@dataclass(frozen=True)
class Column:
    key: str  # English header, e.g. "shop"
    zh: str  # Chinese header, e.g. "店铺"
    required: bool = True
    note: str = ""  # what the value is, for the import page (a lazy translation)


class FileUnreadable(Exception):
    """The file as a whole cannot be read: wrong encoding, not CSV/XLSX, no header, a required
    column missing. ``str(exc)`` is one line meant for the person who uploaded it."""


@dataclass(frozen=True)
class RowError:
    row: int  # row number as the person sees it in the spreadsheet (header is row 1)
    column: str  # the header as written in the file (or the key)
    reason: str

    def __str__(self):
        return f"row {self.row}: {self.column}: {self.reason}"


class RowErrors(Exception):
    """Raised by an importer when any row is bad; nothing has been written."""

    def __init__(self, errors: list[RowError]):
        self.errors = sorted(errors, key=lambda e: e.row)
        super().__init__("\n".join(str(e) for e in self.errors))

    def __iter__(self):
        return iter(self.errors)

    def __len__(self):
        return len(self.errors)


class Table(list):
    """The rows ``read_table`` returns: a plain list of ``(row_number, {key: value})``.

    ``headers`` maps each column key found in the file to its header as written there, so a
    :class:`RowError` can name the column the way the person sees it: ``table.header("shop")``.
    """

    def __init__(self, rows=(), headers=None):
        super().__init__(rows)
        self.headers: dict[str, str] = dict(headers or {})

    def header(self, key: str) -> str:
        return self.headers.get(key, key)


# --- reading -----------------------------------------------------------------------------------

_XLSX_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"  # the old binary .xls


def _read_bytes(source) -> tuple[bytes, str | None]:
    if isinstance(source, bytes | bytearray | memoryview):
        return bytes(source), None
    if isinstance(source, str | os.PathLike):
        path = Path(source)
        try:
            return path.read_bytes(), path.name
        except OSError as exc:
            raise FileUnreadable(
                _("cannot open the file %(name)s: %(error)s")
                % {"name": path, "error": exc.strerror or exc}
            ) from exc
    if hasattr(source, "read"):
        if hasattr(source, "seek"):
            try:
                source.seek(0)
            except (OSError, ValueError):
                pass
        data = source.read()
        if isinstance(data, str):  # a text stream: take it as UTF-8 text
            data = data.encode("utf-8")
        return data, getattr(source, "name", None)
    raise TypeError(f"read_table() cannot read a {type(source).__name__}")


def _decode(data: bytes) -> str:
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel's "Unicode text" (UTF-16)
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            pass
    if b"\x00" in data:
        raise FileUnreadable(_("the file is neither a CSV text file nor an XLSX workbook"))
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileUnreadable(
        _("the file cannot be read as text: save it as CSV in UTF-8 or GB18030, or as XLSX")
    )


def _csv_rows(data: bytes) -> list[list[str]]:
    text = _decode(data)
    sample = text[:4096]
    delimiter = ","
    first_line = sample.splitlines()[0] if sample.splitlines() else ""
    if first_line.count(",") == 0:
        if first_line.count("\t") > 0:
            delimiter = "\t"
        elif first_line.count(";") > 0:
            delimiter = ";"
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error as exc:
        raise FileUnreadable(_("the CSV file is malformed: %(error)s") % {"error": exc}) from exc


def cell_to_str(value) -> str:
    """A spreadsheet cell as the text a person sees: numbers without float noise."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        if value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        # Excel keeps 15 significant digits; anything beyond is binary noise.
        text = format(Decimal(f"{value:.15g}"), "f")
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        return text
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M:%S")
    return str(value)


HEADER_SCAN_COLUMNS = 200  # the header is looked for in the first 200 columns only
HEADER_SCAN_ROWS = 1000  # … and in the first 1,000 rows


def _limits() -> tuple[int, int]:
    from django.conf import settings

    return (
        getattr(settings, "IMPORT_MAX_ROWS", 100_000),
        getattr(settings, "IMPORT_MAX_UNZIPPED_BYTES", 200 * 1024 * 1024),
    )


def _too_many_rows(limit: int) -> FileUnreadable:
    return FileUnreadable(
        _("the file has more than %(limit)d rows: split it into smaller files") % {"limit": limit}
    )


def _check_unzipped_size(data: bytes, limit: int) -> None:
    """A zip bomb is refused before anything is inflated: the members' declared sizes are summed
    (zipfile never inflates a member beyond its declared size)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            total = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise FileUnreadable(_("the XLSX workbook cannot be opened: it is damaged")) from exc
    if total > limit:
        raise FileUnreadable(
            _("the XLSX workbook unpacks to %(size)d MB, more than the %(limit)d MB allowed")
            % {"size": total // (1024 * 1024), "limit": limit // (1024 * 1024)}
        )


def _xlsx_rows(data: bytes) -> list[list[str]]:
    """The first sheet's rows, as wide as its header and no more.

    openpyxl pads every row to the sheet's widest column: one cell in column XFD per row would
    make every row 16,384 values. So the header is found first (in the first columns and rows),
    and then only the header's width is read, for at most ``IMPORT_MAX_ROWS`` rows."""
    from openpyxl import load_workbook

    max_rows, max_unzipped = _limits()
    _check_unzipped_size(data, max_unzipped)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, Exception) as exc:  # openpyxl raises several kinds
        raise FileUnreadable(_("the XLSX workbook cannot be opened: it is damaged")) from exc
    try:
        sheet = workbook.worksheets[0] if workbook.worksheets else None
        if sheet is None:
            return []
        rows: list[list[str]] = []
        width = 0
        for row in sheet.iter_rows(
            values_only=True, max_col=HEADER_SCAN_COLUMNS, max_row=HEADER_SCAN_ROWS
        ):
            cells = [cell_to_str(v) for v in row]
            filled = [i for i, c in enumerate(cells) if c.strip()]
            if filled:
                width = filled[-1] + 1
                break
            rows.append([])
        if not width:
            return []
        start = len(rows) + 1
        last = start + max_rows  # the header and max_rows rows; a filled row after is too many
        for index, row in enumerate(
            sheet.iter_rows(values_only=True, min_row=start, max_col=width)
        ):
            cells = [cell_to_str(v) for v in row]
            filled = any(c.strip() for c in cells)
            if start + index > last:
                if filled:
                    raise _too_many_rows(max_rows)
                continue
            rows.append(cells if filled else [])
        return rows
    finally:
        workbook.close()


def _norm_header(text: str) -> str:
    return re.sub(r"\s+", "", str(text).replace("\ufeff", "")).lower()


def read_table(
    source, *, columns: list[Column], filename: str | None = None
) -> list[tuple[int, dict[str, str]]]:
    """Read a CSV or XLSX file into ``(row_number, {key: value})`` for every non-blank row.

    ``source`` is a path, bytes or a binary file object (an uploaded file). Every value is a
    stripped string; a column absent from the file reads as "". Row numbers are the ones the
    person sees in the spreadsheet (the header is row 1). The result is a :class:`Table`.
    """
    data, source_name = _read_bytes(source)
    name = (filename or source_name or "").lower()
    if not data.strip():
        raise FileUnreadable(_("the file is empty: it has no header row"))
    # By content, not by name: platforms often export text files named .xls.
    if data[:4] == _OLE_MAGIC:
        raise FileUnreadable(_("old Excel .xls files cannot be read: save the file as XLSX or CSV"))
    if data[:4] == _XLSX_MAGIC:
        rows = _xlsx_rows(data)
    elif name.endswith((".xlsx", ".xlsm")):
        raise FileUnreadable(_("the XLSX workbook cannot be opened: it is damaged"))
    else:
        rows = _csv_rows(data)

    # The header is the first row that is not blank.
    header_index = next((i for i, row in enumerate(rows) if any(str(c).strip() for c in row)), None)
    if header_index is None:
        raise FileUnreadable(_("the file is empty: it has no header row"))
    header = rows[header_index]

    by_name: dict[str, Column] = {}
    for column in columns:
        by_name[_norm_header(column.key)] = column
        by_name[_norm_header(column.zh)] = column
    positions: dict[str, int] = {}
    headers: dict[str, str] = {}
    for index, raw in enumerate(header):
        column = by_name.get(_norm_header(raw))
        if column is None:
            continue
        if column.key in positions:
            raise FileUnreadable(
                _("the column %(zh)s (%(key)s) appears twice in the header")
                % {"zh": column.zh, "key": column.key}
            )
        positions[column.key] = index
        headers[column.key] = str(raw).replace("\ufeff", "").strip()

    missing = [c for c in columns if c.required and c.key not in positions]
    if missing:
        names = ", ".join(f"{c.zh} ({c.key})" for c in missing)
        if not positions:
            raise FileUnreadable(
                _("no known column in the header row; required columns: %(names)s")
                % {"names": names}
            )
        raise FileUnreadable(_("required columns missing: %(names)s") % {"names": names})

    max_rows, _unzipped = _limits()
    if len(rows) - header_index - 1 > max_rows:
        raise _too_many_rows(max_rows)
    table = Table(headers=headers)
    for offset, row in enumerate(rows[header_index + 1 :], start=header_index + 2):
        if not any(str(c).strip() for c in row):
            continue
        values = {}
        for column in columns:
            index = positions.get(column.key)
            values[column.key] = (
                str(row[index]).strip() if index is not None and index < len(row) else ""
            )
        table.append((offset, values))
    return table


# --- parsing one cell -------------------------------------------------------------------------

_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_GROUPED = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d*)?$")


def parse_decimal(text: str, places: int, *, positive: bool = False) -> Decimal:
    """A decimal number with at most ``places`` decimal places ("1,234.5" allowed)."""
    raw = (text or "").strip()
    if not raw:
        raise ValueError(_("a number is required"))
    if _GROUPED.match(raw):
        raw = raw.replace(",", "")
    if not _NUMBER.match(raw):
        raise ValueError(_("%(value)s is not a number") % {"value": repr(text.strip())})
    try:
        value = Decimal(raw)
    except InvalidOperation as exc:  # pragma: no cover - the pattern above guards this
        raise ValueError(_("%(value)s is not a number") % {"value": repr(text.strip())}) from exc
    quantum = Decimal(1).scaleb(-places)
    if value != value.quantize(quantum):
        raise ValueError(
            _("%(value)s has more than %(places)d decimal places")
            % {"value": raw, "places": places}
        )
    if positive and value <= 0:
        raise ValueError(_("must be greater than 0"))
    return value.quantize(quantum)


def parse_money(text: str) -> Decimal:
    """An amount of CNY, 2 decimal places, not negative ("¥12.50" allowed)."""
    raw = (text or "").strip().lstrip("¥￥").strip()
    if not raw:
        raise ValueError(_("an amount is required"))
    value = parse_decimal(raw, 2)
    if value < 0:
        raise ValueError(_("an amount cannot be negative"))
    return value


def parse_positive_int(text: str) -> int:
    """A whole number greater than 0 ("3" or "3.0")."""
    raw = (text or "").strip()
    if not raw:
        raise ValueError(_("a whole number is required"))
    try:
        value = parse_decimal(raw, 4)
    except ValueError:
        raise ValueError(_("%(value)s is not a whole number") % {"value": repr(raw)}) from None
    if value != value.to_integral_value():
        raise ValueError(_("%(value)s is not a whole number") % {"value": repr(raw)})
    if value <= 0:
        raise ValueError(_("must be greater than 0"))
    return int(value)


def parse_datetime_shanghai(text: str) -> dt.datetime:
    """A date and time; Asia/Shanghai unless the text carries an offset. Returns an aware
    datetime. Accepts "2026-11-11 00:03:12", "2026/11/11 0:03", ISO 8601 with T, Z or +08:00."""
    raw = (text or "").strip()
    if not raw:
        raise ValueError(_("a date and time is required"))
    candidate = raw.replace("/", "-")
    candidate = re.sub(r"\s+", " ", candidate)
    if candidate.endswith(("Z", "z")):
        candidate = candidate[:-1] + "+00:00"
    value = None
    try:
        value = dt.datetime.fromisoformat(candidate)
    except ValueError:
        # Single-digit month/day/hour as spreadsheets write them: 2026-1-5 9:03
        match = re.match(
            r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?"
            r"\s*([+-]\d{2}:?\d{2})?$",
            candidate,
        )
        if match:
            year, month, day, hour, minute, second, frac, offset = match.groups()
            try:
                value = dt.datetime(
                    int(year),
                    int(month),
                    int(day),
                    int(hour or 0),
                    int(minute or 0),
                    int(second or 0),
                    int((frac or "0").ljust(6, "0")),
                )
            except ValueError:
                value = None
            if value is not None and offset:
                sign = 1 if offset[0] == "+" else -1
                digits = offset[1:].replace(":", "")
                delta = dt.timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
                value = value.replace(tzinfo=dt.timezone(sign * delta))
    if value is None:
        raise ValueError(
            _("%(value)s is not a date and time (expected e.g. 2026-11-11 09:30:00)")
            % {"value": repr(raw)}
        )
    if value.tzinfo is None:
        value = value.replace(tzinfo=SHANGHAI)
    return value


# --- what an import did (or, in a dry run, would do) ------------------------------------------


@dataclass
class PlannedRow:
    """One object an import creates, updates or leaves unchanged (the admin preview shows it)."""

    row: int  # the first spreadsheet row that describes the object
    action: str  # "new", "update" or "skip" (unchanged)
    label: str  # how a person names the object, e.g. "P-TEA-LJ" or "MGJ01 MGJ-GIFTBOX"
    values: dict[str, str]  # column key -> value after the import, as text
    changes: dict[str, tuple[str, str]]  # column key -> (before, after), for updates


@dataclass
class ImportResult:
    rows: list[PlannedRow]
    dry_run: bool = False

    def count(self, action: str) -> int:
        return sum(1 for r in self.rows if r.action == action)

    @property
    def created(self) -> int:
        return self.count("new")

    @property
    def updated(self) -> int:
        return self.count("update")

    @property
    def unchanged(self) -> int:
        return self.count("skip")

    def summary(self) -> str:
        text = _("created %(created)d, updated %(updated)d, unchanged %(unchanged)d") % {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
        }
        if self.dry_run:
            text += " " + _("(dry run: nothing written)")
        return text


# --- the import commands ----------------------------------------------------------------------


def add_import_arguments(parser):
    """The arguments every ``import_*`` command takes."""
    parser.add_argument("file", help="CSV (UTF-8 or GB18030) or XLSX file")
    parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
    parser.add_argument(
        "--user", help="user name recorded as the one who made the changes (default: none)"
    )


def run_import_command(
    command, import_function, *, path: str, dry_run: bool, user: str | None = None
):
    """What every ``import_*`` command does (docs/commands.md): print what was created,
    updated and unchanged; on bad rows print each as ``row N: column: reason`` and exit 1
    having written nothing; exit 2 with one line when the file cannot be read at all.
    ``user``: the user name recorded as actor in the history (exit 2 when unknown)."""
    from django.contrib.auth import get_user_model

    actor = None
    if user:
        actor = get_user_model().objects.filter(username=user).first()
        if actor is None:
            command.stderr.write(_("no user named %(user)s") % {"user": user})
            raise SystemExit(2)
    try:
        result = import_function(
            source=Path(path), filename=Path(path).name, actor=actor, dry_run=dry_run
        )
    except FileUnreadable as exc:
        command.stderr.write(f"{path}: {exc}")
        raise SystemExit(2) from None
    except RowErrors as exc:
        for error in exc.errors:
            command.stderr.write(str(error))
        command.stderr.write(
            _("%(count)d bad row(s): nothing imported")
            % {"count": len({e.row for e in exc.errors})}
        )
        raise SystemExit(1) from None
    for row in result.rows:
        if row.action == "update":
            changes = "; ".join(f"{k}: {a} → {b}" for k, (a, b) in row.changes.items())
            command.stdout.write(
                _("updated %(label)s: %(changes)s") % {"label": row.label, "changes": changes}
            )
        elif row.action == "new":
            command.stdout.write(_("created %(label)s") % {"label": row.label})
    command.stdout.write(result.summary())
    return result
