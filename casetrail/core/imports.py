"""Bulk import of referrals from a legacy spreadsheet: the file format and turning one row into the
fields a referral is submitted with (docs/import.md).

Only the reading lives here: decoding, delimiters, dates as people write them, code lists by code
or label. Whether a referral can be accepted is decided by the same checks as the form and the API
(casetrail/core/referrals.py, the API's input shape and the intake service), never restated here.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any

from casetrail.core.codes import CONCERN_TYPES, PERSON_AWARE, SECTORS, SEX, URGENCY
from casetrail.core.dates import PartialDate

# Every column a file may have, in the order of the example file, with what goes in it. The
# names are those of the API's referral input, except `local_authority` (its name, not an id) and
# the two columns only an import has: `submitted_on` and `legacy_reference`.
COLUMNS: dict[str, str] = {
    "legacy_reference": "The referral's reference in the system it comes from (optional, up to 50 characters)",
    "submitted_on": "When the referral was made: a date, or a date and time (24-hour clock, UK time)",
    "referrer_name": "The referrer's full name",
    "referrer_job_title": "The referrer's job title or role",
    "referrer_email": "The referrer's email address",
    "referrer_phone": "The referrer's phone number (optional)",
    "referrer_organisation": "The referrer's organisation",
    "referrer_sector": "The sector of the referrer's organisation, by code or label",
    "given_names": "The person's first names",
    "family_name": "The person's last name",
    "other_names": "Other names the person uses, separated by semicolons (optional)",
    "date_of_birth": "The person's date of birth, or only its month or year (optional)",
    "sex": "The person's sex, by code or label (optional)",
    "address": "The person's address (optional)",
    "postcode": "The person's postcode (optional)",
    "school_or_workplace": "The person's school, college or workplace (optional)",
    "nhs_number": "The person's NHS number, where known (optional)",
    "upn": "The person's Unique Pupil Number, where known (optional)",
    "local_authority": "The name of the local authority area the person lives in, as Casetrail names it",
    "concern": "What the referrer observed (at least 30 characters)",
    "first_observed_on": "The date the concern was first observed",
    "concern_types": "Types of concern, by code or label, separated by semicolons or |",
    "urgency": "How urgent, by code or label (optional; routine when empty)",
    "person_aware": "Whether the person knows of the referral, by code or label (optional; not known when empty)",
    "discussed_with": "Who the referrer discussed the concern with (optional)",
}

# A file without one of these cannot hold a valid referral in any row.
REQUIRED_COLUMNS = (
    "submitted_on", "referrer_name", "referrer_job_title", "referrer_email", "referrer_organisation",
    "referrer_sector", "given_names", "family_name", "local_authority", "concern", "first_observed_on",
    "concern_types",
)

LEGACY_REFERENCE_MAX = 50
ENCODINGS = ("utf-8", "utf-8-sig", "windows-1252")
DELIMITERS = (",", ";")


class FileProblem(Exception):
    """The file as a whole cannot be read; nothing in it is imported."""


@dataclass
class Row:
    """One row as read: its line (CSV: as a spreadsheet numbers rows, the header being 1; JSON: the
    item's position from 1) and its cells by column."""

    line: int
    cells: dict[str, str]


@dataclass
class ParsedRow:
    """A row turned into the values a referral is submitted with, or the reasons it cannot be."""

    line: int
    legacy_reference: str
    submitted_at: datetime | None  # naive, UK local time
    fields: dict[str, Any]  # the API's referral input, by its field names
    errors: dict[str, list[str]] = field(default_factory=dict)  # by column
    timed: bool = False  # whether submitted_on gave a time of day (else noon is taken)


# ---------------------------------------------------------------- reading the file


def encoding_normalise(name: str) -> str:
    """The codec for an encoding named by the user; FileProblem when Python knows none."""
    try:
        return codecs.lookup(name).name
    except LookupError:
        raise FileProblem(f"--encoding {name!r} is not an encoding; use utf-8 or windows-1252") from None


def decode(raw: bytes, encoding: str | None = None) -> tuple[str, str]:
    """The file's text and the encoding it was read in: as given, else UTF-8 (with or without a
    byte order mark) when it decodes as such, else Windows-1252 (what older spreadsheets save)."""
    if encoding:
        codec = encoding_normalise(encoding)
        if codec == "utf-8" and raw.startswith(codecs.BOM_UTF8):
            codec = "utf-8-sig"
        try:
            return raw.decode(codec), codec
        except UnicodeDecodeError as problem:
            raise FileProblem(f"The file is not valid {encoding}: byte {problem.start + 1} cannot be read "
                              f"in it. Leave out --encoding to detect it.") from None
    if raw.startswith(codecs.BOM_UTF8):
        try:
            return raw.decode("utf-8-sig"), "utf-8-sig"
        except UnicodeDecodeError as problem:
            raise FileProblem(f"The file starts as UTF-8 but byte {problem.start + 1} is not UTF-8") from None
    try:
        return raw.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("windows-1252"), "windows-1252"
    except UnicodeDecodeError as problem:
        raise FileProblem(f"The file is neither UTF-8 nor Windows-1252 (byte {problem.start + 1}); save it "
                          "as 'CSV UTF-8' from the spreadsheet, or give --encoding") from None


def _column(name: Any) -> str:
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


def _check_columns(names: list[str]) -> None:
    unknown = [n for n in names if n and n not in COLUMNS]
    twice = sorted(n for n, count in Counter(names).items() if n and count > 1)
    missing = [n for n in REQUIRED_COLUMNS if n not in names]
    problems = []
    if unknown:
        problems.append("unknown columns: " + ", ".join(unknown))
    if twice:
        problems.append("columns given twice: " + ", ".join(twice))
    if missing:
        problems.append("missing columns: " + ", ".join(missing))
    if problems:
        raise FileProblem("The header row does not match the import format (docs/import.md): "
                          + "; ".join(problems))


def read_csv(text: str) -> tuple[list[Row], str]:
    """The rows of a CSV file and its delimiter (a comma or a semicolon, whichever the header row
    uses). Blank rows are skipped but still counted, as a spreadsheet shows them."""
    first = text.lstrip("\ufeff").split("\n", 1)[0]
    delimiter = max(DELIMITERS, key=first.count)
    if not first.strip():
        raise FileProblem("The file is empty or its first line is blank: the first line must be the header row")
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff"), newline=""), delimiter=delimiter)
    try:
        records = list(reader)
    except csv.Error as problem:
        raise FileProblem(f"The file is not valid CSV near line {reader.line_num}: {problem}") from None
    header = [_column(n) for n in records[0]]
    while header and not header[-1]:
        header.pop()  # spreadsheets often save empty trailing columns
    _check_columns(header)
    rows = []
    for number, record in enumerate(records[1:], start=2):
        if not any(cell.strip() for cell in record):
            continue
        extra = [c for c in record[len(header):] if c.strip()]
        cells = {name: (record[i] if i < len(record) else "") for i, name in enumerate(header)}
        if extra:
            cells["\x00extra"] = f"{len(extra)} more cells than the header has columns"
        rows.append(Row(number, cells))
    return rows, delimiter


def read_json(text: str) -> list[Row]:
    """The items of a JSON file: a list of objects, or an object whose `referrals` is that list."""
    try:
        document = json.loads(text.lstrip("\ufeff"))
    except json.JSONDecodeError as problem:
        raise FileProblem(f"The file is not valid JSON: {problem.msg} at line {problem.lineno}, "
                          f"column {problem.colno}") from None
    items = document.get("referrals") if isinstance(document, dict) else document
    if not isinstance(items, list):
        raise FileProblem('The JSON file must be a list of referrals, or an object with a "referrals" list')
    return rows_from_items(items)


def rows_from_items(items: list[Any]) -> list[Row]:
    """Rows from JSON items (objects of column names and values), numbered from 1."""
    rows = []
    names: set[str] = set()
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            rows.append(Row(number, {"\x00extra": "This item is not an object of column names and values"}))
            continue
        cells: dict[str, str] = {}
        for key, value in item.items():
            name = _column(key)
            names.add(name)
            if isinstance(value, list):
                cells[name] = ";".join(str(v) for v in value)
            elif value is None:
                cells[name] = ""
            else:
                cells[name] = str(value)
        rows.append(Row(number, cells))
    unknown = sorted(n for n in names if n not in COLUMNS)
    if unknown:
        raise FileProblem("Unknown fields (docs/import.md lists the columns): " + ", ".join(unknown))
    return rows


# ---------------------------------------------------------------- reading one cell

_ISO_DAY = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_UK_DAY = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{2,4})$")
_ISO_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_UK_MONTH = re.compile(r"^(\d{1,2})/(\d{4})$")
_YEAR = re.compile(r"^(\d{4})$")
_TIME = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")
DATE_HINT = "write it as YYYY-MM-DD or DD/MM/YYYY"


