"""Subject access and rectification in the browser: a police officer records a request from the
person page (after the error summary for an empty form), sees when it must be answered,
withholds one item on a listed ground, downloads the JSON and PDF answer after confirming who they
are, and finds the withheld text absent and its placeholder present; then records the request as
answered. A correction to the date of birth is accepted with reasons and shows on the person page.

The person and their case are made through the real services on START (a Monday); every date a
person types is relative to it.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from casetrail.audit.models import AccessLogEntry
from casetrail.cases.models import Case
from casetrail.people.models import Person
from casetrail.rights.models import Rectification, Redaction, SubjectAccessRequest
from tests.e2e.conftest import (
    START,
    SignIn,
    case_through_services,
    error_summary,
    expect_accessible,
    expect_success,
    fill_date,
    long_date,
    short_date,
)
from tests.integration.conftest import PASSWORD, World

pytestmark = pytest.mark.e2e

# Only the referral's concern holds this; it is the item withheld.
CONCERN = "A covert source reports that Sam meets an organiser at the old mill every Friday night."
REASONS = "Names a covert human intelligence source; disclosure would endanger them."
RECEIVED = START - timedelta(days=3)  # Friday 2 January 2026
DUE = date(2026, 2, 2)  # one calendar month on, a Monday
PLACEHOLDER = "[Redacted: sensitive police source or intelligence]"


def person_page(page: Page, case: Case) -> None:
    """From the case page, follow the link to the person's own page."""
    page.goto(f"/cases/{case.pk}/")
    page.get_by_role("link", name=case.person.reference, exact=True).click()
    expect(page.get_by_role("heading", name=case.person.full_name, level=1)).to_be_visible()


def error_links(page: Page) -> Locator:
    return error_summary(page).get_by_role("link")


def expect_links_lead_to_their_fields(page: Page) -> None:
    """Each link in the error summary takes the person to the field it names."""
    links = error_links(page)
    for index in range(links.count()):
        link = links.nth(index)
        target = link.get_attribute("href")
        assert target and target.startswith("#"), target
        link.click()
        expect(page.locator(target)).to_be_focused()


