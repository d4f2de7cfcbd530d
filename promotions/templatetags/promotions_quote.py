"""Filters for the quote explanation template (text escaped by the template engine)."""

from django import template

from promotions.explain import near_miss_text as _near_miss_text
from promotions.explain import step_text as _step_text

register = template.Library()


@register.filter
def step_text(step):
    return _step_text(step)


@register.filter
def near_miss_text(near):
    return _near_miss_text(near)
