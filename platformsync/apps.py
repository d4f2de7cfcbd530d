from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PlatformSyncConfig(AppConfig):
    """Orchestrates the exchanges with the platforms: pulls orders and refunds into the intake
    and into returns, and delivers the outbox (stock and shipments). A bridge to outside
    parties, on top of channels, orders and returns, like erpbridge."""

    name = "platformsync"
    verbose_name = _("platform sync")

    def ready(self):
        from . import receivers  # noqa: F401
