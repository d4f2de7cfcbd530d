from django.core.management.base import BaseCommand

from inventory.selectors import ledger_mismatches, reservation_mismatches, transit_mismatches


class Command(BaseCommand):
    help = (
        "Proves every stock level equals the sum of its ledger (and its reservations), and "
        "the in-transit stock the shipped transfers."
    )

    def handle(self, *args, **options):
        ledger = ledger_mismatches()
        reserved = reservation_mismatches()
        transit = transit_mismatches()
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
        for m in transit:
            self.stdout.write(
                f"in-transit mismatch: {m['product']}: in transit {m['in_transit']} != "
                f"shipped transfers {m['transfers']}"
            )
        if ledger or reserved or transit:
            count = len(ledger) + len(reserved) + len(transit)
            self.stdout.write(f"check_stock: {count} mismatch(es)")
            raise SystemExit(1)
        self.stdout.write(
            "check_stock: every level equals its ledger and its reservations (main, defective, "
            "stores, samples, in transit); in transit equals the shipped transfers"
        )
