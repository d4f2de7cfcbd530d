"""Import tracking-number ranges for a carrier's pool: ``import_tracking_numbers SF ranges.csv``."""

from django.core.management.base import BaseCommand, CommandError

from orders.models import Carrier
from orders.services.tracking import RangeImportError, import_tracking_ranges, pool_remaining


class Command(BaseCommand):
    help = (
        "Add tracking-number ranges (lines 'start,end' or 'prefix,start,end') to a carrier's "
        "number pool. Any bad line: nothing is imported, each bad line is printed, exit 1."
    )

    def add_arguments(self, parser):
        parser.add_argument("carrier", help="carrier code, e.g. SF")
        parser.add_argument("file", help="text or CSV file of ranges (UTF-8)")

    def handle(self, *args, carrier, file, **options):
        try:
            carrier_obj = Carrier.objects.get(code=carrier)
        except Carrier.DoesNotExist as exc:
            raise CommandError(f"no carrier with code {carrier}", returncode=2) from exc
        try:
            with open(file, encoding="utf-8-sig") as handle:
                text = handle.read()
        except (OSError, UnicodeDecodeError) as exc:
            raise CommandError(f"cannot read {file}: {exc}", returncode=2) from exc
        try:
            created = import_tracking_ranges(
                carrier=carrier_obj, text=text, actor="command:import_tracking_numbers", source=file
            )
        except RangeImportError as exc:
            for problem in exc.problems:
                self.stderr.write(problem)
            raise CommandError("nothing imported", returncode=1) from exc
        for rng in created:
            self.stdout.write(f"imported {rng} ({rng.remaining} numbers)")
        self.stdout.write(
            f"{len(created)} ranges imported for {carrier_obj.code}; "
            f"{pool_remaining(carrier_obj)} numbers available"
        )
