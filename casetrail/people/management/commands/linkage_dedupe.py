"""Search the whole person index for people recorded twice, for an administrator to review."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from casetrail.people.batch import duplicates_find
from casetrail.people.management.commands._progress import stage_bar


class Command(BaseCommand):
    help = ("Score every referral against the rest (Splink on DuckDB, the model in use) and add each pair of "
            "different people whose records are likely the same person to the possible-duplicates review. "
            "Nothing is linked until a person decides.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--threshold", type=float, default=0.9,
                            help="Lowest match probability worth a review (default 0.9)")

    def handle(self, *args: Any, threshold: float, **options: Any) -> None:
        if not 0 < threshold < 1:
            raise CommandError("--threshold must be a probability between 0 and 1, such as 0.9")
        with stage_bar("Searching for people recorded twice") as progress:
            summary = duplicates_find(threshold=threshold, progress=progress)
        self.stdout.write(self.style.SUCCESS(
            f"Scored {summary.records} referrals in {summary.seconds:.1f} s: {summary.pairs_scored} record pairs "
            f"at or above {threshold}, {summary.people_pairs} pairs of people, {summary.new_pairs} new for review."))
