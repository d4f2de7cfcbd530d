"""`manage.py erp_simulator`: plays the offline ERP against a running tongcang (the demo)."""

import os
import random
import time

import requests
from django.core.management.base import BaseCommand, CommandError

from core.guards import refuse_in_production
from erpbridge import auth, services
from erpbridge.models import ErpClient
from erpbridge.simulator import ApiFailure, ErpSimulator

DEMO_UNIT_CODES = "TB01,TM01,JD01,WM01,FN01,YHD01,MGJ01,OT01"
SIMULATOR_CLIENT = "erp-simulator"


class Command(BaseCommand):
    help = (
        "Plays the offline ERP against a running tongcang over HTTP: every 15 minutes it "
        "extracts and acknowledges the retail batches and sends the changed quantities; at "
        "03:00 Asia/Shanghai it sends all of them."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--url", default=os.environ.get("TONGCANG_ERP_URL", "http://127.0.0.1:8000")
        )
        parser.add_argument("--key", default=os.environ.get("TONGCANG_ERP_KEY", ""))
        parser.add_argument("--secret", default=os.environ.get("TONGCANG_ERP_SECRET", ""))
        parser.add_argument(
            "--unit-codes",
            default=os.environ.get("TONGCANG_ERP_UNIT_CODES", DEMO_UNIT_CODES),
            help="comma-separated unit codes to extract (default: the demo shops)",
        )
        parser.add_argument("--interval", type=int, default=900, help="seconds between cycles")
        parser.add_argument("--once", action="store_true", help="one cycle, then stop")
        parser.add_argument("--full", action="store_true", help="send a full snapshot first")
        parser.add_argument("--restock", type=int, default=3, help="products received a cycle")
        parser.add_argument("--seed", type=int, default=None)
        parser.add_argument(
            "--journal", default="", help="append every record booked to this JSON-lines file"
        )

    def credentials(self, key, secret):
        if key and secret:
            return key, secret
        if key or secret:
            raise CommandError("give both --key and --secret (or neither)")
        # Same machine, same database: use (or create) the simulator's own client.
        client = ErpClient.objects.filter(name=SIMULATOR_CLIENT, enabled=True).first()
        if client is None:
            client, secret = services.create_client(name=SIMULATOR_CLIENT)
            self.stdout.write(f"erp: created ERP client {SIMULATOR_CLIENT} (key {client.key_id})")
            return client.key_id, secret
        return client.key_id, auth.decrypt_secret(client.secret_encrypted)

    def handle(
        self,
        *args,
        url,
        key,
        secret,
        unit_codes,
        interval,
        once,
        full,
        restock,
        seed,
        journal,
        **options,
    ):
        refuse_in_production("erp_simulator")
        key, secret = self.credentials(key, secret)
        codes = [c.strip() for c in unit_codes.split(",") if c.strip()]

        def out(line):
            self.stdout.write(line)
            self.stdout.flush()

        from channels.models import Shop

        stores = Shop.objects.filter(unit_code__in=codes, platform__code="store").values_list(
            "unit_code", flat=True
        )
        sim = ErpSimulator(
            url=url,
            key_id=key,
            secret=secret,
            unit_codes=codes,
            out=out,
            restock=restock,
            journal=journal or None,
            store_unit_codes=list(stores),
        )
        rng = random.Random(seed)
        out(f"erp: simulating the offline ERP against {url} for {', '.join(codes)}")
        cycles, first = 0, True
        try:
            while True:
                try:
                    sim.cycle(full=full and first, rng=rng)
                    first = False
                    cycles += 1
                except (requests.RequestException, ApiFailure) as exc:
                    out(f"erp: tongcang not reachable or refused ({exc}); retrying next cycle")
                    if once:
                        raise CommandError(str(exc)) from exc
                if once:
                    break
                # Until tongcang first answers (it may still be starting), try again soon.
                time.sleep(interval if cycles else min(interval, 10))
        except KeyboardInterrupt:
            pass
        out(f"erp_simulator: {cycles} cycle(s) done")
