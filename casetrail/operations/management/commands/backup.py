"""Back up the database and the uploaded files into a new directory (see casetrail/operations/backup.py)."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from casetrail.operations.backup import BackupError, backup_write


def bar(enabled: bool):  # type: ignore[no-untyped-def]
    def progress(items: Iterable[Any], label: str) -> Iterable[Any]:
        return tqdm(items, desc=label, unit=" files", file=sys.stderr, disable=None if enabled else True)
    return progress


class Command(BaseCommand):
    help = ("Write a consistent snapshot of the database (SQLite online backup, or pg_dump on PostgreSQL), "
            "a copy of every uploaded file and a manifest (row counts, audit chain heads, files' SHA-256) "
            "into DIR, a new or empty directory.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("directory", type=Path, metavar="DIR")
        parser.add_argument("--no-progress", action="store_true", help="No progress bars")

    def handle(self, *args: Any, directory: Path, no_progress: bool = False, **options: Any) -> None:
        try:
            manifest = backup_write(directory, say=self.stdout.write, progress=bar(not no_progress))
        except BackupError as problem:
            raise CommandError(str(problem)) from None
        rows = sum(manifest["tables"].values())
        chains = ", ".join(f"{chain} at seq {facts['last_seq']}" for chain, facts in manifest["chains"].items())
        self.stdout.write(self.style.SUCCESS(
            f"Backup written to {directory}: {manifest['database']['server']}, {len(manifest['tables'])} tables, "
            f"{rows:,} rows, {len(manifest['files'])} uploaded files; audit chains: {chains}."))
        for key, what in (("attachments_without_file", "had no file when it was copied (removed meanwhile?)"),
                          ("attachments_with_other_content", "has a file whose SHA-256 differs from its record")):
            if manifest[key]:
                self.stderr.write(self.style.WARNING(f"{len(manifest[key])} attachment(s) {what}: "
                                                     f"{', '.join(manifest[key][:5])}"))
