"""Hand-over of a case or one of its tasks: an offer the receiver accepts or declines."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from casetrail.audit.models import Event
from casetrail.cases.models import HandOver, Tasking
from casetrail.cases.services import (
    handover_offer,
    handover_respond,
    latest_vulnerability_codes,
    support_action_add,
)
from casetrail.core.errors import AccessDenied, InvalidInput
from casetrail.providers.services import provider_worker_save

from .conftest import World, _user, case_in_support

REASON = "Moving to the team nearer the family's new home."


@pytest.fixture
def second_provider(world: World) -> object:
    """Another approved worker of the same provider organisation."""
    worker = _user("provider2", world.provider_org.agency, "intervention_provider")
    provider_worker_save(user=world.users["admin"], worker_user=worker, organisation=world.provider_org,
                         specialisms=["mentoring"], status="approved",
                         vetting_expires_on=date.today() + timedelta(days=90))
    return worker


def test_a_tasking_moves_to_another_provider_worker_only_when_they_accept(world: World, second_provider: object
                                                                          ) -> None:
    case = case_in_support(world)
    tasking = case.taskings.get()
    offer = handover_offer(user=world.users["coordinator"], case=case, target_type="tasking", target_id=tasking.pk,
                           to_user=second_provider, reason=REASON)  # type: ignore[arg-type]
    assert offer.from_user == world.users["provider"]
    assert Tasking.objects.get(pk=tasking.pk).provider_user == world.users["provider"]

    handover_respond(user=second_provider, handover=offer, accept=True, note="")  # type: ignore[arg-type]

    tasking.refresh_from_db()
    assert tasking.provider_user == second_provider
    assert tasking.provider_agency == world.provider_org.agency
    assert Event.objects.filter(case=case, kind="handover.accepted").count() == 1


def test_a_tasking_cannot_be_handed_to_someone_who_is_not_an_approved_provider(world: World) -> None:
    case = case_in_support(world)
    tasking = case.taskings.get()
    with pytest.raises(InvalidInput) as refused:
        handover_offer(user=world.users["coordinator"], case=case, target_type="tasking", target_id=tasking.pk,
                       to_user=world.users["panel"], reason=REASON)
    assert "approved intervention provider" in refused.value.errors["to_user"][0]
    assert not HandOver.objects.exists()


def test_acceptance_is_refused_when_the_receiver_was_suspended_after_the_offer(world: World,
                                                                                 second_provider: object) -> None:
    case = case_in_support(world)
    tasking = case.taskings.get()
    offer = handover_offer(user=world.users["coordinator"], case=case, target_type="tasking", target_id=tasking.pk,
                           to_user=second_provider, reason=REASON)  # type: ignore[arg-type]
    provider_worker_save(user=world.users["admin"], worker_user=second_provider,  # type: ignore[arg-type]
                         organisation=world.provider_org, specialisms=["mentoring"], status="suspended",
                         vetting_expires_on=date.today() + timedelta(days=90))
    with pytest.raises(InvalidInput) as refused:
        handover_respond(user=second_provider, handover=offer, accept=True, note="")  # type: ignore[arg-type]
    assert "current vetting" in refused.value.errors["to_user"][0]
    offer.refresh_from_db()
    tasking.refresh_from_db()
    assert offer.status == HandOver.Status.OFFERED
    assert tasking.provider_user == world.users["provider"]


def test_an_information_request_moves_only_within_the_agency_it_is_addressed_to(world: World) -> None:
    from casetrail.cases.services import information_request_create

    case = case_in_support(world)
    request = information_request_create(user=world.users["coordinator"], case=case, to_agency=world.nhs,
                                         question="Is he known to mental health services?",
                                         requested_on=date.today())
    with pytest.raises(InvalidInput) as refused:
        handover_offer(user=world.users["coordinator"], case=case, target_type="information_request",
                       target_id=request.pk, to_user=world.users["other_coordinator"], reason=REASON)
    assert "agency the request is addressed to" in refused.value.errors["to_user"][0]
    colleague = _user("nhs2", world.nhs, "panel_member", panel_authority=world.council)
    offer = handover_offer(user=world.users["coordinator"], case=case, target_type="information_request",
                           target_id=request.pk, to_user=colleague, reason=REASON)
    handover_respond(user=colleague, handover=offer, accept=True, note="")
    request.refresh_from_db()
    assert request.owner_user == colleague
    assert request.to_agency == world.nhs


def test_a_declined_offer_leaves_the_owner_and_needs_a_reason(world: World) -> None:
    case = case_in_support(world)
    action = support_action_add(user=world.users["coordinator"], case=case, description="Weekly mentoring",
                                vulnerabilities=latest_vulnerability_codes(case)[:1],
                                owner_user=world.users["coordinator"], due_on=date.today() + timedelta(days=30))
    offer = handover_offer(user=world.users["coordinator"], case=case, target_type="support_action",
                           target_id=action.pk, to_user=world.users["panel"], reason=REASON)
    with pytest.raises(InvalidInput) as refused:
        handover_respond(user=world.users["panel"], handover=offer, accept=False, note="no")
    assert "note" in refused.value.errors
    handover_respond(user=world.users["panel"], handover=offer, accept=False,
                     note="Our team has no capacity this quarter.")
    action.refresh_from_db()
    assert action.owner_user == world.users["coordinator"]


def test_only_the_receiver_can_answer_and_only_once(world: World) -> None:
    case = case_in_support(world)
    offer = handover_offer(user=world.users["coordinator"], case=case, target_type="case", target_id=case.pk,
                           to_user=world.users["other_coordinator"], reason=REASON)
    with pytest.raises(AccessDenied):
        handover_respond(user=world.users["chair"], handover=offer, accept=True, note="")
    handover_respond(user=world.users["other_coordinator"], handover=offer, accept=True, note="")
    case.refresh_from_db()
    assert case.owner_user == world.users["other_coordinator"]
    assert case.owner_agency == world.other_council
    with pytest.raises(InvalidInput):
        handover_respond(user=world.users["other_coordinator"], handover=offer, accept=False,
                         note="Changed my mind about it.")
