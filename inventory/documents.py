"""Ledger documents in words. A stock move or reservation names its document as "kind:key"
(``order:3``, ``return:1``, ``erp:…``, ``demo:initial``); each app that writes such documents
registers how its kind reads (a number and a link), so the ledger never shows the raw code and
inventory imports nothing from the apps above it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

# kind → function(keys) → {key: (label, url or None)}; called once per kind per page.
_DESCRIBERS: dict[str, Callable[[list[str]], dict[str, tuple[str, str | None]]]] = {}

FIXED = {
    "demo:initial": _("demo data: initial stock"),
    "demo:store-stock": _("demo data: the experience store's stock"),
}
# Kinds without a describer whose every document reads the same (other demo loads).
BY_KIND = {"demo": _("demo data")}


def register(kind: str, describe: Callable[[list[str]], dict[str, tuple[str, str | None]]]):
    _DESCRIBERS[kind] = describe


def describe(documents: list[str]) -> dict[str, tuple[str, str | None]]:
    """document → (words, link or None) for every document given."""
    by_kind: dict[str, list[str]] = {}
    for document in set(documents):
        kind, _sep, key = (document or "").partition(":")
        by_kind.setdefault(kind, []).append(key)
    out: dict[str, tuple[str, str | None]] = {}
    for kind, keys in by_kind.items():
        described = _DESCRIBERS[kind](keys) if kind in _DESCRIBERS else {}
        for key in keys:
            document = f"{kind}:{key}" if key else kind
            if document in FIXED:
                out[document] = (str(FIXED[document]), None)
            elif key in described:
                out[document] = described[key]
            elif kind in BY_KIND:
                out[document] = (str(BY_KIND[kind]), None)
            else:
                out[document] = (document, None)
    return out


def as_html(document: str, described: dict[str, tuple[str, str | None]]):
    label, url = described.get(document, (document, None))
    if url:
        return format_html('<a href="{}">{}</a>', url, label)
    return label
