from django.core.management.base import BaseCommand

from config.tabular import add_import_arguments, run_import_command
from inventory.imports import import_products


class Command(BaseCommand):
    help = "Imports a products file (CSV or XLSX, Chinese or English headers); all rows or none."

    def add_arguments(self, parser):
        add_import_arguments(parser)

    def handle(self, *args, file, dry_run, user=None, **options):
        run_import_command(self, import_products, path=file, dry_run=dry_run, user=user)
