"""Words for a quote, in the current language: what each step did and what is nearly reached.
Works on a ``Quote`` or on its frozen ``as_dict()`` (what an order keeps)."""

from __future__ import annotations

from django.utils.translation import gettext as _

KIND_LABELS = {
    "member_price": lambda: _("member price"),
    "item_promotion": lambda: _("item promotion"),
    "spend_and_save": lambda: _("spend and save"),
    "red_packet": lambda: _("red packet"),
    "manual": lambda: _("adjusted by the guide"),
}


def _get(obj, name):
    return obj[name] if isinstance(obj, dict) else getattr(obj, name)


def step_text(step) -> str:
    """e.g. "满减 满300减50: 100.00 → 83.33"."""
    kind = _get(step, "kind")
    label = KIND_LABELS.get(kind, lambda: kind)()
    return _("%(kind)s %(label)s: %(before)s → %(after)s") % {
        "kind": label,
        "label": _get(step, "label"),
        "before": _get(step, "before"),
        "after": _get(step, "after"),
    }


def near_miss_text(near) -> str:
    """e.g. "再买 23.00 元可减 50.00 (满300减50)"."""
    values = {
        "missing": _get(near, "missing"),
        "reward": _get(near, "reward"),
        "label": _get(near, "label"),
    }
    if _get(near, "kind") == "cashback":
        return _("Buy %(missing)s more to get a %(reward)s red packet (%(label)s)") % values
    return _("Buy %(missing)s more to save %(reward)s (%(label)s)") % values


def cashback_text(amount) -> str:
    """e.g. "A red packet of 20.00 comes back after the after-sales window."."""
    return _("A red packet of %(amount)s comes back after the after-sales window.") % {
        "amount": amount
    }


def red_packet_text(amount) -> str:
    return _("Red packet spent: %(amount)s") % {"amount": amount}


def explain(quote) -> dict:
    """Lines of text per cart line, the near misses, and the order-level facts."""
    return {
        "lines": {
            _get(line, "key"): [step_text(s) for s in _get(line, "steps")]
            for line in _get(quote, "lines")
        },
        "near_misses": [near_miss_text(n) for n in _get(quote, "near_misses")],
        "cashback": _get(quote, "cashback"),
        "red_packet_spent": _get(quote, "red_packet_spent"),
    }
