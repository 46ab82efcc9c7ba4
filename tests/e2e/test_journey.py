"""One synthetic person's whole journey, in the browser, each step taken by someone of the
right role who signed in through the sign-in page: referral, gateway, panel, consent,
assessment, support, provider sessions, review, exit, post-exit reviews and closure.

The app's clock (see ServerClock in conftest) moves forward between steps, as the weeks and
months of a real case would pass; every date is typed by the person, as on a real form.
The database is only read, to find the case and confirm what the pages say.
"""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Locator, Page, expect

from casetrail.cases.models import Case, Decision, Review, Session
from tests.e2e.conftest import (
    START,
    ServerClock,
    SignIn,
    case_summary_value,
    error_summary,
    expect_accessible,
    expect_stage,
    expect_success,
    fill_date,
    long_date,
    short_date,
)
from tests.integration.conftest import World

pytestmark = pytest.mark.e2e

GIVEN, FAMILY = "Jordan", "Ashby-Test"
FULL_NAME = f"{GIVEN} {FAMILY}"
BORN = date(2009, 5, 17)  # 16 at referral, so a parent or carer consents
CONCERN = ("In a lesson he said that violence against a named group is justified, and he has shown "
           "classmates videos of attacks on his phone.")
ATTENDEES = ("Chair Tester, panel chair, Testshire County Council\n"
             "Police Tester, Prevent officer, Testshire Police CTP\n"
             "Panel Tester, safeguarding lead, Testshire NHS Trust")

# The assessment: one underlying cause and one presenting behaviour, everything else absent.
UNDERLYING = "Grievance or sense of injustice"
PRESENTING = "Expressing or promoting extremist views"
DIMENSIONS = {
    "Susceptibility": ["Mental health needs", "Neurodivergence", "Social isolation", "Family circumstances",
                       "Disruption to education or employment", "Online activity of concern",
                       "Exposure to harmful influences", UNDERLYING],
    "Ideological engagement": ["No ideology identified", "Mixed or unclear ideology",
                               "Fixation on violence or mass-casualty attacks", "Consuming extremist material",
                               PRESENTING, "Contact with extremist individuals or groups"],
    "Risk of harm": ["Stated intent to harm others", "Interest in or access to weapons",
                     "Planning or preparation", "Risk of harm to self or from others"],
}

# When each thing happens. START is a Monday in January 2026.
GATEWAY_DAY = date(2026, 1, 7)
PANEL_PREP_DAY = date(2026, 1, 8)
REPLY_DAY = date(2026, 1, 12)
MEETING_DAY = date(2026, 1, 15)
CONSENT_DAY = date(2026, 1, 19)
ASSESSMENT_DAY = date(2026, 1, 21)
ACKNOWLEDGED_DAY = date(2026, 1, 23)
SESSION_DAY = date(2026, 2, 2)
CANCELLED_DAY = date(2026, 2, 9)
# Due dates the pages must derive: a reply 10 days after the request, an acknowledgement
# 5 working days after commissioning (Wednesday 21 to Wednesday 28 January).
REPLY_DUE = date(2026, 1, 18)
ACKNOWLEDGEMENT_DUE = date(2026, 1, 28)
EXIT_DAY = date(2026, 4, 16)
SIX_MONTHS_DUE, TWELVE_MONTHS_DUE = date(2026, 10, 16), date(2027, 4, 16)
SIX_MONTH_REVIEW_DAY = date(2026, 10, 19)  # three days late: it shows as overdue first
TWELVE_MONTH_REVIEW_DAY = TWELVE_MONTHS_DUE


def decision_row(page: Page, text: str) -> Locator:
    return page.locator("#decisions").get_by_role("row").filter(has_text=text)


def menu(page: Page, item: str) -> Locator:
    """A link in the service navigation."""
    return page.get_by_role("navigation", name="Menu").get_by_role("link", name=item)


def what_you_can_do(page: Page) -> Locator:
    return page.locator("#case-steps")


def blocked_step(page: Page, title: str) -> Locator:
    """A step shown as blocked under "What you can do", with its reasons."""
    return what_you_can_do(page).get_by_role("listitem").filter(has_text=f"{title}: blocked")


