"""A health endpoint for load balancers: the database answers, takes writes, and every migration
is applied.

It reads as little as it can and writes nothing: casetrail.web.middleware.HealthCheckMiddleware
answers /healthz before sessions, sign-in, CSRF and messages run, so a check never loads or saves a
session; and the migration check, which reads the whole migration table, runs only until it first
succeeds in a process, since migrations cannot be unapplied under a running process (a deployment
that migrates starts new processes). Afterwards a check is one query: SELECT 1 on SQLite, whether
the transaction is read-only on PostgreSQL.

Answers (JSON): 200 {"status": "ok", "database": <vendor>}; 503 {"status": "unhealthy",
"database": ...} with "unreachable", "read-only or disk full" or "migrations pending". "Read-only
or disk full" also comes from a write that failed for that reason within the last
WRITE_FAILURE_MEMORY_SECONDS in this process (casetrail.web.errors), since only a write would
prove the disk has room, and the check itself writes nothing.
"""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, JsonResponse

WRITE_FAILURE_MEMORY_SECONDS = 60
SQLITE_MIN_FREE_BYTES = 1024 * 1024  # below this, an SQLite file's disk counts as full

_lock = threading.Lock()
_migrations_applied = False
_write_refused_at: float | None = None


def note_database_failure(failure: str) -> None:
    """Called by the 503 handler: remember a write refused for want of space or write access."""
    global _write_refused_at
    if failure == "read-only or disk full":
        with _lock:
            _write_refused_at = time.monotonic()


def reset() -> None:
    """Forget what this process learnt (tests, and a process that wants the full check again)."""
    global _migrations_applied, _write_refused_at
    with _lock:
        _migrations_applied = False
        _write_refused_at = None


def _unhealthy(database: str) -> JsonResponse:
    return JsonResponse({"status": "unhealthy", "database": database}, status=503)


def _sqlite_refuses_writes() -> bool:
    name = Path(str(connection.settings_dict["NAME"]))
    if str(name) == ":memory:" or "mode=memory" in str(name):
        return False
    folder = name.parent
    # WAL mode writes beside the file (-wal, -shm), so the folder must be writable too.
    if not os.access(name, os.W_OK) or not os.access(folder, os.W_OK):
        return True
    return shutil.disk_usage(folder).free < SQLITE_MIN_FREE_BYTES


def healthz(request: HttpRequest) -> JsonResponse:
    global _migrations_applied
    try:
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute("SELECT current_setting('transaction_read_only')")
                read_only = cursor.fetchone()[0] == "on"
            else:
                cursor.execute("SELECT 1")
                read_only = connection.vendor == "sqlite" and _sqlite_refuses_writes()
        if not _migrations_applied:
            executor = MigrationExecutor(connection)
            if executor.migration_plan(executor.loader.graph.leaf_nodes()):
                return _unhealthy("migrations pending")
            _migrations_applied = True
    except DatabaseError:
        return _unhealthy("unreachable")
    refused_at = _write_refused_at
    if read_only or (refused_at is not None and time.monotonic() - refused_at < WRITE_FAILURE_MEMORY_SECONDS):
        return _unhealthy("read-only or disk full")
    return JsonResponse({"status": "ok", "database": connection.vendor})
