from django.core.management.base import BaseCommand

from core.guards import refuse_in_production


class Command(BaseCommand):
    help = "Loads the demo data (platforms, shops, products, SKU relations, stock); idempotent."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="do nothing if already loaded")

    def handle(self, *args, once=False, **options):
        refuse_in_production("load_demo")
        from demo.loader import load_demo

        summary = load_demo(stdout=self.stdout, once=once)
        self.stdout.write(f"load_demo: {summary}")
