"""Owning something never grants what the access policy refuses: every ownable item x every role x
every offer state (pending, accepted, declined, lapsed), through the services and the API. Only the
people the policy lets act change an item; no read-only, out-of-area or not-yet-accepted user can."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
from django.db import transaction
from django.test import Client

from casetrail import clock
from casetrail.accounts.models import User
from casetrail.accounts.services import api_token_issue
from casetrail.audit.models import Event
from casetrail.cases import services
from casetrail.cases.access import eligible_owners, live_offers, view_of
from casetrail.cases.models import Case, HandOver
from casetrail.core.errors import AccessDenied, InvalidInput
from casetrail.core.policy import Ownable, View
from casetrail.providers.services import provider_organisation_save, provider_worker_save

from .conftest import World, _user, case_in_support, frozen_at, moment

KINDS = ("case", "support_action", "tasking", "information_request")
STATES = ("pending", "accepted", "declined", "lapsed")
# Everyone in the shared world, plus the person each item is offered to.
PEOPLE = ("referrer", "police", "police2", "coordinator", "chair", "other_coordinator", "panel", "provider",
          "oversight", "admin", "receiver")
REASON = "Moving to the team nearer the family's new home."
TEXT = "Spoke to the family today; nothing new to report on this."


@dataclass
class Item:
    world: World
    case: Case
    kind: str
    target: Any
    receiver: User
    offer: HandOver

    def user(self, name: str) -> User:
        return self.receiver if name == "receiver" else self.world.users[name]


def _receiver(world: World, kind: str) -> User:
    """Someone the policy lets own this kind of work, not otherwise able to change it."""
    if kind == "case":
        return _user("newcoord", world.other_council, "channel_coordinator")
    if kind in ("support_action", "information_request"):
        return _user("nhs2", world.nhs, "panel_member", panel_authority=world.council)
    org = provider_organisation_save(user=world.users["admin"], agency=None, name="Second Step Mentoring",
                                     specialisms=["mentoring"], status="approved",
                                     approved_until=date.today() + timedelta(days=365))
    worker = _user("provider_two", org.agency, "intervention_provider")
    provider_worker_save(user=world.users["admin"], worker_user=worker, organisation=org, specialisms=["mentoring"],
                         status="approved", vetting_expires_on=date.today() + timedelta(days=365))
    return worker


def _build(world: World, kind: str, state: str) -> Item:
    """A case in support with one of each item; the item of `kind` offered to its receiver, and the
    offer answered (or left to lapse) as `state` says."""
    # A lapsed offer was made a fortnight ago; everything else happens today.
    start = clock.today() - timedelta(days=14) if state == "lapsed" else clock.today()
    with frozen_at(moment(start)):
        case = case_in_support(world)
        u = world.users
        codes = services.latest_vulnerability_codes(case)
        action = services.support_action_add(user=u["coordinator"], case=case, description="Weekly mentoring",
                                             vulnerabilities=codes[:1], owner_user=u["coordinator"],
                                             due_on=start + timedelta(days=30))
        request = services.information_request_create(user=u["coordinator"], case=case, to_agency=world.nhs,
                                                      question="Is he known to mental health services?",
                                                      requested_on=start)
        targets = {"case": case, "support_action": action, "tasking": case.taskings.get(),
                   "information_request": request}
        receiver = _receiver(world, kind)
        offer = services.handover_offer(user=u["coordinator"], case=case, target_type=kind,
                                        target_id=targets[kind].pk, to_user=receiver, reason=REASON)
    if state in ("accepted", "declined"):
        services.handover_respond(user=receiver, handover=offer, accept=state == "accepted",
                                  note="" if state == "accepted" else "No capacity in our team this quarter.")
    case.refresh_from_db()
    return Item(world, case, kind, targets[kind], receiver, offer)


CHANGES: dict[str, Callable[[User, Any], Any]] = {
    "case": lambda user, case: services.case_note_record(user=user, case=case, noted_on=clock.today(), text=TEXT),
    "support_action": lambda user, action: services.support_action_complete(
        user=user, action=action, status="done", completed_on=clock.today(), note=TEXT),
    "tasking": lambda user, tasking: services.tasking_acknowledge(user=user, tasking=tasking,
                                                                  acknowledged_on=clock.today()),
    "information_request": lambda user, request: services.information_request_reply(
        user=user, request=request, reply=TEXT, replied_on=clock.today()),
}


def allowed_to_change(kind: str, state: str) -> set[str]:
    """Who may change the item: those involved in the case in a role that does this work, and the
    receiver only once they have accepted."""
    accepted = {"receiver"} if state == "accepted" else set()
    if kind == "case":
        # Once accepted the case belongs to the receiver's council, so their colleagues there act too.
        owning = {"other_coordinator"} if accepted else set()
        return {"police", "police2", "coordinator", "chair", "panel"} | accepted | owning
    if kind == "support_action":
        return {"coordinator", "chair"} | accepted  # its planners, and its owner
    if kind == "tasking":
        return accepted or {"provider"}  # the tasked organisation: it moves on acceptance
    # The agency it is addressed to answers it, so a colleague there may whatever the offer's state;
    # the offer itself grants nothing.
    return {"panel", "receiver"}


class _Undo(Exception):
    pass


def _changes(item: Item, name: str) -> bool:
    """Whether this person's change goes through (undone afterwards); a refusal writes nothing."""
    before = Event.objects.count()
    target = type(item.target).objects.get(pk=item.target.pk)
    try:
        with transaction.atomic():
            CHANGES[item.kind](item.user(name), target)
            raise _Undo
    except _Undo:
        return True
    except AccessDenied:
        assert Event.objects.count() == before
        return False


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("kind", KINDS)
def test_only_those_the_policy_lets_act_change_an_owned_item(world: World, kind: str, state: str) -> None:
    item = _build(world, kind, state)
    changed = {name for name in PEOPLE if _changes(item, name)}
    assert changed == allowed_to_change(kind, state)


