"""Forms of the after-sales screens. They only parse input; the services decide."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from orders.selectors import paid_for

from . import selectors
from .models import ReturnOrder

QTY_FIELD = {"max_digits": 18, "decimal_places": 4, "min_value": Decimal("0")}
MONEY_FIELD = {"max_digits": 14, "decimal_places": 2, "min_value": Decimal("0")}


class PickOrderForm(forms.Form):
    order_number = forms.CharField(
        label=_("Order number"),
        max_length=64,
        help_text=_("Our order number, or the platform's order number."),
    )

    def clean_order_number(self):
        number = self.cleaned_data["order_number"].strip()
        found = selectors.orders_by_number(number)
        if not found:
            raise forms.ValidationError(gettext("No order has this number."))
        if len(found) > 1:
            raise forms.ValidationError(
                gettext("Several orders share this platform order number; give ours: %(nos)s")
                % {"nos": ", ".join(o.order_no for o in found)}
            )
        self.order = found[0]
        return number


class CreateReturnForm(forms.Form):
    """Kind, reason, amount and tracking number, plus a quantity and amount per order line."""

    kind = forms.ChoiceField(label=_("kind"), choices=ReturnOrder.Kind.choices)
    reason = forms.CharField(label=_("reason"), max_length=255)
    refund_amount = forms.DecimalField(
        label=_("refund amount"),
        required=False,
        help_text=_("Empty: the sum of the returned lines' amounts."),
        **MONEY_FIELD,
    )
    return_tracking_no = forms.CharField(
        label=_("return tracking no."), max_length=64, required=False
    )

    def __init__(self, *args, order, **kwargs):
        super().__init__(*args, **kwargs)
        self.order = order
        self.rows = selectors.returnable_lines(order)
        names = selectors.product_names_by_line(order)
        for row in self.rows:
            # Imported orders carry no title: show what the line is, by its products' names.
            row.title = row.line.title or names.get(row.line.id, "")
            line = row.line
            self.fields[f"qty_{line.id}"] = forms.DecimalField(
                label=_("quantity"), required=False, initial=Decimal("0"), **QTY_FIELD
            )
            self.fields[f"amount_{line.id}"] = forms.DecimalField(
                label=_("amount"), required=False, **MONEY_FIELD
            )
            row.qty_field = self[f"qty_{line.id}"]
            row.amount_field = self[f"amount_{line.id}"]

    def lines(self):
        """(order line, quantity, amount) for every line with a quantity; an amount left blank
        is what the buyer paid for those units (``orders.selectors.paid_for``)."""
        out = []
        for row in self.rows:
            quantity = self.cleaned_data.get(f"qty_{row.line.id}") or Decimal("0")
            if quantity <= 0:
                continue
            amount = self.cleaned_data.get(f"amount_{row.line.id}")
            if amount is None:  # what the buyer paid for these units, discounts allocated
                amount = paid_for(row.line, quantity, returned_before=row.returned)
            out.append((row.line, quantity, amount))
        return out

    def refund(self):
        """The amount typed in, or the sum of the returned lines' amounts."""
        typed = self.cleaned_data.get("refund_amount")
        if typed is not None:
            return typed
        return sum((amount for _line, _qty, amount in self.lines()), Decimal("0.00"))


class ReceiveForm(forms.Form):
    """Per return line and product: how many go to the main, how many to the defective warehouse."""

    finish = forms.BooleanField(
        label=_("All goods that will come back are here (mark as received)"),
        required=False,
        initial=True,
    )

    def __init__(self, *args, return_order, **kwargs):
        super().__init__(*args, **kwargs)
        self.return_order = return_order
        self.items = selectors.receivable_items(return_order)
        for item in self.items:
            key = f"{item.line.id}_{item.product.id}"
            self.fields[f"main_{key}"] = forms.DecimalField(
                label=_("main warehouse"), required=False, initial=item.remaining, **QTY_FIELD
            )
            self.fields[f"defective_{key}"] = forms.DecimalField(
                label=_("defective warehouse"),
                required=False,
                initial=Decimal("0"),
                **QTY_FIELD,
            )
            item.main_field = self[f"main_{key}"]
            item.defective_field = self[f"defective_{key}"]

    def receipts(self):
        out = []
        for item in self.items:
            key = f"{item.line.id}_{item.product.id}"
            main = self.cleaned_data.get(f"main_{key}") or Decimal("0")
            defective = self.cleaned_data.get(f"defective_{key}") or Decimal("0")
            if main or defective:
                out.append((item.line, item.product, main, defective))
        return out


class NoteForm(forms.Form):
    note = forms.CharField(
        label=_("note"), max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label=_("reason for rejection"), max_length=255, widget=forms.Textarea(attrs={"rows": 3})
    )