def test_one_person_through_the_whole_journey(world: World, sign_in: SignIn, app_clock: ServerClock) -> None:
    # ------------------------------------------------------------ the referrer refers
    referrer = sign_in("referrer")
    expect_accessible(referrer)
    reference = make_referral(referrer)
    case = Case.objects.select_related("owner_user").get(referral__reference=reference)
    assert case.stage == "gateway"
    assert case.owner_user == world.users["police"]  # the force's duty officer
    assert case.person.full_name == FULL_NAME

    menu(referrer, "My referrals").click()
    referral_row = referrer.get_by_role("row").filter(has_text=reference)
    expect(referral_row).to_contain_text("Gateway assessment")

    # ------------------------------------------------------------ the police gateway
    app_clock.go_to(GATEWAY_DAY)
    police = sign_in("police")
    gateway_task = police.locator("#due").get_by_role("row").filter(has_text=case.reference)
    expect(gateway_task).to_contain_text("Gateway assessment")
    expect_accessible(police)
    gateway_task.get_by_role("link", name="Gateway assessment").click()
    expect(police.get_by_role("heading", name="Gateway assessment", level=1)).to_be_visible()
    police.get_by_label("Deconfliction against live counter-terrorism work is complete").check()
    police.get_by_label("Police database checks are complete").check()
    fill_date(police, "Date you spoke to the referrer", START)
    police.get_by_label("What the referrer told you").fill("The referrer confirmed the videos were shared twice.")
    police.get_by_label("Refer to the Channel panel").check()
    police.get_by_label("Rationale").fill("Escalating behaviour with a clear ideological element; "
                                          "no live police investigation.")
    fill_date(police, "Date of the decision", GATEWAY_DAY)
    police.get_by_role("button", name="Save and continue").click()
    expect_success(police, "Gateway decision recorded")
    expect_stage(police, "Channel panel consideration")
    expect(police.locator("#referral-nhs-number")).to_have_text("999 234 5675")
    expect(police.locator("#referral-upn")).to_have_text("T801000012001")
    expect(case_summary_value(police, "Owner")).to_have_text("Coordinator Tester, Testshire County Council")
    gateway_row = decision_row(police, "Gateway: Refer to panel")
    expect(gateway_row).to_contain_text(short_date(GATEWAY_DAY))
    expect(gateway_row).to_contain_text("Police Tester")

    # ------------------------------------------------------------ the coordinator prepares the panel
    app_clock.go_to(PANEL_PREP_DAY)
    coordinator = sign_in("coordinator")
    coordinator.locator("#owned-cases").get_by_role("link", name=case.reference).click()
    expect(coordinator.get_by_role("heading", name=FULL_NAME, level=1)).to_be_visible()
    expect_stage(coordinator, "Channel panel consideration")
    for step in ["Request information from a partner", "Add to a panel meeting's agenda",
                 "Start a vulnerability assessment"]:
        expect(what_you_can_do(coordinator).get_by_role("link", name=step)).to_be_visible()
    # Only the chair records the panel's decision.
    expect(what_you_can_do(coordinator)).not_to_contain_text("Panel decision")
    expect_accessible(coordinator)
    case_url = coordinator.url

    menu(coordinator, "Panel meetings").click()
    fill_date(coordinator, "Date of the meeting", MEETING_DAY)
    # The list shows usernames, not names (PanelMeetingForm.chair has no label_from_instance).
    coordinator.get_by_label("Chair", exact=True).select_option(label="Chair Tester")
    coordinator.get_by_label("Where the panel meets").fill("Committee room 2")
    coordinator.get_by_role("button", name="Create meeting").click()
    expect_success(coordinator, "Panel meeting created")
    expect(coordinator.get_by_role("heading", name=f"Meeting on {long_date(MEETING_DAY)}")).to_be_visible()
    expect(coordinator.locator("#agenda")).to_have_text("No cases on the agenda yet.")

    coordinator.goto(case_url)
    coordinator.get_by_role("link", name="Add to a panel meeting's agenda").click()
    coordinator.get_by_label("Panel meeting").select_option(label=f"{long_date(MEETING_DAY)} (Committee room 2)")
    coordinator.get_by_role("button", name="Add to agenda").click()
    expect_success(coordinator, "Added to the panel agenda")
    expect(coordinator.get_by_text("On the agenda of:")).to_contain_text(short_date(MEETING_DAY))

    coordinator.get_by_role("link", name="Request information from a partner").click()
    coordinator.get_by_label("Partner agency to ask").select_option(label="Testshire NHS Trust")
    coordinator.get_by_label("What you need to know").fill("Is he known to CAMHS or any other NHS service?")
    fill_date(coordinator, "Date of the request", PANEL_PREP_DAY)
    coordinator.get_by_role("button", name="Save and continue").click()
    expect_success(coordinator, "Information request sent")
    request_row = coordinator.get_by_role("table", name="Information requests").get_by_role("row").filter(
        has_text="Testshire NHS Trust")
    expect(request_row).to_contain_text("Awaiting reply")
    expect(request_row).to_contain_text(f"due {short_date(REPLY_DUE)}")

    # ------------------------------------------------------------ a panel member answers
    app_clock.go_to(REPLY_DAY)
    panel = sign_in("panel")
    request_task = panel.locator("#due").get_by_role("row").filter(has_text=case.reference)
    expect(request_task).to_contain_text(short_date(REPLY_DUE))
    request_task.get_by_role("link", name="Answer information request").click()
    expect(panel.get_by_role("heading", name="Answer an information request")).to_be_visible()
    expect(panel.get_by_text("Is he known to CAMHS or any other NHS service?")).to_be_visible()
    panel.get_by_label("Your reply").fill("Known to CAMHS in 2024 for anxiety; discharged, no current contact.")
    fill_date(panel, "Date of the reply", REPLY_DAY)
    panel.get_by_role("button", name="Send reply").click()
    expect_success(panel, "Reply sent")
    expect(panel.get_by_role("heading", name="Due (0)", exact=True)).to_be_visible()

    # ------------------------------------------------------------ the chair: the panel decides
    app_clock.go_to(MEETING_DAY)
    chair = sign_in("chair")
    menu(chair, "Panel meetings").click()
    chair.get_by_role("link", name=long_date(MEETING_DAY)).click()
    chair.locator("#agenda").get_by_role("link", name=case.reference).click()
    expect(chair.get_by_role("table", name="Information requests")).to_contain_text("Known to CAMHS in 2024")
    chair.get_by_role("link", name="Panel decision: adopt or not").click()
    chair.get_by_label("Yes, adopt as a Channel case").check()
    chair.get_by_label("Attendees").fill(ATTENDEES)
    chair.get_by_label("Rationale").fill("Grievance and extremist views identified; support through Channel "
                                         "is proportionate.")
    fill_date(chair, "Date of the panel decision", MEETING_DAY)
    chair.get_by_role("button", name="Save and continue").click()
    expect_success(chair, "Panel decision recorded")
    expect_stage(chair, "Adopted, awaiting consent")
    adoption = decision_row(chair, "Adoption: adopted")
    expect(adoption).to_contain_text("Chair Tester")
    expect(adoption).to_contain_text("Attendees: Chair Tester, panel chair, Testshire County Council; "
                                     "Police Tester, Prevent officer, Testshire Police CTP")

    # ------------------------------------------------------------ the coordinator records consent
    app_clock.go_to(CONSENT_DAY)
    coordinator.goto(case_url)
    coordinator.get_by_role("link", name="Record consent").click()
    coordinator.get_by_role("group", name="Was consent given?").get_by_label("Yes", exact=True).check()
    coordinator.get_by_label("A parent or carer").check()
    coordinator.get_by_label("Their full name").fill("Morgan Ashby-Test")
    coordinator.get_by_label("Capacity to consent was considered and is present").check()
    coordinator.get_by_label("What the consent covers").fill("Sharing with the mentoring provider and school")
    fill_date(coordinator, "Date consent was given or refused", CONSENT_DAY)
    coordinator.get_by_role("button", name="Save and continue").click()
    expect_success(coordinator, "Consent recorded")
    expect_stage(coordinator, "Channel support")
    expect(coordinator.get_by_text("Given by Morgan Ashby-Test (A parent or carer)")).to_contain_text(
        short_date(CONSENT_DAY))

    # ------------------------------------------------------------ the coordinator assesses
    app_clock.go_to(ASSESSMENT_DAY)
    coordinator.reload()
    assess(coordinator)
    expect_success(coordinator, "The assessment is submitted")
    vulnerabilities = coordinator.locator("#vulnerabilities")
    expect(vulnerabilities.get_by_role("listitem")).to_have_text(
        [f"{UNDERLYING} · underlying cause", f"{PRESENTING} · presenting behaviour"])
    expect(decision_row(coordinator, "Assessment: 2 vulnerabilities identified")).to_contain_text(
        short_date(ASSESSMENT_DAY))

    # ------------------------------------------------------------ the support plan and the tasking
    coordinator.get_by_role("link", name="Add a support action").click()
    coordinator.get_by_label("Support action").fill("Weekly check-in with the head of year about his grievance")
    coordinator.get_by_label(f"{UNDERLYING} (underlying cause)").check()
    coordinator.get_by_label("Who owns this action").select_option(
        label="Coordinator Tester (Testshire County Council, Channel coordinator)")
    fill_date(coordinator, "Due date", date(2026, 3, 20))
    coordinator.get_by_role("button", name="Save and continue").click()
    expect_success(coordinator, "Support action added")
    plan_row = coordinator.locator("#support-plan").get_by_role("row").filter(has_text="Weekly check-in")
    expect(plan_row).to_contain_text("20 Mar 2026")

    coordinator.get_by_role("link", name="Task an intervention provider").click()
    coordinator.get_by_label("Intervention provider").select_option(label="Provider Tester (Bridges Mentoring CIC)")
    coordinator.get_by_label("Number of sessions commissioned").fill("2")
    coordinator.get_by_label("What the sessions are for").fill("Mentoring on online safety and on his grievance")
    coordinator.get_by_label(f"{PRESENTING} (presenting behaviour)").check()
    fill_date(coordinator, "Date commissioned", ASSESSMENT_DAY)
    coordinator.get_by_role("button", name="Save and continue").click()
    expect_success(coordinator, "Provider tasked; they must acknowledge the tasking within 5 working days")
    expect(coordinator.get_by_role("listitem").filter(has_text="Bridges Mentoring CIC: Provider Tester")).to_contain_text(
        "0 of 2 sessions accounted for · Not acknowledged")
    expect(decision_row(coordinator, "Tasking: 2 sessions")).to_be_visible()

    # ------------------------------------------------------------ the provider delivers
    app_clock.go_to(ACKNOWLEDGED_DAY)
    provider = sign_in("provider")
    acknowledge_task = provider.locator("#due").get_by_role("row").filter(has_text=case.reference)
    expect(acknowledge_task).to_contain_text(short_date(ACKNOWLEDGEMENT_DUE))
    expect_accessible(provider)
    acknowledge_task.get_by_role("link", name="Acknowledge tasking").click()
    expect(provider.get_by_role("heading", name="Intervention tasking")).to_be_visible()
    expect(provider.locator("#tasking-summary")).to_contain_text(
        f"Not yet due by {long_date(ACKNOWLEDGEMENT_DUE)}")
    expect_accessible(provider)
    fill_date(provider, "Date you acknowledged the tasking", ACKNOWLEDGED_DAY)
    provider.get_by_role("button", name="Acknowledge").click()
    expect_success(provider, "Tasking acknowledged")
    expect(provider.locator("#tasking-summary")).to_contain_text(long_date(ACKNOWLEDGED_DAY))

    app_clock.go_to(SESSION_DAY)
    provider.reload()
    fill_date(provider, "Date of the session", SESSION_DAY)
    provider.get_by_label("Session report").fill("Talked about where he gets his news; engaged well, no new risk.")
    provider.get_by_role("button", name="Record session").click()
    expect_success(provider, "Session recorded")
    sessions = provider.locator("#sessions").get_by_role("row")
    expect(sessions.filter(has_text=short_date(SESSION_DAY))).to_contain_text(
        f"1 {short_date(SESSION_DAY)} Delivered Talked about", use_inner_text=True)

    app_clock.go_to(CANCELLED_DAY)
    provider.reload()
    expect(provider.get_by_role("heading", name="Or record that session 2 was cancelled")).to_be_visible()
    fill_date(provider, "Date of the cancellation", CANCELLED_DAY)
    provider.get_by_label("Why the session was cancelled").fill("His mother cancelled: he was ill with flu.")
    provider.get_by_role("button", name="Record cancellation").click()
    expect_success(provider, "Cancellation recorded")
    expect(sessions.filter(has_text=short_date(CANCELLED_DAY))).to_contain_text(
        f"2 {short_date(CANCELLED_DAY)} Cancelled His mother cancelled: he was ill with flu.", use_inner_text=True)
    expect(provider.locator("#tasking-summary")).to_contain_text("2 (0 still to account for)")
    expect(provider.get_by_role("button", name="Record session")).to_have_count(0)
    assert list(Session.objects.filter(tasking__case=case).values_list("number", "status")) == [
        (1, "delivered"), (2, "cancelled")]

    # ------------------------------------------------------------ the chair reviews and exits
    app_clock.go_to(EXIT_DAY)
    chair.goto(case_url)
    chair.get_by_role("link", name="Record a panel review").click()
    fill_date(chair, "Date of the review", EXIT_DAY)
    chair.get_by_label("Consider exit at the next panel").check()
    chair.get_by_label("Review notes").fill("Engaged with mentoring; views moderated; school reports no concerns.")
    chair.get_by_label("Attendees").fill(ATTENDEES)
    chair.get_by_role("button", name="Save and continue").click()
    expect_success(chair, "Panel review recorded")
    expect(decision_row(chair, "Panel review: Consider exit")).to_contain_text(short_date(EXIT_DAY))
    # The exit gate names what is still missing: the referrer's view since adoption, and
    # delivered support for the underlying cause (its support action is still open).
    exit_blocked = blocked_step(chair, "Exit the case from Channel")
    expect(exit_blocked).to_contain_text(
        "The referrer has not been consulted since the case was adopted: record a consultation.")
    expect(exit_blocked).to_contain_text(f"'{UNDERLYING}' has no delivered support")
    expect(exit_blocked).not_to_contain_text(PRESENTING)  # the provider's delivered session covers it
    expect(chair.get_by_role("link", name="Exit the case from Channel")).to_have_count(0)

    # The coordinator consults the referrer and records the plan's action as delivered.
    coordinator.goto(case_url)
    coordinator.get_by_role("link", name="Record a consultation with the referrer").click()
    fill_date(coordinator, "Date you consulted the referrer", EXIT_DAY)
    coordinator.get_by_label("Phone call").check()
    coordinator.get_by_label("What the referrer told you about the risk or the support").fill(
        "The head of year sees no more videos shared and thinks he is settled.")
    coordinator.get_by_role("button", name="Save and continue").click()
    expect_success(coordinator, "Consultation with the referrer recorded")
    coordinator.get_by_role("link", name=re.compile("^Open: update")).click()
    coordinator.get_by_label("Delivered", exact=True).check()
    fill_date(coordinator, "Date", EXIT_DAY)
    coordinator.get_by_label("What was delivered, or why it was cancelled").fill("Eight weekly check-ins held.")
    coordinator.get_by_role("button", name="Save").click()
    expect_success(coordinator, "Support action updated")
    expect(plan_row).to_contain_text(f"Done {short_date(EXIT_DAY)}")

    chair.reload()
    expect(blocked_step(chair, "Exit the case from Channel")).to_have_count(0)
    chair.get_by_role("link", name="Exit the case from Channel").click()
    fill_date(chair, "Date of the exit decision", EXIT_DAY)
    chair.get_by_label("Why the panel agrees vulnerability is removed or much reduced").fill(
        "All members agree the grievance is addressed and extremist views are no longer expressed.")
    chair.get_by_label("Onward support").fill("School mentor continues weekly contact")
    chair.get_by_label("Attendees").fill(ATTENDEES)
    chair.get_by_role("button", name="Save and continue").click()
    expect_success(chair, "Exit recorded; post-exit reviews are now scheduled")
    expect_stage(chair, "Exited, post-exit reviews")
    expect(case_summary_value(chair, "Exited")).to_have_text(long_date(EXIT_DAY))
    # The review dates are derived from the exit date, 6 and 12 calendar months on.
    expect(chair.locator("#post-exit-reviews")).to_have_text(
        f"6-month review Due {long_date(SIX_MONTHS_DUE)} 12-month review Due {long_date(TWELVE_MONTHS_DUE)}",
        use_inner_text=True)
    expect(blocked_step(chair, "Close the case")).to_contain_text(
        "The 6-month and 12-month post-exit review must be recorded before the case can close.")

    # ------------------------------------------------------------ six months on: the 6-month review
    app_clock.go_to(SIX_MONTH_REVIEW_DAY)
    menu(coordinator, "My work").click()
    overdue = coordinator.locator("#overdue").get_by_role("row").filter(has_text=case.reference)
    expect(overdue).to_contain_text(f"Overdue {short_date(SIX_MONTHS_DUE)} 6-month post-exit review",
                                    use_inner_text=True)
    expect(coordinator.locator("#due").get_by_role("row").filter(has_text=case.reference)).to_contain_text(
        f"{short_date(TWELVE_MONTHS_DUE)} 12-month post-exit review", use_inner_text=True)
    expect_accessible(coordinator)
    overdue.get_by_role("link", name="6-month post-exit review").click()
    record_post_exit_review(coordinator, "6-month review", SIX_MONTH_REVIEW_DAY)
    expect_stage(coordinator, "Exited, post-exit reviews")
    expect(blocked_step(coordinator, "Close the case")).to_contain_text(
        "The 12-month post-exit review must be recorded before the case can close.")
    expect(blocked_step(coordinator, "Close the case")).not_to_contain_text("6-month")

    # ------------------------------------------------------------ a year on: the 12-month review and closure
    app_clock.go_to(TWELVE_MONTH_REVIEW_DAY)
    menu(coordinator, "My work").click()
    expect(coordinator.get_by_role("heading", name="Overdue (0)", exact=True)).to_be_visible()
    coordinator.locator("#due").get_by_role("row").filter(has_text=case.reference).get_by_role(
        "link", name="12-month post-exit review").click()
    record_post_exit_review(coordinator, "12-month review", TWELVE_MONTH_REVIEW_DAY)
    expect(blocked_step(coordinator, "Close the case")).to_have_count(0)

    coordinator.get_by_role("link", name="Close the case").click()
    fill_date(coordinator, "Date of closure", TWELVE_MONTH_REVIEW_DAY)
    coordinator.get_by_label("Rationale").fill("Both post-exit reviews found no concerns; nothing further to do.")
    coordinator.get_by_role("button", name="Close the case").click()
    expect_success(coordinator, "Case closed")
    expect_stage(coordinator, "Closed")
    expect(case_summary_value(coordinator, "Closed")).to_have_text(long_date(TWELVE_MONTH_REVIEW_DAY))
    expect(decision_row(coordinator, "Closure: closed")).to_contain_text(short_date(TWELVE_MONTH_REVIEW_DAY))
    # Nothing of the journey is left to do on a closed case.
    for step in ["Close the case", "Record a post-exit review", "Exit the case from Channel"]:
        expect(coordinator.get_by_role("link", name=step)).to_have_count(0)
    expect_accessible(coordinator)

    # The referrer sees the outcome, and still nothing of the case's content.
    referrer.reload()
    expect(referral_row).to_contain_text("Closed")
    referral_row.get_by_role("link", name=reference).click()
    expect(referrer.get_by_role("heading", name=f"Referral {reference}")).to_be_visible()
    expect(referrer.get_by_text(long_date(TWELVE_MONTH_REVIEW_DAY))).to_be_visible()
    expect(referrer.locator("#referrer-news")).to_have_text("The case is closed.")
    expect(referrer.get_by_text("Known to CAMHS")).to_have_count(0)

    case.refresh_from_db()
    assert case.stage == "closed"
    assert case.closed_on == TWELVE_MONTH_REVIEW_DAY
    assert case.exited_on == EXIT_DAY
    assert sorted(case.reviews.filter(kind=Review.Kind.POST_EXIT).values_list("months_after_exit", "held_on")) == [
        (6, SIX_MONTH_REVIEW_DAY), (12, TWELVE_MONTH_REVIEW_DAY)]
    assert list(Decision.objects.filter(case=case).order_by("occurred_at", "id").values_list("type", flat=True)) == [
        "gateway", "adoption", "consent", "assessment", "tasking", "session_cancellation", "panel_review", "exit",
        "post_exit_review", "post_exit_review", "closure"]


