"""Each role is refused, in the browser, what it may not see or do; a refused or invalid
submission writes nothing; a blocked step says why.

Cases are prepared through the real services (conftest.case_through_services); everything
the tests check is done by a person signed in through the sign-in page. A hand-made POST
(`refused_post`) stands for someone who crafts the request the page does not offer them: it
carries their own session and CSRF token and otherwise valid data, so only the access check
stands between it and a write.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import APIResponse, Page, expect

from casetrail.cases.models import Case, Decision
from casetrail.core.schedules import post_exit_review_dates
from tests.e2e.conftest import (
    START,
    SignIn,
    case_through_services,
    csrf_token,
    error_summary,
    expect_accessible,
    expect_stage,
    fill_date,
    long_date,
)
from tests.integration.conftest import World

pytestmark = pytest.mark.e2e

CONCERN = "Has told classmates that violence against a named group is justified and shares videos."


def refused_post(page: Page, path: str, data: dict[str, Any]) -> APIResponse:
    """POST `data` to `path` as the signed-in person in `page`, as a crafted request would."""
    form = {"csrfmiddlewaretoken": csrf_token(page), **{k: str(v) for k, v in data.items()}}
    return page.request.post(path, form=form, max_redirects=0)


def date_fields(name: str, day: Any) -> dict[str, Any]:
    return {f"{name}_day": day.day, f"{name}_month": day.month, f"{name}_year": day.year}


def expect_forbidden(page: Page) -> None:
    expect(page.get_by_role("heading", name="You cannot do this", level=1)).to_be_visible()


def expect_not_found(page: Page) -> None:
    expect(page.get_by_role("heading", name="Page not found", level=1)).to_be_visible()


def snapshot(case: Case) -> tuple[str, int, int]:
    """What a write would change: the stage, the version and the number of decisions."""
    case.refresh_from_db()
    return case.stage, case.version, Decision.objects.filter(case=case).count()


def test_a_referrer_sees_only_the_status_of_their_referral(world: World, sign_in: SignIn) -> None:
    case = case_through_services(world, "support")
    referrer = sign_in("referrer")

    referrer.goto(f"/cases/{case.pk}/")
    expect(referrer.get_by_role("heading", name=f"Referral {case.referral.reference}", level=1)).to_be_visible()
    expect(referrer.get_by_role("main")).to_contain_text("Channel support")
    expect(referrer.locator("#referrer-news")).to_have_text(
        "The Channel panel is arranging support. You may be asked for your view on how it is going.")
    expect(referrer.get_by_role("main")).to_contain_text("details of police checks and the panel's work are not shown")
    expect(referrer.get_by_text(CONCERN)).to_have_count(0)
    for heading in ["Decisions", "What you can do", "Assessment", "History"]:
        expect(referrer.get_by_role("heading", name=heading)).to_have_count(0)
    expect_accessible(referrer)

    # Staff pages of the same case are refused, even typed in by hand.
    assessment = case.assessments.get()
    for path in [f"/cases/{case.pk}/gateway", f"/cases/{case.pk}/consent",
                 f"/cases/{case.pk}/assessment/{assessment.pk}"]:
        referrer.goto(path)
        expect_forbidden(referrer)
    expect(referrer.get_by_text(CONCERN)).to_have_count(0)


def test_a_provider_sees_only_the_cases_it_is_tasked_on(world: World, sign_in: SignIn) -> None:
    case = case_through_services(world, "support")
    tasking = case.taskings.get()

    # The tasked provider sees the tasking and the plan, but not the referral or the decisions.
    provider = sign_in("provider")
    provider.goto(f"/cases/{case.pk}/")
    expect(provider.get_by_role("heading", name=case.person.full_name, level=1)).to_be_visible()
    expect(provider.get_by_role("link", name="Bridges Mentoring CIC: Provider Tester")).to_be_visible()
    expect(provider.get_by_text(CONCERN)).to_have_count(0)
    for heading in ["Referral", "Decisions", "What you can do", "Consent"]:
        expect(provider.get_by_role("heading", name=heading, exact=True)).to_have_count(0)

    # Another approved provider organisation, never tasked, cannot open the case or the tasking.
    other = sign_in("otherprovider")
    expect(other.get_by_text(case.reference)).to_have_count(0)  # nothing on My work
    for path in [f"/cases/{case.pk}/", f"/taskings/{tasking.pk}"]:
        other.goto(path)
        expect_not_found(other)
    expect(other.get_by_text(case.person.full_name)).to_have_count(0)
    response = refused_post(other, f"/taskings/{tasking.pk}",
                            {"form": "acknowledge", **date_fields("acknowledge-acknowledged_on", START)})
    assert response.status == 404
    tasking.refresh_from_db()
    assert tasking.acknowledged_on is None


def test_a_panel_member_cannot_record_the_gateway_decision(world: World, sign_in: SignIn) -> None:
    at_gateway = case_through_services(world, "gateway", given_names="Gale", family_name="Gateway-Test")
    on_agenda = case_through_services(world, "panel", given_names="Perry", family_name="Panel-Test")
    panel = sign_in("panel")

    # A case on the agenda of their panel: they may read it, but the gateway is not theirs.
    panel.goto(f"/cases/{on_agenda.pk}/")
    expect_stage(panel, "Channel panel consideration")
    for decision in ["Gateway assessment", "Panel decision: adopt or not"]:
        expect(panel.get_by_role("link", name=decision)).to_have_count(0)
    panel.goto(f"/cases/{on_agenda.pk}/gateway")
    expect_forbidden(panel)
    expect(panel.get_by_text("Your role or agency cannot do this on this case.")).to_be_visible()

    # A case still at the gateway is not theirs to see at all; a crafted decision is refused.
    panel.goto(f"/cases/{at_gateway.pk}/gateway")
    expect_not_found(panel)
    before = snapshot(at_gateway)
    response = refused_post(panel, f"/cases/{at_gateway.pk}/gateway", {
        "expected_version": at_gateway.version, "deconfliction_done": "on", "database_checks_done": "on",
        "outcome": "no_further_action", "nfa_reasons": "no_vulnerability",
        "rationale": "No vulnerability to radicalisation identified in the checks.",
        **date_fields("decided_on", START)})
    assert response.status == 404
    assert snapshot(at_gateway) == before == ("gateway", before[1], 0)


def test_oversight_reads_every_case_but_can_do_nothing(world: World, sign_in: SignIn) -> None:
    case = case_through_services(world, "support")
    oversight = sign_in("oversight")

    oversight.goto(f"/cases/{case.pk}/")
    expect_stage(oversight, "Channel support")
    expect(oversight.get_by_role("heading", name="Decisions")).to_be_visible()
    expect(oversight.get_by_text(CONCERN)).to_be_visible()
    expect(oversight.get_by_role("heading", name="What you can do")).to_have_count(0)
    expect(oversight.get_by_role("link", name="Exit the case from Channel")).to_have_count(0)

    oversight.goto(f"/cases/{case.pk}/exit")
    expect_forbidden(oversight)
    before = snapshot(case)
    response = refused_post(oversight, f"/cases/{case.pk}/exit", {
        "expected_version": case.version, "rationale": "All members agree the vulnerability is much reduced.",
        "attendees": "Chair, LA\nPolice officer, CTP", **date_fields("exited_on", START)})
    assert response.status == 403
    assert "You cannot do this" in response.text()
    assert snapshot(case) == before


def test_a_coordinator_of_another_local_authority_cannot_see_the_case(world: World, sign_in: SignIn) -> None:
    case = case_through_services(world, "support")
    other = sign_in("other_coordinator")

    expect(other.get_by_text(case.reference)).to_have_count(0)
    other.get_by_role("navigation", name="Menu").get_by_role("link", name="Cases").click()
    expect(other.get_by_role("table")).to_contain_text("No cases you can see at this stage.")
    expect(other.get_by_role("link", name=case.reference)).to_have_count(0)
    for path in [f"/cases/{case.pk}/", f"/cases/{case.pk}/consent", f"/cases/{case.pk}/assessment/start"]:
        other.goto(path)
        expect_not_found(other)
        expect(other.get_by_text(case.person.full_name)).to_have_count(0)


def test_closure_is_blocked_until_both_post_exit_reviews_are_recorded(world: World, sign_in: SignIn) -> None:
    case = case_through_services(world, "exited")
    due = post_exit_review_dates(START)
    coordinator = sign_in("coordinator")

    coordinator.goto(f"/cases/{case.pk}/")
    expect_stage(coordinator, "Exited, post-exit reviews")
    expect(coordinator.locator("#post-exit-reviews")).to_have_text(
        f"6-month review Due {long_date(due[6])} 12-month review Due {long_date(due[12])}", use_inner_text=True)
    blocked = coordinator.locator("#case-steps").get_by_role("listitem").filter(has_text="Close the case: blocked")
    expect(blocked).to_contain_text(
        "The 6-month and 12-month post-exit review must be recorded before the case can close. "
        "Who can resolve this: Channel coordinator.")
    expect(coordinator.get_by_role("link", name="Close the case")).to_have_count(0)
    expect_accessible(coordinator)

    # Going to the step's address anyway: the form is there, the closure is refused, with the reason.
    before = snapshot(case)
    coordinator.goto(f"/cases/{case.pk}/close")
    fill_date(coordinator, "Date of closure", START)
    coordinator.get_by_label("Rationale").fill("Exited with no concerns, nothing further to do.")
    coordinator.get_by_role("button", name="Close the case").click()
    expect(error_summary(coordinator)).to_contain_text(
        "The 6-month and 12-month post-exit review must be recorded before the case can close. "
        "(Who can resolve this: Channel coordinator.)")
    assert snapshot(case) == before
    assert before[0] == "exited"


def test_a_bad_gateway_decision_shows_the_error_summary_and_writes_nothing(world: World, sign_in: SignIn) -> None:
    case = case_through_services(world, "gateway")
    before = snapshot(case)
    police = sign_in("police")
    police.locator("#due").get_by_role("row").filter(has_text=case.reference).get_by_role(
        "link", name="Gateway assessment").click()
    expect(police).to_have_title("Gateway assessment – Casetrail")

    # No outcome chosen, a decision dated tomorrow: the form's own checks.
    police.get_by_label("Rationale").fill("Too short")
    fill_date(police, "Date of the decision", START + timedelta(days=1))
    police.get_by_role("button", name="Save and continue").click()
    expect(police).to_have_title("Error: Gateway assessment – Casetrail")
    summary = error_summary(police)
    expect(summary.get_by_role("link")).to_have_text([
        "Select outcome of the gateway assessment",
        "Date of the decision must be today or in the past",
    ])
    expect(police.locator(":focus")).to_contain_text("There is a problem")  # GOV.UK Frontend focuses it
    expect(police.get_by_role("group", name="Outcome of the gateway assessment")).to_contain_text(
        "Error: Select outcome of the gateway assessment")
    expect_accessible(police)
    # Each link takes the person to the answer to fix.
    summary.get_by_role("link", name="Date of the decision must be today or in the past").click()
    expect(police.get_by_role("group", name="Date of the decision").get_by_label("Day")).to_be_focused()
    assert snapshot(case) == before

    # Now a complete form, but the checks not done and a token rationale: the service's rules.
    police.get_by_label("Refer to the Channel panel").check()
    fill_date(police, "Date of the decision", START)
    police.get_by_role("button", name="Save and continue").click()
    expect(summary.get_by_role("link")).to_have_text(
        ["The rationale must explain the decision in at least 20 characters."])
    expect(police.get_by_label("Rationale")).to_have_value("Too short")  # what was typed is kept
    assert snapshot(case) == before

    police.get_by_label("Rationale").fill("Escalating behaviour with a clear ideological element.")
    police.get_by_role("button", name="Save and continue").click()
    expect(summary).to_contain_text(
        "Deconfliction and database checks must be recorded as done before the gateway decision. "
        "(Who can resolve this: Police Prevent officer.)")
    assert snapshot(case) == before == ("gateway", before[1], 0)
