"""Bulk import of legacy referrals (import_referrals; docs/import.md), through the real services."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from casetrail import clock
from casetrail.accounts.models import Agency
from casetrail.accounts.services import agency_create, agency_set_duty_owner
from casetrail.audit.models import AccessLogEntry, Event
from casetrail.cases.models import Case, PossibleMatch
from casetrail.core.imports import COLUMNS
from casetrail.people.models import Person
from casetrail.referrals.imports import import_file
from casetrail.referrals.models import Referral
from tests.integration.conftest import World, _user

EXAMPLE = Path(__file__).resolve().parents[2] / "docs" / "examples"


def row(**overrides: Any) -> dict[str, str]:
    """A good row of a made-up person; each test changes what it is about."""
    values = {
        "legacy_reference": "TP-2019-0001",
        "submitted_on": "14/03/2019",
        "referrer_name": "Rita Referrer",
        "referrer_job_title": "Designated safeguarding lead",
        "referrer_email": "rita@example.org",
        "referrer_phone": "",
        "referrer_organisation": "Testshire Academy",
        "referrer_sector": "Education",
        "given_names": "Bartholomew",
        "family_name": "Quillfeather-Test",
        "other_names": "",
        "date_of_birth": "2004-06-09",
        "sex": "male",
        "address": "12 Larch Avenue",
        "postcode": "TE1 4AB",
        "school_or_workplace": "Testshire Academy",
        "nhs_number": "",
        "upn": "",
        "local_authority": "Testshire County Council",
        "concern": "Has shared leaflets from an extreme group with classmates and says violence is justified.",
        "first_observed_on": "2019-03-01",
        "concern_types": "Extreme right-wing",
        "urgency": "Routine",
        "person_aware": "no",
        "discussed_with": "Head of year",
    }
    values.update(overrides)
    return values


PEOPLE = [  # different made-up people, unlike each other in every identity field
    ("Tomasz", "Wieczorek-Test", "1994-11-02", "HB2 4QX", "22 Harbour Road"),
    ("Imani", "Lindqvist-Test", "2011-02-23", "ML9 8DD", "7 Mill Lane"),
    ("Reuben", "Castellanos-Test", "1987-08-30", "QC4 2LL", "91 Quarry Close"),
    ("Yusra", "Haverford-Test", "2005-12-01", "OR7 1AB", "3 Orchard Row"),
]


def person(index: int, **overrides: Any) -> dict[str, str]:
    given, family, born, postcode, address = PEOPLE[index]
    return row(**{"legacy_reference": f"TP-{index:04d}", "given_names": given, "family_name": family,
                  "date_of_birth": born, "postcode": postcode, "address": address, "school_or_workplace": "",
                  **overrides})


def write_csv(path: Path, rows: list[dict[str, str]], *, delimiter: str = ",", encoding: str = "utf-8",
              blank_after: int | None = None) -> Path:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(list(COLUMNS))
    for number, values in enumerate(rows):
        writer.writerow([values.get(name, "") for name in COLUMNS])
        if blank_after == number:
            out.write("\r\n")
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def run(path: Path, *args: str, username: str = "police") -> str:
    out = io.StringIO()
    call_command("import_referrals", str(path), "--as", username, *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def report_rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def counts() -> tuple[int, ...]:
    return (Referral.objects.count(), Case.objects.count(), Person.objects.count(), Event.objects.count(),
            AccessLogEntry.objects.count(), PossibleMatch.objects.count())


def test_a_good_file_imports_every_row_dated_when_made_with_its_events_and_audit_entries(
        world: World, tmp_path: Path) -> None:
    rows = [person(0), person(1, submitted_on="2020-07-02 10:15", urgency="urgent",
                                concern_types="violence_fascination|Other"),
            person(2, submitted_on="05/02/2021", local_authority="otherton city council")]
    output = run(write_csv(tmp_path / "good.csv", rows), "--report", str(tmp_path / "report.csv"))

    assert "Imported 3 referrals" in output and "0 bad rows," in output
    assert report_rows(tmp_path / "report.csv") == []
    police = world.users["police"]
    for values in rows:
        imported = Event.objects.get(kind="referral.imported", data__legacy_reference=values["legacy_reference"])
        referral = Referral.objects.get(pk=imported.subject_id)
        assert referral.given_names == values["given_names"] and referral.submitted_by == police
        assert imported.actor == police and imported.actor_role == "police_officer"
        assert imported.data["source"] == "good.csv"
        case = referral.case
        assert case.stage == "gateway" and case.owner_user == police  # the force's duty owner
        submitted = Event.objects.get(kind="referral.submitted", subject_id=referral.pk)
        # Dated when it was made; recorded now.
        assert submitted.occurred_at == referral.submitted_at == case.opened_at
        assert submitted.recorded_at.date() == clock.today()
        assert submitted.data["channel"] == "import"
        assert Event.objects.filter(kind="case.opened", case=case).exists()
        assert AccessLogEntry.objects.filter(operation="collection", object_id=str(referral.pk),
                                             channel="import", user=police).exists()
    second = Referral.objects.get(given_names="Imani")
    assert timezone.localtime(second.submitted_at).strftime("%Y-%m-%d %H:%M") == "2020-07-02 10:15"
    assert second.concern_types == ["violence_fascination", "other"] and second.urgency == "urgent"
    first = Referral.objects.get(given_names="Tomasz")
    assert timezone.localtime(first.submitted_at).strftime("%Y-%m-%d %H:%M") == "2019-03-14 12:00"
    assert first.referrer_sector == "education" and first.concern_types == ["extreme_right_wing"]
    assert Referral.objects.get(given_names="Reuben").local_authority == world.other_council


def test_a_mixed_file_reports_each_bad_row_with_its_line_and_reasons_and_imports_exactly_the_good_ones(
        world: World, tmp_path: Path) -> None:
    rows = [
        person(0),                                                        # line 2: good
        person(1, submitted_on="31/02/2020", nhs_number="999 000 0019"),  # line 3: no such day; bad check digit
        person(2, local_authority="Nowhere Council", postcode="ZZZ"),      # line 5 (a blank line 4 before it)
        person(3, concern_types="Islamist;Bogus", first_observed_on="2030-01-01"),  # line 6
        row(legacy_reference="TP-9", given_names="", date_of_birth="12/05/87"),     # line 7
    ]
    path = write_csv(tmp_path / "mixed.csv", rows, blank_after=1)
    with pytest.raises(CommandError, match="4 bad rows") as raised:
        run(path)
    assert raised.value.returncode == 1

    assert list(Referral.objects.values_list("given_names", flat=True)) == ["Tomasz"]
    report = report_rows(tmp_path / "mixed.csv.import-report.csv")
    found = {(r["line"], r["column"]): r["problem"] for r in report}
    assert {r["status"] for r in report} == {"not imported: bad row"}
    assert found[("3", "submitted_on")] == "Not a real date: the day must be between 1 and 29"
    assert found[("3", "nhs_number")] == "The NHS number is not valid: check it for a mistyped digit"
    assert "not a local authority Casetrail knows" in found[("5", "local_authority")]
    assert found[("5", "postcode")] == "Enter a real postcode, like SW1A 1AA"
    assert found[("6", "concern_types")].startswith("'Bogus' is not on the list")
    assert found[("6", "first_observed_on")] == "The date the concern was first observed must be today or in the past"
    assert found[("7", "given_names")] == "Enter the person's first name"
    assert found[("7", "date_of_birth")] == "Write the year in full, with 4 digits"
    assert {line for line, _ in found} == {"3", "5", "6", "7"}


def test_a_row_is_accepted_exactly_when_the_api_would_accept_it(world: World, tmp_path: Path) -> None:
    """The API's input shape (an address longer than it takes) and the intake service's own check
    (an area with no police team set up) both apply to a row, not only the referral's rules."""
    lonely = agency_create(name="Lonely Borough Council", kind="local_authority", police_force=world.police)
    rows = [person(0, address="x" * 1001), person(1, local_authority=lonely.name)]
    Agency.objects.filter(pk=world.police.pk).update(duty_owner=None)
    with pytest.raises(CommandError):
        run(write_csv(tmp_path / "api.csv", rows))
    found = {(r["line"], r["column"]): r["problem"] for r in report_rows(tmp_path / "api.csv.import-report.csv")}
    unscreened = "That area has no police Prevent team set up to screen referrals; contact the administrator"
    assert found == {("2", "address"): "Must be 1000 characters or fewer", ("2", "local_authority"): unscreened,
                     ("3", "local_authority"): unscreened}
    assert Referral.objects.count() == 0


