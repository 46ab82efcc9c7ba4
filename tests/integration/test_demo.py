"""The demo is built through the services into a fresh database: every role, every stage, the journeys the
learning reviews are about, only synthetic people, and the same people for the same seed."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from casetrail import clock
from casetrail.accounts.models import Agency, ApiToken, User
from casetrail.accounts.services import agency_create
from casetrail.cases.models import (
    Assessment,
    Case,
    HandOver,
    InformationRequest,
    Review,
    Session,
    SupportAction,
)
from casetrail.core.lifecycle import Stage
from casetrail.core.roles import AgencyKind, Role
from casetrail.demo.load import PASSWORD, DemoSummary, demo_cast, load_demo
from casetrail.demo.people import is_from_pools, misspelt
from casetrail.people.models import Person
from casetrail.referrals.models import Referral

FIRST_USER_OF_ROLE = {
    Role.REFERRER: "referrer", Role.POLICE_OFFICER: "police", Role.CHANNEL_COORDINATOR: "coordinator",
    Role.PANEL_CHAIR: "chair", Role.PANEL_MEMBER: "panel", Role.PROVIDER: "provider", Role.OVERSIGHT: "oversight",
    Role.ADMINISTRATOR: "admin",
}


@pytest.fixture
def demo(db: object) -> DemoSummary:
    return load_demo(progress=False)


def expected_names(seed: int = 2026) -> list[tuple[str, str]]:
    """Every referral's name, worked out from the generator alone, without a database."""
    names = []
    for journey in demo_cast(seed, clock.today()):
        person = journey.person
        names.append((person.given_names, person.family_name))
        if journey.plan == "repeat_referral":
            names.append((person.given_names, misspelt(person.family_name)))
            names.append((person.given_names, misspelt(person.family_name, again=True)))
    return sorted(names)


def referral_names() -> list[tuple[str, str]]:
    return sorted(Referral.objects.values_list("given_names", "family_name"))


@pytest.mark.django_db
def test_the_demo_has_a_user_for_every_role_and_a_case_at_every_stage(demo: DemoSummary) -> None:
    for role, username in FIRST_USER_OF_ROLE.items():
        user = User.objects.get(username=username)
        assert user.roles == [role.value]
        assert user.check_password(PASSWORD)
    assert [row[0] for row in demo.sign_in][:1] == ["referrer"]
    assert {row[1] for row in demo.sign_in} == {role.label for role in Role}
    assert User.objects.get(username="panel").panel_authority.name == "Northshire County Council"

    stages = {stage.value: Case.objects.filter(stage=stage).count() for stage in Stage}
    assert all(count >= 1 for count in stages.values()), stages
    assert demo.stages == stages
    assert demo.referrals == Referral.objects.count() == sum(stages.values())
    assert 30 <= demo.people <= 40

    # New work reaches someone: every agency that receives work has a duty owner from its own staff.
    for agency in Agency.objects.exclude(kind=AgencyKind.HOME_OFFICE):
        assert agency.duty_owner is not None and agency.duty_owner.agency_id == agency.pk, agency.name
    for case in Case.objects.exclude(stage=Stage.CLOSED).select_related("owner_user"):
        assert case.owner_user.is_active
        assert case.owner_agency_id == case.owner_user.agency_id, case.reference


