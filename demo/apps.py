from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """The demo data and the one-command local server (``load_demo``, ``serve``): on top of
    every app, since the demo builds shops, products, stock and carriers through their services."""

    name = "demo"
    verbose_name = _("demo")
