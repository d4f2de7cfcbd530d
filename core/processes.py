"""Child processes that die with their parent, whatever ends it (Ctrl-C, SIGTERM, a closed
terminal's SIGHUP, or the parent being killed).

* Every child runs in its own process group (its own children — django-q2's workers, the
  web server's reloader — belong to it), so one ``killpg`` stops all of it.
* ``prctl(PR_SET_PDEATHSIG)`` makes the kernel send the child SIGTERM when its parent dies.
* A reaper process (also PDEATHSIG'd) holds the children's group ids: if the parent is killed
  outright, it stops the whole groups, grandchildren included, SIGKILL after a grace period.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time

PR_SET_PDEATHSIG = 1
GRACE_SECONDS = 3.0


def die_with_parent(sig: int = signal.SIGTERM):
    """A preexec_fn: the child gets ``sig`` when the process that started it dies."""

    def set_death_signal():
        os.setsid()
        try:
            libc = ctypes.CDLL("libc.so.6", use_errno=True)
            libc.prctl(PR_SET_PDEATHSIG, sig, 0, 0, 0)
        except OSError:  # not Linux: the reaper and the signal handlers still stop them
            pass

    return set_death_signal


def start(command: list[str], **kwargs) -> subprocess.Popen:
    """Start a child in its own process group that dies with this process."""
    return subprocess.Popen(command, preexec_fn=die_with_parent(), **kwargs)


def stop_groups(pids: list[int], grace: float = GRACE_SECONDS) -> None:
    """SIGTERM each child's process group, then SIGKILL whatever is left after ``grace``."""
    for pid in pids:
        _killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and any(_group_alive(pid) for pid in pids):
        time.sleep(0.1)
    for pid in pids:
        _killpg(pid, signal.SIGKILL)


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except (ProcessLookupError, PermissionError):
        return False
    return True


REAPER = """
import os, signal, sys, time
from core.processes import stop_groups
pids = [int(p) for p in sys.argv[1:]]
def reap(signum, frame):
    stop_groups(pids)
    os._exit(0)
for s in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
    signal.signal(s, reap)
while True:
    signal.pause()
"""


def start_reaper(pids: list[int], cwd=None) -> subprocess.Popen:
    """A watcher that stops the children's groups if this process dies without doing it."""
    return subprocess.Popen(
        [sys.executable, "-c", REAPER, *map(str, pids)],
        preexec_fn=die_with_parent(signal.SIGTERM),
        cwd=cwd,
    )
