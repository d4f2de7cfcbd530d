from django.core.management.base import BaseCommand

from channels.services import import_sku_relations
from config.tabular import add_import_arguments, run_import_command


class Command(BaseCommand):
    help = "Imports a SKU relation table file (商品关系表); a mapping's components are replaced."

    def add_arguments(self, parser):
        add_import_arguments(parser)

    def handle(self, *args, file, dry_run, user=None, **options):
        run_import_command(self, import_sku_relations, path=file, dry_run=dry_run, user=user)