def _year(text: str) -> int:
    if len(text) != 4:
        raise ValueError("Write the year in full, with 4 digits")
    return int(text)


def partial_date_parse(text: str, *, partial: bool = False) -> PartialDate:
    """A date as people write it: 2017-03-14 or 14/03/2017; with `partial`, also 2017-03, 03/2017
    or 2017. ValueError says what is wrong."""
    try:
        return _partial_date(text.strip(), partial)
    except ValueError as problem:
        message = str(problem)
        if message.startswith("The "):  # from PartialDate: a day or month that does not exist
            message = f"Not a real date: t{message[1:].rstrip('.')}"
        raise ValueError(message) from None


def _partial_date(value: str, partial: bool) -> PartialDate:
    if m := _ISO_DAY.match(value):
        return PartialDate(int(m[1]), int(m[2]), int(m[3]))
    if m := _UK_DAY.match(value):
        return PartialDate(_year(m[3]), int(m[2]), int(m[1]))
    if partial:
        if m := _ISO_MONTH.match(value):
            return PartialDate(int(m[1]), int(m[2]))
        if m := _UK_MONTH.match(value):
            return PartialDate(int(m[2]), int(m[1]))
        if m := _YEAR.match(value):
            return PartialDate(int(m[1]))
        raise ValueError(f"Not a date: {DATE_HINT}, or only YYYY-MM or YYYY when the day is not known")
    raise ValueError(f"Not a date: {DATE_HINT}")


