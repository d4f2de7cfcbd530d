"""`manage.py erp_client create NAME [--unit-codes A,B] [--scopes S,…]` / `list` /
`disable NAME`."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from erpbridge import services
from erpbridge.models import ErpClient


class Command(BaseCommand):
    help = "Creates, lists and disables the offline ERP's API clients."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="create a client; prints its key and secret once")
        create.add_argument("name")
        create.add_argument("--unit-codes", default="", help="comma-separated; default: all")
        create.add_argument(
            "--scopes",
            default=None,
            help="comma-separated, of stock_read, stock_write, orders, retail; default: all "
            "(a key limited to unit codes never writes the main warehouse's stock)",
        )
        sub.add_parser("list", help="list the clients")
        disable = sub.add_parser("disable", help="disable a client (its key stops working)")
        disable.add_argument("name")

    def handle(self, *args, action, **options):
        if action == "create":
            try:
                client, secret = services.create_client(
                    name=options["name"],
                    unit_codes=options["unit_codes"],
                    scopes=options["scopes"],
                )
            except ValueError as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"key: {client.key_id}")
            self.stdout.write(f"secret: {secret}")
        elif action == "list":
            clients = list(ErpClient.objects.order_by("name"))
            for c in clients:
                last = timezone.localtime(c.last_used_at).isoformat() if c.last_used_at else "-"
                state = _("enabled") if c.enabled else _("disabled")
                self.stdout.write(
                    f"{c.name}\t{c.key_id}\t{state}\t"
                    + _("unit codes: %(codes)s") % {"codes": c.unit_codes or "*"}
                    + "\t"
                    + _("last used: %(when)s") % {"when": last}
                )
            self.stdout.write(_("erp_client: %(n)s client(s)") % {"n": len(clients)})
        else:
            client = ErpClient.objects.filter(name=options["name"]).first()
            if client is None:
                raise CommandError(_("no ERP client named %(name)s") % {"name": options["name"]})
            services.disable_client(client=client)
            self.stdout.write(_("erp_client: %(name)s disabled") % {"name": client.name})
