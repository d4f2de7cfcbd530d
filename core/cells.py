"""Cells of the spreadsheets and CSV files tongcang writes.

A text from a platform, a file or a person that starts with ``=``, ``+``, ``-``, ``@``, tab, CR
or NUL would be run as a formula when the file is opened (``=HYPERLINK(…)``, OWASP "CSV
injection"): every export writes its cells through :func:`escape_formula`, which makes such a
text plain by a leading apostrophe. Plain numbers (``-12.5``) stay numbers.
"""

from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\x00")
_PLAIN_NUMBER = re.compile(r"^[+-]?\d+(\.\d+)?$")


def escape_formula(value):
    """A cell a spreadsheet would run as a formula, made plain text."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        if _PLAIN_NUMBER.match(value):  # -12.5 is a number, not a formula
            return value
        return "'" + value
    return value


def escape_row(row) -> list:
    return [escape_formula(cell) for cell in row]
