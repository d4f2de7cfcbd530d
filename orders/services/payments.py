"""Payments of store orders (paid at the counter), through a provider seam.

Like the tracking-number providers (orders/services/fulfilment.py): the counter provider
records what a guide confirms was paid (cash, WeChat Pay, Alipay, a bank card: no gateway);
a payment gateway would be another provider registered for its method with
``register_payment_provider``, checking the reference with its service before recording it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Protocol

from django.utils.translation import gettext as _

from core import clock
from core.money import money
from orders.models import Order, Payment


class PaymentError(Exception):
    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


class PaymentProvider(Protocol):
    name: str

    def confirm(self, *, order: Order, method: str, amount: Decimal, reference: str) -> str:
        """Check the payment; return its reference (raise PaymentError when it did not happen)."""


class CounterProvider:
    """The guide's word: what the customer paid at the counter, as typed in."""

    name = "counter"

    def confirm(self, *, order, method, amount, reference) -> str:
        if method != Payment.Method.CASH and not reference.strip():
            raise PaymentError(
                "no_reference",
                _("Enter the payment's reference (the transaction number on the receipt)."),
            )
        return reference.strip()


_PROVIDERS: dict[str, PaymentProvider] = {}


def register_payment_provider(method: str, provider: PaymentProvider | None) -> None:
    """Plug a gateway in for one payment method (None goes back to the counter)."""
    if provider is None:
        _PROVIDERS.pop(method, None)
    else:
        _PROVIDERS[method] = provider


def provider_for(method: str) -> PaymentProvider:
    return _PROVIDERS.get(method) or CounterProvider()


def record_payment(*, order: Order, method: str, amount, reference: str, actor) -> Payment:
    """Write one confirmed payment of a (locked) order. The caller decides whether it is due."""
    if method not in Payment.Method.values:
        raise PaymentError("bad_method", _("Choose how the customer paid."))
    try:
        amount = money(amount)
    except Exception as exc:
        raise PaymentError("bad_amount", _("Enter the amount paid.")) from exc
    if amount <= 0:
        raise PaymentError("bad_amount", _("Enter the amount paid."))
    provider = provider_for(method)
    reference = provider.confirm(order=order, method=method, amount=amount, reference=reference)
    return Payment.objects.create(
        order=order,
        method=method,
        amount=amount,
        reference=reference[:64],
        provider=provider.name,
        actor=actor if getattr(actor, "pk", None) else None,
        created_at=clock.now(),
    )
