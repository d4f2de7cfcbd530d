from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = _("products and stock")

    def ready(self):
        from config.roles import sync_role_permissions

        from . import receivers  # noqa: F401

        post_migrate.connect(sync_role_permissions, dispatch_uid="tongcang_sync_roles")
