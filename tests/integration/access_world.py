"""Two cases in support, built once per test module through the real services, for the access
matrix and the IDOR tests: case A involves every matrix user (their force, council, panel,
provider organisation and referral); case B belongs to another force and council and involves
none of them. Each side has one of every object a route names by id."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from unittest import mock

import pytest
from django.db import transaction

from casetrail import clock
from casetrail.accounts.services import agency_create, agency_set_duty_owner, api_token_issue
from casetrail.cases import services
from casetrail.cases.models import (
    Assessment,
    BreakGlassGrant,
    Case,
    HandOver,
    InformationRequest,
    PanelMeeting,
    SupportAction,
    Tasking,
)
from casetrail.core import frameworks
from casetrail.core.dates import PartialDate
from casetrail.people.models import DuplicateCandidate
from casetrail.providers.services import provider_organisation_save, provider_worker_save
from casetrail.referrals import services as referral_services
from casetrail.referrals.attachments import UploadedFile
from casetrail.referrals.models import Attachment

from . import conftest
from .conftest import World, _user, case_in_support

# The people the matrix asks about, by their username in the shared `world` fixture.
ROLES = ("referrer", "police", "coordinator", "chair", "panel", "provider", "oversight", "admin")
ANONYMOUS = "anonymous"
EVERYONE = (*ROLES, ANONYMOUS)


@dataclass
class Side:
    """One case and the ids of everything hanging off it."""

    case: Case
    person_reference: str
    referral_reference: str
    attachment: Attachment
    meeting: PanelMeeting
    information_request: InformationRequest
    tasking: Tasking
    assessment: Assessment  # a draft, so the assessment pages show their forms
    support_action: SupportAction
    handover: HandOver
    sar_reference: str  # an open subject access request for the person (casetrail/rights)
    significant_event: Any = None  # a concern raised at a meeting, awaiting its decision

    def ids(self) -> dict[str, Any]:
        """The value each route parameter takes for this side."""
        return {
            "case_id": self.case.pk, "attachment_id": self.attachment.pk, "assessment_id": self.assessment.pk,
            "dimension_code": frameworks.get_framework(self.assessment.framework_key,
                                                       self.assessment.framework_version).dimensions[0].code,
            "meeting_id": self.meeting.pk, "request_id": self.information_request.pk,
            "tasking_id": self.tasking.pk, "action_id": self.support_action.pk,
            "handover_id": self.handover.pk, "person_reference": self.person_reference,
            "referral_reference": self.referral_reference, "sar_reference": self.sar_reference,
            "event_id": self.significant_event.pk,
        }


@dataclass
class MatrixWorld:
    world: World
    own: Side  # case A: every matrix user is involved in it in their role's way
    other: Side  # case B: another force and council; no matrix user is involved
    duplicate: DuplicateCandidate
    break_glass: BreakGlassGrant
    tokens: dict[str, str]

    def user(self, name: str) -> Any:
        return self.world.users[name]


def _other_world(world: World) -> World:
    """Another force, council, school, health body and provider, with their own people."""
    police = agency_create(name="Northshire Police CTP", kind="police")
    council = agency_create(name="Northshire Borough Council", kind="local_authority", police_force=police)
    school = agency_create(name="Northshire College", kind="school")
    nhs = agency_create(name="Northshire Health Board", kind="health")
    users = {
        "referrer": _user("referrer_b", school, "referrer"),
        "police": _user("police_b", police, "police_officer"),
        "coordinator": _user("coordinator_b", council, "channel_coordinator"),
        "chair": _user("chair_b", council, "panel_chair"),
        "panel": _user("panel_b", nhs, "panel_member", panel_authority=council),
        "admin": world.users["admin"],
    }
    for agency, owner in [(police, "police"), (council, "coordinator"), (school, "referrer"), (nhs, "panel")]:
        agency_set_duty_owner(agency=agency, user=users[owner])
    org = provider_organisation_save(user=users["admin"], agency=None, name="Northway Mentoring Ltd",
                                     specialisms=["mentoring"], status="approved",
                                     approved_until=date.today() + timedelta(days=365))
    users["provider"] = _user("provider_b", org.agency, "intervention_provider")
    provider_worker_save(user=users["admin"], worker_user=users["provider"], organisation=org,
                         specialisms=["mentoring"], status="approved",
                         vetting_expires_on=date.today() + timedelta(days=365))
    agency_set_duty_owner(agency=org.agency, user=users["provider"])
    return World(police, council, council, school, nhs, org, users)


def _side(world: World, tag: str, **person: Any) -> Side:
    """case_in_support, with a text attachment on the referral, then one more of each object."""
    submit = functools.partial(referral_services.referral_submit,
                               attachments=[UploadedFile(f"notes-{tag}.txt", b"Synthetic notes for a test.\n")])
    with mock.patch.object(referral_services, "referral_submit", submit):
        case = case_in_support(world, **person)
    users, today = world.users, clock.today()
    vulnerability = case.assessments.get().judgements
    first = next(code for code, j in vulnerability.items() if j["present"])
    request = services.information_request_create(
        user=users["coordinator"], case=case, to_agency=world.nhs,
        question="Is the person known to your services?", requested_on=today)
    action = services.support_action_add(user=users["coordinator"], case=case,
                                         description="Weekly mentoring on identity", vulnerabilities=[first],
                                         owner_user=users["coordinator"], due_on=today + timedelta(days=30))
    draft = services.assessment_start(user=users["coordinator"], case=case)
    handover = services.handover_offer(user=users["coordinator"], case=case, target_type="case",
                                       target_id=case.pk, to_user=users["chair"],
                                       reason="Moving teams; the chair takes this case on.")
    from casetrail.rights.services import subject_access_request_open

    sar = subject_access_request_open(user=users["police"], person=case.person,
                                      requested_by="The person, by letter", received_on=today)
    event = services.significant_event_record(user=users["police"], case=case, kind="meeting_concern",
                                              occurred_on=today, source="Multi-agency risk meeting",
                                              summary="Probation raised a worry about new contacts online.")
    case.refresh_from_db()
    return Side(significant_event=event, case=case, person_reference=case.person.reference, referral_reference=case.referral.reference,
                attachment=case.referral.attachments.get(), meeting=case.agenda_items.get().meeting,
                information_request=request, tasking=case.taskings.get(), assessment=draft,
                support_action=action, handover=handover, sar_reference=sar.reference)


def build(world: World) -> MatrixWorld:
    from casetrail.people.services import duplicates_record

    own = _side(world, "a")
    # Someone else in the other area: the same person there would be a possible earlier record of A.
    other = _side(_other_world(world), "b", given_names="Noor", family_name="Brightwater-Test",
                  date_of_birth=PartialDate(1990, 4, 4), address="14 Other Road", postcode="OT4 4TH",
                  school_or_workplace="")
    duplicates_record(pairs=[{"person_a": own.case.person_id, "person_b": other.case.person_id,
                              "match_probability": 0.9, "evidence": []}])
    # Someone outside case A (not a matrix user) reads it through break glass, for the auditors' queue.
    grant = services.break_glass_grant(user=world.users["other_coordinator"], reference=own.case.reference,
                                       reason="Urgent call from a school about this person; checking history.",
                                       hours=1)
    tokens = {name: api_token_issue(user=world.users[name], name="matrix")[1] for name in ROLES}
    return MatrixWorld(world, own, other, DuplicateCandidate.objects.get(), grant, tokens)


@pytest.fixture(scope="module")
def matrix(django_db_setup: None, django_db_blocker: Any) -> Iterator[MatrixWorld]:
    """Built once per module inside a transaction that is rolled back at the end; each test's own
    `db` transaction nests inside it (a savepoint), so what a test does is undone after it."""
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            yield build(conftest.world.__wrapped__(None))  # the shared world fixture's own body
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)
