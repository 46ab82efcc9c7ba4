"""Property-based: random sequences of real service calls never break the safeguards' promises.

Whatever order people act in, and however often they are refused:
- no case reaches "closed" without both post-exit reviews, nor while a hand-over awaits an answer;
- no case exits while a commissioned session is neither delivered nor cancelled with a reason;
- no open case or task is ever without an active owner.
"""

from __future__ import annotations

from datetime import date, timedelta

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from casetrail.cases import services
from casetrail.cases.access import live_offers
from casetrail.cases.models import Case, HandOver, InformationRequest, Session, SupportAction
from casetrail.core.dates import add_months
from casetrail.core.errors import DomainError

from .conftest import World, case_in_support, frozen_at, moment

TODAY = date.today()
WHY = "Recorded for the property test, with enough words."

ACTIONS = [
    "acknowledge", "deliver", "cancel", "add_action", "complete_action", "consult", "exit", "review_6",
    "review_12", "close", "offer_case", "accept", "decline", "waive", "commission", "ask_partner", "transfer",
    # Repeated entries make the later stages likelier, so exits and closures are tried often.
    "prepare_exit", "prepare_exit", "prepare_exit", "exit", "exit", "exit", "review_6", "review_12", "close",
    "both_reviews", "close", "reviews_then_close", "reviews_then_close",
]


def _prepare_exit(world: World, case: Case) -> None:
    """Everything the exit gate asks for, as of now; later steps may undo it (a new tasking, say)."""
    for name in ("consult", "add_action", "complete_action"):
        _do(name, world, case)
    for tasking in case.taskings.all():
        if tasking.acknowledged_on is None:
            services.tasking_acknowledge(user=world.users["provider"], tasking=tasking, acknowledged_on=TODAY)
        for _ in range(tasking.sessions_commissioned - tasking.sessions.count()):
            services.session_record(user=world.users["provider"], tasking=tasking, held_on=TODAY, report=WHY)


def _do(name: str, world: World, case: Case) -> None:
    u = world.users
    tasking = case.taskings.order_by("-pk").first()
    match name:
        case "acknowledge":
            services.tasking_acknowledge(user=u["provider"], tasking=tasking, acknowledged_on=TODAY)
        case "deliver":
            services.session_record(user=u["provider"], tasking=tasking, held_on=TODAY, report=WHY)
        case "cancel":
            services.session_cancel(user=u["provider"], tasking=tasking, cancelled_on=TODAY, reason=WHY)
        case "add_action":
            services.support_action_add(user=u["coordinator"], case=case, description="Mentoring at school",
                                        vulnerabilities=services.latest_vulnerability_codes(case),
                                        owner_user=u["coordinator"], due_on=TODAY + timedelta(days=20))
        case "complete_action":
            action = case.support_actions.filter(status="open").first()
            if action is not None:
                services.support_action_complete(user=u["coordinator"], action=action, status="done",
                                                 completed_on=TODAY, note="Delivered as planned.")
        case "consult":
            services.referrer_consultation_record(user=u["coordinator"], case=case, consulted_on=TODAY,
                                                  method="phone", summary=WHY)
        case "exit":
            services.case_exit(user=u["chair"], case=case, expected_version=None, exited_on=TODAY, rationale=WHY,
                               residual_concerns="", onward_support="", attendees=["Chair, LA", "Officer, CTP"])
        case "review_6" | "review_12":
            # Reviews happen when they fall due: the clock moves on to that day.
            months = int(name.split("_")[1])
            due = add_months(case.exited_on, months) if case.exited_on else TODAY
            with frozen_at(moment(due)):
                services.post_exit_review_record(user=u["police"], case=case, expected_version=None,
                                                 months=months, held_on=due, outcome="no_concerns", notes=WHY)
        case "close":
            # Whoever owns the case closes it (a hand-over may have moved it to another council).
            closer = case.owner_user if case.owner_user.has_role("channel_coordinator") else u["coordinator"]
            day = add_months(case.exited_on, 12) if case.exited_on else TODAY
            with frozen_at(moment(day)):
                services.case_close(user=closer, case=case, expected_version=None, closed_on=day, rationale=WHY)
        case "offer_case":
            services.handover_offer(user=u["coordinator"], case=case, target_type="case", target_id=case.pk,
                                    to_user=u["other_coordinator"], reason=WHY)
        case "transfer":
            services.case_transfer_offer(user=u["coordinator"], case=case, to_agency=world.other_council,
                                         kind="moved_area", reason=WHY)
        case "accept" | "decline":
            offer = case.handovers.filter(status=HandOver.Status.OFFERED).first()
            if offer is not None:
                services.handover_respond(user=offer.to_user, handover=offer, accept=name == "accept", note=WHY)
        case "waive":
            codes = services.latest_vulnerability_codes(case)
            if codes:
                services.vulnerability_waiver_record(user=u["chair"], case=case, code=codes[-1], reason=WHY,
                                                     approved_on=TODAY)
        case "commission":
            services.tasking_commission(user=u["coordinator"], case=case, provider_user=u["provider"],
                                        sessions_commissioned=1, purpose=WHY, vulnerabilities=[],
                                        commissioned_on=TODAY)
        case "both_reviews":
            for months in (6, 12):
                if not case.reviews.filter(months_after_exit=months).exists():
                    _do(f"review_{months}", world, case)
        case "reviews_then_close":
            _do("both_reviews", world, case)
            _do("close", world, Case.objects.get(pk=case.pk))
        case "prepare_exit":
            _prepare_exit(world, case)
        case "ask_partner":
            services.information_request_create(user=u["coordinator"], case=case, to_agency=world.nhs,
                                                question="Is he known to services?", requested_on=TODAY)


