"""The national dataset's bulk path (bench/national) writes the rows the product reads: a small
dataset verifies as two intact hash chains, every case's stage is the one its history last
recorded, every case page opens for its owner and the safeguards' findings are computed for
every case; and a journey written in bulk records the same history, step for step, as the same
journey driven through the real services."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from typing import Any

import pytest

from bench.national.generate import Options, build
from casetrail.audit.models import AccessLogEntry, Event
from casetrail.audit.verification import chain_verify
from casetrail.cases import safeguards
from casetrail.cases.models import Case
from casetrail.core.errors import InvalidInput
from casetrail.core.lifecycle import Stage

TODAY = date(2026, 12, 7)


@pytest.fixture
def national(db: Any) -> Any:
    return build(Options(referrals=240, identities=400, events=6000, forces=2, authorities_per_force=2,
                         today=TODAY, batch_size=500, progress=False))


def test_a_small_national_dataset_is_what_the_product_reads(national: Any, client: Any) -> None:
    summary = national
    cases = list(Case.objects.select_related("owner_user", "referral", "person").order_by("pk"))
    assert len(cases) == 240
    # Every stage is reached, most cases are closed and some are still open.
    stages = Counter(case.stage for case in cases)
    assert stages[Stage.CLOSED] > len(cases) / 2
    assert sum(n for stage, n in stages.items() if stage != Stage.CLOSED) > 0
    assert summary.counts["event"] + summary.counts["accesslogentry"] == 6000

    for model in (Event, AccessLogEntry):
        report = chain_verify(model)
        assert report.intact, report.problem
        assert report.entries == model.objects.count()

    last_state = {}
    for case_id, data in Event.objects.filter(kind="case.state").order_by("seq").values_list("case_id", "data"):
        last_state[case_id] = data
    for case in cases:
        state = last_state[case.pk]
        assert (state["stage"], state["owner_user"], state["owner_agency"]) == (
            case.stage, case.owner_user_id, case.owner_agency_id), case.reference
        safeguards.case_findings(case)  # must not fail

    for case in cases:
        client.force_login(case.owner_user)
        response = client.get(f"/cases/{case.pk}/")
        assert response.status_code == 200, (case.reference, case.stage)

    # The ids the services take next follow the bulk ones.
    assert Case.objects.order_by("-pk").first().pk == 240


def test_the_generator_refuses_a_database_that_is_not_empty(national: Any) -> None:
    before = Case.objects.count()
    with pytest.raises(InvalidInput, match="new, empty database"):
        build(Options(referrals=20, identities=40, events=0, forces=1, authorities_per_force=1, today=TODAY,
                      progress=False))
    assert Case.objects.count() == before


@pytest.mark.parametrize("given, message", [
    ({"identities": 10, "referrals": 20}, "--identities must be at least --referrals"),
    ({"events": -1}, "--events cannot be negative"),
    ({"forces": 0}, "--forces must be between 1 and 200"),
])
def test_bad_sizes_are_refused_before_anything_is_written(db: Any, given: dict[str, int], message: str) -> None:
    options = Options(**{"referrals": 20, "identities": 40, "events": 0, "progress": False, **given})
    with pytest.raises(InvalidInput, match=message):
        build(options)
    assert not Case.objects.exists()


def test_scale_must_be_a_fraction() -> None:
    with pytest.raises(ValueError, match="--scale"):
        Options.scaled(0)
    assert Options.scaled(0.01).referrals == 1000
    assert Options.scaled(0.01).events == 100_000


def _history(case_id: int, rows: list[dict[str, Any]] | None = None) -> list[tuple[str, str, str]]:
    """What a case's history says happened, without ids or times: kind, subject, actor's role."""
    if rows is None:
        rows = list(Event.objects.filter(case_id=case_id).order_by("seq").values())
    return [(r["kind"], r["subject_type"], r["actor_role"]) for r in rows
            if r["case_id"] == case_id and r["kind"] != "notification.sent"]


def _access(case_id: int, rows: list[dict[str, Any]] | None = None) -> list[tuple[str, str, str]]:
    if rows is None:
        rows = list(AccessLogEntry.objects.filter(case_id=case_id).order_by("seq").values())
    return [(r["operation"], r["object_type"], r["role"]) for r in rows if r["case_id"] == case_id]


def test_a_bulk_journey_records_what_the_services_record(world: Any) -> None:
    """One journey through the real services (referred; to the panel with the referrer consulted;
    on a meeting's agenda; adopted; consent; an assessment started, saved, submitted) and the same
    journey planned in bulk: the same events in the same order with the same subjects and roles,
    the same access-log entries, the same decisions and the same case row at the end."""
    import random

    from bench.national.journeys import AreaRef, Ids, Planner, StaffRef, at_work
    from casetrail import clock
    from casetrail.cases import services
    from casetrail.cases.models import Decision
    from casetrail.referrals.services import referral_submit

    from .conftest import referral_input

    users = world.users
    today = clock.today()
    referral, _ = referral_submit(user=users["referrer"], data=referral_input(world, concern_types=("islamist",)))
    case = referral.case
    services.gateway_decide(user=users["police"], case=case, expected_version=None, deconfliction_done=True,
                            database_checks_done=True, referrer_contacted_on=today,
                            referrer_contact_summary="Spoke to the referrer.", outcome="refer_to_panel",
                            signposted_to="", rationale="Escalating behaviour with a clear ideological element.",
                            decided_on=today)
    meeting = services.panel_meeting_create(user=users["coordinator"], meets_on=today, chair=users["chair"],
                                            location="Room 1")
    services.agenda_add(user=users["coordinator"], meeting=meeting, case=case)
    services.panel_decide(user=users["chair"], case=case, expected_version=None, adopt=True,
                          attendees=["Chair, LA", "Police officer, CTP"], dissent="", signposted_to="",
                          rationale="Vulnerabilities suitable for Channel support identified.", decided_on=today)
    services.consent_record(user=users["coordinator"], case=case, expected_version=None, given=True,
                            giver="parent_carer", giver_name="Ada Test", capacity_confirmed=True, capacity_notes="",
                            scope="Sharing with the provider and school", given_on=today)
    services.assessment_start(user=users["coordinator"], case=case)
    case.refresh_from_db()

    refs = {name: StaffRef.of(user) for name, user in users.items()}
    area = AreaRef(authority_id=world.council.pk, authority_name=world.council.name, force_id=world.police.pk,
                   force_name=world.police.name, force_duty_owner=refs["police"], officers=[refs["police"]],
                   coordinators=[refs["coordinator"]], chair=refs["chair"], panel_member=refs["panel"],
                   referrers={k: refs["referrer"] for k in ("education", "police", "health", "local_authority")},
                   health_id=world.nhs.pk, health_name=world.nhs.name, health_owner=refs["panel"])
    planner = Planner(areas=[area], providers=[(refs["provider"], ["islamist", "mentoring"])],
                      ids=Ids(start={"case": 10_000}), first_day=today - timedelta(days=400),
                      last_day=today + timedelta(days=400), seed=1)
    rng = random.Random(3)
    record = {"given_names": "Bulk", "family_name": "Journey", "other_names": "", "date_of_birth": "2009-04-01",
              "sex": "male", "postcode": "", "address": "", "school": "", "nhs_number": "", "upn": "",
              "person_id": case.person_id}
    start = today - timedelta(days=300)
    c = planner.referral(0, record, at_work(start, rng), area, rng)
    planner.gateway(c, start + timedelta(days=7), "refer_to_panel", contact=True)
    meets_on = planner.agenda_add(c, start + timedelta(days=8))
    assert meets_on is not None
    planner.panel_decide(c, meets_on, adopt=True)
    planner.consent(c, meets_on + timedelta(days=3), given=True)
    rows = [row for _, _, row in sorted(planner.rows.events, key=lambda item: (item[0], item[1]))]
    access = [row for _, _, row in sorted(planner.rows.access, key=lambda item: (item[0], item[1]))]

    assert _history(c.pk, rows) == _history(case.pk)[:len(_history(c.pk, rows))]
    served = _history(case.pk)
    assert served[len(_history(c.pk, rows))][0] == "assessment.started"
    assert _access(c.pk, access) == _access(case.pk)[:len(_access(c.pk, access))]
    decisions = [(d["type"], d["outcome"], d["author_role"]) for d in planner.rows.tables["decision"]]
    assert decisions == list(Decision.objects.filter(case=case).order_by("pk")
                             .values_list("type", "outcome", "author_role"))
    bulk_case = c.row
    for name in ("stage", "outcome", "owner_user_id", "owner_agency_id", "police_agency_id", "local_authority_id"):
        assert bulk_case[name] == getattr(case, name), name
    assert bulk_case["version"] == case.version


def test_the_query_plans_of_every_list_page_are_read(national: Any) -> None:
    """bench.national.explain opens every list and dashboard page as the busiest user of each role
    and explains each SELECT they ran."""
    from bench.national import explain

    visits, plans = explain.run()
    assert {v.role for v in visits} >= {"police_officer", "channel_coordinator", "panel_chair", "panel_member",
                                        "intervention_provider", "referrer", "oversight", "administrator"}
    assert {v.page for v in visits} >= {"my-work", "my-referrals", "case list", "search", "person history",
                                        "panel meetings", "possible duplicates", "audit log (a person)",
                                        "unusual access", "case page"}
    assert all(v.status == 200 for v in visits), [(v.page, v.role, v.status) for v in visits if v.status != 200]
    assert plans and all(p.ms >= 0 and p.sql.lstrip().upper().startswith("SELECT") for p in plans)
    assert any(p.indexes for p in plans)
    assert explain.fingerprint("SELECT 1 FROM t WHERE a = 'x' AND b = 42") == "SELECT ? FROM t WHERE a = ? AND b = ?"