def test_a_dry_run_checks_everything_and_writes_nothing(world: World, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "dry.csv", [person(0), person(1), person(2, sex="sometimes")])
    before = counts()
    with pytest.raises(CommandError, match="1 bad row not imported"):
        run(path, "--dry-run")
    assert counts() == before
    assert [(r["line"], r["column"]) for r in report_rows(tmp_path / "dry.csv.import-report.csv")] == [("4", "sex")]
    out = io.StringIO()
    call_command("import_referrals", str(write_csv(tmp_path / "dry2.csv", [person(0)])), "--as", "police",
                 "--dry-run", stdout=out)
    assert "Dry run: 1 row would be imported; nothing was written" in out.getvalue()
    assert counts() == before


def test_a_rerun_after_fixing_bad_rows_imports_nothing_twice(world: World, tmp_path: Path) -> None:
    no_reference = person(2, legacy_reference="")
    rows = [person(0), person(1, postcode="bad"), no_reference]
    with pytest.raises(CommandError):
        run(write_csv(tmp_path / "f.csv", rows))
    assert Referral.objects.count() == 2
    rows[1] = person(1)  # fixed
    output = run(write_csv(tmp_path / "f.csv", rows))
    assert "Imported 1 referral " in output and "2 imported before" in output
    assert Referral.objects.count() == 3
    first = Event.objects.get(kind="referral.imported", data__legacy_reference="TP-0000").subject_id
    report = report_rows(tmp_path / "f.csv.import-report.csv")
    assert [(r["line"], r["status"], r["problem"]) for r in report] == [
        ("2", "not imported: imported before", f"Already imported as {Referral.objects.get(pk=first).reference}"),
        ("4", "not imported: imported before",
         f"Already imported as {Referral.objects.get(given_names='Reuben').reference}"),
    ]
    # Another officer of the same force cannot import them again either.
    assert "3 imported before" in run(tmp_path / "f.csv", username="police2")
    assert Referral.objects.count() == 3


