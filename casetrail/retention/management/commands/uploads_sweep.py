"""Delete uploaded files that no attachment names any more (left by an interrupted disposal)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from casetrail.retention.files import orphan_files_sweep


class Command(BaseCommand):
    help = ("Delete files in the upload directory that no attachment names: what a disposal or a failed "
            "referral left behind when its process stopped before removing them. Schedule it nightly.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--min-age-minutes", type=int, default=60,
                            help="Spare files younger than this (a referral may be being submitted); default 60")
        parser.add_argument("--dry-run", action="store_true", help="Count what would go; delete nothing")

    def handle(self, *args: Any, min_age_minutes: int, dry_run: bool, **options: Any) -> None:
        if min_age_minutes < 1:
            raise CommandError("--min-age-minutes must be at least 1: younger files may belong to a referral "
                               "being submitted")
        result = orphan_files_sweep(min_age=timedelta(minutes=min_age_minutes), dry_run=dry_run)
        verb = "would be deleted" if dry_run else "deleted"
        self.stdout.write(self.style.SUCCESS(
            f"{result.orphans} file(s) no attachment names {verb} ({result.bytes} bytes freed); "
            f"{result.young} younger than {min_age_minutes} minutes spared; "
            f"{result.other} file(s) with names Casetrail does not give left alone."))
