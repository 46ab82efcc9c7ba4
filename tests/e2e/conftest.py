"""Shared set-up for the browser tests: a small world of agencies and people built through the
real services, the app's clock made visible to the live server, signing in through the real
sign-in page (each person in a browser context of their own), and an accessibility check.

Nothing here writes to the database except through the services.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Locator, Page, expect

import casetrail.clock
from casetrail.accounts.services import agency_create, agency_set_duty_owner
from casetrail.cases.models import Case
from casetrail.providers.services import provider_organisation_save, provider_worker_save
from tests.integration.conftest import PASSWORD, World, _user, referral_input

# A Monday. Every browser test starts on this day, so dates on the pages are predictable.
START = date(2026, 1, 5)

# What a failure looks like is shown quickly rather than after Playwright's default 30 s.
ACTION_TIMEOUT_MS = 10_000


# ---------------------------------------------------------------- the app's clock


class ServerClock:
    """The app's clock (casetrail.clock), frozen for the whole process.

    casetrail.clock keeps the frozen moment in a ContextVar. A ContextVar does not cross
    threads, and the live server answers each request in a thread of its own, so
    `clock.frozen_at()` in the test would change nothing the browser sees (checked: a new
    thread reads the real date). This stands in for the ContextVar, with the same get/set/
    reset, but holds one value for every thread, so the server and the test read the same
    day. It only moves the app's clock: sessions, CSRF and cookies keep real time.
    """

    def __init__(self) -> None:
        self.moment: datetime | None = None

    # The three methods casetrail.clock calls on its ContextVar.
    def get(self) -> datetime | None:
        return self.moment

    def set(self, moment: datetime | None) -> datetime | None:
        previous, self.moment = self.moment, moment
        return previous

    def reset(self, token: datetime | None) -> None:
        self.moment = token

    def go_to(self, day: date, hour: int = 10) -> None:
        """Make it `hour` o'clock, London time, on `day` for the test and the server alike."""
        self.moment = timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=hour))


@pytest.fixture
def app_clock(monkeypatch: pytest.MonkeyPatch) -> ServerClock:
    server_clock = ServerClock()
    monkeypatch.setattr(casetrail.clock, "_frozen", server_clock)
    server_clock.go_to(START)
    return server_clock


# ---------------------------------------------------------------- the world


@pytest.fixture
def world(transactional_db: None, app_clock: ServerClock) -> World:
    """The integration suite's agencies and people, plus a second approved provider
    organisation that is never tasked. Built through the services, on START."""
    police = agency_create(name="Testshire Police CTP", kind="police")
    council = agency_create(name="Testshire County Council", kind="local_authority", police_force=police)
    other = agency_create(name="Otherton City Council", kind="local_authority", police_force=police)
    school = agency_create(name="Testshire Academy", kind="school")
    nhs = agency_create(name="Testshire NHS Trust", kind="health")
    home_office = agency_create(name="Home Office Prevent Oversight", kind="home_office")
    users = {
        "referrer": _user("referrer", school, "referrer"),
        "police": _user("police", police, "police_officer"),
        "police2": _user("police2", police, "police_officer"),
        "coordinator": _user("coordinator", council, "channel_coordinator"),
        "chair": _user("chair", council, "panel_chair"),
        "other_coordinator": _user("othercoord", other, "channel_coordinator"),
        "panel": _user("panel", nhs, "panel_member", panel_authority=council),
        "oversight": _user("oversight", home_office, "oversight"),
        "admin": _user("admin", None, "administrator"),
    }
    for agency, owner in [(police, "police"), (council, "coordinator"), (other, "other_coordinator"),
                          (school, "referrer"), (nhs, "panel")]:
        agency_set_duty_owner(agency=agency, user=users[owner])
    vetted_until = START + timedelta(days=3 * 365)
    organisations = []
    for name, username in [("Bridges Mentoring CIC", "provider"), ("Northway Youth Trust", "otherprovider")]:
        org = provider_organisation_save(user=users["admin"], agency=None, name=name,
                                         specialisms=["mentoring", "islamist"], status="approved",
                                         approved_until=vetted_until)
        users[username] = _user(username, org.agency, "intervention_provider")
        provider_worker_save(user=users["admin"], worker_user=users[username], organisation=org,
                             specialisms=["mentoring"], status="approved", vetting_expires_on=vetted_until)
        agency_set_duty_owner(agency=org.agency, user=users[username])
        organisations.append(org)
    return World(police, council, other, school, nhs, organisations[0], users)