def _check_promises(case: Case, exited_before: bool) -> None:
    case.refresh_from_db()
    if case.stage == "closed":
        assert set(case.reviews.filter(kind="post_exit").values_list("months_after_exit", flat=True)) == {6, 12}
        assert not live_offers().filter(case=case).exists()
    if case.stage == "exited" and not exited_before:
        # It has just exited: every commissioned session is accounted for, each cancellation with a reason.
        for tasking in case.taskings.all():
            assert tasking.sessions.count() == tasking.sessions_commissioned
        assert all(s.cancellation_reason.strip() for s in Session.objects.filter(
            tasking__case=case, status=Session.Status.CANCELLED))
    if case.stage != "closed":
        assert case.owner_user is not None and case.owner_user.is_active and case.owner_agency_id is not None
    for action in SupportAction.objects.filter(case=case, status="open"):
        assert action.owner_user is not None and action.owner_user.is_active
    for request in InformationRequest.objects.filter(case=case, replied_on__isnull=True):
        assert request.owner_user is not None and request.owner_user.is_active
    for tasking in case.taskings.all():
        assert tasking.provider_user is not None and tasking.provider_user.is_active


@settings(max_examples=40, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(st.sampled_from(ACTIONS), min_size=3, max_size=24))
# Paths through exit and closure, tried on every run whatever the random examples are.
@example(steps=["prepare_exit", "exit", "both_reviews", "close"])
@example(steps=["prepare_exit", "commission", "exit", "acknowledge", "cancel", "exit", "review_6", "close",
                "review_12", "close"])
@example(steps=["exit", "review_6", "review_12", "close", "prepare_exit", "offer_case", "accept", "exit",
                "reviews_then_close"])
def test_no_sequence_of_actions_breaks_the_safeguards(world: World, steps: list[str]) -> None:
    case = case_in_support(world)
    stages = []
    for name in steps:
        exited_before = Case.objects.get(pk=case.pk).stage in ("exited", "closed")
        try:
            _do(name, world, Case.objects.get(pk=case.pk))
        except DomainError:
            pass  # a refusal is an acceptable answer; the promises must hold either way
        _check_promises(case, exited_before)
        stages.append(case.stage)
    event("reached " + (stages[-1] if stages else "support"))


def test_the_properties_can_fail(world: World) -> None:
    """The checker itself notices a broken promise (so the property test is not vacuous)."""
    case = case_in_support(world)
    Case.objects.filter(pk=case.pk).update(stage="closed")
    try:
        _check_promises(case, exited_before=True)
    except AssertionError:
        return
    raise AssertionError("a closed case without post-exit reviews was not noticed")
