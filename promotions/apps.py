from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


class PromotionsConfig(AppConfig):
    name = "promotions"
    verbose_name = _("members and promotions")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        def levels(sender, **kwargs):
            if sender is self:
                from .seeds import ensure_member_levels, ensure_red_packet_schedule

                ensure_member_levels()
                ensure_red_packet_schedule()

        self._levels = levels
        post_migrate.connect(levels, dispatch_uid="promotions_member_levels")
