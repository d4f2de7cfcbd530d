from django.core.management.base import BaseCommand

from config.tabular import run_import_command
from inventory.imports import import_products


class Command(BaseCommand):
    help = "Imports a products file (CSV or XLSX, Chinese or English headers); all rows or none."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report, write nothing"
        )

    def handle(self, *args, file, dry_run, **options):
        run_import_command(self, import_products, path=file, dry_run=dry_run)