def test_duplicate_rows_within_the_file_are_reported_not_imported(world: World, tmp_path: Path) -> None:
    rows = [person(0), person(0, given_names="Changed"), person(1, legacy_reference=""),
            person(1, legacy_reference="")]
    output = run(write_csv(tmp_path / "dup.csv", rows))
    assert "Imported 2 referrals" in output and "2 duplicates within the file" in output
    report = report_rows(tmp_path / "dup.csv.import-report.csv")
    assert [(r["line"], r["problem"]) for r in report] == [
        ("3", "Duplicate: the same legacy reference as line 2"),
        ("5", "Duplicate: the same referral as line 4"),
    ]


def test_a_row_of_a_person_referred_before_is_matched_and_counted(world: World, tmp_path: Path) -> None:
    earlier = person(0, submitted_on="2019-03-14")
    # The same person referred again two years later, spelt differently; listed first in the file,
    # but imported after the earlier referral, oldest first, so it is matched against it.
    again = person(0, legacy_reference="TP-2021-7", submitted_on="2021-05-11", given_names="Tomas",
                   family_name="Wieczorek", first_observed_on="2021-05-01")
    output = run(write_csv(tmp_path / "m.csv", [again, earlier, person(1)]))
    assert "Imported 3 referrals" in output
    assert "1 matched a person referred before" in output and "2 new people" in output
    later = Referral.objects.get(given_names="Tomas")
    match = PossibleMatch.objects.get(case=later.case)
    assert match.matched_referral == Referral.objects.get(given_names="Tomasz")
    assert Event.objects.filter(kind="referral.possible_match_found", case=later.case).exists()
    summary = import_file(user=world.users["police"], path=tmp_path / "m.csv", dry_run=True)
    assert summary.count("already_imported") == 3


