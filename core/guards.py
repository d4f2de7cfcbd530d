"""Commands that only make sense on a developer's machine refuse to run in production."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import CommandError
from django.utils.translation import gettext as _


def refuse_in_production(what: str) -> None:
    """Raise CommandError when DJANGO_ENV=production: ``what`` is for local use only."""
    if getattr(settings, "PRODUCTION", False):
        raise CommandError(
            _(
                "%(what)s is for local use and refuses to run in production (DJANGO_ENV="
                "production): it would put demo data or stand-in platforms beside real ones"
            )
            % {"what": what}
        )