@pytest.mark.parametrize("state", STATES)
def test_an_offer_of_a_case_shows_the_receiver_enough_to_decide_only_while_pending(world: World,
                                                                                 state: str) -> None:
    item = _build(world, "case", state)
    expected = {"pending": View.PROVIDER, "accepted": View.FULL, "declined": View.NONE, "lapsed": View.NONE}
    assert view_of(item.receiver, item.case) is expected[state]
    assert live_offers().filter(pk=item.offer.pk).exists() is (state == "pending")


def test_a_lapsed_offer_cannot_be_accepted_and_tells_the_offerer(world: World) -> None:
    from casetrail.cases.safeguards import case_findings

    item = _build(world, "case", "lapsed")
    with pytest.raises(InvalidInput) as refused:
        services.handover_respond(user=item.receiver, handover=item.offer, accept=True, note="")
    assert "lapsed" in refused.value.errors["accept"][0]
    item.offer.refresh_from_db()
    item.case.refresh_from_db()
    assert item.offer.status == HandOver.Status.OFFERED and item.offer.is_lapsed
    assert item.case.owner_user == world.users["coordinator"]
    finding = next(f for f in case_findings(item.case) if f.rule == "handover.unanswered")
    assert world.users["coordinator"].pk == finding.notify[0]  # the offerer
    assert "lapsed" in finding.message
    # Once lapsed, the offerer may offer it again.
    services.handover_offer(user=world.users["coordinator"], case=item.case, target_type="case",
                            target_id=item.case.pk, to_user=item.receiver, reason=REASON)


# ---------------------------------------------------------------- owners and receivers: bad input


@pytest.mark.parametrize("kind", KINDS)
def test_the_owners_offered_are_exactly_those_the_policy_allows(world: World, kind: str) -> None:
    item = _build(world, kind, "pending")
    addressed = item.target.to_agency_id if kind == "information_request" else None
    offered = set(eligible_owners(Ownable(kind), item.case, addressed_agency_id=addressed)
                  .values_list("username", flat=True))
    for name in ("oversight", "admin"):
        assert world.users[name].username not in offered
    expected = {
        "case": {"coordinator", "chair", "othercoord", "newcoord"},
        "support_action": {"police", "police2", "coordinator", "chair", "panel", "nhs2", "referrer"},
        "tasking": {"provider", "provider_two"},
        "information_request": {"panel", "nhs2"},
    }
    assert offered == expected[kind]


@pytest.mark.parametrize("to, message", [
    ("coordinator", "yourself"),
    ("oversight", "only read"),
    ("admin", "no agency"),
    ("other_coordinator", "not involved in this case"),
    ("provider", "only these roles"),
])
def test_a_support_action_is_never_handed_to_someone_who_may_not_own_it(world: World, to: str,
                                                                         message: str) -> None:
    case = case_in_support(world)
    action = services.support_action_add(user=world.users["coordinator"], case=case, description="Weekly mentoring",
                                         vulnerabilities=services.latest_vulnerability_codes(case)[:1],
                                         owner_user=world.users["chair"], due_on=clock.today() + timedelta(days=9))
    before = Event.objects.count()
    with pytest.raises(InvalidInput) as refused:
        services.handover_offer(user=world.users["coordinator"], case=case, target_type="support_action",
                                target_id=action.pk, to_user=world.users[to], reason=REASON)
    assert message in refused.value.errors["to_user"][0].lower()
    assert not HandOver.objects.exists() and Event.objects.count() == before


