"""Break glass in the browser: the reason reaches the case owner, and the auditors."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from casetrail.accounts.services import agency_create
from tests.e2e.conftest import SignIn, case_through_services, expect_accessible, expect_success
from tests.integration.conftest import World, _user

pytestmark = pytest.mark.e2e

REASON = "Urgent: reported missing in our area tonight; we need his known associates."


def test_break_glass_with_its_reason_reaches_the_case_owner(world: World, sign_in: SignIn) -> None:
    case = case_through_services(world, "panel")
    world.users["farofficer"] = _user("farofficer", agency_create(name="Farshire Police CTP", kind="police"),
                                      "police_officer")
    outsider = sign_in("farofficer")
    outsider.goto(f"/cases/{case.pk}/")
    expect(outsider.get_by_role("heading", name="Page not found")).to_be_visible()

    outsider.goto("/search")
    outsider.get_by_role("link", name="Break the glass").click()
    outsider.get_by_label("Case reference").fill(case.reference)
    outsider.get_by_label("Why you need to read this case now").fill(REASON)
    outsider.get_by_label("4 hours").check()
    expect_accessible(outsider)
    outsider.get_by_role("button", name="Break the glass").click()
    expect_success(outsider, "The case owner has been told")
    expect(outsider.locator("#break-glass-notice")).to_contain_text(REASON)
    expect(outsider.get_by_role("heading", name="What you can do")).to_have_count(0)

    owner = sign_in("coordinator")  # the panel case is owned by the council's duty coordinator
    banner = owner.locator("#outside-reads")
    expect(banner).to_contain_text(case.reference)
    expect(banner).to_contain_text(REASON)
    expect(banner).to_contain_text("Farshire Police CTP")

    auditor = sign_in("oversight")
    auditor.get_by_role("link", name="Break-glass audit").click()
    card = auditor.locator("[data-grant]").filter(has_text=case.reference)
    expect(card).to_contain_text(REASON)
    card.get_by_label("What you concluded").fill("Justified: police missing-person log checked.")
    card.get_by_role("button", name="Record review").click()
    expect_success(auditor, "Review recorded")
    expect(auditor.locator("#nothing-waiting")).to_be_visible()