# ---------------------------------------------------------------- the longer steps


def make_referral(page: Page) -> str:
    """Fill in every page of the referral form, check the answers, send it; returns the reference."""
    menu(page, "Make a referral").click()
    expect(page.get_by_role("heading", name="Make a Prevent referral")).to_be_visible()
    expect_accessible(page)
    page.get_by_role("button", name="Start now").click()

    expect(page.get_by_role("heading", name="About you")).to_be_visible()
    # What the service already knows about the signed-in referrer is filled in.
    expect(page.get_by_label("What is your full name?")).to_have_value("Referrer Tester")
    expect(page.get_by_label("What organisation do you work for?")).to_have_value("Testshire Academy")
    page.get_by_label("What is your phone number?").fill("01632 960 001")
    page.get_by_label("Education").check()
    page.get_by_label("Which safeguarding lead did you discuss this with?").fill("Dana Lead, DSL")
    expect_accessible(page)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="About the person")).to_be_visible()
    page.get_by_label("What is their first name?").fill(GIVEN)
    page.get_by_label("What is their last name?").fill(FAMILY)
    page.get_by_label("Other names or spellings they use").fill("JAT")
    fill_date(page, "What is their date of birth?", BORN)
    page.get_by_role("group", name="What is their sex?").get_by_label("Male", exact=True).check()
    page.get_by_label("What is their address?").fill("12 Test Road\nTestbury")
    page.get_by_label("What is their postcode?").fill("te1 1st")
    page.get_by_label("Which school, college or workplace do they attend?").fill("Testshire Academy")
    page.get_by_label("Which local authority area do they live in?").select_option(label="Testshire County Council")
    # A mistyped NHS number (made up, like every number here) is caught on this page.
    page.get_by_label("What is their NHS number?").fill("999 234 5676")
    page.get_by_label("What is their Unique Pupil Number (UPN)?").fill("t801 0000 12 001")
    page.get_by_role("button", name="Continue").click()
    summary = page.locator(".govuk-error-summary")
    expect(summary).to_contain_text("The NHS number is not valid: check it for a mistyped digit")
    expect_accessible(page)
    summary.get_by_role("link", name="The NHS number is not valid").click()
    expect(page.get_by_label("What is their NHS number?")).to_be_focused()
    page.get_by_label("What is their NHS number?").fill("999-234-5675")
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Your concern")).to_be_visible()
    page.get_by_label("What have you seen or heard that concerns you?").fill(CONCERN)
    fill_date(page, "When was the concern first observed?", date(2025, 12, 22))
    page.get_by_label("Extreme right-wing").check()
    expect_accessible(page)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Urgency and awareness")).to_be_visible()
    page.get_by_label("Routine: no immediate risk").check()
    page.get_by_role("group", name="Does the person know you are making this referral?").get_by_label(
        "No", exact=True).check()
    expect_accessible(page)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Attach supporting documents")).to_be_visible()
    expect_accessible(page)
    page.get_by_role("button", name="Continue").click()

    expect(page.get_by_role("heading", name="Check your answers before submitting your referral")).to_be_visible()
    answers = page.get_by_role("main")
    for shown in [FULL_NAME, "17 May 2009", "TE1 1ST", "999 234 5675", "T801000012001", "Testshire County Council",
                  CONCERN, "22 December 2025",
                  "Extreme right-wing", "Routine: no immediate risk", "01632 960 001"]:
        expect(answers).to_contain_text(shown)
    expect_accessible(page)
    page.get_by_role("button", name="Submit referral").click()

    expect(page.get_by_role("heading", name="Referral submitted")).to_be_visible()
    reference = page.locator("#referral-reference")
    expect(reference).to_have_text(re.compile(r"^REF-2026-\d+$"))
    expect_accessible(page)
    return reference.inner_text()


