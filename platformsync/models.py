from django.db import models
from django.utils.translation import gettext_lazy as _


class StockPushWindow(models.Model):
    """The open window of the event-driven stock push (platformsync/push.py): while a row
    exists, a push task is queued and will send, when the window closes, every change committed
    before it starts; a change committed later opens the next window."""

    name = models.CharField(_("name"), max_length=32, primary_key=True)
    opened_at = models.DateTimeField(_("opened at"))
    due_at = models.DateTimeField(_("due at"))

    class Meta:
        verbose_name = _("stock push window")
        verbose_name_plural = _("stock push windows")

    def __str__(self):
        return f"{self.name} until {self.due_at:%H:%M:%S}"
