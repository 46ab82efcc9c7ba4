"""The replay pages: the oversight role uploads a replay file and reads its report (HTML and PDF);
the run is the task worker's, in a throwaway database, so no live record is touched. A bad file is
refused with every problem and its line in the GOV.UK error summary, and nothing is queued."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from casetrail.replay.models import ReplayRun

SCENARIOS = Path(__file__).resolve().parents[2] / "casetrail" / "replay" / "scenarios"
IMMEDIATE = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}


def _client(world: Any, role: str) -> Client:
    client = Client()
    client.force_login(world.users[role])
    return client


def _live_counts() -> dict[str, int]:
    from casetrail.cases.models import Case
    from casetrail.notifications.models import Message
    from casetrail.people.models import Person
    from casetrail.referrals.models import Referral

    return {m.__name__: m.objects.count() for m in (Case, Referral, Person, Message)}


def _upload(client: Client, name: str, text: str) -> Any:
    return client.post("/replays/", {"file": SimpleUploadedFile(name, text.encode(), "application/x-yaml")})


@pytest.mark.django_db
def test_oversight_sees_the_upload_form(world: Any) -> None:
    page = _client(world, "oversight").get("/replays/")
    assert page.status_code == 200
    assert b'type="file"' in page.content and b"throwaway database" in page.content


@pytest.mark.django_db
@pytest.mark.parametrize("role", ["referrer", "police", "coordinator", "chair", "panel", "provider", "admin"])
def test_other_roles_are_refused(world: Any, role: str) -> None:
    client = _client(world, role)
    assert client.get("/replays/").status_code == 403
    assert _upload(client, "case.yaml", "replay: 1\n").status_code == 403
    assert ReplayRun.objects.count() == 0


@pytest.mark.django_db
def test_a_bad_file_shows_each_problem_with_its_line_in_the_error_summary_and_queues_nothing(world: Any) -> None:
    text = (SCENARIOS / "mentoring-peters-out-2022.yaml").read_text()
    text = text.replace("  - id: M2\n", "  - id: M1\n").replace("    reported: [M3]", "    reported: [M9]")
    before = _live_counts()
    page = _upload(_client(world, "oversight"), "bad.yaml", text)
    assert page.status_code == 400
    html = page.content.decode()
    assert "There is a problem" in html and "govuk-error-summary" in html
    dup = [n for n, line in enumerate(text.splitlines(), 1) if line == "  - id: M1"][1]
    assert f"bad.yaml, line {dup}: finding &#x27;M1&#x27; is declared twice" in html
    undeclared = next(n for n, line in enumerate(text.splitlines(), 1) if "reported: [M9]" in line)
    assert f"bad.yaml, line {undeclared}:" in html and "reported &#x27;M9&#x27; is not a finding declared" in html
    assert ReplayRun.objects.count() == 0
    assert _live_counts() == before


@pytest.mark.django_db
def test_a_file_that_is_not_yaml_or_not_text_is_refused(world: Any) -> None:
    client = _client(world, "oversight")
    assert "must be a YAML file" in _upload(client, "case.txt", "replay: 1").content.decode()
    assert "must be plain text" in client.post("/replays/", {"file": SimpleUploadedFile(
        "case.yaml", b"\xff\xfe\x00bad", "application/x-yaml")}).content.decode()
    assert "Select a replay file" in client.post("/replays/", {}).content.decode()


@pytest.mark.django_db(transaction=True)
def test_oversight_uploads_a_replay_and_reads_its_report_as_html_and_pdf(world: Any, settings: Any) -> None:
    from casetrail.audit.models import AccessLogEntry

    settings.TASKS = IMMEDIATE  # the task runs at once, as the worker would run it
    before = _live_counts()
    client = _client(world, "oversight")
    text = (SCENARIOS / "repeat-referrals-2019.yaml").read_text()
    response = _upload(client, "repeat.yaml", text)
    assert response.status_code == 302
    run = ReplayRun.objects.get()
    assert response["Location"] == f"/replays/{run.pk}"
    assert run.status == ReplayRun.Status.DONE, run.problems
    assert run.steps_total > 500 and run.steps_done == run.steps_total
    page = client.get(f"/replays/{run.pk}").content.decode()
    assert "<h3>S1: Three referrals, each closed at the gateway within weeks; none reached a panel</h3>" in page
    assert "<h2>What the searches found</h2>" in page
    assert "replay-check" not in page  # finished: nothing left to poll
    pdf = client.get(f"/replays/{run.pk}/report.pdf")
    assert pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    assert _live_counts() == before  # the replayed cases lived only in the throwaway database
    looks = AccessLogEntry.objects.filter(user=world.users["oversight"], object_type="replayrun")
    assert {e.operation for e in looks} == {"collection", "consultation"}
    assert looks.count() == 3  # the upload, the page and the PDF


@pytest.mark.django_db
def test_a_run_in_progress_shows_the_days_done_and_refreshes(world: Any) -> None:
    run = ReplayRun.objects.create(uploaded_by=world.users["oversight"], uploaded_at="2026-01-01T10:00Z",
                                   file_name="x.yaml", title="A replay", source="", status="running",
                                   steps_done=120, steps_total=480)
    page = _client(world, "oversight").get(f"/replays/{run.pk}").content.decode()
    assert "120 of 480 days replayed (25%)" in page
    assert 'id="replay-check"' in page and "getElementById(\"replay-progress\")" in page  # updates itself
    assert _client(world, "oversight").get(f"/replays/{run.pk}/report.pdf").status_code == 404


@pytest.mark.django_db
def test_report_html_escapes_raw_html_from_the_file() -> None:
    from casetrail.replay.runs import report_html

    html = report_html("# Title\n\n<script>alert(1)</script> [x](javascript:alert(1))\n")
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert 'href="javascript' not in html


@pytest.mark.django_db(transaction=True)
def test_a_run_the_services_stop_part_way_shows_why_naming_the_uploaded_file_and_its_line(
        world: Any, settings: Any) -> None:
    from tests.scenarios.test_replay_bad_input import VALID

    settings.TASKS = IMMEDIATE
    before = _live_counts()
    text = VALID.replace("    do: consent\n    giver: parent_carer", "    do: consent\n    giver: person")
    client = _client(world, "oversight")
    assert _upload(client, "minor.yaml", text).status_code == 302  # the file itself is well formed
    run = ReplayRun.objects.get()
    assert run.status == ReplayRun.Status.REFUSED
    line = next(n for n, row in enumerate(text.splitlines(), 1) if "giver: person" in row)
    assert f"minor.yaml, line {line}" in run.problems and "/tmp" not in run.problems
    page = client.get(f"/replays/{run.pk}").content.decode()
    assert "The replay was stopped" in page and f"minor.yaml, line {line}" in page
    assert client.get(f"/replays/{run.pk}/report.pdf").status_code == 404
    assert _live_counts() == before
