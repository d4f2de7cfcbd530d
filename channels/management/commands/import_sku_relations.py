from django.core.management.base import BaseCommand

from channels.services import import_sku_relations
from config.tabular import run_import_command


class Command(BaseCommand):
    help = "Imports a SKU relation table file (商品关系表); a mapping's components are replaced."

    def add_arguments(self, parser):
        parser.add_argument("file")
        parser.add_argument(
            "--dry-run", action="store_true", help="check and report, write nothing"
        )

    def handle(self, *args, file, dry_run, **options):
        run_import_command(self, import_sku_relations, path=file, dry_run=dry_run)
