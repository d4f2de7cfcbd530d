from django.core.management.base import BaseCommand

from config.tabular import run_import_command
from orders.imports import import_orders


class Command(BaseCommand):
    help = (
        "Imports a standard-format orders file (标准格式订单); orders we have are left as they are."
    )

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report, write nothing"
        )

    def handle(self, *args, file, dry_run, **options):
        run_import_command(self, import_orders, path=file, dry_run=dry_run)
