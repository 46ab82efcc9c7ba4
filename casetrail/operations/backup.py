"""Backup and restore of the whole service: the database and the uploaded files.

A backup is a directory holding a consistent snapshot of the database, a copy of every uploaded
file and `manifest.json`: the row count of every table, the head and last entry of both audit
chains, and each file's size and SHA-256, all as they were in the snapshot.

- SQLite: SQLite's online backup API copies the live database page by page into
  `database.sqlite3` (other connections keep writing; the copy is one consistent state).
- PostgreSQL: `pg_dump --format=custom` into `database.pgdump`, reading a snapshot exported from a
  read-only repeatable-read transaction, in which the manifest's counts are taken too, so the
  dump and the manifest describe one state. The audit chains are rows like any other: the dump
  holds them byte for byte, which their verification after a restore shows.

Files are copied before the snapshot is taken; then each file an attachment row of the snapshot
names that was not there yet (a referral submitted meanwhile) is copied too. A file named by the
snapshot that was gone by then (a disposal meanwhile) is listed in the manifest as missing.

A restore goes only into an empty database (no tables: a new SQLite file or a new PostgreSQL
database) and an empty upload directory. It checks the backup against its manifest before
writing anything, then restores, then checks the counts, the files' SHA-256 and that both audit
chains verify and end where the manifest says.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from glob import glob
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection, transaction

from casetrail.audit.models import ChainHead
from casetrail.audit.verification import CHAINED_MODELS, chain_verify

FORMAT = "casetrail-backup 1"
MANIFEST = "manifest.json"
UPLOADS = "uploads"
DATABASE_FILE = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ATTACHMENT_TABLE = "referrals_attachment"
CHUNK = 1 << 20


class BackupError(Exception):
    """The backup or restore cannot go ahead; the message says why and what to do."""


@dataclass
class RestoreReport:
    tables: int = 0
    rows: int = 0
    files: int = 0
    chains: dict[str, str] = field(default_factory=dict)  # chain: "N entries, intact ..."
    problems: list[str] = field(default_factory=list)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as file:
        while block := file.read(CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _copy(source: Path, target: Path) -> tuple[int, str]:
    """Copy a file, hashing what is written: (size, sha256). Written under a temporary name and
    renamed, so a half-copied file never has its real name."""
    digest, size = hashlib.sha256(), 0
    partial = target.with_name(target.name + ".partial")
    with source.open("rb") as reader, partial.open("wb") as writer:
        while block := reader.read(CHUNK):
            digest.update(block)
            writer.write(block)
            size += len(block)
        writer.flush()
        os.fsync(writer.fileno())
    partial.replace(target)
    return size, digest.hexdigest()


def _upload_files(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(path for path in directory.iterdir() if path.is_file() and not path.is_symlink())


def postgresql_tool(name: str) -> str:
    """pg_dump or pg_restore: on PATH, else the newest in Debian's /usr/lib/postgresql/*/bin."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob(f"/usr/lib/postgresql/*/bin/{name}"),
                        key=lambda path: [int(part) if part.isdigit() else 0 for part in Path(path).parts])
    if candidates:
        return candidates[-1]
    raise BackupError(f"{name} is not installed: install the PostgreSQL client tools of the server's version "
                      f"(Debian: postgresql-client-15) or put {name} on PATH. A PostgreSQL backup is only made "
                      f"with pg_dump, so that the audit chains restore byte for byte.")


def _postgresql_environment() -> dict[str, str]:
    config = connection.settings_dict
    values = {"PGDATABASE": config["NAME"], "PGUSER": config.get("USER") or "", "PGPASSWORD": config.get("PASSWORD") or "",
              "PGHOST": config.get("HOST") or "", "PGPORT": str(config.get("PORT") or "")}
    return {**os.environ, **{name: value for name, value in values.items() if value}}


def _run(command: list[str]) -> None:
    completed = subprocess.run(command, env=_postgresql_environment(), capture_output=True, text=True, check=False)
    if completed.returncode:
        raise BackupError(f"{Path(command[0]).name} failed (exit {completed.returncode}): "
                          f"{completed.stderr.strip() or completed.stdout.strip()}")


def _facts(cursor: Any, tables: Iterable[str], quote: Callable[[str], str]) -> dict[str, Any]:
    """Counts of every table, both chains' heads and last entries, and the attachments' files,
    read through one cursor (so from the snapshot it sees)."""
    counts = {}
    for table in sorted(tables):
        cursor.execute(f"SELECT COUNT(*) FROM {quote(table)}")
        counts[table] = int(cursor.fetchone()[0])
    chains = {}
    for chain, model in CHAINED_MODELS.items():
        # The chain's name is a constant of the code, never input.
        cursor.execute(f"SELECT seq, entry_hash FROM audit_chainhead WHERE chain = '{chain}'")
        head = cursor.fetchone()
        cursor.execute(f"SELECT seq, entry_hash FROM {quote(model._meta.db_table)} ORDER BY seq DESC LIMIT 1")
        last = cursor.fetchone()
        chains[chain] = {"table": model._meta.db_table,
                         "head_seq": int(head[0]) if head else 0, "head_hash": head[1] if head else "",
                         "last_seq": int(last[0]) if last else 0, "last_hash": last[1] if last else ""}
    cursor.execute(f"SELECT stored_name, sha256 FROM {quote(ATTACHMENT_TABLE)}")
    attachments = {str(name): str(sha) for name, sha in cursor.fetchall()}
    return {"tables": counts, "chains": chains, "attachments": attachments}