def test_rows_made_the_same_day_without_a_time_keep_the_files_order(world: World, tmp_path: Path) -> None:
    first = person(0, submitted_on="2019-03-14")
    second = person(0, legacy_reference="TP-B", submitted_on="14/03/2019", given_names="Tomas")
    run(write_csv(tmp_path / "day.csv", [first, second]))
    a, b = Referral.objects.get(given_names="Tomasz"), Referral.objects.get(given_names="Tomas")
    assert b.submitted_at - a.submitted_at == timedelta(seconds=1)
    assert PossibleMatch.objects.filter(case=b.case, matched_referral=a).exists()


def test_a_user_without_the_permission_is_refused_and_nothing_is_written(world: World, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "r.csv", [person(0)])
    before = counts()
    for username in ("referrer", "coordinator", "admin"):
        with pytest.raises(CommandError, match="may not import referrals") as raised:
            run(path, username=username)
        assert raised.value.returncode == 2
    with pytest.raises(CommandError, match="No user is called"):
        run(path, username="nobody")
    assert counts() == before


def test_an_officer_imports_only_areas_their_own_force_screens(world: World, tmp_path: Path) -> None:
    force = agency_create(name="Elsewhere Police CTP", kind="police")
    officer = _user("elsewhere", force, "police_officer")
    agency_set_duty_owner(agency=force, user=officer)
    with pytest.raises(CommandError):
        run(write_csv(tmp_path / "o.csv", [person(0)]), username="elsewhere")
    [problem] = report_rows(tmp_path / "o.csv.import-report.csv")
    assert problem["column"] == "local_authority"
    assert problem["problem"].startswith("Testshire County Council is screened by Testshire Police CTP")
    assert Referral.objects.count() == 0


def test_a_windows_1252_file_with_semicolons_and_accented_names_imports(world: World, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "legacy.csv", [person(0, given_names="Zoë", family_name="Müller-Test")],
                     delimiter=";", encoding="windows-1252")
    output = run(path)
    assert "windows-1252, semicolon-separated" in output and "Imported 1 referral " in output
    assert Referral.objects.get().full_name == "Zoë Müller-Test"
    # Given, the encoding is used as given.
    path = write_csv(tmp_path / "legacy2.csv", [person(1, given_names="Zoë")], encoding="windows-1252")
    assert "Imported 1 referral " in run(path, "--encoding", "cp1252")
    with pytest.raises(CommandError, match="not an encoding"):
        run(path, "--encoding", "klingon")


def test_a_utf8_file_with_a_byte_order_mark_imports(world: World, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "bom.csv", [person(0, given_names="Zoë")], encoding="utf-8-sig")
    assert "utf-8-sig" in run(path)
    assert Referral.objects.get().given_names == "Zoë"


def test_the_json_form_imports(world: World, tmp_path: Path) -> None:
    items = [person(0), {**person(1), "concern_types": ["islamist", "Other"], "nhs_number": None}]
    path = tmp_path / "legacy.json"
    path.write_text(json.dumps({"referrals": items}), encoding="utf-8")
    assert "Imported 2 referrals" in run(path)
    assert Referral.objects.get(given_names="Imani").concern_types == ["islamist", "other"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps([person(2, urgency="whenever")]), encoding="utf-8")
    with pytest.raises(CommandError):
        run(bad, "--format", "json")
    [problem] = report_rows(tmp_path / "bad.json.import-report.csv")
    assert problem["item"] == "1" and problem["column"] == "urgency"


def test_a_file_that_cannot_be_read_is_refused_whole(world: World, tmp_path: Path) -> None:
    path = tmp_path / "wrong.csv"
    path.write_text("name,date\nSam,2019-01-01\n", encoding="utf-8")
    with pytest.raises(CommandError, match="unknown columns: name, date") as raised:
        run(path)
    assert raised.value.returncode == 2
    with pytest.raises(CommandError, match="Cannot read"):
        run(tmp_path / "missing.csv")
    good = write_csv(tmp_path / "good.csv", [person(0)])
    with pytest.raises(CommandError, match="Cannot write the report"):
        run(good, "--report", str(tmp_path / "no-such-directory" / "report.csv"))
    broken = tmp_path / "broken.json"
    broken.write_text("[{", encoding="utf-8")
    with pytest.raises(CommandError, match="not valid JSON"):
        run(broken)
    assert Referral.objects.count() == 0


