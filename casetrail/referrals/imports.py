"""Importing a legacy system's referrals from a CSV or JSON file, row by row through the intake
service (docs/import.md).

Each row is checked exactly as the API checks a referral (its input shape, then the referral's
rules and the intake service's own checks), plus what only an import has: when the referral was
made and its legacy reference. Good rows are recorded one by one by `referral_import`, each in its
own transaction, oldest first so that each is matched against every person referred before it.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.utils import timezone
from pydantic import ValidationError

from casetrail import clock
from casetrail.accounts.models import Agency, User
from casetrail.api.schemas import ReferralIn
from casetrail.cases.access import require
from casetrail.core.dates import PartialDate
from casetrail.core.errors import InvalidInput
from casetrail.core.imports import (
    FileProblem,
    ParsedRow,
    Row,
    decode,
    read_csv,
    read_json,
    row_parse,
)
from casetrail.core.policy import Permission
from casetrail.core.referrals import ReferralInput
from casetrail.core.roles import AgencyKind
from casetrail.referrals.services import (
    AlreadyImported,
    import_key,
    referral_import,
    referral_import_earlier,
    referral_import_errors,
)

__all__ = ["FileProblem", "ImportSummary", "RowOutcome", "import_file", "import_rows", "report_write"]

# The service's and the API's field names, as the file's columns name them.
COLUMN_OF_FIELD = {"local_authority_id": "local_authority", "submitted_at": "submitted_on"}
PLACEHOLDER_DAY = "2000-01-01"

Progress = Callable[[str, int, int], None]  # (stage, rows done, rows in all)


@dataclass
class RowOutcome:
    line: int
    legacy_reference: str
    status: str  # imported | would_import | bad | duplicate | already_imported
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column, reason)
    referral_reference: str = ""
    possible_earlier_records: int = 0


@dataclass
class ImportSummary:
    file_format: str
    encoding: str
    delimiter: str
    dry_run: bool
    outcomes: list[RowOutcome]
    seconds: float = 0.0

    def count(self, status: str) -> int:
        return sum(1 for o in self.outcomes if o.status == status)

    @property
    def rows(self) -> int:
        return len(self.outcomes)

    @property
    def imported(self) -> int:
        return self.count("imported")

    @property
    def matched(self) -> int:
        """Imported rows whose person matched at least one person referred before them."""
        return sum(1 for o in self.outcomes if o.status == "imported" and o.possible_earlier_records)

    @property
    def new_people(self) -> int:
        return self.imported - self.matched

    @property
    def bad(self) -> int:
        return self.count("bad")


@dataclass
class _Checked:
    parsed: ParsedRow
    data: ReferralInput
    submitted_at: datetime  # aware


def _column(name: str) -> str:
    return COLUMN_OF_FIELD.get(name, name)


def _api_errors(fields: dict[str, Any]) -> dict[str, list[str]]:
    """What the API's input shape says of these values, by field."""
    try:
        ReferralIn.model_validate(fields)
    except ValidationError as problem:
        errors: dict[str, list[str]] = {}
        for error in problem.errors():
            name = str(error["loc"][0]) if error["loc"] else ""
            if error["type"] == "string_too_long":
                message = f"Must be {error['ctx']['max_length']} characters or fewer"
            else:
                message = error["msg"]
            errors.setdefault(name, []).append(message)
        return errors
    return {}


def _check(user: User, parsed: ParsedRow) -> tuple[_Checked | None, dict[str, list[str]]]:
    """The row as a referral ready to import, or every reason it cannot be, by column.

    A cell that could not be read is replaced by a harmless value for the remaining checks, so that
    one bad date does not hide a bad postcode; its own reason is the one reported."""
    errors = {k: list(v) for k, v in parsed.errors.items()}
    fields = dict(parsed.fields)
    if fields["first_observed_on"] is None:
        fields["first_observed_on"] = PartialDate.from_iso(PLACEHOLDER_DAY).earliest()
    if fields["local_authority_id"] is None:
        fields["local_authority_id"] = 0
    submitted = timezone.make_aware(parsed.submitted_at) if parsed.submitted_at else clock.now()

    def merge(found: dict[str, list[str]]) -> None:
        for name, messages in found.items():
            column = _column(name)
            if column not in parsed.errors:  # a cell's own reading error says it first
                for message in messages:
                    if message not in errors.get(column, []):
                        errors.setdefault(column, []).append(message)

    birth = PartialDate.from_iso(fields["date_of_birth"]) if fields["date_of_birth"] else None
    values = {name: fields[name] for name in ReferralInput.__dataclass_fields__}
    data = ReferralInput(**{**values, "date_of_birth": birth, "concern_types": tuple(fields["concern_types"])})
    merge(referral_import_errors(user=user, data=data, submitted_at=submitted,
                                 legacy_reference=parsed.legacy_reference))
    # The API's input shape catches what the referral's rules leave to it (an address or concern
    # too long to send, say); where both object to a field, the rules' reason is the clearer one.
    merge({name: messages for name, messages in _api_errors(fields).items() if _column(name) not in errors})
    if errors:
        return None, errors
    return _Checked(parsed, data, submitted), {}


def _spread_same_day(rows: list[ParsedRow]) -> None:
    """Rows made the same day with no time given are taken a second apart from noon, in the file's
    order, so that a person referred twice that day is matched against the first referral."""
    taken: dict[Any, int] = {}
    for row in rows:
        if row.submitted_at is not None and not row.timed:
            day = row.submitted_at.date()
            row.submitted_at += timedelta(seconds=taken.get(day, 0))
            taken[day] = taken.get(day, 0) + 1