def assess(page: Page) -> None:
    """The vulnerability assessment, one dimension per page, with a pause as a saved draft."""
    page.get_by_role("link", name="Start a vulnerability assessment").click()
    expect(page.get_by_text("The framework in use today is the")).to_contain_text("Prevent Assessment Framework")
    page.get_by_role("button", name="Start assessment").click()

    names = list(DIMENSIONS)
    judge_dimension(page, names[0], 1)
    expect_accessible(page)
    page.get_by_role("button", name="Save and continue").click()
    expect_success(page, "Susceptibility: your judgements are saved as a draft")

    judge_dimension(page, names[1], 2)
    page.get_by_role("button", name="Save as draft and return to the case").click()
    expect_success(page, "Ideological engagement: your judgements are saved as a draft")
    expect(page.locator("#draft-assessment")).to_contain_text(f"was started {short_date(ASSESSMENT_DAY)}")
    # A draft is not a submitted assessment: no vulnerabilities on the case yet.
    expect(page.locator("#vulnerabilities")).to_have_count(0)

    page.get_by_role("link", name="Continue the draft assessment").click()
    # Carrying on opens the first dimension with factors still to judge.
    judge_dimension(page, names[2], 3)
    page.get_by_role("button", name="Save and continue").click()

    expect(page.get_by_role("heading", name="Check the assessment before submitting it")).to_be_visible()
    found = page.locator("#vulnerabilities")
    expect(found.get_by_role("listitem")).to_have_text([UNDERLYING, PRESENTING])
    # Submitting without a summary is refused, and says so.
    expect(page.get_by_role("group", name="Date of the assessment").get_by_label("Day")).to_have_value(
        str(ASSESSMENT_DAY.day))
    page.get_by_role("button", name="Submit assessment").click()
    expect(error_summary(page)).to_contain_text("Write a summary of the assessment of at least 20 characters")
    expect_accessible(page)
    page.get_by_label("Summary of the assessment").fill(
        "A long-held grievance about his family's treatment drives the extremist views he now voices.")
    page.get_by_role("button", name="Submit assessment").click()