# ---------------------------------------------------------------- browsers and signing in


SignIn = Callable[[str], Page]


@pytest.fixture
def sign_in(browser: Browser, live_server: Any, world: World) -> Iterator[SignIn]:
    """sign_in("chair") opens a fresh browser context, signs that person in through the
    sign-in page and returns the page, on My work. Each person keeps their own cookies."""
    contexts: list[BrowserContext] = []

    def _sign_in(name: str) -> Page:
        user = world.users[name]
        context = browser.new_context(base_url=live_server.url, locale="en-GB")
        context.set_default_timeout(ACTION_TIMEOUT_MS)
        contexts.append(context)
        page = context.new_page()
        page.goto("/")
        expect(page.get_by_role("heading", name="Sign in to Casetrail")).to_be_visible()
        page.get_by_label("Username").fill(user.username)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="My work", level=1)).to_be_visible()
        expect(page.get_by_role("banner")).to_contain_text(f"Signed in as {user.display_name}")
        return page

    yield _sign_in
    for context in contexts:
        context.close()


# ---------------------------------------------------------------- cases through the services


def case_through_services(world: World, until: str, **referral: Any) -> Case:
    """A referral driven through the real services, on the app clock's day, to `until`:
    "gateway", "panel" (referred and on an agenda), "support" (adopted, consented, assessed
    with two vulnerabilities, Bridges Mentoring tasked for one session on both, not yet
    acknowledged) or "exited" (that session delivered, the referrer consulted, exited)."""
    from casetrail.cases import services
    from casetrail.core import frameworks
    from casetrail.referrals.services import referral_submit

    users = world.users
    day = casetrail.clock.today()
    data = referral_input(world, first_observed_on=day - timedelta(days=7), **referral)
    submitted, _ = referral_submit(user=users["referrer"], data=data)
    case = submitted.case
    stages = ["gateway", "panel", "support", "exited"]
    if stages.index(until) >= 1:
        services.gateway_decide(user=users["police"], case=case, expected_version=None, deconfliction_done=True,
                                database_checks_done=True, referrer_contacted_on=None,
                                referrer_contact_summary="", outcome="refer_to_panel", signposted_to="",
                                rationale="Escalating behaviour with a clear ideological element.",
                                decided_on=day)
        meeting = services.panel_meeting_create(user=users["coordinator"], meets_on=day, chair=users["chair"],
                                                location="Room 1")
        services.agenda_add(user=users["coordinator"], meeting=meeting, case=case)
    if stages.index(until) >= 2:
        services.panel_decide(user=users["chair"], case=case, expected_version=None, adopt=True,
                              attendees=["Chair, LA", "Police officer, CTP"], dissent="", signposted_to="",
                              rationale="Vulnerabilities suitable for Channel support identified.", decided_on=day)
        services.consent_record(user=users["coordinator"], case=case, expected_version=None, given=True,
                                giver="parent_carer", giver_name="Ada Test", capacity_confirmed=True,
                                capacity_notes="", scope="Sharing with the provider and school", given_on=day)
        framework = frameworks.current_framework(day)
        judgements: dict[str, dict[str, Any]] = {
            f.code: {"present": False, "evidence": "", "nature": None} for f in framework.factors}
        first, second = framework.factors[0].code, framework.factors[1].code
        judgements[first] = {"present": True, "evidence": "Talks often of unfair treatment of his family.",
                             "nature": "underlying_cause"}
        judgements[second] = {"present": True, "evidence": "Shares violent videos with classmates.",
                              "nature": "presenting_behaviour"}
        assessment = services.assessment_start(user=users["coordinator"], case=case)
        assessment = services.assessment_save(user=users["coordinator"], assessment=assessment,
                                              expected_version=None, judgements=judgements,
                                              summary="Grievance drives the behaviour.")
        services.assessment_submit(user=users["coordinator"], assessment=assessment, expected_version=None,
                                   assessed_on=day)
        services.tasking_commission(user=users["coordinator"], case=case, provider_user=users["provider"],
                                    sessions_commissioned=1, purpose="Mentoring sessions",
                                    vulnerabilities=[first, second], commissioned_on=day)
    if stages.index(until) >= 3:
        # What the exit gate asks for: support delivered for each vulnerability, every session
        # accounted for, and the referrer consulted since adoption.
        tasking = case.taskings.get()
        services.tasking_acknowledge(user=users["provider"], tasking=tasking, acknowledged_on=day)
        services.session_record(user=users["provider"], tasking=tasking, held_on=day,
                                report="Talked about online safety; engaged well.")
        services.referrer_consultation_record(user=users["coordinator"], case=case, consulted_on=day,
                                              method="phone", summary="The school has no further concerns.")
        services.case_exit(user=users["chair"], case=case, expected_version=None, exited_on=day,
                           rationale="All members agree the vulnerability is much reduced.",
                           residual_concerns="", onward_support="School mentor",
                           attendees=["Chair, LA", "Police officer, CTP"])
    case.refresh_from_db()
    return case