def test_a_request_is_opened_reviewed_redacted_downloaded_and_answered(
        world: World, sign_in: SignIn, settings: Any) -> None:
    case = case_through_services(world, "support", concern=CONCERN)
    police = sign_in("police")
    person_page(police, case)
    expect_accessible(police)
    police.get_by_role("link", name="Subject access request").click()

    # Empty: who asked and the date are both required, and nothing is opened.
    expect(police.get_by_role("heading", name="Record a subject access request")).to_be_visible()
    received = police.get_by_role("group", name="Date the request was received")
    for part in ("Day", "Month", "Year"):
        received.get_by_label(part).fill("")
    police.get_by_role("button", name="Record the request").click()
    expect(error_links(police)).to_have_text(["Enter who made the request", "Enter date the request was received"])
    expect_links_lead_to_their_fields(police)
    expect_accessible(police)
    assert not SubjectAccessRequest.objects.exists()

    police.get_by_label("Who made the request").fill("The person, by letter")
    fill_date(police, "Date the request was received", RECEIVED)
    police.get_by_role("button", name="Record the request").click()
    sar = SubjectAccessRequest.objects.get()
    expect_success(police, f"Subject access request {sar.reference} opened. Answer by {long_date(DUE)}.")
    expect(police.get_by_role("heading", name=f"Subject access request {sar.reference}", level=1)).to_be_visible()
    summary = police.locator("#sar-summary")
    expect(summary).to_contain_text(long_date(RECEIVED))
    answer_by = summary.locator(".govuk-summary-list__row").filter(has_text="Answer by")
    expect(answer_by).to_contain_text(long_date(DUE))
    expect(answer_by).to_contain_text(f"{(DUE - START).days} days left")
    expect_accessible(police)

    # Withhold the concern: a ground is required; then the item shows its placeholder.
    concern_row = police.locator(".govuk-summary-list__row").filter(has_text=CONCERN)
    concern_row.get_by_role("link", name="Withhold").click()
    expect(police.get_by_role("heading", name="Withhold “What was observed”")).to_be_visible()
    police.get_by_role("button", name="Withhold this").click()
    expect(error_summary(police)).to_be_visible()
    expect_links_lead_to_their_fields(police)
    assert not Redaction.objects.exists()
    police.get_by_label("Sensitive police source or intelligence").check()
    police.get_by_label("Your reasons").fill(REASONS)
    expect_accessible(police)
    police.get_by_role("button", name="Withhold this").click()
    expect_success(police, "Item withheld from the answer")
    expect(police.locator(".govuk-summary-list__row").filter(has_text=CONCERN)).to_contain_text(PLACEHOLDER)
    expect(police.locator("#redactions")).to_contain_text("Withheld: Sensitive police source or intelligence")

    # The JSON answer, after proving who they are (the window is shut for this step, as if
    # they had signed in long ago).
    settings.CASETRAIL_REAUTHENTICATE_SECONDS = 0
    police.get_by_label("JSON, machine-readable").check()
    police.get_by_label("Who is the copy for").fill("The person, by secure email")
    police.get_by_role("button", name="Download the answer").click()
    expect(police.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    expect_accessible(police)
    assert not AccessLogEntry.objects.filter(operation="disclosure").exists()
    settings.CASETRAIL_REAUTHENTICATE_SECONDS = 300
    police.get_by_label("Password").fill(PASSWORD)
    with police.expect_download() as downloaded:
        police.get_by_role("button", name="Continue").click()
    download = downloaded.value
    assert download.suggested_filename == f"{sar.reference}.json"
    text = Path(download.path()).read_text(encoding="utf-8")
    answer = json.loads(text)
    assert CONCERN not in text
    assert PLACEHOLDER in text
    assert answer and case.person.reference in text

    # The PDF, now without being asked again.
    police.goto(f"/subject-access-requests/{sar.reference}")
    police.get_by_label("PDF, to print or send").check()
    police.get_by_label("Who is the copy for").fill("The person, by post")
    with police.expect_download() as downloaded:
        police.get_by_role("button", name="Download the answer").click()
    pdf = downloaded.value
    assert pdf.suggested_filename == f"{sar.reference}.pdf"
    assert Path(pdf.path()).read_bytes().startswith(b"%PDF-")
    assert set(AccessLogEntry.objects.filter(operation="disclosure").values_list("recipient", flat=True)) == {
        "The person, by secure email", "The person, by post"}

    # Recorded as answered: the forms to withhold or answer are gone.
    police.get_by_role("button", name="Record as answered").click()
    expect_success(police, "Recorded as answered")
    expect(answer_by).to_contain_text(f"Answered {short_date(START)}")
    expect(police.get_by_role("button", name="Download the answer")).to_have_count(0)
    expect(police.get_by_role("link", name="Withhold")).to_have_count(0)
    sar.refresh_from_db()
    assert sar.status == "completed" and sar.completed_on == START


def test_an_accepted_correction_to_the_date_of_birth_shows_on_the_person_page(
        world: World, sign_in: SignIn) -> None:
    case = case_through_services(world, "gateway")
    police = sign_in("police")
    person_page(police, case)
    expect(police.get_by_text("Born 17 May 2008")).to_be_visible()
    police.get_by_role("link", name="Correct the record").click()
    expect(police.get_by_role("heading", name="Decide a request to correct the record")).to_be_visible()

    police.get_by_label("What does the person say is wrong?").select_option("person:date_of_birth")
    police.get_by_label("Who asked for the correction").fill("The person, in writing")
    police.get_by_label("What they say it should be").fill("2008-07-15")
    police.get_by_label("Accept: correct the record").check()
    police.get_by_label("Your reasons").fill("Birth certificate seen at the meeting on the date below.")
    # A corrected date typed the wrong way is refused, and the record is unchanged.
    police.get_by_label("Corrected value").fill("15/07/2008")
    police.get_by_role("button", name="Record the decision").click()
    expect(error_links(police)).to_have_text(
        ["Enter the date of birth as YYYY-MM-DD (or YYYY-MM, or YYYY if only the year is known)"])
    expect_links_lead_to_their_fields(police)
    expect_accessible(police)
    assert not Rectification.objects.exists()
    assert str(Person.objects.get(pk=case.person_id).date_of_birth) == "2008-05-17"

    police.get_by_label("Corrected value").fill("2008-07-15")
    police.get_by_role("button", name="Record the decision").click()
    expect_success(police, "Rectification accepted: Date of birth (person record)")
    expect(police.get_by_role("heading", name=case.person.full_name, level=1)).to_be_visible()
    expect(police.get_by_text("Born 15 July 2008")).to_be_visible()
    corrections = police.locator("#person-rectifications")
    row = corrections.get_by_role("row").filter(has_text="Date of birth")
    expect(row.get_by_role("cell")).to_contain_text([
        short_date(START), "Date of birth (person record)", "Accepted by Police Tester",
        "2008-05-17", "2008-07-15"])
    expect(row).to_contain_text("Birth certificate seen at the meeting on the date below.")
    expect_accessible(police)
