"""Retrain the person-linkage model on every referral recorded here."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from casetrail.people.batch import MIN_TRAINING_RECORDS, TooFewRecords, linkage_model_train
from casetrail.people.management.commands._progress import stage_bar


class Command(BaseCommand):
    help = ("Train the person-linkage model (Splink, unsupervised) on every referral recorded, closed cases "
            "included, and save it with its parameters and training date where matching uses it "
            "(CASETRAIL_LINKAGE_MODEL, by default var/linkage/model.json).")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--output", type=Path, help="Save the model here instead")
        parser.add_argument("--min-records", type=int, default=MIN_TRAINING_RECORDS,
                            help=f"Refuse to train on fewer referrals than this (default {MIN_TRAINING_RECORDS})")

    def handle(self, *args: Any, output: Path | None, min_records: int, **options: Any) -> None:
        if min_records < 2:
            raise CommandError("--min-records must be at least 2")
        try:
            with stage_bar("Training the linkage model") as progress:
                summary = linkage_model_train(path=output, min_records=min_records, progress=progress)
        except TooFewRecords as refused:
            raise CommandError(str(refused)) from None
        self.stdout.write(self.style.SUCCESS(
            f"Trained on {summary.record_count} referrals in {summary.seconds:.1f} s "
            f"(trained at {summary.trained_at}); saved to {summary.path}"))
