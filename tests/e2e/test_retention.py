"""Retention in the browser: a police officer opens the review queue from the navigation, records
a decision to dispose of a case that fell due (after the error summary for an empty form),
confirms who they are and the disposal, and finds the tombstone; the case page then says it was
disposed of and shows none of its personal text. A held case cannot be disposed of, and the page
says why.

The cases are made through the real services on START; the app's clock (shared with the live
server, see ServerClock in conftest) then moves six years on, past their review date.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from casetrail.cases import services as case_services
from casetrail.cases.models import Case
from casetrail.core.retention import add_years
from casetrail.retention.models import RetentionReview, Tombstone
from tests.e2e.conftest import (
    START,
    ServerClock,
    SignIn,
    error_summary,
    expect_accessible,
    expect_success,
    long_date,
    short_date,
)
from tests.integration.conftest import PASSWORD, World
from tests.integration.test_retention import MARK, REASON, police_led_case

pytestmark = pytest.mark.e2e

# police_led_case closes its case on START: a police-led case is reviewed six years on.
DUE_ON = add_years(START, 6)
HOLD_REASON = "Civil claim against the force is pending."


def menu(page: Page, item: str) -> Page:
    page.get_by_role("navigation", name="Menu").get_by_role("link", name=item).click()
    return page


def queue_row(page: Page, case: Case) -> Locator:
    return page.locator("#retention-queue").get_by_role("row").filter(has_text=case.reference)


def expect_error_links_to_fields(page: Page, messages: list[str]) -> None:
    """The error summary lists exactly these messages, each a link that takes the person to
    its field."""
    summary = error_summary(page)
    expect(summary).to_be_visible()
    links = summary.get_by_role("link")
    expect(links).to_have_text(messages)
    for index in range(len(messages)):
        link = links.nth(index)
        target = link.get_attribute("href")
        assert target and target.startswith("#"), target
        link.click()
        expect(page.locator(target)).to_be_focused()


def test_a_due_case_is_reviewed_confirmed_and_disposed_of_leaving_a_tombstone(
        world: World, sign_in: SignIn, app_clock: ServerClock, settings: Any) -> None:
    case = police_led_case(world)
    police = sign_in("police")

    # Not due yet: the queue is empty today.
    menu(police, "Retention reviews")
    expect(police.get_by_role("heading", name="Retention reviews", level=1)).to_be_visible()
    expect(police.locator("#retention-queue-empty")).to_have_text("No retention reviews are due.")

    app_clock.go_to(DUE_ON + timedelta(days=1))
    police.reload()
    row = queue_row(police, case)
    expect(row.get_by_role("cell")).to_have_text([
        case.reference, "Police-led case management (6 years)", short_date(START), short_date(DUE_ON), "Due"])
    expect(police.locator("#retention-queue")).not_to_contain_text(MARK)  # references only, never names
    expect_accessible(police)

    # An empty form: the error summary, its links leading to the field, and nothing recorded.
    row.get_by_role("link", name=case.reference).click()
    expect(police.get_by_role("heading", name="Retention review", level=1)).to_be_visible()
    expect(police.locator("#retention-summary")).to_contain_text(long_date(DUE_ON))
    police.get_by_role("button", name="Record the decision").click()
    expect_error_links_to_fields(police, ["Answer the question: What is your decision?",
                                          "Enter the rationale for this decision."])
    expect_accessible(police)
    # Reasons that say nothing are refused too, on their field.
    police.get_by_label("Dispose of the case").check()
    police.get_by_label("Your reasons").fill("Not needed.")
    police.get_by_role("button", name="Record the decision").click()
    expect_error_links_to_fields(police, ["The rationale must explain the decision in at least 20 characters."])
    assert not RetentionReview.objects.exists()

    # The decision to dispose, then the confirmation. Proving who you are is asked for again
    # when it was not given lately: the window is shut for this step, as if signed in long ago.
    settings.CASETRAIL_REAUTHENTICATE_SECONDS = 0
    police.get_by_label("Dispose of the case").check()
    police.get_by_label("Your reasons").fill(REASON)
    police.get_by_role("button", name="Record the decision").click()
    expect(police.get_by_role("heading", name="Confirm it is you")).to_be_visible()
    assert RetentionReview.objects.get(case=case).decision == "dispose"
    assert not Tombstone.objects.exists()
    settings.CASETRAIL_REAUTHENTICATE_SECONDS = 300  # now the usual few minutes
    police.get_by_label("Password").fill("not-the-password")
    police.get_by_role("button", name="Continue").click()
    expect(error_summary(police)).to_contain_text("The password is not right")
    police.get_by_label("Password").fill(PASSWORD)
    police.get_by_role("button", name="Continue").click()

    expect(police.get_by_role("heading", name=f"Dispose of {case.reference}?")).to_be_visible()
    expect(police.get_by_text("It cannot be undone")).to_be_visible()
    expect_accessible(police)
    # Without the box ticked nothing is erased.
    police.get_by_role("button", name="Dispose of the case").click()
    expect(error_summary(police)).to_be_visible()
    assert not Tombstone.objects.exists()
    police.get_by_label("I understand that disposal erases this case's personal data").check()
    police.get_by_role("button", name="Dispose of the case").click()

    expect_success(police, f"{case.reference} has been disposed of")
    tombstone = police.locator("#tombstone")
    expect(tombstone.get_by_role("heading", name="Disposed of")).to_be_visible()
    expect(tombstone).to_contain_text(f"{case.reference} on {long_date(DUE_ON + timedelta(days=1))}")
    expect(police.get_by_role("main")).not_to_contain_text(MARK)
    expect_accessible(police)
    assert Tombstone.objects.get(case=case).disposed_by == world.users["police"]

    # The case page: the banner, and none of the person's names or the case's text.
    police.goto(f"/cases/{case.pk}/")
    banner = police.get_by_role("region", name="Disposed of")
    expect(banner).to_contain_text("This case's personal data was erased on "
                                   f"{long_date(DUE_ON + timedelta(days=1))} under the police-led case management retention "
                                   f"rule (6 years from closure on {long_date(START)})")
    expect(police.get_by_role("main")).not_to_contain_text(MARK)
    expect(police.get_by_role("heading", level=1)).to_contain_text("(disposed)")
    expect_accessible(police)

    # Gone from the queue.
    menu(police, "Retention reviews")
    expect(police.locator("#retention-queue-empty")).to_be_visible()


def test_a_held_case_cannot_be_disposed_of_and_the_page_says_why(
        world: World, sign_in: SignIn, app_clock: ServerClock) -> None:
    case = police_led_case(world, mark="Heldcase")
    case_services.retention_hold_place(user=world.users["police"], case=case, reason_kind="litigation",
                                       reason=HOLD_REASON, placed_on=START)
    app_clock.go_to(DUE_ON + timedelta(days=1))
    police = sign_in("police")
    menu(police, "Retention reviews")
    row = queue_row(police, case)
    expect(row.locator(".govuk-tag")).to_have_text("Held")
    expect(row).to_contain_text(f"Legal proceedings: {HOLD_REASON}")

    row.get_by_role("link", name=case.reference).click()
    expect(police.locator("#retention-holds")).to_contain_text(HOLD_REASON)
    police.get_by_label("Dispose of the case").check()
    police.get_by_label("Your reasons").fill(REASON)
    police.get_by_role("button", name="Record the decision").click()
    expect(error_summary(police)).to_contain_text(
        f"The case is held from disposal: Legal proceedings: {HOLD_REASON}")
    expect_accessible(police)
    assert not RetentionReview.objects.exists() and not Tombstone.objects.exists()

    # Going straight to the confirmation step does not get round it either.
    police.goto(f"/retention/cases/{case.pk}/dispose")
    expect(police.locator("#disposal-blocked")).to_contain_text(HOLD_REASON)
    expect(police.get_by_role("button", name="Dispose of the case")).to_have_count(0)
    assert not Tombstone.objects.exists()
