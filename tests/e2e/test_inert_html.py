"""A script typed into a referral through the browser is shown to the police officer as text, never run."""

from __future__ import annotations

from datetime import timedelta

import pytest
from playwright.sync_api import Dialog, expect

from casetrail.cases.models import Case
from tests.e2e.conftest import START, SignIn, fill_date
from tests.integration.conftest import World

pytestmark = pytest.mark.e2e

PAYLOAD = '<script>alert("xss")</script><img src=x onerror=alert(1)>"\'><svg onload=alert(1)>'
CONCERN = "He shares violent videos at lunch and typed this into the class chat: " + PAYLOAD


def test_a_script_in_a_referral_never_runs_on_the_case_page(world: World, sign_in: SignIn) -> None:
    dialogs: list[str] = []

    def record(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    referrer = sign_in("referrer")
    referrer.on("dialog", record)
    referrer.goto("/referrals/new/about-you")
    referrer.get_by_label("Education").check()
    referrer.get_by_label("Which safeguarding lead did you discuss this with?").fill(PAYLOAD)
    referrer.get_by_role("button", name="Continue").click()
    referrer.get_by_label("What is their first name?").fill("Jay")
    referrer.get_by_label("What is their last name?").fill("Ashby-Test")
    referrer.get_by_label("Other names or spellings they use").fill(PAYLOAD)
    referrer.get_by_role("group", name="What is their sex?").get_by_label("Male", exact=True).check()
    referrer.get_by_label("Which local authority area do they live in?").select_option(label="Testshire County Council")
    referrer.get_by_role("button", name="Continue").click()
    referrer.get_by_label("What have you seen or heard that concerns you?").fill(CONCERN)
    fill_date(referrer, "When was the concern first observed?", START - timedelta(days=3))
    referrer.get_by_label("Extreme right-wing").check()
    referrer.get_by_role("button", name="Continue").click()
    referrer.get_by_label("Routine: no immediate risk").check()
    referrer.get_by_role("group", name="Does the person know you are making this referral?").get_by_label(
        "No", exact=True).check()
    referrer.get_by_role("button", name="Continue").click()
    referrer.get_by_role("button", name="Continue").click()
    expect(referrer.get_by_role("main")).to_contain_text(CONCERN)  # check your answers, shown literally
    referrer.get_by_role("button", name="Submit referral").click()
    expect(referrer.get_by_role("heading", name="Referral submitted")).to_be_visible()

    case = Case.objects.get(referral__family_name="Ashby-Test")
    assert case.referral.concern == CONCERN
    police = sign_in("police")
    police.on("dialog", record)
    police.goto(f"/cases/{case.pk}/")
    main = police.get_by_role("main")
    expect(main).to_contain_text(CONCERN)
    # The payload's markup became text: no element was made from it.
    assert police.locator("main img[src='x'], main svg[onload], main [onerror]").count() == 0
    assert police.evaluate("() => [...document.scripts].some(s => s.textContent.includes('xss'))") is False
    police.wait_for_timeout(300)  # time for any injected handler to fire
    assert dialogs == []
