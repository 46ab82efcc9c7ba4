"""Who a page offers as an owner: only the people the access policy lets own the work, never a
read-only user, someone outside the case or the person handing it over; a crafted choice of
anyone else is a field error that writes nothing."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import expect

from casetrail.cases.models import SupportAction
from tests.e2e.conftest import (
    START,
    SignIn,
    case_through_services,
    csrf_token,
    error_summary,
    expect_accessible,
)
from tests.integration.conftest import World

pytestmark = pytest.mark.e2e


def label(world: World, name: str) -> str:
    user = world.users[name]
    return f"{user.display_name} ({user.agency}, {user.roles_display})"


def test_the_support_action_page_offers_as_owners_only_people_who_may_act_on_the_case(
        world: World, sign_in: SignIn) -> None:
    case = case_through_services(world, "support")
    coordinator = sign_in("coordinator")
    coordinator.goto(f"/cases/{case.pk}/support-action")
    owner = coordinator.get_by_label("Who owns this action")
    offered = [o.strip() for o in owner.locator("option").all_inner_texts() if o.strip() != "Select a person"]
    # The case's planners, its force's officers, the panel member whose panel has it, and its referrer.
    assert sorted(offered) == sorted(label(world, n) for n in ("coordinator", "chair", "police", "police2", "panel",
                                                               "referrer"))
    expect_accessible(coordinator)

    # Someone the page does not offer, chosen by a crafted request: a field error, nothing written.
    vulnerability = coordinator.locator("input[name=vulnerabilities]").first.get_attribute("value")
    due = START + timedelta(days=30)
    for name in ("oversight", "other_coordinator", "provider"):
        response = coordinator.request.post(f"/cases/{case.pk}/support-action", max_redirects=0, form={
            "csrfmiddlewaretoken": csrf_token(coordinator), "description": "Weekly mentoring on his grievance",
            "vulnerabilities": vulnerability or "", "owner_user": str(world.users[name].pk),
            "due_on_day": str(due.day), "due_on_month": str(due.month), "due_on_year": str(due.year)})
        assert response.status == 400, name
    assert not SupportAction.objects.filter(case=case).exists()

    # Through the page, an offered owner is taken.
    coordinator.get_by_label("Support action").fill("Weekly check-in with the head of year about his grievance")
    coordinator.locator("input[name=vulnerabilities]").first.check()
    owner.select_option(label=label(world, "panel"))
    coordinator.get_by_role("group", name="Due date").get_by_label("Day").fill(str(due.day))
    coordinator.get_by_role("group", name="Due date").get_by_label("Month").fill(str(due.month))
    coordinator.get_by_role("group", name="Due date").get_by_label("Year").fill(str(due.year))
    coordinator.get_by_role("button", name="Save and continue").click()
    expect(error_summary(coordinator)).to_have_count(0)
    assert SupportAction.objects.get(case=case).owner_user == world.users["panel"]
