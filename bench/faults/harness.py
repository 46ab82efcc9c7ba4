"""Running Casetrail as it is deployed, for the fault runs and the concurrency tests: a fresh
file database (SQLite, or a new database on a PostgreSQL server), gunicorn and the task worker
as separate processes, and a small JSON client for the API.

Nothing here imports Django: the processes it starts do, each against the database it made.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class Site:
    """One fresh database and the environment every process of the run shares."""

    workdir: Path
    database_url: str
    env: dict[str, str]
    dropped: bool = False
    world: dict[str, Any] = field(default_factory=dict)

    def manage(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, text=True,
                              capture_output=True, check=check, timeout=timeout)

    def python(self, module: str, *args: str, timeout: float = 600) -> str:
        done = subprocess.run([sys.executable, "-m", module, *args], cwd=ROOT, env=self.env, text=True,
                              capture_output=True, timeout=timeout)
        if done.returncode != 0:
            raise RuntimeError(f"{module} failed:\n{done.stderr[-4000:]}")
        return done.stdout

    def drop(self) -> None:
        """Remove a PostgreSQL database made for the run (a SQLite file goes with its directory)."""
        if self.dropped or not self.database_url.startswith("postgres"):
            return
        _pg_admin(self.database_url, f'DROP DATABASE IF EXISTS "{_pg_name(self.database_url)}" WITH (FORCE)')
        self.dropped = True


def _pg_name(url: str) -> str:
    return urlparse(url).path.lstrip("/")


def _pg_with_name(url: str, name: str) -> str:
    return urlunparse(urlparse(url)._replace(path="/" + name))


def _pg_admin(url: str, statement: str) -> None:
    import psycopg

    parsed = urlparse(url)
    from urllib.parse import parse_qs

    host = parsed.hostname or parse_qs(parsed.query).get("host", [""])[0]
    with psycopg.connect(dbname="postgres", user=parsed.username or "postgres", password=parsed.password or None,
                         host=host or None, port=parsed.port, autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


def site_create(workdir: Path, server_url: str | None = None, *, mail_log: Path | None = None) -> Site:
    """Migrate a new database and build the world in it. server_url: a PostgreSQL server (any
    database name; a new database is made beside it); None: a SQLite file in workdir."""
    workdir.mkdir(parents=True, exist_ok=True)
    if server_url and server_url.startswith("postgres"):
        name = f"faults_{secrets.token_hex(4)}"
        _pg_admin(server_url, f'CREATE DATABASE "{name}"')
        url = _pg_with_name(server_url, name)
    else:
        url = f"sqlite:///{workdir / 'casetrail.sqlite3'}"
    env = {**os.environ, "CASETRAIL_ENV": "development", "CASETRAIL_VAR_DIR": str(workdir / "var"),
           "CASETRAIL_DATABASE_URL": url, "CASETRAIL_DEBUG": "0", "CASETRAIL_LOG_LEVEL": "WARNING",
           "CASETRAIL_ACCESS_LOG_LEVEL": "WARNING", "DJANGO_SETTINGS_MODULE": "casetrail.settings",
           "PYTHONUNBUFFERED": "1"}
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    if mail_log is not None:
        env["CASETRAIL_EMAIL_BACKEND"] = "bench.faults.mailbox.RecordingBackend"
        env["CASETRAIL_FAULTS_MAIL_LOG"] = str(mail_log)
    site = Site(workdir=workdir, database_url=url, env=env)
    try:
        site.manage("migrate", "--no-input", "-v0")
        site.world = json.loads(site.python("bench.faults.world"))
    except BaseException:
        site.drop()
        raise
    return site


class Process:
    """A child process in its own process group, so a SIGKILL takes it and its workers at once."""

    def __init__(self, name: str, argv: list[str], site: Site, log: Path) -> None:
        self.name, self.argv, self.site, self.log = name, argv, site, log
        self.popen: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.popen = subprocess.Popen(self.argv, cwd=ROOT, env=self.site.env, stdout=handle, stderr=subprocess.STDOUT,
                                      start_new_session=True)
        handle.close()

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL to the whole group: the master and every worker die mid-whatever."""
        if self.popen is None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.popen.wait()

    def stop(self) -> None:
        if self.popen is None or self.popen.poll() is not None:
            return
        try:
            os.killpg(self.popen.pid, signal.SIGTERM)
            self.popen.wait(timeout=30)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            self.kill()


class Server(Process):
    """gunicorn as the README runs it, on a free local port."""

    def __init__(self, site: Site, *, workers: int = 3, log: Path | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        super().__init__("web", [sys.executable, "-m", "gunicorn", "casetrail.wsgi", "--bind",
                                 f"127.0.0.1:{self.port}", "--workers", str(workers), "--timeout", "120",
                                 # gunicorn's control socket is one path per user: never take
                                 # over that of another gunicorn on the machine.
                                 "--no-control-socket"],
                         site, log or site.workdir / "web.log")

    def start(self, wait: float = 60) -> None:
        super().start()
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not self.running:
                raise RuntimeError(f"gunicorn stopped at start; see {self.log}")
            try:
                with urllib.request.urlopen(self.base + "/api/v1/frameworks", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"gunicorn did not answer within {wait} s; see {self.log}")


class Worker(Process):
    """The task worker (`manage.py run_worker`), looking for work every `interval` seconds."""

    def __init__(self, site: Site, *, interval: float = 0.2, log: Path | None = None) -> None:
        super().__init__("worker", [sys.executable, "manage.py", "run_worker", "--interval", str(interval)],
                         site, log or site.workdir / "worker.log")


@dataclass(frozen=True)
class Answer:
    status: int  # 0: no answer (connection refused or cut)
    body: Any
    error: str = ""


def call(base: str, method: str, path: str, token: str, body: Any = None, timeout: float = 120,
         **headers: str) -> Answer:
    """One API call; an answer never raises (a broken connection is status 0)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(base + "/api/v1" + path, data=data, method=method.upper(), headers={
        "Authorization": f"Bearer {token}", "Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return Answer(answer.status, json.loads(answer.read() or b"null"))
    except urllib.error.HTTPError as refused:
        text = refused.read()
        try:
            return Answer(refused.code, json.loads(text))
        except ValueError:
            return Answer(refused.code, text.decode(errors="replace")[:2000])
    except (OSError, ValueError) as broken:  # refused, reset, timed out, or cut mid-answer
        return Answer(0, None, f"{type(broken).__name__}: {broken}")
