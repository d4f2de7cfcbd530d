"""Phone numbers of members: one normal form (11 digits, mainland mobile) and one mask."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-().]")


class PhoneError(ValueError):
    pass


def normalize_phone(raw: str) -> str:
    """``+86 138-1234-5678``, ``0086 13812345678``, ``138 1234 5678`` → ``13812345678``."""
    digits = _SEPARATORS.sub("", str(raw or ""))
    if digits.startswith("+86"):
        digits = digits[3:]
    elif digits.startswith("0086"):
        digits = digits[4:]
    elif digits.startswith("86") and len(digits) == 13:
        digits = digits[2:]
    if not re.fullmatch(r"1[3-9]\d{9}", digits):
        raise PhoneError(raw)
    return digits


def mask_phone(phone: str | None) -> str:
    """``13812345678`` → ``138****5678``; empty for an erased member."""
    if not phone:
        return ""
    if len(phone) < 8:
        return "*" * len(phone)
    return f"{phone[:3]}****{phone[-4:]}"