@pytest.mark.parametrize("to", ["police", "provider", "oversight", "referrer"])
def test_a_case_in_support_is_never_handed_to_someone_who_cannot_do_its_work(world: World, to: str) -> None:
    case = case_in_support(world)
    with pytest.raises(InvalidInput) as refused:
        services.handover_offer(user=world.users["coordinator"], case=case, target_type="case", target_id=case.pk,
                                to_user=world.users[to], reason=REASON)
    assert "cannot take this on" in refused.value.errors["to_user"][0]
    assert not HandOver.objects.exists()


@pytest.mark.parametrize("owner", ["oversight", "admin", "other_coordinator", "provider"])
def test_a_support_action_never_gets_an_owner_who_may_not_act(world: World, owner: str) -> None:
    case = case_in_support(world)
    with pytest.raises(InvalidInput) as refused:
        services.support_action_add(user=world.users["coordinator"], case=case, description="Weekly mentoring",
                                    vulnerabilities=services.latest_vulnerability_codes(case)[:1],
                                    owner_user=world.users[owner], due_on=clock.today() + timedelta(days=9))
    assert refused.value.errors["owner_user"]
    assert not case.support_actions.exists()


def test_an_information_request_goes_only_to_an_agency_whose_duty_owner_may_answer(world: World) -> None:
    case = case_in_support(world)
    with pytest.raises(InvalidInput) as refused:  # the school's duty owner is a referrer
        services.information_request_create(user=world.users["coordinator"], case=case, to_agency=world.school,
                                            question="Is he attending school regularly?",
                                            requested_on=clock.today())
    assert "cannot answer information requests" in refused.value.errors["to_agency"][0]


def test_a_tasking_goes_only_to_an_approved_provider(world: World) -> None:
    case = case_in_support(world)
    with pytest.raises(InvalidInput) as refused:
        services.tasking_commission(user=world.users["coordinator"], case=case, provider_user=world.users["panel"],
                                    sessions_commissioned=2, purpose="Mentoring sessions", vulnerabilities=[],
                                    commissioned_on=clock.today())
    assert "approved intervention provider" in refused.value.errors["provider_user"][0]


# ---------------------------------------------------------------- through the API


def _api(world: World, user: User) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {api_token_issue(user=user, name='tests')[1]}"}


API_CHANGES: dict[str, Callable[[Any], tuple[str, dict[str, Any]]]] = {
    "case": lambda case: (f"/api/v1/cases/{case.pk}/notes", {"noted_on": str(clock.today()), "text": TEXT}),
    "support_action": lambda a: (f"/api/v1/support-actions/{a.pk}/complete",
                                 {"status": "done", "completed_on": str(clock.today()), "note": TEXT}),
    "tasking": lambda t: (f"/api/v1/taskings/{t.pk}/acknowledge", {"acknowledged_on": str(clock.today())}),
    "information_request": lambda r: (f"/api/v1/information-requests/{r.pk}/reply",
                                      {"reply": TEXT, "replied_on": str(clock.today())}),
}


@pytest.mark.parametrize("state", STATES)
@pytest.mark.parametrize("kind", KINDS)
def test_through_the_api_the_receiver_changes_an_item_only_once_accepted(client: Client, world: World, kind: str,
                                                                          state: str) -> None:
    item = _build(world, kind, state)
    for name in ("oversight", "other_coordinator", "receiver"):
        path, body = API_CHANGES[kind](item.target)
        auth = _api(world, item.user(name))
        before = Event.objects.count()
        answer = client.post(path, body, content_type="application/json", **auth)
        if name in allowed_to_change(kind, state):
            assert answer.status_code in (200, 201), (name, answer.content)
            return  # the item has changed; the refusals before it are what this test is about
        assert answer.status_code in (403, 404), (name, answer.status_code, answer.content)
        assert Event.objects.count() == before


def test_through_the_api_a_hand_over_to_oneself_or_a_read_only_user_is_a_field_error(client: Client,
                                                                                   world: World) -> None:
    case = case_in_support(world)
    coordinator = world.users["coordinator"]
    for to, message in [(coordinator, "yourself"), (world.users["oversight"], "only read")]:
        answer = client.post(f"/api/v1/cases/{case.pk}/handovers",
                             {"target_type": "case", "target_id": case.pk, "to_user_id": to.pk, "reason": REASON},
                             content_type="application/json", **_api(world, coordinator))
        assert answer.status_code == 422
        assert message in answer.json()["errors"]["to_user"][0]
    assert not HandOver.objects.exists()


def test_through_the_api_an_offer_shows_when_it_must_be_answered(client: Client, world: World) -> None:
    item = _build(world, "case", "pending")
    answer = client.get("/api/v1/my-work", **_api(world, item.receiver))
    offer = answer.json()["awaiting_acceptance"][0]
    assert offer["lapsed"] is False and date.fromisoformat(offer["respond_by"]) >= clock.today()