def judge_dimension(page: Page, title: str, number: int) -> None:
    expect(page.get_by_role("heading", name=title, level=1)).to_be_visible()
    expect(page.get_by_text(f"Dimension {number} of 3")).to_be_visible()
    for factor in DIMENSIONS[title]:
        group = page.get_by_role("group", name=factor, exact=True)
        if factor in (UNDERLYING, PRESENTING):
            group.get_by_label("Present", exact=True).check()
            group.get_by_label("Evidence").fill(
                "Told his form tutor his family is treated unfairly (tutor's note, 3 Dec)." if factor == UNDERLYING
                else "Posted that violence against a named group is justified (school report).")
            group.get_by_label("Underlying cause" if factor == UNDERLYING else "Presenting behaviour").check()
        else:
            group.get_by_label("Not present", exact=True).check()


def record_post_exit_review(page: Page, which: str, held_on: date) -> None:
    expect(page.get_by_role("heading", name="Record a post-exit review")).to_be_visible()
    page.get_by_label(which).check()
    fill_date(page, "Date of the review", held_on)
    page.get_by_label("No concerns: continue to next review or closure").check()
    page.get_by_label("Review notes").fill("Spoke to him, his mother and the school: no concerns have returned.")
    page.get_by_role("button", name="Save and continue").click()
    expect_success(page, "Post-exit review recorded")
    months = which.split("-")[0]
    expect(page.get_by_text(f"Post-exit review ({months} months) on {short_date(held_on)}: No concerns")).to_be_visible()
