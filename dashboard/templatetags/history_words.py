"""The change-history pages (django-simple-history) in words: a column's name as the model
names the field, and yes / no / — instead of True / False / None."""

from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.text import capfirst
from django.utils.translation import gettext, gettext_noop

register = template.Library()

WORDS = {"True": gettext_noop("yes"), "False": gettext_noop("no"), "None": ""}


@register.filter
def column_label(column: str, opts) -> str:
    """The label of an extra column of the history list (a field of the model, or not)."""
    try:
        return capfirst(opts.get_field(column).verbose_name)
    except FieldDoesNotExist:
        return capfirst(column.replace("_", " "))


@register.filter
def in_words(value) -> str:
    """A stored value as a person reads it: 是 / 否 for booleans, — for nothing."""
    text = "None" if value is None or value == "" else str(value)
    if text in WORDS:
        word = WORDS[text]
        return gettext(word) if word else "—"
    return value