def _sqlite_tables(cursor: Any) -> list[str]:
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
    return [row[0] for row in cursor.fetchall()]


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# ---------------------------------------------------------------- backup

def backup_write(target: Path, *, say: Callable[[str], None] = print,
                 progress: Callable[[Iterable[Path], str], Iterable[Path]] = lambda items, _: items) -> dict[str, Any]:
    """Write a backup into `target` (a new or empty directory); return the manifest."""
    vendor = connection.vendor
    if vendor not in DATABASE_FILE:
        raise BackupError(f"Backups are made of SQLite and PostgreSQL databases, not {vendor}.")
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise BackupError(f"{target} exists and is not an empty directory: give a new directory for each backup.")
    if connection.in_atomic_block:
        raise BackupError("A backup takes its own snapshot: run it outside a transaction.")
    upload_dir = Path(settings.MEDIA_ROOT)
    (target / UPLOADS).mkdir(parents=True)
    copied: dict[str, dict[str, Any]] = {}

    def copy(path: Path) -> None:
        size, sha = _copy(path, target / UPLOADS / path.name)
        copied[path.name] = {"name": path.name, "size": size, "sha256": sha}

    # 1. The files as they are now (files first: see the module's docstring).
    for path in progress(_upload_files(upload_dir), "uploaded files"):
        copy(path)
    # 2. The database snapshot, and the manifest's facts from that same snapshot.
    database = target / DATABASE_FILE[vendor]
    say(f"Snapshot of the {vendor} database into {database.name}…")
    if vendor == "sqlite":
        connection.ensure_connection()
        copy_connection = sqlite3.connect(database)
        try:
            connection.connection.backup(copy_connection)
            # One self-contained file: out of WAL mode, so opening it never leaves -wal/-shm files.
            copy_connection.execute("PRAGMA journal_mode=DELETE")
            cursor = copy_connection.cursor()
            facts = _facts(cursor, _sqlite_tables(cursor), _quote)
            server = f"SQLite {sqlite3.sqlite_version}"
        finally:
            copy_connection.close()
    else:
        dump = postgresql_tool("pg_dump")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            cursor.execute("SELECT pg_export_snapshot(), current_setting('server_version')")
            snapshot, version = cursor.fetchone()
            _run([dump, "--format=custom", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                  f"--file={database}"])
            facts = _facts(cursor, connection.introspection.table_names(cursor), connection.ops.quote_name)
            server = f"PostgreSQL {version}"
    # 3. Files the snapshot names that were not there at step 1.
    missing = []
    for name in sorted(set(facts["attachments"]) - set(copied)):
        path = upload_dir / name
        if path.is_file():
            copy(path)
        else:
            missing.append(name)
    other_content = sorted(name for name, sha in facts["attachments"].items()
                           if name in copied and copied[name]["sha256"] != sha)
    manifest = {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "database": {"vendor": vendor, "server": server, "file": database.name,
                     "size": database.stat().st_size, "sha256": file_sha256(database)},
        "tables": facts["tables"],
        "chains": facts["chains"],
        "files": [copied[name] for name in sorted(copied)],
        "attachments_without_file": missing,
        "attachments_with_other_content": other_content,
        "python": sys.version.split()[0],
    }
    (target / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
    return manifest


# ---------------------------------------------------------------- restore

def manifest_read(source: Path) -> dict[str, Any]:
    path = Path(source) / MANIFEST
    try:
        manifest = json.loads(path.read_text())
    except OSError as problem:
        raise BackupError(f"Cannot read {path}: {problem.strerror}. Is {source} a backup directory?") from None
    except ValueError:
        raise BackupError(f"{path} is not JSON: the backup is damaged.") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise BackupError(f"{path} is not a manifest of the format {FORMAT!r}.")
    return manifest


def backup_check(source: Path, manifest: dict[str, Any], *,
                 progress: Callable[[Iterable[Any], str], Iterable[Any]] = lambda items, _: items) -> None:
    """That the backup's files are those its manifest lists, byte for byte."""
    source = Path(source)
    database = source / manifest["database"]["file"]
    if not database.is_file():
        raise BackupError(f"The backup has no {database.name}.")
    if file_sha256(database) != manifest["database"]["sha256"]:
        raise BackupError(f"{database} does not match the SHA-256 in the manifest: the backup is damaged.")
    damaged = []
    for item in progress(manifest["files"], "checking the backup's files"):
        path = source / UPLOADS / item["name"]
        if Path(item["name"]).name != item["name"]:
            raise BackupError(f"The manifest names a file outside the backup: {item['name']!r}.")
        if not path.is_file() or file_sha256(path) != item["sha256"]:
            damaged.append(item["name"])
    if damaged:
        raise BackupError(f"{len(damaged)} file(s) of the backup are missing or differ from the manifest, "
                          f"e.g. {damaged[0]}: the backup is damaged.")


def _target_tables() -> list[str]:
    try:
        with connection.cursor() as cursor:
            return list(connection.introspection.table_names(cursor))
    except DatabaseError as problem:
        reason = " ".join(str(problem).split()).rstrip(".")
        raise BackupError(f"Cannot open the database {connection.settings_dict['NAME']}: {reason}. "
                          f"Create it first (e.g. createdb) and check CASETRAIL_DATABASE_URL.") from None


def restore_read(source: Path, *, say: Callable[[str], None] = print,
                 progress: Callable[[Iterable[Any], str], Iterable[Any]] = lambda items, _: items) -> RestoreReport:
    """Restore the backup in `source` into this (empty) database and upload directory, then
    check it. Refuses, changing nothing, if the backup is damaged or the target is not empty."""
    source = Path(source)
    manifest = manifest_read(source)
    vendor = manifest["database"]["vendor"]
    if vendor != connection.vendor:
        raise BackupError(f"The backup is of a {vendor} database; this service uses {connection.vendor}. "
                          f"Restore it into a {vendor} database.")
    if connection.in_atomic_block:
        raise BackupError("Run the restore outside a transaction.")
    tables = _target_tables()
    if tables:
        raise BackupError(f"The database {connection.settings_dict['NAME']} is not empty ({len(tables)} tables, "
                          f"e.g. {sorted(tables)[0]}): restore only into an empty database. Create a new one "
                          f"and point CASETRAIL_DATABASE_URL at it (do not migrate it first).")
    upload_dir = Path(settings.MEDIA_ROOT)
    if upload_dir.exists() and any(upload_dir.iterdir()):
        raise BackupError(f"The upload directory {upload_dir} is not empty: restore only into an empty one "
                          f"(set CASETRAIL_UPLOAD_DIR to a new directory).")
    backup_check(source, manifest, progress=progress)

    database = source / manifest["database"]["file"]
    say(f"Restoring the {vendor} database from {database.name}…")
    if vendor == "sqlite":
        connection.ensure_connection()
        backup_connection = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            backup_connection.backup(connection.connection)
        finally:
            backup_connection.close()
    else:
        _run([postgresql_tool("pg_restore"), "--exit-on-error", "--single-transaction", "--no-owner",
              "--no-privileges", f"--dbname={connection.settings_dict['NAME']}", str(database)])
    connection.close()  # what it knew of the schema is out of date
    upload_dir.mkdir(parents=True, exist_ok=True)
    for item in progress(manifest["files"], "restoring uploaded files"):
        _copy(source / UPLOADS / item["name"], upload_dir / item["name"])
    return restore_check(manifest, progress=progress)


def restore_check(manifest: dict[str, Any], *,
                  progress: Callable[[Iterable[Any], str], Iterable[Any]] = lambda items, _: items) -> RestoreReport:
    """Compare the database and upload directory with the manifest; verify both audit chains."""
    report = RestoreReport()
    with connection.cursor() as cursor:
        for table, expected in manifest["tables"].items():
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            count = int(cursor.fetchone()[0])
            report.tables += 1
            report.rows += count
            if count != expected:
                report.problems.append(f"table {table}: {count} rows, the backup had {expected}")
    upload_dir = Path(settings.MEDIA_ROOT)
    for item in progress(manifest["files"], "checking restored files"):
        path = upload_dir / item["name"]
        if not path.is_file() or file_sha256(path) != item["sha256"]:
            report.problems.append(f"file {item['name']}: missing or not the backed-up content")
        else:
            report.files += 1
    for chain, model in CHAINED_MODELS.items():
        expected = manifest["chains"][chain]
        chain_report = chain_verify(model)
        if not chain_report.intact:
            report.problems.append(f"{chain}: {chain_report.problem}")
            report.chains[chain] = "BROKEN"
            continue
        if chain_report.last_seq != expected["last_seq"] or (
                expected["last_seq"] and chain_report.last_hash != expected["last_hash"]):
            report.problems.append(f"{chain}: ends at seq {chain_report.last_seq}, the backup's at "
                                   f"seq {expected['last_seq']}")
        head = ChainHead.objects.filter(chain=chain).values_list("seq", "entry_hash").first() or (0, "")
        if (head[0], head[1] if head[0] else "") != (expected["head_seq"], expected["head_hash"] if expected["head_seq"] else ""):
            report.problems.append(f"{chain}: its head is at seq {head[0]}, the backup's at seq {expected['head_seq']}")
        report.chains[chain] = (f"{chain_report.entries:,} entries, intact, last seq {chain_report.last_seq} "
                                f"(hash {chain_report.last_hash[:16]}…)")
    return report