def _authorities() -> dict[str, int]:
    return {name.lower(): pk for pk, name in
            Agency.objects.filter(kind=AgencyKind.LOCAL_AUTHORITY).values_list("pk", "name")}


def import_file(*, user: User, path: Path, file_format: str | None = None, encoding: str | None = None,
                dry_run: bool = False, progress: Progress | None = None) -> ImportSummary:
    """Check every row of the file, then (unless `dry_run`) import the good ones oldest first.
    FileProblem when the file as a whole cannot be read (nothing is imported then)."""
    started = time.monotonic()
    require(user, Permission.IMPORT_REFERRALS)
    report = progress or (lambda stage, done, total: None)
    kind = (file_format or ("json" if path.suffix.lower() == ".json" else "csv")).lower()
    if kind not in ("csv", "json"):
        raise FileProblem(f"--format {kind!r} is not csv or json")
    try:
        raw = path.read_bytes()
    except OSError as problem:
        raise FileProblem(f"Cannot read {path}: {problem.strerror}") from None
    text, used = decode(raw, encoding)
    delimiter = ""
    rows: list[Row]
    if kind == "json":
        rows = read_json(text)
    else:
        rows, delimiter = read_csv(text)
    summary = ImportSummary(kind, used, delimiter, dry_run, [])
    import_rows(user=user, rows=rows, summary=summary, source=path.name, progress=report)
    summary.seconds = time.monotonic() - started
    return summary


def import_rows(*, user: User, rows: list[Row], summary: ImportSummary, source: str,
                progress: Progress | None = None) -> None:
    """Check the rows, then (unless the summary is of a dry run) import the good ones oldest first;
    each row's outcome goes into the summary, in line order."""
    require(user, Permission.IMPORT_REFERRALS)
    report = progress or (lambda stage, done, total: None)
    dry_run = summary.dry_run
    authorities = _authorities()
    parsed = [row_parse(row, authorities=authorities) for row in rows]
    _spread_same_day(parsed)
    outcomes: dict[int, RowOutcome] = {}
    ready: list[_Checked] = []
    first_of_key: dict[str, int] = {}
    for done, row in enumerate(parsed, start=1):
        checked, errors = _check(user, row)
        outcome = RowOutcome(row.line, row.legacy_reference, "bad",
                             [(column, message) for column, messages in errors.items() for message in messages])
        outcomes[row.line] = outcome
        if checked is not None:
            key = import_key(agency_id=user.agency_id or 0, data=checked.data, submitted_at=checked.submitted_at,
                             legacy_reference=row.legacy_reference)
            earlier = referral_import_earlier(user=user, data=checked.data, submitted_at=checked.submitted_at,
                                              legacy_reference=row.legacy_reference)
            column = "legacy_reference" if row.legacy_reference else ""
            if key in first_of_key:
                outcome.status = "duplicate"
                what = "the same legacy reference as" if row.legacy_reference else "the same referral as"
                outcome.problems = [(column, f"Duplicate: {what} line {first_of_key[key]}")]
            elif earlier is not None:
                outcome.status = "already_imported"
                outcome.problems = [(column, f"Already imported as {earlier.reference}")]
                outcome.referral_reference = earlier.reference
            else:
                outcome.status = "would_import"
                ready.append(checked)
            first_of_key.setdefault(key, row.line)
        report("Checking rows", done, len(parsed))

    if not dry_run:
        ready.sort(key=lambda c: (c.submitted_at, c.parsed.line))
        for done, checked in enumerate(ready, start=1):
            outcome = outcomes[checked.parsed.line]
            try:
                referral = referral_import(user=user, data=checked.data, submitted_at=checked.submitted_at,
                                           legacy_reference=checked.parsed.legacy_reference,
                                           source=source, line=checked.parsed.line)
            except AlreadyImported as problem:  # by another run since this one checked
                outcome.status = "already_imported"
                outcome.referral_reference = problem.referral.reference
                outcome.problems = [(_column(k), m) for k, ms in problem.errors.items() for m in ms]
            except InvalidInput as problem:
                outcome.status = "bad"
                outcome.problems = [(_column(k), m) for k, ms in problem.errors.items() for m in ms]
            else:
                outcome.status = "imported"
                outcome.referral_reference = referral.reference
                outcome.possible_earlier_records = referral.case.possible_matches.count()
            report("Importing rows", done, len(ready))
    summary.outcomes = [outcomes[line] for line in sorted(outcomes)]


REPORT_COLUMNS = ["line", "legacy_reference", "status", "column", "problem"]
STATUS_TEXT = {"bad": "not imported: bad row", "duplicate": "not imported: duplicate in this file",
               "already_imported": "not imported: imported before"}


def report_write(summary: ImportSummary, path: Path) -> int:
    """Write every row not imported, one line per reason, to a CSV file a spreadsheet opens beside
    the original (UTF-8 with a byte order mark). No names or case text: the line and legacy
    reference find the row. Returns how many rows it lists."""
    listed = [o for o in summary.outcomes if o.status in STATUS_TEXT]
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["item" if summary.file_format == "json" else "line", *REPORT_COLUMNS[1:]])
        for outcome in listed:
            for column, problem in outcome.problems or [("", "")]:
                writer.writerow([outcome.line, outcome.legacy_reference, STATUS_TEXT[outcome.status],
                                 column or "(whole row)", problem])
    return len(listed)