@pytest.mark.django_db
def test_the_demo_holds_the_journeys_the_learning_reviews_are_about(demo: DemoSummary) -> None:
    today = clock.today()
    awaiting_six = [case for case in Case.objects.filter(stage=Stage.EXITED)
                    if not case.reviews.filter(kind=Review.Kind.POST_EXIT).exists()]
    assert any(120 <= (today - case.exited_on).days <= 180 for case in awaiting_six)
    assert Case.objects.filter(stage=Stage.EXITED, reviews__months_after_exit=6).exists()
    closed_after_reviews = Case.objects.filter(stage=Stage.CLOSED, outcome="exited")
    assert closed_after_reviews.exists()
    assert all(case.reviews.filter(kind=Review.Kind.POST_EXIT).count() == 2 for case in closed_after_reviews)

    # The same boy referred twice, misspelt the second time, linked to one person record.
    person = Person.objects.get(referrals__family_name="Husain")
    assert person.referrals.count() == 2
    assert set(person.referrals.values_list("family_name", flat=True)) == {"Hussain", "Husain"}
    assert Person.objects.get(family_name="Husain").merged_into == person
    # A third time, yesterday, spelt another way: a possible earlier record nobody has resolved yet.
    from casetrail.cases.earlier_records import unresolved

    third = Case.objects.get(referral__family_name="Hussian")
    assert third.stage == Stage.GATEWAY and [m.person_id for m in unresolved(third)] == [person.pk]

    # Assessed on the framework in use at the time.
    for assessment in Assessment.objects.filter(status=Assessment.Status.SUBMITTED):
        expected = "vaf" if assessment.assessed_on < date(2024, 9, 1) else "paf"
        assert assessment.framework_key == expected
    assert Assessment.objects.filter(framework_key="vaf").exists()
    assert Assessment.objects.filter(framework_key="paf", case__stage=Stage.SUPPORT).exists()

    in_support = Case.objects.filter(stage=Stage.SUPPORT)
    assert all(case.support_actions.exists() and case.taskings.exists() for case in in_support)
    assert all(action.vulnerabilities for action in SupportAction.objects.all())
    assert SupportAction.objects.filter(case__stage=Stage.SUPPORT, status="done").exists()
    assert Session.objects.filter(tasking__case__stage=Stage.SUPPORT, status="cancelled",
                                  tasking__acknowledged_on__isnull=False).exists()
    assert Session.objects.filter(tasking__case__stage=Stage.SUPPORT, status="delivered").count() >= 10

    at_panel = InformationRequest.objects.filter(case__stage=Stage.PANEL)
    assert at_panel.filter(replied_on__isnull=True).exists() and at_panel.filter(replied_on__isnull=False).exists()
    assert HandOver.objects.filter(status=HandOver.Status.OFFERED, target_type="case").exists()
    assert HandOver.objects.filter(status=HandOver.Status.ACCEPTED).exists()
    assert Case.objects.filter(stage=Stage.POLICE_LED, consents__withdrawn_on__isnull=False).exists()
    assert Case.objects.filter(stage=Stage.CLOSED, outcome="consent_refused").exists()

    # Referrals spread over the past, nothing in the future.
    opened = sorted(Case.objects.values_list("opened_at", flat=True))
    assert opened[0].date() < today - timedelta(days=365) and opened[-1].date() < today


@pytest.mark.django_db
def test_every_demo_person_is_synthetic_and_follows_from_the_seed(demo: DemoSummary) -> None:
    assert all(is_from_pools(p.given_names, p.family_name) for p in Person.objects.all())
    assert referral_names() == expected_names()
    # Some referrers knew the person's NHS number or UPN, not all; every one is made up, as the seed gave it.
    known = {(j.person.nhs_number, j.person.upn) for j in demo_cast(2026, clock.today())}
    recorded = list(Referral.objects.values_list("nhs_number", "upn"))
    assert 0 < sum(bool(n) for n, _ in recorded) < len(recorded)
    assert 0 < sum(bool(u) for _, u in recorded) < len(recorded)
    assert all(n.startswith("999") and any(n == k for k, _ in known) for n, _ in recorded if n)
    assert all(any(u == k for _, k in known) for _, u in recorded if u)


@pytest.mark.django_db
def test_the_load_demo_command_loads_once_then_says_it_is_loaded() -> None:
    out = StringIO()
    call_command("load_demo", stdout=out, verbosity=0)
    printed = out.getvalue()
    assert "Casetrail runs at http://127.0.0.1:8000/" in printed
    assert PASSWORD in printed and "coordinator" in printed and "Channel support" in printed
    # A second, separate build from the same seed gives the same people.
    assert referral_names() == expected_names()

    again = StringIO()
    call_command("load_demo", stdout=again)
    assert "Demo data already loaded" in again.getvalue() and "oversight" in again.getvalue()
    assert Referral.objects.count() == len(expected_names())


