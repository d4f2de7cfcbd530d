"""`manage.py channel_sandbox [--port 8001]`: the local stand-in for TOP, JD and Weimob."""

import threading

from django.core.management.base import BaseCommand
from django.db import DatabaseError

from channels.sandbox.demo import adopt_demo_shops
from channels.sandbox.server import SandboxServer, stream_orders
from channels.sandbox.state import SandboxState
from core.guards import refuse_in_production


class Command(BaseCommand):
    help = "Serves the platform sandbox (TOP, JD, Weimob) with a steady stream of demo orders."

    def add_arguments(self, parser):
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8001)
        parser.add_argument(
            "--orders-per-minute",
            type=float,
            default=2.0,
            help="new orders per platform per minute (0: only what the control API generates)",
        )
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--verbose-http", action="store_true")
        parser.add_argument(
            "--no-adopt",
            action="store_true",
            help="do not give the demo shops pointing here the sandbox's credentials and SKUs",
        )

    def handle(self, *args, host, port, orders_per_minute, seed, verbose_http, no_adopt, **options):
        refuse_in_production("channel_sandbox")
        state = SandboxState(seed=seed)
        if not no_adopt:
            try:
                adopted = adopt_demo_shops(state, port=port)
            except DatabaseError as exc:  # no database yet: serve the default catalogue
                adopted = []
                self.stderr.write(f"platform sandbox: demo shops not adopted ({exc})")
            if adopted:
                self.stdout.write("platform sandbox: selling for " + ", ".join(adopted))
        server = SandboxServer((host, port), state=state, verbose=verbose_http)
        stop = threading.Event()
        if orders_per_minute > 0:
            threading.Thread(
                target=stream_orders,
                kwargs={"state": state, "per_minute": orders_per_minute, "stop": stop},
                daemon=True,
            ).start()
        self.stdout.write(
            f"platform sandbox: TOP {server.url}/router/rest, JD {server.url}/routerjson, "
            f"Weimob {server.url}/api/1_0/ec/; {orders_per_minute:g} orders/min per platform"
        )
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            stop.set()
            server.server_close()
            self.stdout.write("platform sandbox: stopped")
