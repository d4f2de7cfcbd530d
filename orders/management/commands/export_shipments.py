"""Write a shop's shipped orders and tracking numbers as a CSV file (for file-only platforms)."""

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.core.management.base import BaseCommand, CommandError

from channels.models import Shop
from orders.selectors import shipment_file

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _day(text: str) -> datetime:
    try:
        return datetime.combine(datetime.strptime(text, "%Y-%m-%d").date(), time(), SHANGHAI)
    except ValueError as exc:
        raise CommandError(f"not a date (YYYY-MM-DD): {text}", returncode=2) from exc


class Command(BaseCommand):
    help = "Export the tracking numbers of a shop's shipped orders as CSV (dates in Asia/Shanghai)."

    def add_arguments(self, parser):
        parser.add_argument("shop", help="shop code, e.g. FN01")
        parser.add_argument("--from", dest="since", help="first shipping day, YYYY-MM-DD")
        parser.add_argument("--to", dest="until", help="last shipping day, YYYY-MM-DD")
        parser.add_argument("-o", "--output", required=True, help="CSV file to write")

    def handle(self, *args, shop, since, until, output, **options):
        try:
            shop_obj = Shop.objects.get(code=shop)
        except Shop.DoesNotExist as exc:
            raise CommandError(f"no shop with code {shop}", returncode=2) from exc
        start = _day(since) if since else None
        end = None
        if until:
            end = _day(until) + timedelta(days=1)
        data = shipment_file(shop=shop_obj, shipped_from=start, shipped_to=end)
        with open(output, "wb") as handle:
            handle.write(data)
        rows = data.decode("utf-8-sig").count("\r\n") - 1
        self.stdout.write(f"{rows} shipped orders of {shop_obj.code} written to {output}")
