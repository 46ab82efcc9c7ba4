"""Restore a backup made by `backup` into an empty database and upload directory, then check it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from casetrail.operations.backup import BackupError, restore_read
from casetrail.operations.management.commands.backup import bar


class Command(BaseCommand):
    help = ("Restore the backup in DIR into this service's database, which must be empty (no tables: a new "
            "SQLite file or a new PostgreSQL database, not migrated), and its empty upload directory; then "
            "check row counts and files against the manifest and verify both audit chains. Exit 1 if any "
            "check fails.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("directory", type=Path, metavar="DIR")
        parser.add_argument("--no-progress", action="store_true", help="No progress bars")

    def handle(self, *args: Any, directory: Path, no_progress: bool = False, **options: Any) -> None:
        try:
            report = restore_read(directory, say=self.stdout.write, progress=bar(not no_progress))
        except BackupError as problem:
            raise CommandError(str(problem)) from None
        self.stdout.write(f"Restored {report.tables} tables ({report.rows:,} rows) and {report.files} uploaded files "
                          f"from {directory}.")
        for chain, state in report.chains.items():
            self.stdout.write(f"{chain}: {state}")
        if report.problems:
            for problem in report.problems:
                self.stderr.write(problem)
            raise CommandError(f"The restored service does not match the backup: {report.problems[0]}")
        self.stdout.write(self.style.SUCCESS("Every table count, file and both audit chains match the backup."))
