"""A throwaway PostgreSQL cluster for the bench, as scripts/test's pg_start makes one: the newest
installed server, a temp directory, a unix socket only, a `postgres` superuser without password.
Unlike the test suite's cluster it keeps durability on by default (fsync and synchronous commit),
since every page view commits an access-log entry and a load test should pay for it as
production does; `durable=False` switches it off."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(Path(p).parent.name))
    for candidate in reversed(found):
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError("No PostgreSQL server binaries (initdb) found; run scripts/setup test")


def _as_pg(command: list[str]) -> list[str]:
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


class Cluster:
    def __init__(self, *, durable: bool = True) -> None:
        self.durable = durable
        self.bin = _bindir()
        self.dir = Path(tempfile.mkdtemp(prefix="casetrail-load-pg.", dir="/tmp"))
        self.url = ""

    def version(self) -> str:
        return subprocess.run([str(self.bin / "postgres"), "--version"], capture_output=True, text=True).stdout.strip()

    def start(self) -> str:
        self.dir.chmod(0o755)
        data, socket, log = self.dir / "data", self.dir / "socket", self.dir / "server.log"
        data.mkdir(mode=0o700)
        socket.mkdir(mode=0o755)
        log.touch()
        if os.geteuid() == 0:
            shutil.chown(data, "postgres", "postgres")
            shutil.chown(socket, "postgres", "postgres")
            shutil.chown(log, "postgres", "postgres")
        subprocess.run(_as_pg([str(self.bin / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                               "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync"]),
                       check=True, capture_output=True)
        settings = ["listen_addresses = ''", f"unix_socket_directories = '{socket}'", "max_connections = 200"]
        if not self.durable:
            settings += ["fsync = off", "synchronous_commit = off", "full_page_writes = off"]
        # Written as root when root runs the bench; the server only needs to read it.
        with open(data / "postgresql.conf", "a", encoding="utf-8") as conf:
            conf.write("\n".join(settings) + "\n")
        subprocess.run(_as_pg([str(self.bin / "pg_ctl"), "-D", str(data), "-l", str(log), "-w", "-t", "60",
                               "start"]), check=True, capture_output=True)
        self.url = f"postgres://postgres@/postgres?host={socket}"
        return self.url

    def postmaster(self) -> int | None:
        """The server's process id (its children are the backends)."""
        try:
            return int((self.dir / "data" / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        data = self.dir / "data"
        if (data / "postmaster.pid").exists():
            subprocess.run(_as_pg([str(self.bin / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"]),
                           capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)
