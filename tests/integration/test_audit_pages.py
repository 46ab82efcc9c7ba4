"""Auditors' questions of the access log: who looked at this person, what did this user look at,
and what was unusual."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from casetrail.audit.selectors import log_search, unusual_access
from casetrail.audit.services import access_log
from casetrail.cases.models import Case
from casetrail.clock import frozen_at
from casetrail.referrals.services import referral_submit

from .conftest import PASSWORD, World, referral_input

TODAY = date.today()


@pytest.fixture
def case(world: World, client: Client) -> Case:
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world))
    client.login(username="police", password=PASSWORD)
    assert client.get(f"/cases/{referral.case.pk}/").status_code == 200  # logged as a consultation
    client.logout()
    return referral.case


def _day(start: date) -> dict[str, int]:
    return {"start_day": start.day, "start_month": start.month, "start_year": start.year,
            "end_day": TODAY.day, "end_month": TODAY.month, "end_year": TODAY.year}


def test_who_looked_at_this_person(world: World, case: Case) -> None:
    entries = list(log_search(person_id=case.person_id, start=TODAY - timedelta(days=1), end=TODAY))
    lookers = {e.user.username for e in entries if e.user}
    assert {"referrer", "police"} <= lookers
    assert not list(log_search(user_id=world.users["chair"].pk, start=TODAY, end=TODAY))


def test_unusual_access_shows_heavy_days_and_out_of_hours(world: World, case: Case) -> None:
    night = timezone.make_aware(datetime.combine(TODAY, datetime.min.time()).replace(hour=2))
    with frozen_at(night):
        for _ in range(5):
            access_log(user=world.users["police2"], operation="consultation", subject=case, case=case,
                       person=case.person)
    midday = timezone.make_aware(datetime.combine(TODAY, datetime.min.time()).replace(hour=11))
    with frozen_at(midday):
        access_log(user=world.users["chair"], operation="consultation", subject=case, case=case, person=case.person)
    report = unusual_access(start=TODAY, end=TODAY, daily_volume=4)
    assert [d["user__username"] for d in report.heavy_days] == ["police2"]
    odd = {e.user.username for e in report.out_of_hours}
    assert "police2" in odd
    assert "chair" not in odd or TODAY.weekday() >= 5


def test_the_audit_pages_are_for_auditors_and_check_their_input(world: World, case: Case, client: Client) -> None:
    client.login(username="police", password=PASSWORD)
    assert client.get("/audit/log").status_code == 403
    client.login(username="oversight", password=PASSWORD)
    assert client.get("/audit/log").status_code == 200
    found = client.get("/audit/log", {**_day(TODAY - timedelta(days=2)), "person": case.person.reference})
    assert found.status_code == 200 and "Police Tester" in found.content.decode()
    unknown = client.get("/audit/log", {**_day(TODAY), "person": "P-1999-999999", "username": "nobody"})
    page = unknown.content.decode()
    assert unknown.status_code == 400 and "There is no person with that reference" in page
    assert "There is no user with that username" in page
    backwards = client.get("/audit/log", {"start_day": TODAY.day, "start_month": TODAY.month,
                                          "start_year": TODAY.year, "end_day": 1, "end_month": 1, "end_year": 2020})
    assert backwards.status_code == 400 and "on or after the start date" in backwards.content.decode()
    assert client.get("/audit/unusual").status_code == 200


def test_every_change_to_a_case_is_an_alteration_in_the_access_log_with_its_channel(world: World) -> None:
    """DPA 2018 s.62: alterations are logged beside collection and consultation, saying whether
    they came through the pages, the API or a command."""
    import json

    from casetrail.audit.models import AccessLogEntry
    from casetrail.cases import services

    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world))
    case = referral.case
    services.case_note_record(user=world.users["police"], case=case, noted_on=date.today(),
                              text="Spoke to the school's safeguarding lead.")
    by_command = AccessLogEntry.objects.get(operation="alteration", object_type="casenote")
    assert (by_command.case_id, by_command.person_id, by_command.user_id, by_command.channel) == (
        case.pk, case.person_id, world.users["police"].pk, "command")
    api = Client()
    answer = api.post(f"/api/v1/cases/{case.pk}/gateway", data=json.dumps({
        "expected_version": case.version + 1, "deconfliction_done": True, "database_checks_done": True,
        "outcome": "refer_to_panel", "rationale": "Escalating behaviour with a clear ideological element.",
        "decided_on": date.today().isoformat()}), content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {world.token('police')}")
    assert answer.status_code == 200, answer.content
    gateway = AccessLogEntry.objects.filter(operation="alteration", case=case, channel="api")
    assert gateway.exists() and all(e.user_id == world.users["police"].pk for e in gateway)
    # A refused change alters nothing and logs no alteration.
    before = AccessLogEntry.objects.filter(operation="alteration").count()
    refused = api.post(f"/api/v1/cases/{case.pk}/gateway", data=json.dumps({"outcome": "nonsense"}),
                       content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {world.token('police')}")
    assert refused.status_code in (409, 422)
    assert AccessLogEntry.objects.filter(operation="alteration").count() == before


def test_who_looked_at_this_person_includes_looks_at_their_cases_alone(world: World, case: Case) -> None:
    """An entry about one of the person's cases counts even when it does not name the person, and
    an entry about someone else's case does not."""
    other = referral_submit(user=world.users["referrer"], data=referral_input(world))[0].case
    about_case = access_log(user=world.users["chair"], operation="consultation", subject=case, case=case)
    about_other = access_log(user=world.users["chair"], operation="consultation", subject=other, case=other)
    found = {e.pk for e in log_search(person_id=case.person_id, start=TODAY - timedelta(days=1), end=TODAY)}
    assert about_case.pk in found
    assert about_other.pk not in found