# ---------------------------------------------------------------- what a person sees


def fill_date(scope: Page | Locator, legend: str, day: date) -> None:
    """Type a date into the GOV.UK date input whose fieldset has this legend."""
    group = scope.get_by_role("group", name=legend)
    group.get_by_label("Day").fill(str(day.day))
    group.get_by_label("Month").fill(str(day.month))
    group.get_by_label("Year").fill(str(day.year))


def long_date(day: date) -> str:
    """As pages write dates in full: 5 January 2026."""
    return f"{day.day} {day:%B %Y}"


def short_date(day: date) -> str:
    """As pages write dates in tables: 5 Jan 2026."""
    return f"{day.day} {day:%b %Y}"


def success_banner(page: Page) -> Locator:
    """The green 'Success' notification banner."""
    return page.get_by_role("alert").filter(has=page.get_by_role("heading", name="Success"))


def expect_success(page: Page, message: str) -> None:
    expect(success_banner(page)).to_contain_text(message)


def error_summary(page: Page) -> Locator:
    """The GOV.UK 'There is a problem' error summary."""
    return page.get_by_role("alert").filter(has=page.get_by_role("heading", name="There is a problem"))


def case_summary_value(page: Page, key: str) -> Locator:
    """The value beside `key` ("Stage", "Owner", "Exited"...) in the case page's summary list."""
    term = page.get_by_role("term").filter(has_text=re.compile(rf"^\s*{re.escape(key)}\s*$"))
    return page.locator("#case-summary .govuk-summary-list__row").filter(has=term).get_by_role("definition")


def expect_stage(page: Page, label: str) -> None:
    expect(case_summary_value(page, "Stage")).to_have_text(label)


def csrf_token(page: Page) -> str:
    """The CSRF token the signed-in browser holds, for a hand-made POST."""
    return next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")


_AXE = Axe()
SERIOUS = ("serious", "critical")


def expect_accessible(page: Page) -> None:
    """No serious or critical axe-core violations on the page as it is now."""
    results = _AXE.run(page)
    problems = [v for v in results.response["violations"] if v.get("impact") in SERIOUS]
    report = "\n".join(
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']][:5]}" for v in problems)
    assert not problems, f"axe found serious accessibility problems on {page.url}:\n{report}"