def day_parse(text: str) -> date:
    return partial_date_parse(text).earliest()


def moment_parse(text: str) -> tuple[datetime, bool]:
    """A date with an optional time (2017-03-14 09:30, 2017-03-14T09:30 or 14/03/2017 09:30), as a
    naive local time, and whether a time was given."""
    value = text.strip()
    parts = value.replace("T", " ", 1).split() if "T" in value[:11] else value.split()
    if not parts or len(parts) > 2:
        raise ValueError(f"Not a date: {DATE_HINT}, optionally followed by a time as HH:MM")
    day = day_parse(parts[0])
    if len(parts) == 1:
        return datetime.combine(day, time(12, 0)), False
    m = _TIME.match(parts[1])
    if not m or int(m[1]) > 23 or int(m[2]) > 59 or int(m[3] or 0) > 59:
        raise ValueError("Not a time: write it as HH:MM on the 24-hour clock, like 09:30")
    return datetime.combine(day, time(int(m[1]), int(m[2]), int(m[3] or 0))), True


def _key(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", " ", text.lower()).strip()


def code_lookup(codes: Mapping[str, str]) -> dict[str, str]:
    """Every way a code may be written: its code, its label, and (for labels like "Routine: no
    immediate risk") the words before the colon; compared without case or punctuation."""
    found: dict[str, str] = {}
    for code, label in codes.items():
        found[_key(code)] = code
        found[_key(label)] = code
        if ":" in label:
            found[_key(label.split(":", 1)[0])] = code
    return found


CODE_LISTS = {"referrer_sector": SECTORS, "sex": SEX, "urgency": URGENCY, "person_aware": PERSON_AWARE,
              "concern_types": CONCERN_TYPES}
LOOKUPS = {name: code_lookup(codes) for name, codes in CODE_LISTS.items()}


def code_parse(column: str, text: str) -> str:
    """The code a cell names; the text itself when it names none (the referral's own check then
    says it is not on the list)."""
    value = text.strip()
    return LOOKUPS[column].get(_key(value), value) if value else ""


def code_unknown(column: str, text: str) -> str | None:
    """Why a cell names no code of its list (with the codes it may use); None when it does."""
    value = text.strip()
    if not value or _key(value) in LOOKUPS[column]:
        return None
    return f"{value!r} is not on the list: use one of " + ", ".join(CODE_LISTS[column]) + " (or its label)"


def concern_types_split(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[;|\n]", text) if part.strip()]


def concern_types_parse(text: str) -> list[str]:
    return [code_parse("concern_types", part) for part in concern_types_split(text)]


# ---------------------------------------------------------------- one row


def row_parse(row: Row, *, authorities: Mapping[str, int]) -> ParsedRow:
    """One row as the API's referral input (by field name) with the submission moment and legacy
    reference; each cell that cannot be read gets its reason, by column.

    `authorities` maps each local authority's name, lower case, to its id.
    """
    cells = row.cells
    errors: dict[str, list[str]] = {}

    def cell(name: str) -> str:
        return cells.get(name, "").strip()

    if "\x00extra" in cells:
        errors[""] = [cells["\x00extra"]]
    legacy = cell("legacy_reference")
    if len(legacy) > LEGACY_REFERENCE_MAX:
        errors["legacy_reference"] = [f"The legacy reference must be {LEGACY_REFERENCE_MAX} characters or fewer"]

    submitted: datetime | None = None
    timed = False
    if not cell("submitted_on"):
        errors["submitted_on"] = ["Enter the date the referral was made"]
    else:
        try:
            submitted, timed = moment_parse(cell("submitted_on"))
        except ValueError as problem:
            errors["submitted_on"] = [str(problem)]

    fields: dict[str, Any] = {name: cells.get(name, "") for name in (
        "referrer_name", "referrer_job_title", "referrer_email", "referrer_phone", "referrer_organisation",
        "given_names", "family_name", "other_names", "address", "postcode", "school_or_workplace",
        "nhs_number", "upn", "concern", "discussed_with")}
    for name in ("referrer_sector", "sex"):
        fields[name] = code_parse(name, cells.get(name, ""))
    fields["urgency"] = code_parse("urgency", cells.get("urgency", "")) or "routine"
    fields["person_aware"] = code_parse("person_aware", cells.get("person_aware", "")) or "not_known"
    fields["concern_types"] = concern_types_parse(cells.get("concern_types", ""))
    for name in ("referrer_sector", "sex", "urgency", "person_aware"):
        if reason := code_unknown(name, cells.get(name, "")):
            errors[name] = [reason]
    unknown = [reason for part in concern_types_split(cells.get("concern_types", ""))
               if (reason := code_unknown("concern_types", part))]
    if unknown:
        errors["concern_types"] = unknown

    fields["date_of_birth"] = None
    if cell("date_of_birth"):
        try:
            fields["date_of_birth"] = partial_date_parse(cell("date_of_birth"), partial=True).to_iso()
        except ValueError as problem:
            errors["date_of_birth"] = [str(problem)]

    fields["first_observed_on"] = None
    if not cell("first_observed_on"):
        errors["first_observed_on"] = ["Enter the date the concern was first observed"]
    else:
        try:
            fields["first_observed_on"] = day_parse(cell("first_observed_on"))
        except ValueError as problem:
            errors["first_observed_on"] = [str(problem)]

    fields["local_authority_id"] = None
    area = cell("local_authority")
    if not area:
        errors["local_authority"] = ["Enter the local authority area the person lives in"]
    elif area.lower() not in authorities:
        errors["local_authority"] = [f"{area!r} is not a local authority Casetrail knows; use its name as "
                                     "listed on the referral form"]
    else:
        fields["local_authority_id"] = authorities[area.lower()]
    return ParsedRow(row.line, legacy, submitted, fields, errors, timed)

