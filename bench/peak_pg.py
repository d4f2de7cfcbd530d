"""A PostgreSQL cluster of the drill's own (bench/peak.py), so it can be restarted as a fault.

The binaries are those the ``pgserver`` package ships (the embedded PostgreSQL of `make run`);
the data directory is a fresh temporary one, the server listens on 127.0.0.1 only, on a free
port, and is stopped and deleted at the end. The machine's own PostgreSQL is never touched.
When run as root, the server runs as the ``pgserver`` system user (PostgreSQL refuses root),
as pgserver itself does.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class DrillPostgres:
    def __init__(self, *, max_connections: int = 200):
        from pgserver._commands import POSTGRES_BIN_PATH

        self.bin = Path(POSTGRES_BIN_PATH)
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="tc-peak-pg-"))
        self.data = self.dir / "data"
        self.log = self.dir / "server.log"
        self.max_connections = max_connections
        self.user = None
        if os.geteuid() == 0:
            from pgserver.utils import ensure_folder_permissions, ensure_user_exists

            self.user = "pgserver"
            ensure_user_exists(self.user)
            import stat

            ensure_folder_permissions(self.bin, stat.S_IRGRP | stat.S_IROTH | stat.S_IXGRP)
            ensure_folder_permissions(self.bin.parent / "lib", stat.S_IRGRP | stat.S_IROTH)
            shutil.chown(self.dir, user=self.user)
            self.dir.chmod(0o755)

    def _run(self, *args: str, check: bool = True, timeout: float = 120):
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            user=self.user,
            check=check,
            timeout=timeout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            cwd=self.dir,
        )

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/tongcang"

    def options(self) -> str:
        return (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 "
            f"-c max_connections={self.max_connections} -c shared_buffers=128MB"
        )

    def start(self) -> None:
        self._run(
            "initdb",
            "-D",
            str(self.data),
            "--auth=trust",
            "--encoding=utf8",
            "--locale=C.UTF-8",
            "-U",
            "postgres",
        )
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", self.options(), "-w", "start"
        )
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "tongcang")

    def cpu_seconds(self) -> float:
        """CPU seconds the running server (postmaster, its backends, those that exited) used."""
        from bench.peak_procs import tree_cpu

        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return 0.0
        return tree_cpu(pid)

    def restart(self) -> float:
        """``pg_ctl restart -m fast``: every connection is cut. Returns the seconds it took."""
        started = time.monotonic()
        self._run(
            "pg_ctl", "-D", str(self.data), "-l", str(self.log), "-m", "fast", "-w", "restart"
        )
        return time.monotonic() - started

    def stop(self) -> None:
        if (self.data / "postmaster.pid").exists():
            self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop", check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
