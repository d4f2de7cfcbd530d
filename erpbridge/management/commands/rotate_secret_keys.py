"""`manage.py rotate_secret_keys`: re-encrypt the stored secrets with the first key of
TONGCANG_ERP_SECRET_KEYS (put the new key first, run this, then drop the old key)."""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from erpbridge import services


class Command(BaseCommand):
    help = "Re-encrypts the ERP clients' secrets and the shops' API credentials with the first key."

    def handle(self, *args, **options):
        counts = services.rotate_secret_keys()
        self.stdout.write(
            _(
                "re-encrypted: %(clients)d ERP client(s), %(shops)d shop(s); "
                "%(bad)d secret(s) no configured key can decrypt"
            )
            % {
                "clients": counts["erp_clients"],
                "shops": counts["shops"],
                "bad": counts["undecryptable"],
            }
        )
        if counts["undecryptable"]:
            raise SystemExit(1)
