"""`make run`: migrate, load the demo data once, make sure there is an administrator, serve.

Ctrl-C (or SIGTERM, or SIGHUP when the terminal closes) stops the step that runs, and the
embedded PostgreSQL is stopped at the end when this run started it (one that was already
running, e.g. for another checkout's commands, is left alone). Every step dies with this
process whatever ends it (core.processes).

    python -m config.runlocal
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
STEPS = [
    ["migrate", "--noinput"],
    ["load_demo", "--once"],
    ["ensure_admin"],
    ["serve"],
]


def main() -> int:
    sys.path.insert(0, str(BASE_DIR))
    from config import embedded_db
    from core import processes

    embedded = not os.environ.get("DATABASE_URL")
    owned = embedded and not embedded_db.running(BASE_DIR)
    current = {"child": None, "stopping": False}

    def stop(signum, frame):
        current["stopping"] = True
        child = current["child"]
        if child is not None and child.poll() is None:
            # serve stops its own children; the other steps are stopped as a group
            os.killpg(child.pid, signal.SIGINT if signum == signal.SIGINT else signal.SIGTERM)

    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)
    code = 0
    try:
        for step in STEPS:
            if current["stopping"]:
                break
            child = processes.start([sys.executable, "manage.py", *step], cwd=BASE_DIR)
            current["child"] = child
            code = child.wait()
            if code != 0 and not current["stopping"]:
                print(f"make run: manage.py {' '.join(step)} failed ({code})", file=sys.stderr)
                break
    finally:
        if owned:
            embedded_db.stop(BASE_DIR)
            print("make run: the embedded PostgreSQL this run started is stopped")
    return 0 if current["stopping"] else code


if __name__ == "__main__":
    sys.exit(main())
