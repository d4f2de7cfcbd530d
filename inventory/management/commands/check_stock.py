from django.core.management.base import BaseCommand

from inventory.selectors import ledger_mismatches, reservation_mismatches


class Command(BaseCommand):
    help = "Proves every stock level equals the sum of its ledger (and its reservations)."

    def handle(self, *args, **options):
        ledger = ledger_mismatches()
        reserved = reservation_mismatches()
        for m in ledger:
            self.stdout.write(
                f"ledger mismatch: {m['warehouse']} {m['product']}: "
                f"on_hand {m['on_hand']} != ledger {m['ledger']}"
            )
        for m in reserved:
            self.stdout.write(
                f"reservation mismatch: {m['warehouse']} {m['product']}: "
                f"reserved {m['reserved']} != reservations {m['reservations']}"
            )
        if ledger or reserved:
            self.stdout.write(f"check_stock: {len(ledger) + len(reserved)} mismatch(es)")
            raise SystemExit(1)
        self.stdout.write("check_stock: every level equals its ledger and its reservations")
