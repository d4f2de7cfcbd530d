from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class InventoryConfig(AppConfig):
    name = "inventory"
    verbose_name = _("products and stock")

    def ready(self):
        from config.roles import sync_role_permissions

        from . import receivers  # noqa: F401
        from .seeds import ensure_reference_data

        def after_last_app(handler):
            # post_migrate is sent once per installed app that has models; run once, after the
            # last of them, when every app's tables and permissions exist.
            def run(sender, **kwargs):
                with_models = [a for a in apps.get_app_configs() if a.models_module is not None]
                if sender is with_models[-1]:
                    handler(sender=sender, **kwargs)

            return run

        self._reference_data = after_last_app(ensure_reference_data)
        self._roles = after_last_app(sync_role_permissions)
        post_migrate.connect(self._reference_data, dispatch_uid="tongcang_reference_data")
        post_migrate.connect(self._roles, dispatch_uid="tongcang_sync_roles")

        from django.contrib.auth.models import User
        from django.db.models.signals import m2m_changed

        from config.roles import staff_for_role_members

        m2m_changed.connect(
            staff_for_role_members, sender=User.groups.through, dispatch_uid="tongcang_role_staff"
        )
