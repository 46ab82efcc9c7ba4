"""Stored findings: the answer a page reads is always the answer computed from the recorded facts,
today and as of any past day, whatever changed in between (a new event, a day passing, an account
or duty owner changed, two records linked, the policy changed)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from casetrail.accounts.services import agency_set_duty_owner
from casetrail.cases import safeguards, services, stored_findings
from casetrail.cases.models import Case, StoredFindings
from casetrail.clock import frozen_at
from casetrail.core.safeguards import Finding
from casetrail.referrals.services import referral_submit

from .conftest import PASSWORD, World, case_in_support, moment, referral_input

# Each test starts from an empty person index, so that the second referral of Sam is matched.
from .test_person_matching import _fresh_index  # noqa: F401

START = date.today() - timedelta(days=120)


def _computed(case: Case, *, as_of: date | None = None) -> list[Finding]:
    return safeguards.case_findings(Case.objects.get(pk=case.pk), as_of=as_of)


def _read(cases: list[Case]) -> dict[int, list[Finding]]:
    return stored_findings.findings_of(list(Case.objects.filter(pk__in=[c.pk for c in cases])))


def _check(cases: list[Case], snapshots: dict[date, dict[int, list[Finding]]], day: date) -> None:
    """What is read equals what is computed now; a second read computes nothing."""
    read = _read(cases)
    for case in cases:
        assert read[case.pk] == _computed(case), f"case {case.pk} on {day}"
    _, computed = stored_findings._answers(list(Case.objects.filter(pk__in=[c.pk for c in cases])))
    assert computed == 0
    snapshots[day] = read


def test_what_is_read_is_what_is_computed_through_a_case_history(world: World, settings: Any) -> None:
    users = world.users
    snapshots: dict[date, dict[int, list[Finding]]] = {}
    with frozen_at(moment(START - timedelta(days=1))):
        first = case_in_support(world)
    with frozen_at(moment(START)):
        # The same person referred again: a possible earlier record of the first.
        again, _ = referral_submit(user=users["referrer"], data=referral_input(
            world, given_names="Sam", family_name="Okafor-Test"))
        other = case_in_support(world)
        cases = [first, again.case, other]
        _check(cases, snapshots, START)
        assert [f.rule for f in snapshots[START][again.case.pk]][0] == "referral.unresolved_match"

    steps: list[tuple[int, Any]] = [
        # Days pass with nothing recorded: acknowledgements and assessments fall due.
        (3, None),
        (9, lambda: services.tasking_acknowledge(user=users["provider"], tasking=first.taskings.get(),
                                                 acknowledged_on=START + timedelta(days=9))),
        # The earlier referral is linked to the later one's record: the later case's possible earlier
        # record is now its own person, a change to that case with no event on it.
        (12, lambda: services.case_link_person(user=users["police"], case=Case.objects.get(pk=first.pk),
                                               person=again.person, rationale="Same date of birth and address.")),
        (14, lambda: services.session_record(user=users["provider"], tasking=first.taskings.get(),
                                             held_on=START + timedelta(days=14), report="Talked about college.")),
        (15, lambda: _deactivate(users["provider"])),
        (20, lambda: agency_set_duty_owner(agency=world.council, user=users["chair"])),
        (30, lambda: services.significant_event_record(
            user=users["coordinator"], case=Case.objects.get(pk=first.pk), kind="arrest_or_charge",
            occurred_on=START + timedelta(days=29), source="Police", summary="Arrested after a fight.")),
        (45, lambda: services.person_link_undo(user=users["police"], case=Case.objects.get(pk=first.pk),
                                               rationale="A different Sam: another school and parents.")),
        (70, None),
    ]
    for offset, step in steps:
        day = START + timedelta(days=offset)
        with frozen_at(moment(day)):
            if offset == 12:  # before the link (see _as_of_each_day)
                _as_of_each_day(cases, snapshots)
            if offset in (12, 45):  # the days between are checked today only, not as of
                snapshots.clear()
            if step is not None:
                _check(cases, snapshots, day)  # read before the step on the same day, so only the key can tell
                step()
            _check(cases, snapshots, day)

    with frozen_at(moment(START + timedelta(days=71))):
        # The deployment changes its policy: every stored answer is stale at once.
        settings.CASETRAIL_SAFEGUARD_POLICY = {"session_interval_days": 3, "escalation_days": 1}
        _check(cases, snapshots, START + timedelta(days=71))
        settings.CASETRAIL_SAFEGUARD_POLICY = {}
        del snapshots[START + timedelta(days=71)]
        _as_of_each_day(cases, snapshots)


def _as_of_each_day(cases: list[Case], snapshots: dict[date, dict[int, list[Finding]]]) -> None:
    """As of each past day, computing again from the record gives what was read that day.

    Accounts (who is active, who is duty owner) and links between people's records are read as
    they are now, not as they were, so this holds between such changes; the test checks it before
    the first and after the last.
    """
    assert any(read[c.pk] for read in snapshots.values() for c in cases), "the history must raise findings"
    for day, read in snapshots.items():
        for case in cases:
            assert read[case.pk] == _computed(case, as_of=day), f"case {case.pk} as of {day}"


def _deactivate(user: Any) -> None:
    user.is_active = False
    user.save()


def test_an_answer_is_stored_with_its_key_and_a_stale_one_is_never_read(world: World) -> None:
    with frozen_at(moment(START)):
        case = case_in_support(world)
        first = _read([case])[case.pk]
    row = StoredFindings.objects.get(case=case)
    assert row.day == START and row.last_event_id == case.events.order_by("-id").first().pk
    # A row with a wrong answer under an old key is ignored and replaced.
    StoredFindings.objects.filter(case=case).update(findings=[], last_event_id=row.last_event_id - 1)
    with frozen_at(moment(START)):
        assert _read([case])[case.pk] == first
    # The same wrong answer under the current key would be read: the key is what makes it right.
    StoredFindings.objects.filter(case=case).update(findings=[])
    with frozen_at(moment(START)):
        assert _read([case])[case.pk] == []
    with frozen_at(moment(START + timedelta(days=1))):
        assert _read([case])[case.pk] == _computed(case)


def test_the_worker_refresh_computes_only_what_is_stale(world: World) -> None:
    with frozen_at(moment(START)):
        cases = [case_in_support(world) for _ in range(3)]
        assert stored_findings.refresh(Case.objects.all()) == 3
        assert stored_findings.refresh(Case.objects.all()) == 0
        services.tasking_acknowledge(user=world.users["provider"], tasking=cases[0].taskings.get(),
                                     acknowledged_on=START)
        assert stored_findings.refresh(Case.objects.all()) == 1
    with frozen_at(moment(START + timedelta(days=1))):
        assert stored_findings.refresh(Case.objects.all()) == 3


def test_findings_notify_reads_the_stored_answers(world: World) -> None:
    with frozen_at(moment(START)):
        case_in_support(world)
    with frozen_at(moment(START + timedelta(days=20))):
        assert safeguards.findings_notify() > 0
        assert safeguards.findings_notify() == 0
        with CaptureQueriesContext(connection) as queries:
            safeguards.findings_notify()
    computing = [q for q in queries.captured_queries if "cases_supportaction" in q["sql"]]
    assert computing == [], "a third pass on the same day computes nothing"


# ---------------------------------------------------------------- bounded query counts


def _gateway_cases(world: World, count: int) -> None:
    for _ in range(count):
        referral_submit(user=world.users["referrer"], data=referral_input(world))


def _queries(client: Client, url: str) -> int:
    client.get(url)  # the first read after a change computes; what is measured is the steady state
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(queries.captured_queries)


@pytest.mark.parametrize(("url", "user"), [
    ("/my-work", "police"), ("/my-work", "coordinator"), ("/cases/", "police"), ("/my-referrals", "referrer"),
    ("/search?q=Okafor", "police"), ("/search?q=Test", "police"), ("/panel-meetings/", "coordinator"), ("/audit/log", "oversight"),
])
def test_list_pages_cost_the_same_queries_at_two_sizes(world: World, url: str, user: str) -> None:
    client = Client()
    assert client.login(username=user, password=PASSWORD)
    with frozen_at(moment(START)):
        _gateway_cases(world, 3)
        small = _queries(client, url)
        _gateway_cases(world, 9)
        assert Case.objects.count() == 12
        large = _queries(client, url)
    assert large == small, f"{url}: {small} queries with 3 cases, {large} with 12"


def test_the_case_page_costs_the_same_queries_however_long_the_history(world: World) -> None:
    client = Client()
    assert client.login(username="coordinator", password=PASSWORD)
    with frozen_at(moment(START)):
        short = case_in_support(world)
        long = case_in_support(world)
        for n in range(4):
            services.case_note_record(user=world.users["coordinator"], case=long, noted_on=START,
                                      text=f"Spoke with the school, note {n}.")
            services.support_action_add(user=world.users["coordinator"], case=long,
                                        description=f"Support action {n}",
                                        vulnerabilities=services.latest_vulnerability_codes(long),
                                        owner_user=world.users["coordinator"], due_on=START + timedelta(days=30))
        few, many = _queries(client, f"/cases/{short.pk}/"), _queries(client, f"/cases/{long.pk}/")
    assert many == few, f"case page: {few} queries with a short history, {many} with a longer one"


def test_nothing_is_found_as_of_a_day_before_the_referral(world: World) -> None:
    with frozen_at(moment(START)):
        case = case_in_support(world)
        world.users["provider"].is_active = False
        world.users["provider"].save()
        assert _computed(case), "an inactive provider is a finding today"
    assert _computed(case, as_of=START - timedelta(days=1)) == []


def test_a_database_that_takes_no_writes_still_shows_the_computed_answer(world: World, monkeypatch: Any) -> None:
    from django.db import OperationalError

    with frozen_at(moment(START)):
        case = case_in_support(world)

        def full(*args: Any, **kwargs: Any) -> None:
            raise OperationalError("database or disk is full")

        monkeypatch.setattr(StoredFindings.objects, "bulk_create", full)
        assert _read([case])[case.pk] == _computed(case) != []
        assert not StoredFindings.objects.filter(case=case).exists()
