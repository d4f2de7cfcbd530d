from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PromotionsConfig(AppConfig):
    name = "promotions"
    verbose_name = _("members and promotions")
    default_auto_field = "django.db.models.BigAutoField"