def test_a_row_that_fails_midway_leaves_nothing_of_itself(world: World, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    from casetrail.cases import earlier_records

    real = earlier_records.possible_matches_find
    calls = {"n": 0}

    def failing(*, case: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("the database went away")
        return real(case=case)

    monkeypatch.setattr(earlier_records, "possible_matches_find", failing)
    path = write_csv(tmp_path / "mid.csv", [person(0), person(1, submitted_on="2020-01-01")])
    with pytest.raises(RuntimeError):
        import_file(user=world.users["police"], path=path)
    assert list(Referral.objects.values_list("given_names", flat=True)) == ["Tomasz"]
    assert Person.objects.count() == 1 and Case.objects.count() == 1
    assert Event.objects.filter(kind="referral.imported").count() == 1
    monkeypatch.setattr(earlier_records, "possible_matches_find", real)
    assert "Imported 1 referral " in run(path)  # the rerun completes it


def test_the_example_files_import(world: World, tmp_path: Path) -> None:
    """docs/examples name the demo's areas; here they are renamed to the test world's."""
    for name in ("referrals-import.csv", "referrals-import.json"):
        text = (EXAMPLE / name).read_text(encoding="utf-8")
        text = text.replace("Northshire County Council", world.council.name) \
            .replace("Riverton City Council", world.other_council.name)
        (tmp_path / name).write_text(text, encoding="utf-8")
    output = run(tmp_path / "referrals-import.csv")
    assert "Imported 6 referrals" in output and "1 matched a person referred before" in output
    assert "Imported 2 referrals" in run(tmp_path / "referrals-import.json")


# ---------------------------------------------------------------- through the API


def post_import(client: Any, token: str, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/referrals/import", data=json.dumps(body), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}")


def test_the_api_imports_a_batch_and_answers_each_row(world: World, client: Any) -> None:
    token = world.token("police")
    rows = [person(0), {**person(1), "concern_types": ["islamist"], "postcode": "nope"},
            person(0, legacy_reference="TP-AGAIN", submitted_on="2021-01-05", given_names="Tomas")]
    before = counts()
    dry = post_import(client, token, {"rows": rows, "dry_run": True})
    assert dry.status_code == 200 and dry.json()["would_import"] == 2 and counts() == before

    answer = post_import(client, token, {"rows": rows, "source": "legacy system export"})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["imported"], body["matched"], body["new_people"], body["bad"]) == (2, 1, 1, 1)
    first, bad, again = body["rows"]
    assert bad == {"item": 2, "legacy_reference": "TP-0001", "status": "bad", "referral_reference": "",
                   "possible_earlier_records": 0,
                   "problems": [{"column": "postcode", "problem": "Enter a real postcode, like SW1A 1AA"}]}
    assert again["status"] == "imported" and again["possible_earlier_records"] == 1
    event = Event.objects.get(kind="referral.imported", data__legacy_reference="TP-0000")
    assert event.data["source"] == "legacy system export"
    assert Referral.objects.get(pk=event.subject_id).reference == first["referral_reference"]
    assert AccessLogEntry.objects.filter(operation="collection", object_id=str(event.subject_id)).exists()

    rerun = post_import(client, token, {"rows": rows}).json()
    assert [r["status"] for r in rerun["rows"]] == ["already_imported", "bad", "already_imported"]


def test_the_api_refuses_other_roles_and_bad_batches_and_writes_nothing(world: World, client: Any) -> None:
    tokens = {who: world.token(who) for who in ("referrer", "coordinator", "admin", "police")}
    before = counts()
    for who in ("referrer", "coordinator", "admin"):
        assert post_import(client, tokens[who], {"rows": [person(0)]}).status_code == 403
    token = tokens["police"]
    unknown = post_import(client, token, {"rows": [{**person(0), "colour": "red"}]})
    assert unknown.status_code == 422 and "colour" in unknown.json()["errors"]["rows"][0]
    assert post_import(client, token, {"rows": [person(0)] * 101}).status_code == 422
    assert post_import(client, token, {"rows": []}).status_code == 422
    assert counts() == before
