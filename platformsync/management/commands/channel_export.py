"""`manage.py channel_export SHOP stock|tracking [--out FILE]`: XLSX for a file platform's shop."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from channels.connectors.files import (
    NotAFileShop,
    confirm_tracking_export,
    export_stock,
    export_tracking,
)
from channels.models import Shop


class Command(BaseCommand):
    help = "Exports a file platform shop's sellable stock or tracking numbers as an XLSX file."

    def add_arguments(self, parser):
        parser.add_argument("shop", help="shop code, e.g. FN01")
        parser.add_argument("what", choices=["stock", "tracking"])
        parser.add_argument("--out", help="file to write (default: the suggested name, here)")
        parser.add_argument("--changed-only", action="store_true", help="stock: only changes")

    def handle(self, *args, shop, what, out, changed_only, **options):
        try:
            shop_obj = Shop.objects.select_related("platform").get(code=shop)
        except Shop.DoesNotExist as exc:
            raise CommandError(f"no shop {shop}") from exc
        try:
            if what == "stock":
                export = export_stock(shop=shop_obj, actor="command", changed_only=changed_only)
            else:
                export = export_tracking(shop=shop_obj, actor="command")
        except NotAFileShop as exc:
            raise CommandError(str(exc)) from exc
        path = Path(out or export.filename)
        path.write_bytes(export.content)
        if what == "tracking":
            confirm_tracking_export(export=export, actor="command")  # the file is there
        self.stdout.write(f"{export.rows} rows written to {path}")
