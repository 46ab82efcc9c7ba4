"""Transfers: a person who moves area, or goes into or out of custody, takes the case with them.
The receiving area accepts it (with its history, open findings and due reviews) or declines with
a reason; until then it stays, and nothing on a case closes while an offer awaits an answer."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from casetrail import clock
from casetrail.accounts.services import agency_create, agency_set_duty_owner
from casetrail.cases import safeguards, services
from casetrail.cases.models import Case, HandOver
from casetrail.core.errors import AccessDenied, InvalidInput, TransitionNotAllowed
from casetrail.referrals.services import referral_submit

from .conftest import PASSWORD, World, _user, case_in_support, frozen_at, moment, referral_input

WHY = "The family moved to Otherton in March; the school there has his records."


def exited(world: World) -> Case:
    """A case exited today with both sessions accounted for and the referrer consulted."""
    case = case_in_support(world)
    u, today = world.users, clock.today()
    tasking = case.taskings.get()
    services.tasking_acknowledge(user=u["provider"], tasking=tasking, acknowledged_on=today)
    for _ in range(2):
        services.session_record(user=u["provider"], tasking=tasking, held_on=today, report="Engaged well; talked about online safety.")
    codes = services.latest_vulnerability_codes(case)
    for code in codes:
        services.vulnerability_waiver_record(user=u["chair"], case=case, code=code, approved_on=today,
                                             reason="The school's own mentoring covers this need.")
    services.referrer_consultation_record(user=u["coordinator"], case=case, consulted_on=today, method="phone",
                                          summary="The school has no further concerns.")
    services.case_exit(user=u["chair"], case=case, expected_version=None, exited_on=today,
                       rationale="All members agree the vulnerability is much reduced.", residual_concerns="",
                       onward_support="School mentor", attendees=["Chair, LA", "Police officer, CTP"])
    return Case.objects.get(pk=case.pk)


def offer(world: World, case: Case, to: Any = None, kind: str = "moved_area", who: str = "coordinator") -> HandOver:
    return services.case_transfer_offer(user=world.users[who], case=case, to_agency=to or world.other_council,
                                        kind=kind, reason=WHY)


def test_an_accepted_transfer_moves_the_case_with_its_reviews_and_findings(world: World) -> None:
    case = exited(world)
    due_before = {f.key for f in safeguards.case_findings(case, as_of=clock.today() + timedelta(days=200))}
    transfer = offer(world, case)
    assert transfer.to_user == world.users["other_coordinator"] and transfer.transfer_kind == "moved_area"
    assert Case.objects.get(pk=case.pk).local_authority == world.council  # nothing moves until accepted
    services.handover_respond(user=world.users["other_coordinator"], handover=transfer, accept=True, note="")
    moved = Case.objects.get(pk=case.pk)
    assert moved.local_authority == world.other_council and moved.owner_user == world.users["other_coordinator"]
    assert moved.owner_agency == world.other_council and moved.stage == "exited"
    # The same case, with its whole history and the reviews still due, now owed by the new area.
    assert moved.decisions.filter(type="exit").exists()
    later = clock.today() + timedelta(days=200)
    overdue = [f for f in safeguards.case_findings(moved, as_of=later) if f.rule == "review.overdue"]
    assert overdue and overdue[0].notify == (world.users["other_coordinator"].pk,)
    assert {f.key for f in safeguards.case_findings(moved, as_of=later)} == due_before
    # The receiving area's chair may now act on it; the old area's may not.
    with pytest.raises(AccessDenied):
        services.case_note_record(user=world.users["coordinator"], case=moved, noted_on=clock.today(),
                                  text="Trying to write to a case that moved away.")


def test_a_declined_transfer_keeps_the_case_and_needs_a_reason(world: World) -> None:
    case = exited(world)
    transfer = offer(world, case)
    with pytest.raises(InvalidInput) as bare:
        services.handover_respond(user=world.users["other_coordinator"], handover=transfer, accept=False, note="")
    assert "note" in bare.value.errors
    services.handover_respond(user=world.users["other_coordinator"], handover=transfer, accept=False,
                              note="He is not living here: the address is his uncle's, checked by a visit.")
    kept = Case.objects.get(pk=case.pk)
    assert kept.local_authority == world.council and kept.owner_user == world.users["coordinator"]


def test_nothing_closes_while_a_transfer_or_hand_over_awaits_an_answer(world: World) -> None:
    case = exited(world)
    today = clock.today()
    with frozen_at(moment(today + timedelta(days=366))):
        for months in (6, 12):
            services.post_exit_review_record(user=world.users["coordinator"], case=case, expected_version=None,
                                             months=months, held_on=clock.today(), outcome="no_concerns",
                                             notes="No concerns raised by the school or police.")
        transfer = offer(world, case)
        with pytest.raises(TransitionNotAllowed) as refused:
            services.case_close(user=world.users["coordinator"], case=case, expected_version=None,
                                closed_on=clock.today(), rationale="Both reviews found no concerns at all.")
        assert [u.code for u in refused.value.unmet] == ["closure.pending_handover"]
        assert "Otherton City Council" in refused.value.unmet[0].message
    # Once the offer lapses unanswered, the case can close (the offerer was told it lapsed).
    with frozen_at(moment(today + timedelta(days=380))):
        assert transfer.is_lapsed
        services.case_close(user=world.users["coordinator"], case=case, expected_version=None,
                            closed_on=clock.today(), rationale="Both reviews found no concerns at all.")
        assert Case.objects.get(pk=case.pk).stage == "closed"


def test_a_gateway_case_goes_to_another_force_and_cannot_close_meanwhile(world: World) -> None:
    north = agency_create(name="Northshire Police CTP", kind="police")
    officer = _user("northofficer", north, "police_officer")
    agency_set_duty_owner(agency=north, user=officer)
    case = referral_submit(user=world.users["referrer"], data=referral_input(world))[0].case
    transfer = offer(world, case, to=north, kind="into_custody", who="police")
    with pytest.raises(TransitionNotAllowed) as refused:
        services.gateway_decide(user=world.users["police"], case=case, expected_version=None, deconfliction_done=True,
                                database_checks_done=True, referrer_contacted_on=None, referrer_contact_summary="",
                                outcome="no_further_action", signposted_to="", decided_on=clock.today(),
                                rationale="No vulnerability to radicalisation found in the checks made.",
                                nfa_reasons=["no_vulnerability"])
    assert "closure.pending_handover" in {u.code for u in refused.value.unmet}
    services.handover_respond(user=officer, handover=transfer, accept=True, note="")
    moved = Case.objects.get(pk=case.pk)
    assert moved.police_agency == north and moved.owner_user == officer and moved.stage == "gateway"


def test_bad_transfers_are_refused_field_by_field_and_write_nothing(world: World) -> None:
    case = exited(world)
    version = Case.objects.get(pk=case.pk).version
    cases: list[tuple[Any, str, str]] = [
        (None, "moved_area", "to_agency"),
        (world.council, "moved_area", "to_agency"),  # its own area
        (world.police, "moved_area", "to_agency"),  # a force, for a Channel case
        (world.school, "moved_area", "to_agency"),
        (world.other_council, "abroad", "kind"),
    ]
    for to, kind, field in cases:
        with pytest.raises(InvalidInput) as bad:
            services.case_transfer_offer(user=world.users["coordinator"], case=case, to_agency=to, kind=kind,
                                         reason=WHY)
        assert field in bad.value.errors, (to, kind)
    with pytest.raises(InvalidInput) as no_reason:
        services.case_transfer_offer(user=world.users["coordinator"], case=case, to_agency=world.other_council,
                                     kind="moved_area", reason="moved")
    assert "reason" in no_reason.value.errors
    for who in ("provider", "referrer", "oversight", "other_coordinator"):
        with pytest.raises(AccessDenied):
            offer(world, case, who=who)
    assert not HandOver.objects.filter(case=case).exists() and Case.objects.get(pk=case.pk).version == version
    offer(world, case)
    with pytest.raises(InvalidInput) as twice:
        offer(world, case)
    assert "target_id" in twice.value.errors
    # Only the receiving area's duty owner answers it.
    transfer = HandOver.objects.get(case=case)
    with pytest.raises(AccessDenied):
        services.handover_respond(user=world.users["chair"], handover=transfer, accept=True, note="")


def test_the_page_and_the_api_offer_a_transfer(world: World, client: Client) -> None:
    case = exited(world)
    client.login(username="coordinator", password=PASSWORD)
    page = client.get(f"/cases/{case.pk}/transfer").content.decode()
    assert "Otherton City Council" in page and "Testshire County Council</option>" not in page
    refused = client.post(f"/cases/{case.pk}/transfer", {"to_agency": "", "kind": "", "reason": ""})
    assert refused.status_code == 400 and "There is a problem" in refused.content.decode()
    done = client.post(f"/cases/{case.pk}/transfer", {"to_agency": world.other_council.pk, "kind": "moved_area",
                                                     "reason": WHY})
    assert done.status_code == 302
    assert "Transfer of the case (the person moved to another area)" in client.get(f"/cases/{case.pk}/").content.decode()
    client.login(username="othercoord", password=PASSWORD)
    assert "Transfer of the case" in client.get("/my-work").content.decode()
    other = exited(world)
    auth = {"Authorization": f"Bearer {world.token('coordinator')}"}
    bad = client.post(f"/api/v1/cases/{other.pk}/transfers", {"to_agency_id": 999999, "kind": "moved_area",
                                                              "reason": WHY}, content_type="application/json",
                      headers=auth)
    assert bad.status_code == 422 and "to_agency_id" in bad.json()["errors"]
    made = client.post(f"/api/v1/cases/{other.pk}/transfers", {"to_agency_id": world.other_council.pk,
                                                               "kind": "out_of_custody", "reason": WHY},
                       content_type="application/json", headers=auth)
    assert made.status_code == 201 and made.json()["transfer_kind"] == "out_of_custody"
