"""A third referral of one boy under another spelling, as the officer meets it in the browser:
blocked until the possible earlier records are resolved, then held by the second-review rule."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from casetrail.cases.models import Case
from casetrail.core.dates import PartialDate
from tests.e2e.conftest import (
    START,
    ServerClock,
    SignIn,
    error_summary,
    expect_accessible,
    expect_success,
    fill_date,
)
from tests.integration.conftest import World, referral_input

pytestmark = pytest.mark.e2e

BOY = dict(given_names="Axel", sex="male", date_of_birth=PartialDate(2006, 8, 7), postcode="TE4 9QA",
           address="14 Larch Close, Testbridge", school_or_workplace="Testbridge High School")


def refer(world: World, family_name: str, **identity: Any) -> Case:
    import casetrail.clock
    from casetrail.referrals.services import referral_submit

    data = referral_input(world, family_name=family_name, **{**BOY, **identity},
                          first_observed_on=casetrail.clock.today() - timedelta(days=3))
    return referral_submit(user=world.users["referrer"], data=data)[0].case


def close(world: World, case: Case) -> None:
    import casetrail.clock
    from casetrail.cases import services

    services.gateway_decide(user=world.users["police"], case=case, expected_version=None, deconfliction_done=True,
                            database_checks_done=True, referrer_contacted_on=None, referrer_contact_summary="",
                            outcome="no_further_action", signposted_to="", decided_on=casetrail.clock.today(),
                            rationale="No vulnerability to radicalisation found in the checks made.",
                            nfa_reasons=["no_vulnerability"])


def fill_closure(page: Page, day: Any) -> None:
    page.get_by_label("Deconfliction against live counter-terrorism work is complete").check()
    page.get_by_label("Police database checks are complete").check()
    page.get_by_label("No further action").check()
    page.get_by_label("No vulnerability to radicalisation identified").check()
    page.get_by_label("Rationale").fill("No vulnerability found in the checks; the school agrees.")
    fill_date(page, "Date of the decision", day)


def test_a_third_referral_under_another_spelling_is_blocked_until_resolved_then_needs_a_second_review(
        world: World, sign_in: SignIn, app_clock: ServerClock) -> None:
    from casetrail.cases import services

    app_clock.go_to(START)
    first = refer(world, "Rudakowski")
    close(world, first)
    app_clock.go_to(START + timedelta(days=40))
    second = refer(world, "Rudakowsky")
    services.case_link_person(user=world.users["police"], case=second, person=first.person,
                              rationale="Same boy: date of birth, address and school agree.")
    close(world, second)
    day = START + timedelta(days=90)
    app_clock.go_to(day)
    third = refer(world, "Rudakovski", date_of_birth=PartialDate(2006, 8))

    police = sign_in("police")
    waiting = police.locator("#earlier-records").get_by_role("row").filter(has_text=third.reference)
    expect(waiting).to_contain_text(first.person.reference)
    expect_accessible(police)
    police.goto(f"/cases/{third.pk}/gateway")
    blocked = police.locator("#blocked-by-matches")
    expect(blocked).to_contain_text("You cannot record this decision until this possible earlier record")
    expect(police.get_by_role("button", name="Save and continue")).to_be_disabled()
    blocked.get_by_role("link", name=first.person.reference).click()
    card = police.locator(f"#earlier-{first.person.reference}")
    expect(card).to_contain_text("Not resolved")
    expect(card).to_contain_text("Rudakowsky")  # both earlier spellings, as recorded
    expect_accessible(police)

    card.get_by_role("link", name=f"Same person: link to {first.person.reference}").click()
    police.get_by_label("Why these are the same person").fill(
        "Same date of birth month, address and school; the surname is misspelt again.")
    police.get_by_role("button", name="Save and continue").click()
    expect_success(police, "Linked")

    police.goto(f"/cases/{third.pk}/gateway")
    expect(police.locator("#blocked-by-matches")).to_have_count(0)
    expect(police.locator(f"#earlier-{first.person.reference}")).to_contain_text("Same person")
    fill_closure(police, day)
    police.get_by_role("button", name="Save and continue").click()
    expect(error_summary(police)).to_contain_text("This is referral 3 of this person")
    expect(error_summary(police)).to_contain_text("a second officer must review")

    reviewer = sign_in("police2")
    reviewer.goto(f"/cases/{third.pk}/second-review")
    reviewer.get_by_label("Yes").check()
    reviewer.get_by_label("Your reasons").fill("Read all three referrals of this boy; nothing more is needed now.")
    fill_date(reviewer, "Date of your review", day)
    reviewer.get_by_role("button", name="Save and continue").click()
    expect_success(reviewer, "Your review is recorded")

    police.goto(f"/cases/{third.pk}/gateway")
    fill_closure(police, day)
    police.get_by_role("button", name="Save and continue").click()
    expect_success(police, "Gateway decision recorded")
    assert Case.objects.get(pk=third.pk).stage == "closed"
