"""The safeguards as people see them: a blocked exit with its reasons, findings on My work,
and the case's findings as of a past date."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from tests.e2e.conftest import (
    START,
    ServerClock,
    SignIn,
    case_through_services,
    error_summary,
    expect_accessible,
    fill_date,
    long_date,
)
from tests.integration.conftest import World

pytestmark = pytest.mark.e2e


def test_a_blocked_exit_shows_each_reason_and_who_can_meet_it(world: World, sign_in: SignIn) -> None:
    case = case_through_services(world, "support")
    chair = sign_in("chair")
    chair.goto(f"/cases/{case.pk}/")
    blocked = chair.locator("#case-steps").get_by_role("listitem").filter(has_text="Exit the case from Channel: blocked")
    expect(blocked).to_be_visible()
    reasons = blocked.locator(".blocked-reasons li")
    expect(reasons.filter(has_text="commissioned sessions are neither delivered nor cancelled")).to_contain_text(
        "Who can resolve this: Intervention provider")
    expect(reasons.filter(has_text="The referrer has not been consulted since the case was adopted")).to_have_count(1)
    expect(reasons.filter(has_text="has no delivered support")).to_have_count(2)
    # Blocked means no link to the exit form at all, not a greyed-out button.
    expect(chair.get_by_role("link", name="Exit the case from Channel")).to_have_count(0)
    expect_accessible(chair)


def test_findings_reach_my_work_and_escalate_to_the_chair(world: World, sign_in: SignIn,
                                                          app_clock: ServerClock) -> None:
    case = case_through_services(world, "support")
    # The provider never acknowledges: five working days later it is flagged, a week after that escalated.
    app_clock.go_to(START + timedelta(days=9))
    provider = sign_in("provider")
    row = provider.locator("#findings tr[data-rule='tasking.unacknowledged']")
    expect(row).to_contain_text("Tasking not acknowledged by the provider")
    expect(row).to_contain_text("Overdue")
    expect(row.get_by_role("link", name=case.reference)).to_be_visible()
    chair = sign_in("chair")
    expect(chair.locator("#findings tr[data-rule='tasking.unacknowledged']")).to_have_count(0)

    app_clock.go_to(START + timedelta(days=20))
    chair.reload()
    escalated = chair.locator("#findings tr[data-rule='tasking.unacknowledged']")
    expect(escalated).to_contain_text("Escalated")
    expect_accessible(chair)

    # Acknowledging it clears the finding from the provider's list.
    provider.goto(f"/taskings/{case.taskings.get().pk}")
    fill_date(provider, "Date you acknowledged the tasking", START + timedelta(days=20))
    provider.get_by_role("button", name="Acknowledge").click()
    provider.goto("/my-work")
    expect(provider.locator("#findings tr[data-rule='tasking.unacknowledged']")).to_have_count(0)


def test_the_case_page_answers_as_of_a_past_date_and_refuses_a_bad_one(world: World, sign_in: SignIn,
                                                                       app_clock: ServerClock) -> None:
    case = case_through_services(world, "support")
    app_clock.go_to(START + timedelta(days=30))
    coordinator = sign_in("coordinator")
    coordinator.goto(f"/cases/{case.pk}/")
    expect(coordinator.locator("#findings tr[data-rule='tasking.unacknowledged']")).to_have_count(1)

    field = coordinator.get_by_label("Show the findings as they stood on a past date")
    field.fill(START.isoformat())
    coordinator.get_by_role("button", name="Show findings").click()
    expect(coordinator.get_by_role("heading", name=f"Safeguard findings as of {long_date(START)}")).to_be_visible()
    expect(coordinator.locator("#findings tr[data-rule='tasking.unacknowledged']")).to_have_count(0)

    coordinator.get_by_label("Show the findings as they stood on a past date").fill("31-02-2026")
    coordinator.get_by_role("button", name="Show findings").click()
    expect(coordinator.locator("#as_of-error")).to_contain_text("Enter the date as year-month-day")
    expect(error_summary(coordinator)).to_have_count(0)  # a filter, not a form that failed to save
