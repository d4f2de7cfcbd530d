"""`make run`: the web server and the django-q2 cluster together, in the foreground.

Ctrl-C (SIGINT) or SIGTERM stops both children and waits for them, so nothing is left behind.
Extra processes (the platform sandbox, the ERP simulator) are added by later issues through
SERVE_EXTRA_COMMANDS below.
"""

import os
import signal
import subprocess
import sys
import time

from django.core.management.base import BaseCommand

# Other long-running commands that `make run` starts beside the web server and the cluster.
SERVE_EXTRA_COMMANDS: list[list[str]] = [
    # the platform sandbox (channels); the demo shops point at port 8001
    ["channel_sandbox", "--port", os.environ.get("TONGCANG_SANDBOX_PORT", "8001")],
]
# The offline ERP simulator (erpbridge) plays the ERP for the demo; it needs an ERP client, so
# it only runs when asked for.
if os.environ.get("TONGCANG_RUN_ERP_SIMULATOR", "").strip().lower() in {"1", "true", "yes", "on"}:
    SERVE_EXTRA_COMMANDS.append(["erp_simulator"])


class Command(BaseCommand):
    help = "Serves the back office at http://127.0.0.1:8000/ together with the task cluster."

    def add_arguments(self, parser):
        parser.add_argument("--addr", default=os.environ.get("TONGCANG_ADDR", "127.0.0.1:8000"))

    def handle(self, *args, addr, **options):
        manage = [sys.executable, "manage.py"]
        commands = [
            [*manage, "runserver", "--noreload", addr],
            [*manage, "qcluster"],
            *[[*manage, *extra] for extra in SERVE_EXTRA_COMMANDS],
        ]
        children = [subprocess.Popen(cmd, start_new_session=True) for cmd in commands]
        self.stdout.write(f"tongcang: serving http://{addr}/ with the task cluster; Ctrl-C stops")
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, stop)
        signal.signal(signal.SIGTERM, stop)
        try:
            while not stopping and all(c.poll() is None for c in children):
                time.sleep(0.3)
        finally:
            for c in children:
                if c.poll() is None:
                    os.killpg(c.pid, signal.SIGTERM)
            deadline = time.monotonic() + 15
            for c in children:
                try:
                    c.wait(timeout=max(0.1, deadline - time.monotonic()))
                except subprocess.TimeoutExpired:
                    os.killpg(c.pid, signal.SIGKILL)
                    c.wait()
        self.stdout.write("tongcang: stopped")
