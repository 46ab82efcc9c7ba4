"""Shared set-up for integration tests: a small world of agencies and people built through
the real services, and helpers to drive a case along its journey."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone

from casetrail import clock
from casetrail.accounts.models import Agency, User
from casetrail.accounts.services import (
    agency_create,
    agency_set_duty_owner,
    api_token_issue,
    user_create,
)
from casetrail.clock import frozen_at
from casetrail.core.dates import PartialDate
from casetrail.core.referrals import ReferralInput
from casetrail.providers.services import provider_organisation_save, provider_worker_save

PASSWORD = "correct-horse-battery-staple-42"


@dataclass
class World:
    police: Agency
    council: Agency
    other_council: Agency
    school: Agency
    nhs: Agency
    provider_org: Any
    users: dict[str, User]

    def token(self, name: str) -> str:
        return api_token_issue(user=self.users[name], name="tests")[1]


def _user(username: str, agency: Agency | None, *roles: str, panel_authority: Agency | None = None) -> User:
    return user_create(username=username, password=PASSWORD, first_name=username.title(), last_name="Tester",
                       email=f"{username}@example.org", agency=agency, roles=list(roles),
                       panel_authority=panel_authority, job_title=f"{roles[0]} lead")


@pytest.fixture
def world(db: Any) -> World:
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
    org = provider_organisation_save(user=users["admin"], agency=None, name="Bridges Mentoring CIC",
                                     specialisms=["mentoring", "islamist"], status="approved",
                                     approved_until=date.today() + timedelta(days=365))
    users["provider"] = _user("provider", org.agency, "intervention_provider")
    provider_worker_save(user=users["admin"], worker_user=users["provider"], organisation=org,
                         specialisms=["mentoring"], status="approved",
                         vetting_expires_on=date.today() + timedelta(days=365))
    agency_set_duty_owner(agency=org.agency, user=users["provider"])
    return World(police, council, other, school, nhs, org, users)


# Different people, each unlike the others in every identity field, so that a test's second and
# later referrals are not possible earlier records of its first (which would block the gateway
# until resolved). A test about one person referred again passes that person's identity itself.
OTHER_PEOPLE = [
    ("Tomasz", "Wieczorek-Test", PartialDate(1994, 11, 2), "female", "22 Harbour Road", "HB2 4QX"),
    ("Imani", "Lindqvist-Test", PartialDate(2011, 2, 23), "female", "7 Mill Lane", "ML9 8DD"),
    ("Reuben", "Castellanos-Test", PartialDate(1987, 8, 30), "male", "91 Quarry Close", "QC4 2LL"),
    ("Yusra", "Haverford-Test", PartialDate(2005, 12, 1), "female", "3 Orchard Row", "OR7 1AB"),
    ("Declan", "Nakamura-Test", PartialDate(1999, 3, 14), "male", "48 Station Hill", "ST3 9HH"),
    ("Priya", "Abernethy-Test", PartialDate(2013, 7, 9), "female", "12 Chapel Walk", "CW1 5EF"),
    ("Callum", "Oyelaran-Test", PartialDate(1979, 1, 27), "male", "5 Forge Street", "FS6 3JK"),
    ("Amara", "Szymanski-Test", PartialDate(2002, 10, 19), "female", "60 Beacon View", "BV8 7MN"),
]


SYLLABLES = ["Bar", "Quil", "Dor", "Fen", "Gat", "Hux", "Jor", "ka", "mo", "vi", "tre", "su", "pa", "ne",
             "rby", "nsk", "lde", "wick", "mpt", "xor", "gg"]


def referral_input(world: World, **overrides: Any) -> ReferralInput:
    """A valid referral: the first in a world is of Sam Okafor-Test, each later one (unless the
    test names the person) of someone else."""
    made = world.__dict__.setdefault("_referrals_made", 0)
    world.__dict__["_referrals_made"] = made + 1
    identity: dict[str, Any] = {}
    if made and not {"given_names", "family_name", "date_of_birth"} & overrides.keys():
        given, family, born, sex, address, postcode = OTHER_PEOPLE[(made - 1) % len(OTHER_PEOPLE)]
        if made > len(OTHER_PEOPLE):  # beyond the list: made-up names, birthday and address of its own
            given = "".join(SYLLABLES[(made // 7**i + i) % 7 + 7 * i] for i in range(2)).title()
            family = "".join(SYLLABLES[(made // 7**i) % 7 + 7 * i] for i in range(3)) + "-Test"
            born = PartialDate(1960 + made % 50, made % 12 + 1, made % 28 + 1)
            address, postcode = f"{made} {family} Street", f"Z{made % 10}{made // 10 % 10} {made % 9}ZZ"
        identity = dict(given_names=given, family_name=family, date_of_birth=born, sex=sex,
                        address=address, postcode=postcode, school_or_workplace="")
    values: dict[str, Any] = dict(
        referrer_name="Rita Referrer", referrer_job_title="Designated safeguarding lead",
        referrer_email="rita@example.org", referrer_phone="", referrer_organisation="Testshire Academy",
        referrer_sector="education", given_names="Sam", family_name="Okafor-Test", other_names="",
        date_of_birth=PartialDate(2008, 5, 17), sex="male", address="1 Test Street", postcode="TE1 1ST",
        school_or_workplace="Testshire Academy", local_authority_id=world.council.pk,
        concern="Has told classmates that violence against a named group is justified and shares videos.",
        first_observed_on=clock.today() - timedelta(days=7), concern_types=("extreme_right_wing",),
        urgency="routine", person_aware="no", discussed_with="Head of year",
    )
    values.update(identity)
    values.update(overrides)
    return ReferralInput(**values)


def case_in_support(world: World, **referral: Any) -> Any:
    """A case driven through the real services to Channel support, with a submitted assessment
    identifying two vulnerabilities and one tasking of the world's approved provider; `referral`
    overrides fields of the referral (the person referred, say)."""
    from casetrail.cases import services
    from casetrail.core import frameworks
    from casetrail.referrals.services import referral_submit

    today = clock.today()
    users = world.users
    referral, _ = referral_submit(user=users["referrer"], data=referral_input(world, **referral))
    case = referral.case
    services.gateway_decide(user=users["police"], case=case, expected_version=None, deconfliction_done=True,
                            database_checks_done=True, referrer_contacted_on=None, referrer_contact_summary="",
                            outcome="refer_to_panel", signposted_to="",
                            rationale="Escalating behaviour with a clear ideological element.", decided_on=today)
    meeting = services.panel_meeting_create(user=users["coordinator"], meets_on=today, chair=users["chair"],
                                            location="Room 1")
    services.agenda_add(user=users["coordinator"], meeting=meeting, case=case)
    services.panel_decide(user=users["chair"], case=case, expected_version=None, adopt=True,
                          attendees=["Chair, LA", "Police officer, CTP"], dissent="", signposted_to="",
                          rationale="Vulnerabilities suitable for Channel support identified.", decided_on=today)
    services.consent_record(user=users["coordinator"], case=case, expected_version=None, given=True,
                            giver="parent_carer", giver_name="Ada Test", capacity_confirmed=True, capacity_notes="",
                            scope="Sharing with the provider and school", given_on=today)
    framework = frameworks.current_framework(today)
    assessment = services.assessment_start(user=users["coordinator"], case=case)
    first, second = framework.factors[0].code, framework.factors[1].code
    judgements: dict[str, dict[str, Any]] = {
        f.code: {"present": False, "evidence": "", "nature": None} for f in framework.factors}
    judgements[first] = {"present": True, "evidence": "Talks often of unfair treatment of his family.",
                         "nature": "underlying_cause"}
    judgements[second] = {"present": True, "evidence": "Shares violent videos with classmates.",
                          "nature": "presenting_behaviour"}
    assessment = services.assessment_save(user=users["coordinator"], assessment=assessment, expected_version=None,
                                          judgements=judgements, summary="Grievance drives the behaviour.")
    services.assessment_submit(user=users["coordinator"], assessment=assessment, expected_version=None,
                               assessed_on=today)
    services.tasking_commission(user=users["coordinator"], case=case, provider_user=users["provider"],
                                sessions_commissioned=2, purpose="Mentoring sessions", vulnerabilities=[first],
                                commissioned_on=today)
    case.refresh_from_db()
    return case


def moment(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=10))


__all__ = ["World", "referral_input", "case_in_support", "moment", "frozen_at", "PASSWORD"]
