"""Encrypted buyer details (密文订单) as the sandbox renders them.

TOP and JD no longer hand an order manager the receiver in clear: the order carries masked
values (张**, 138****5678, a partial address) and an opaque id of the receiver (TOP's ``oaid``).
The clear text is printed by the carrier's electronic waybill service, which takes that id, or
read through a rationed decryption call.

Sandbox choices (see PROTOCOLS.md): the masks' exact shape; the oaid is derived from the
platform, seller and the full receiver (so two orders to the same receiver of one seller share
it, as merging needs); every fifth order's mobile is a privacy number (隐私号).
"""

from __future__ import annotations

import hashlib


def mask_name(name: str) -> str:
    return (name[:1] + "*" * max(1, len(name) - 1)) if name else ""


def mask_phone(phone: str) -> str:
    return f"{phone[:3]}****{phone[-4:]}" if len(phone) >= 8 else "*" * len(phone)


def mask_address(address: str) -> str:
    """Keep the road, hide the house number and the rest."""
    head = address
    for i, ch in enumerate(address):
        if ch.isdigit():
            head = address[:i]
            break
    return head + "*" * 8


def oaid(seller: str, order: dict) -> str:
    key = "|".join(
        [
            seller,
            order["receiver_name"],
            order["receiver_mobile"],
            order["receiver_state"],
            order["receiver_city"],
            order["receiver_district"],
            order["receiver_address"],
        ]
    )
    return "1" + hashlib.sha256(key.encode()).hexdigest()[:39].upper()


def privacy_number(order: dict) -> str | None:
    """A virtual number standing in for the buyer's mobile on some orders (隐私号)."""
    digest = int(hashlib.md5(order["tid"].encode()).hexdigest(), 16)
    if digest % 5:
        return None
    return f"170{digest % 10**8:08d}-{digest % 10**4:04d}"


def receiver_clear(order: dict) -> dict:
    return {
        "name": order["receiver_name"],
        "mobile": order["receiver_mobile"],
        "state": order["receiver_state"],
        "city": order["receiver_city"],
        "district": order["receiver_district"],
        "address_detail": order["receiver_address"],
    }


def find_by_oaid(state, platforms, receiver_id: str, tid: str):
    """(seller, order) of the order ``tid`` whose receiver id is ``receiver_id``; None if no
    such order, (seller, order) with a different receiver id → caller says "not matched"."""
    with state.lock:
        for seller in platforms:
            order = state.orders.get(seller, {}).get(str(tid))
            if order is not None:
                return seller, order
    return None
