"""Import referrals from a legacy system's CSV or JSON export, as a police Prevent officer (docs/import.md)."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from casetrail.accounts.models import User
from casetrail.cases.access import require
from casetrail.core.errors import AccessDenied
from casetrail.core.policy import Permission
from casetrail.referrals.imports import FileProblem, ImportSummary, import_file, report_write

BAD_ROWS = 1
BAD_INPUT = 2


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else many or one + 's'}"


class Command(BaseCommand):
    help = ("Import referrals from a CSV or JSON file (one row per referral; docs/import.md). Every row is "
            "checked as the API checks a referral; good rows are recorded oldest first, each in its own "
            "transaction and matched against the person index as at intake. Bad rows, duplicates and rows "
            "imported before are reported with their line, never imported. Exit status 1 when any row was "
            "bad, 2 when the file cannot be read.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", help="The CSV or JSON file, e.g. docs/examples/referrals-import.csv")
        parser.add_argument("--as", dest="username", required=True,
                            help="The username of the police Prevent officer importing (recorded on every referral)")
        parser.add_argument("--format", choices=["csv", "json"], help="Default: json for a .json file, else csv")
        parser.add_argument("--encoding", help="The file's encoding, e.g. utf-8 or windows-1252 (default: detected)")
        parser.add_argument("--dry-run", action="store_true", help="Check every row and write nothing but the report")
        parser.add_argument("--report", help="Where to write the CSV report of rows not imported "
                                             "(default: beside the file, named <file>.import-report.csv)")

    def handle(self, *args: Any, **options: Any) -> None:
        user = User.objects.filter(username=options["username"]).first()
        if user is None:
            raise CommandError(f"No user is called {options['username']!r}", returncode=BAD_INPUT)
        try:
            require(user, Permission.IMPORT_REFERRALS)
        except AccessDenied as refusal:
            raise CommandError(f"{user.username} may not import referrals: {refusal}", returncode=BAD_INPUT) from None
        path = Path(options["file"])
        report = Path(options["report"]) if options["report"] else path.with_name(path.name + ".import-report.csv")
        if not os.access(report.parent, os.W_OK) or (report.exists() and not os.access(report, os.W_OK)):
            # Checked first: rows imported with no report written would leave the bad ones unexplained.
            raise CommandError(f"Cannot write the report to {report}; give --report with a path you can write",
                               returncode=BAD_INPUT)
        bar: tqdm[Any] | None = None
        shown = ""

        def progress(stage: str, done: int, total: int) -> None:
            # One bar per stage (checking, then importing); hidden when stderr is not a terminal.
            nonlocal bar, shown
            if bar is None or shown != stage:
                if bar is not None:
                    bar.close()
                bar, shown = tqdm(total=total, desc=stage, unit="row", file=sys.stderr, disable=None), stage
            bar.update(done - bar.n)

        try:
            summary = import_file(user=user, path=path, file_format=options["format"], encoding=options["encoding"],
                                  dry_run=options["dry_run"], progress=progress)
        except FileProblem as problem:
            raise CommandError(str(problem), returncode=BAD_INPUT) from None
        finally:
            if bar is not None:
                bar.close()
        listed = report_write(summary, report)
        self.summarise(summary, report, listed)
        if summary.bad:
            raise CommandError(f"{_n(summary.bad, 'bad row')} not imported; the report lists each with its reason",
                               returncode=BAD_ROWS)

    def summarise(self, summary: ImportSummary, report: Path, listed: int) -> None:
        out = self.stdout.write
        unit = "item" if summary.file_format == "json" else "line"
        read = f"{summary.file_format.upper()}, {summary.encoding}"
        if summary.delimiter:
            read += ", " + {",": "comma", ";": "semicolon"}[summary.delimiter] + "-separated"
        out(f"Read {_n(summary.rows, 'row')} ({read}) in {summary.seconds:.1f} s.")
        for outcome in summary.outcomes:
            if outcome.status == "bad":
                for column, problem in outcome.problems:
                    out(f"  {unit} {outcome.line}: {column or 'row'}: {problem}")
        if summary.dry_run:
            out(self.style.SUCCESS(f"Dry run: {_n(summary.count('would_import'), 'row')} would be imported; nothing "
                                   "was written."))
        else:
            rate = summary.imported / summary.seconds if summary.seconds else 0.0
            matched = f"{summary.matched / summary.imported:.1%}" if summary.imported else "n/a"
            out(self.style.SUCCESS(
                f"Imported {_n(summary.imported, 'referral')} ({rate:.1f} rows a second): {summary.matched} matched a "
                f"person referred before (possible earlier records kept on the case, {matched}), "
                f"{_n(summary.new_people, 'new person', 'new people')}."))
        out(f"Not imported: {_n(summary.bad, 'bad row')}, {_n(summary.count('duplicate'), 'duplicate')} within "
            f"the file, {summary.count('already_imported')} imported before.")
        out(f"Report ({listed} rows not imported): {report}")
