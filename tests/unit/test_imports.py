"""Reading a legacy import file (casetrail/core/imports.py): no database."""

from __future__ import annotations

from datetime import datetime

import pytest

from casetrail.core.dates import PartialDate
from casetrail.core.imports import (
    COLUMNS,
    FileProblem,
    Row,
    code_parse,
    decode,
    moment_parse,
    partial_date_parse,
    read_csv,
    read_json,
    row_parse,
)

HEADER = ",".join(COLUMNS)


def test_encodings_are_detected_or_taken_as_given() -> None:
    assert decode("Zoë".encode()) == ("Zoë", "utf-8")
    assert decode("\ufeffZoë".encode()) == ("Zoë", "utf-8-sig")
    assert decode("Zoë".encode("cp1252")) == ("Zoë", "windows-1252")
    assert decode("Zoë".encode("cp1252"), "windows-1252") == ("Zoë", "cp1252")
    with pytest.raises(FileProblem, match="not valid utf-8"):
        decode("Zoë".encode("cp1252"), "utf-8")
    with pytest.raises(FileProblem, match="neither UTF-8 nor Windows-1252"):
        decode(b"\x81\x8d")


def test_dates_are_read_in_iso_and_uk_forms() -> None:
    assert partial_date_parse("2019-03-14") == partial_date_parse("14/03/2019") == PartialDate(2019, 3, 14)
    assert partial_date_parse("4/3/2019") == PartialDate(2019, 3, 4)
    assert partial_date_parse("2004-06", partial=True) == partial_date_parse("06/2004", partial=True) \
        == PartialDate(2004, 6)
    assert partial_date_parse("2004", partial=True) == PartialDate(2004)
    with pytest.raises(ValueError, match="Write the year in full"):
        partial_date_parse("14/03/19")
    with pytest.raises(ValueError, match="Not a real date: the month must be between 1 and 12"):
        partial_date_parse("2019-13-01")
    with pytest.raises(ValueError, match="Not a date"):
        partial_date_parse("2004", partial=False)
    assert moment_parse("14/03/2019") == (datetime(2019, 3, 14, 12), False)
    assert moment_parse("2019-03-14T09:30") == moment_parse("14/03/2019 09:30") == (datetime(2019, 3, 14, 9, 30), True)
    with pytest.raises(ValueError, match="Not a time"):
        moment_parse("14/03/2019 25:00")


def test_codes_are_read_by_code_or_label_without_case_or_punctuation() -> None:
    assert code_parse("urgency", "Urgent: concern is escalating") == "urgent"
    assert code_parse("urgency", "IMMEDIATE RISK") == "immediate"
    assert code_parse("concern_types", "Left-wing, anarchist or single-issue") == "left_wing"
    assert code_parse("referrer_sector", "friends and family") == "friends_family"
    assert code_parse("sex", "whatever") == "whatever"  # left for the referral's own check


def test_csv_delimiter_blank_rows_and_line_numbers() -> None:
    text = HEADER.replace(",", ";") + "\r\n" + ";" * (len(COLUMNS) - 1) + "\r\n\r\n" + \
        'x;"2019-01-01";"two\nlines"' + ";" * (len(COLUMNS) - 3) + "\r\nlast" + ";" * (len(COLUMNS) - 1) + "\r\n"
    rows, delimiter = read_csv(text)
    assert delimiter == ";"
    # Line 2 is empty cells and line 3 blank: skipped, yet counted as a spreadsheet counts rows.
    assert [(r.line, r.cells["legacy_reference"]) for r in rows] == [(4, "x"), (5, "last")]


def test_a_header_that_does_not_match_is_refused_with_each_problem() -> None:
    with pytest.raises(FileProblem, match="unknown columns: colour; missing columns: submitted_on"):
        read_csv(HEADER.replace("submitted_on", "colour") + "\n")
    with pytest.raises(FileProblem, match="columns given twice: concern"):
        read_csv(HEADER + ",Concern\n")
    with pytest.raises(FileProblem, match="empty"):
        read_csv("\n")
    with pytest.raises(FileProblem, match="Unknown fields"):
        read_json('[{"colour": "red"}]')


def test_a_row_with_unreadable_cells_names_each() -> None:
    row = Row(7, {"submitted_on": "yesterday", "local_authority": "Atlantis", "urgency": "soon",
                  "concern_types": "islamist|nonsense", "first_observed_on": "", "legacy_reference": "x" * 51})
    parsed = row_parse(row, authorities={"testshire": 1})
    assert parsed.line == 7
    assert set(parsed.errors) == {"submitted_on", "local_authority", "urgency", "concern_types",
                                  "first_observed_on", "legacy_reference"}
    assert parsed.errors["concern_types"] == [
        "'nonsense' is not on the list: use one of islamist, extreme_right_wing, left_wing, violence_fascination, "
        "mixed_unclear, no_ideology, other (or its label)"]
    good = row_parse(Row(2, {"submitted_on": "01/02/2020", "local_authority": "TESTSHIRE",
                             "first_observed_on": "2020-01-30", "concern_types": "Islamist; Other"}),
                     authorities={"testshire": 1})
    assert good.errors == {}
    assert good.fields["local_authority_id"] == 1 and good.fields["concern_types"] == ["islamist", "other"]
    assert good.fields["urgency"] == "routine" and good.fields["person_aware"] == "not_known"