@pytest.mark.django_db
def test_create_user_makes_the_user_and_refuses_bad_input_with_status_2() -> None:
    police = agency_create(name="Testshire Police", kind="police")
    council = agency_create(name="Testshire Council", kind="local_authority", police_force=police)
    out = StringIO()
    call_command("create_user", "--username", "sam", "--password", "a-long-test-secret-81", "--first-name", "Sam",
                 "--last-name", "Lee", "--agency", "testshire council", "--role", "channel_coordinator",
                 "--role", "panel_chair", stdout=out)
    sam = User.objects.get(username="sam")
    assert sam.agency == council and sorted(sam.roles) == ["channel_coordinator", "panel_chair"]

    with pytest.raises(CommandError) as refused:
        call_command("create_user", "--username", "kim", "--password", "short", "--agency", "Testshire Council",
                     "--role", "wizard")
    assert refused.value.returncode == 2
    assert "--role:" in str(refused.value) and "--password:" in str(refused.value)
    with pytest.raises(CommandError) as unknown:
        call_command("create_user", "--username", "kim", "--password", "a-long-test-secret-81",
                     "--agency", "Nowhere", "--role", "referrer")
    assert unknown.value.returncode == 2 and "Nowhere" in str(unknown.value)
    assert not User.objects.filter(username="kim").exists()


@pytest.mark.django_db
def test_issue_api_token_prints_the_key_once_and_stores_only_its_hash() -> None:
    police = agency_create(name="Testshire Police", kind="police")
    call_command("create_user", "--username", "sam", "--password", "a-long-test-secret-81", "--agency",
                 police.name, "--role", "police_officer", stdout=StringIO())
    out = StringIO()
    call_command("issue_api_token", "--username", "sam", "--name", "Case sync", stdout=out, stderr=StringIO())
    key = out.getvalue().split()[-1]
    token = ApiToken.objects.get(user__username="sam")
    assert key.startswith("ct_") and token.key_hash == ApiToken.hash_key(key) and key not in token.key_hash
    with pytest.raises(CommandError) as refused:
        call_command("issue_api_token", "--username", "nobody", "--name", "x")
    assert refused.value.returncode == 2


def test_the_demo_told_its_referrers_on_time_so_no_false_alarms(demo: DemoSummary) -> None:
    """Messages went out the evening they were queued, as a running worker would have sent them."""
    from casetrail.cases.models import Case
    from casetrail.cases.safeguards import case_findings
    from casetrail.notifications.models import Message

    assert Message.objects.filter(kind="referrer_outcome").exists()
    assert not Message.objects.exclude(status="sent").filter(kind="referrer_outcome").exists()
    late = [(c.reference, f.key) for c in Case.objects.all() for f in case_findings(c) if f.rule == "referrer.not_told"]
    assert late == []


def test_the_demo_has_retention_reviews_due_one_of_them_held(demo: DemoSummary) -> None:
    from casetrail.retention.selectors import retention_queue

    queue = retention_queue(user=User.objects.get(username="police"), today=clock.today())
    due = [item for item in queue if item.state in ("due", "overdue")]
    assert len(due) >= 2 and all(item.retention_class == "no_further_action" for item in due)
    held = [item for item in due if item.holds]
    assert len(held) == 1 and held[0].holds[0].reason_kind == "review"


def test_the_demo_has_an_open_subject_access_request_that_holds_its_case(demo: DemoSummary) -> None:
    from casetrail.cases.models import RetentionHold
    from casetrail.rights.models import SubjectAccessRequest

    request = SubjectAccessRequest.objects.get()
    assert request.status == "open" and request.due_on > clock.today()
    held = RetentionHold.objects.filter(reason_kind="subject_access", lifted_on=None)
    assert held.exists() and all(h.case.person_id == request.person_id for h in held)
