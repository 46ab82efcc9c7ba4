"""Replays in the browser: the oversight role opens Replays from the navigation, uploads a file
with a mistake and reads the error summary naming its line, uploads a good file, watches the run
wait for the task worker, and, once the worker has run it in a throwaway database, reads the
report on the page and downloads it as a PDF."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from casetrail.cases.models import Case
from tests.e2e.conftest import SignIn, error_summary, expect_accessible

pytestmark = pytest.mark.e2e

SCENARIOS = Path(__file__).resolve().parents[2] / "casetrail" / "replay" / "scenarios"


def test_oversight_uploads_a_replay_and_reads_its_report(sign_in: SignIn, tmp_path: Path) -> None:
    page = sign_in("oversight")
    page.get_by_role("navigation", name="Menu").get_by_role("link", name="Replays").click()
    expect(page.get_by_role("heading", name="Replay a case history")).to_be_visible()
    expect_accessible(page)

    good = (SCENARIOS / "mentoring-peters-out-2022.yaml").read_text()
    bad = tmp_path / "mentoring.yaml"
    bad.write_text(good.replace("    reported: [M2]", "    reported: [M7]"))
    page.get_by_label("Upload a replay file").set_input_files(str(bad))
    page.get_by_role("button", name="Check and run").click()
    line = next(n for n, text in enumerate(bad.read_text().splitlines(), 1) if "reported: [M7]" in text)
    expect(error_summary(page)).to_contain_text(f"mentoring.yaml, line {line}: ")
    expect(error_summary(page)).to_contain_text("reported 'M7' is not a finding declared in 'findings'")
    expect_accessible(page)

    bad.write_text(good)
    page.get_by_label("Upload a replay file").set_input_files(str(bad))
    page.get_by_role("button", name="Check and run").click()
    expect(page.get_by_role("status")).to_contain_text("Waiting for the task worker")
    expect_accessible(page)

    call_command("run_worker", "--batch")  # the task worker takes the run; the page sees it finish
    report = page.locator("#replay-report")
    expect(report.get_by_role("heading", name="Mentoring that petered out while nobody owned it")).to_be_visible()
    expect(report.get_by_role("heading", name="M1: Mentoring allowed to peter out")).to_be_visible()
    expect(report).to_contain_text("Commissioned session overdue")
    expect_accessible(page)
    with page.expect_download() as download:
        page.get_by_role("link", name="Download the report as a PDF").click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")
    assert Case.objects.count() == 0  # the replayed case lived only in the throwaway database
