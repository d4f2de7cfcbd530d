"""The processes of the peak drill (bench/peak.py): started in sessions of their own, logged to
files, and always stopped (SIGTERM to the leader, then SIGKILL to what is left of its group),
also when the drill fails or is interrupted."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path


class Procs:
    def __init__(self, *, workdir: Path, env: dict, cwd: Path):
        self.workdir, self.env, self.cwd = workdir, env, cwd
        self.items: dict[str, subprocess.Popen] = {}

    def start(self, name: str, cmd: list[str]) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "ab")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(
            cmd,
            cwd=self.cwd,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        log.close()
        self.items[name] = proc
        return proc

    def pid(self, name: str) -> int:
        return self.items[name].pid

    def alive(self, name: str) -> bool:
        proc = self.items.get(name)
        return proc is not None and proc.poll() is None

    def stop(self, name: str, *, timeout: float = 20, sig=signal.SIGTERM) -> None:
        proc = self.items.pop(name, None)
        if proc is None:
            return
        try:
            os.killpg(proc.pid, signal.SIGCONT)  # a stopped process cannot hear SIGTERM
        except ProcessLookupError:
            pass
        if proc.poll() is None:
            try:
                proc.send_signal(sig)
                proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever is left of its group (workers of a cluster, gunicorn workers)
            os.killpg(proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            pass

    def stop_all(self) -> None:
        for name in list(self.items)[::-1]:
            self.stop(name, timeout=15)

    def cpu_seconds(self) -> dict[str, float]:
        """CPU seconds (user + system) each process and its descendants used so far: what the
        live ones used, plus what their exited children were charged (reaped ones)."""
        return {name: tree_cpu(proc.pid) for name, proc in self.items.items()}

    def tail(self, name: str, lines: int = 15) -> str:
        path = self.workdir / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def tree_cpu(pid: int) -> float:
    """CPU seconds of a process, its reaped children and its live descendants."""
    import psutil

    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0.0
    total = 0.0
    for proc in procs:
        try:
            t = proc.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + t.children_user + t.children_system
    return total


def wait_for(check, *, timeout: float, what: str, interval: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            if check():
                return
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(interval)
    raise RuntimeError(f"{what} did not come up within {timeout:.0f} s ({last!r})")
