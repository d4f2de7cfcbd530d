"""`make run`: the web server and the django-q2 cluster together, in the foreground.

Ctrl-C (SIGINT), SIGTERM or SIGHUP stops every child, within a few seconds, and waits for them;
if serve itself is killed, the children and their own children die with it (core.processes).
Extra processes (the platform sandbox, the ERP simulator) are added by later issues through
SERVE_EXTRA_COMMANDS below.
"""

import os
import signal
import sys
import time

from django.core.management.base import BaseCommand

from core import processes
from core.guards import refuse_in_production

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
        # runserver, the platform sandbox and the ERP simulator: production runs gunicorn and
        # qcluster instead (README, Production).
        refuse_in_production("serve")
        manage = [sys.executable, "manage.py"]
        commands = [
            [*manage, "runserver", "--noreload", addr],
            [*manage, "qcluster"],
            *[[*manage, *extra] for extra in SERVE_EXTRA_COMMANDS],
        ]
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        # Ctrl-C, SIGTERM and a closed terminal (SIGHUP) all stop everything.
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            signal.signal(sig, stop)
        children = [processes.start(cmd) for cmd in commands]
        reaper = processes.start_reaper([c.pid for c in children])
        self.stdout.write(f"tongcang: serving http://{addr}/ with the task cluster; Ctrl-C stops")
        try:
            while not stopping and all(c.poll() is None for c in children):
                time.sleep(0.2)
        finally:
            # Each child's whole process group: SIGTERM, then SIGKILL after a few seconds.
            # django-q2's own stop can wait for ever (its sentinel joins queue feeder threads
            # whose readers are gone); its tasks are safe anyway: a task is acknowledged only
            # once done, so an interrupted one runs again after the broker's retry delay.
            processes.stop_groups([c.pid for c in children])
            for c in children:
                c.wait()
            reaper.kill()
            reaper.wait()
        self.stdout.write("tongcang: stopped")
