"""Every change to a case: one function per intention, one transaction, its event inside it.

Each service checks the access policy, refuses a stale form (optimistic concurrency),
validates its input against the core's rules and only then writes. A rejected call
writes nothing.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable, Sequence
from datetime import date, timedelta
from typing import Any, ParamSpec, TypeVar

from django.db import transaction

from casetrail import clock
from casetrail.accounts.models import Agency, User
from casetrail.audit.services import access_log, event_record
from casetrail.cases import safeguards, stored_findings
from casetrail.cases.access import (
    allowed,
    live_offers,
    offer_due_on,
    offer_lapsed,
    owner_refusal,
    require,
)
from casetrail.cases.earlier_records import possible_matches_find
from casetrail.cases.models import (
    AgendaItem,
    Assessment,
    BreakGlassGrant,
    Case,
    CaseNote,
    Consent,
    Decision,
    HandOver,
    InformationRequest,
    PanelMeeting,
    ReferrerConsultation,
    RetentionHold,
    Review,
    Session,
    SignificantEvent,
    SupportAction,
    Tasking,
    VulnerabilityWaiver,
    WorkStatus,
)
from casetrail.core import frameworks
from casetrail.core import safeguards as rules
from casetrail.core.codes import (
    CONSENT_REFUSAL_CONSEQUENCES,
    NFA_REASONS,
    PANEL_REVIEW_OUTCOMES,
    POST_EXIT_OUTCOMES,
    SIGNIFICANT_EVENT_OUTCOMES,
    TASKING_END_REASONS,
)
from casetrail.core.consent import consent_errors, withdrawal_errors
from casetrail.core.decisions import DecisionType, occurred_errors, rationale_errors
from casetrail.core.errors import (
    AccessDenied,
    InvalidInput,
    StaleState,
    TransitionNotAllowed,
    Unmet,
)
from casetrail.core.lifecycle import (
    TRANSITIONS,
    Action,
    CaseFacts,
    Stage,
    transfer_receiver_kind,
    unmet_conditions,
)
from casetrail.core.policy import Ownable, Permission, View, acting_role
from casetrail.core.roles import AgencyKind, Role
from casetrail.core.schedules import information_request_due, post_exit_review_dates
from casetrail.people.models import Person
from casetrail.people.services import person_index
from casetrail.web.logging import channel_var

P = ParamSpec("P")
R = TypeVar("R")

GATEWAY_OUTCOMES = {
    "no_further_action": Action.GATEWAY_NO_FURTHER_ACTION,
    "signpost": Action.GATEWAY_SIGNPOST,
    "police_led": Action.GATEWAY_POLICE_LED,
    "refer_to_panel": Action.GATEWAY_REFER_TO_PANEL,
}


# ---------------------------------------------------------------- shared steps


def _errors(**fields: list[str]) -> None:
    """Raise every collected field error at once, before anything is written."""
    found = {name: messages for name, messages in fields.items() if messages}
    if found:
        raise InvalidInput(found)


def _begin(user: User, permission: Permission, case: Case, expected_version: int | None) -> tuple[Case, str]:
    """Lock the case row, check the policy and the form's version; returns (case, acting role)."""
    # FOR NO KEY UPDATE (PostgreSQL): a row that other transactions only point at through a foreign
    # key (an access-log entry naming the case, written while this one waits for the log) must not
    # wait for this lock, or the two deadlock; the key never changes here.
    locked = Case.objects.select_for_update(no_key=True).select_related("referral", "person").get(pk=case.pk)
    require(user, permission, locked)
    if expected_version is not None and expected_version != locked.version:
        raise StaleState()
    role = acting_role(user.as_actor(), permission)
    assert role is not None  # require() has established it
    return locked, role.value


def _occurred(case: Case, day: date | None, field: str = "occurred_on", not_before: date | None = None,
              not_before_label: str = "") -> list[str]:
    if day is None:
        return ["Enter the date"]
    return occurred_errors(day, today=clock.today(), birth=case.person.birth, not_before=not_before,
                           not_before_label=not_before_label)


def _facts(case: Case, **overrides: Any) -> CaseFacts:
    """The recorded facts the lifecycle's guards read."""
    values: dict[str, Any] = {
        "stage": Stage(case.stage),
        "on_panel_agenda": case.agenda_items.exists(),
        "consent_active": any(c.is_active for c in case.consents.all()),
        "submitted_assessments": case.assessments.filter(status=Assessment.Status.SUBMITTED).count(),
        "post_exit_reviews_recorded": frozenset(
            case.reviews.filter(kind=Review.Kind.POST_EXIT).values_list("months_after_exit", flat=True)
        ),
        "pending_information_requests": case.information_requests.filter(replied_on__isnull=True).count(),
    }
    values.update(overrides)
    return CaseFacts(**values)


def _decide(case: Case, *, type: DecisionType, outcome: str, rationale: str, user: User, role: str,
            on: date, details: dict[str, Any] | None = None, attendees: list[str] | None = None,
            dissent: str = "") -> Decision:
    from casetrail.audit.services import as_moment

    previous = case.decisions.filter(type=type).order_by("-occurred_at", "-id").first()
    return Decision.objects.create(
        case=case, type=type, outcome=outcome, rationale=rationale.strip(), author=user,
        author_role=role, author_agency_id=user.agency_id, occurred_at=as_moment(on),
        recorded_at=clock.now(), details=details or {}, attendees=attendees or [],
        dissent=dissent.strip(), supersedes=previous,
    )


def _move(case: Case, action: Action, facts: CaseFacts, gates: Sequence[Unmet] = (), **fields: Any) -> None:
    """Apply the core's transition, with any safeguard gates, and save the case with its new version.

    In a replay of the old process (and only there) a refused move is recorded as overridden
    and goes ahead, so that every later failure can still be checked.
    """
    _gate(case, action.value, [*unmet_conditions(action, facts), *gates])
    case.stage = TRANSITIONS[action].target.value
    _save(case, stage=case.stage, **fields)


def _gate(case: Case, action: str, refused: Sequence[Unmet]) -> None:
    """Refuse `action` for every unmet condition; in a replay of the old process record it as
    overridden instead and let it go ahead."""
    if not refused:
        return
    if not safeguards.is_historic() or any(u.code == "stage.not_allowed" for u in refused):
        raise TransitionNotAllowed(action, list(refused))
    event_record(kind="gate.overridden", subject=case, case=case,
                 summary=f"'{action.replace('_', ' ').capitalize()}' went ahead as in the old process.",
                 data={"action": action, "rules": [u.code for u in refused],
                       "unmet": " ".join(u.message for u in refused),
                       "unmet_list": [{"code": u.code, "message": u.message, "who": u.who} for u in refused]})


STATE_FIELDS = {"stage", "owner_user", "owner_user_id", "owner_agency", "owner_agency_id"}


def _save(case: Case, **fields: Any) -> None:
    for name, value in fields.items():
        setattr(case, name, value)
    case.version += 1
    case.save(update_fields=[*fields.keys(), "version"])
    if STATE_FIELDS & fields.keys():
        # The stage and owner over time, so the safeguards can be asked about any past date.
        event_record(kind="case.state", subject=case, case=case,
                     summary=f"Stage: {Stage(case.stage).label}; owner changed" if "stage" not in fields
                     else f"Stage: {Stage(case.stage).label}",
                     data={"stage": case.stage, "owner_user": case.owner_user_id,
                           "owner_agency": case.owner_agency_id})


def _event(case: Case, kind: str, subject: Any, user: User, role: str, on: date | None, summary: str,
           **data: Any) -> None:
    """The change's event in the case history, and its alteration of the person's record in the
    access log (DPA 2018 s.62), both in the change's transaction."""
    event_record(kind=kind, subject=subject, case=case, actor=user, role=role, occurred_at=on,
                 summary=summary, data=data)
    access_log(user=user, operation="alteration", subject=subject, case=case, person=case.person,
               channel=channel_var.get())


def _refusal(reason: str | None) -> list[str]:
    return [reason] if reason else []


def _duty_owner(agency: Agency) -> User:
    if agency.duty_owner_id is None:
        raise InvalidInput.single("", f"{agency.name} has no duty owner to receive the work; ask an administrator")
    return agency.duty_owner  # type: ignore[return-value]


# ---------------------------------------------------------------- gateway


def looks_again_for_earlier_records(permission: Permission) -> Callable[[Callable[P, R]], Callable[P, R]]:
    """Before the decision, look again for possible earlier records of the person, in their own
    transaction, so what a newer index or model finds is kept even when the decision is then
    refused because of it (principle 11: nothing waits for a job to have run)."""

    def wrap(service: Callable[P, R]) -> Callable[P, R]:
        @functools.wraps(service)
        def run(*args: P.args, **kwargs: P.kwargs) -> R:
            user, case = kwargs["user"], kwargs["case"]
            assert isinstance(user, User) and isinstance(case, Case)
            if allowed(user, permission, case):  # a refused caller is told so by the service itself
                possible_matches_find(case=Case.objects.select_related("referral", "person").get(pk=case.pk))
            return service(*args, **kwargs)

        return run

    return wrap


@looks_again_for_earlier_records(Permission.GATEWAY_DECIDE)
@transaction.atomic
def gateway_decide(*, user: User, case: Case, expected_version: int | None, deconfliction_done: bool,
                   database_checks_done: bool, referrer_contacted_on: date | None,
                   referrer_contact_summary: str, outcome: str, signposted_to: str, rationale: str,
                   decided_on: date | None, nfa_reasons: Sequence[str] = (),
                   referrer_contact_method: str = "phone") -> Decision:
    """The gateway outcome; refused while any possible earlier record of the person is unresolved."""
    case, role = _begin(user, Permission.GATEWAY_DECIDE, case, expected_version)
    action = GATEWAY_OUTCOMES.get(outcome)
    reasons = list(dict.fromkeys(nfa_reasons))
    contacted_errors: list[str] = []
    if referrer_contacted_on is not None:
        contacted_errors = _occurred(case, referrer_contacted_on, not_before=case.opened_at.date(),
                                     not_before_label="the date of the referral")
    _errors(
        outcome=[] if action else ["Select the outcome of the gateway assessment"],
        signposted_to=["Enter the service the person is signposted to"]
        if outcome == "signpost" and not signposted_to.strip() else [],
        rationale=rationale_errors(rationale),
        decided_on=_occurred(case, decided_on, not_before=case.opened_at.date(),
                             not_before_label="the date of the referral"),
        referrer_contacted_on=contacted_errors,
        referrer_contact_summary=["Summarise the contact with the referrer"]
        if referrer_contacted_on and not referrer_contact_summary.strip() else [],
        referrer_contact_method=["Select how the referrer was contacted"]
        if referrer_contacted_on and referrer_contact_method not in ReferrerConsultation.Method.values else [],
        nfa_reasons=(["Select why no further action is needed"] if not reasons else
                     [f"Unknown reason: {r}" for r in reasons if r not in NFA_REASONS])
        if outcome == "no_further_action" else [],
    )
    assert action is not None and decided_on is not None
    facts = _facts(case, gateway_checks_complete=deconfliction_done and database_checks_done)
    record = safeguards.case_record(case)
    gates = rules.unresolved_match_gate(record.possible_matches)
    if action in (Action.GATEWAY_NO_FURTHER_ACTION, Action.GATEWAY_SIGNPOST):
        gates += _pending_offers_gate(case)
    if action is Action.GATEWAY_NO_FURTHER_ACTION:
        gates += rules.gateway_close_gate(record, on=decided_on, policy=safeguards.current_policy(),
                                          reasons=reasons, second_reviewer_id=_second_reviewer(case, user))
    details = {
        "deconfliction_done": deconfliction_done,
        "database_checks_done": database_checks_done,
        "referrer_contacted_on": referrer_contacted_on.isoformat() if referrer_contacted_on else None,
        "referrer_contact_summary": referrer_contact_summary.strip(),
        "signposted_to": signposted_to.strip(),
        "nfa_reasons": reasons,
    }
    fields: dict[str, Any] = {"outcome": outcome}
    if action is Action.GATEWAY_REFER_TO_PANEL:
        fields.update(referred_to_panel_on=decided_on, owner_agency=case.local_authority,
                      owner_user=_duty_owner(case.local_authority))
    elif action is Action.GATEWAY_NO_FURTHER_ACTION:
        fields.update(closed_on=decided_on, owner_user=user, owner_agency_id=user.agency_id)
    else:
        fields.update(owner_user=user, owner_agency_id=user.agency_id)
    _move(case, action, facts, gates, **fields)
    if referrer_contacted_on is not None:
        _consultation(case, user, role, referrer_contacted_on, referrer_contact_method, referrer_contact_summary)
    decision = _decide(case, type=DecisionType.GATEWAY, outcome=outcome, rationale=rationale, user=user,
                       role=role, on=decided_on, details=details)
    _event(case, "gateway.decided", decision, user, role, decided_on,
           f"Gateway outcome: {outcome.replace('_', ' ')}", outcome=outcome, stage=case.stage)
    safeguards.referrer_outcome_notify(case=case, decision=decision)
    return decision


def _second_reviewer(case: Case, decider: User) -> int | None:
    """A second officer who agreed, since this referral arrived, that it may close at the gateway."""
    review = case.decisions.filter(type=DecisionType.GATEWAY_SECOND_REVIEW, outcome="agree_close") \
        .exclude(author=decider).order_by("-recorded_at").first()
    return review.author_id if review else None


@transaction.atomic
def gateway_second_review_record(*, user: User, case: Case, agree: bool | None, rationale: str,
                                 reviewed_on: date | None) -> Decision:
    """A second police officer's review of a proposal to close a repeat referral at the gateway."""
    case, role = _begin(user, Permission.GATEWAY_DECIDE, case, None)
    _errors(
        stage=["Only a referral at the gateway or a police-led case can be reviewed this way"]
        if case.stage not in (Stage.GATEWAY, Stage.POLICE_LED) else [],
        agree=["Select whether you agree the referral can close"] if agree is None else [],
        rationale=rationale_errors(rationale),
        reviewed_on=_occurred(case, reviewed_on, not_before=case.opened_at.date(),
                              not_before_label="the date of the referral"),
    )
    assert reviewed_on is not None
    decision = _decide(case, type=DecisionType.GATEWAY_SECOND_REVIEW,
                       outcome="agree_close" if agree else "disagree_close", rationale=rationale, user=user,
                       role=role, on=reviewed_on)
    _save(case)
    _event(case, "gateway.second_review", decision, user, role, reviewed_on,
           "Second officer " + ("agreed the referral may close" if agree else "did not agree to close"))
    return decision


@transaction.atomic
def signposting_reply(*, user: User, case: Case, expected_version: int | None, accepted: bool | None,
                      service_contact: str, rationale: str, replied_on: date | None) -> Decision:
    case, role = _begin(user, Permission.RECORD_SIGNPOSTING_REPLY, case, expected_version)
    _errors(
        accepted=["Select whether the service accepted the referral"] if accepted is None else [],
        service_contact=["Enter who at the service replied"] if not service_contact.strip() else [],
        rationale=rationale_errors(rationale),
        replied_on=_occurred(case, replied_on),
    )
    assert replied_on is not None
    action = Action.SIGNPOSTING_ACCEPTED if accepted else Action.SIGNPOSTING_DECLINED
    fields: dict[str, Any] = {"closed_on": replied_on, "outcome": "signposted"} if accepted else {"outcome": ""}
    _move(case, action, _facts(case), _pending_offers_gate(case) if accepted else [], **fields)
    decision = _decide(case, type=DecisionType.SIGNPOSTING_REPLY, outcome="accepted" if accepted else "declined",
                       rationale=rationale, user=user, role=role, on=replied_on,
                       details={"service_contact": service_contact.strip()})
    _event(case, "signposting.replied", decision, user, role, replied_on,
           "Signposted service " + ("accepted the referral" if accepted else "declined; back to gateway"))
    return decision


@transaction.atomic
def police_led_review_record(*, user: User, case: Case, reviewed_on: date | None, rationale: str) -> Decision:
    """A periodic review of a police-led case: what was checked, and why it stays police-led."""
    case, role = _begin(user, Permission.POLICE_LED_DECIDE, case, None)
    _errors(
        stage=["Only a police-led case is reviewed this way"] if case.stage != Stage.POLICE_LED else [],
        rationale=rationale_errors(rationale),
        reviewed_on=_occurred(case, reviewed_on, "reviewed_on"),
    )
    assert reviewed_on is not None
    decision = _decide(case, type=DecisionType.POLICE_LED_REVIEW, outcome="reviewed", rationale=rationale,
                       user=user, role=role, on=reviewed_on)
    _save(case)
    _event(case, "police_led.reviewed", decision, user, role, reviewed_on, "Police-led case reviewed")
    return decision


@looks_again_for_earlier_records(Permission.POLICE_LED_DECIDE)
@transaction.atomic
def police_led_decide(*, user: User, case: Case, expected_version: int | None, outcome: str, rationale: str,
                      decided_on: date | None) -> Decision:
    """Refer a police-led case to the panel or close it; closing is refused while any possible
    earlier record of the person is unresolved."""
    case, role = _begin(user, Permission.POLICE_LED_DECIDE, case, expected_version)
    actions = {"refer_to_panel": Action.POLICE_LED_REFER_TO_PANEL, "close": Action.POLICE_LED_CLOSE}
    _errors(outcome=[] if outcome in actions else ["Select what happens to the case"],
            rationale=rationale_errors(rationale), decided_on=_occurred(case, decided_on))
    assert decided_on is not None
    if outcome == "refer_to_panel":
        fields: dict[str, Any] = {"referred_to_panel_on": decided_on, "owner_agency": case.local_authority,
                                  "owner_user": _duty_owner(case.local_authority)}
    else:
        fields = {"closed_on": decided_on, "outcome": "police_led"}
    gates: list[Unmet] = []
    if outcome == "close":
        record = safeguards.case_record(case)
        # The gateway's repeat-referral rule holds for a police-led closure too.
        repeat = rules.repeat_referral_gate(record, on=decided_on, policy=safeguards.current_policy(),
                                            second_reviewer_id=_second_reviewer(case, user))
        gates = [*rules.unresolved_match_gate(record.possible_matches), *repeat, *_pending_offers_gate(case)]
    _move(case, actions[outcome], _facts(case), gates, **fields)
    decision = _decide(case, type=DecisionType.POLICE_LED, outcome=outcome, rationale=rationale, user=user,
                       role=role, on=decided_on)
    _event(case, "police_led.decided", decision, user, role, decided_on, f"Police-led outcome: {outcome}")
    return decision


# ---------------------------------------------------------------- panel


@transaction.atomic
def panel_meeting_create(*, user: User, meets_on: date | None, chair: User | None, location: str) -> PanelMeeting:
    require(user, Permission.MANAGE_PANEL)
    authority = user.agency
    _errors(
        meets_on=["Enter the date of the meeting"] if meets_on is None else [],
        chair=["Select a panel chair from your local authority"]
        if chair is None or chair.agency_id != user.agency_id or not chair.has_role(Role.PANEL_CHAIR) else [],
        agency=["Only a local authority runs a Channel panel"]
        if authority is None or authority.kind != AgencyKind.LOCAL_AUTHORITY else [],
    )
    meeting = PanelMeeting.objects.create(local_authority=authority, meets_on=meets_on, chair=chair,
                                          location=location.strip(), created_by=user)
    role = acting_role(user.as_actor(), Permission.MANAGE_PANEL)
    event_record(kind="panel.meeting_created", subject=meeting, actor=user, role=role or "",
                 summary=f"Panel meeting on {meets_on}")
    return meeting


@transaction.atomic
def agenda_add(*, user: User, meeting: PanelMeeting, case: Case) -> AgendaItem:
    case, role = _begin(user, Permission.MANAGE_PANEL, case, None)
    _errors(
        meeting=["Choose a meeting of your own local authority's panel"]
        if meeting.local_authority_id != case.local_authority_id else [],
        case=["Only a case referred to the panel can go on its agenda"]
        if case.stage not in (Stage.PANEL, Stage.SUPPORT, Stage.AWAITING_CONSENT) else [],
    )
    if AgendaItem.objects.filter(meeting=meeting, case=case).exists():
        raise InvalidInput.single("meeting", "The case is already on that meeting's agenda")
    item = AgendaItem.objects.create(meeting=meeting, case=case, added_at=clock.now(), added_by=user)
    _save(case)
    _event(case, "panel.agenda_added", item, user, role, None, f"Added to the panel agenda for {meeting.meets_on}")
    return item


@transaction.atomic
def information_request_create(*, user: User, case: Case, to_agency: Agency | None, question: str,
                               requested_on: date | None) -> InformationRequest:
    case, role = _begin(user, Permission.MANAGE_PANEL, case, None)
    _errors(
        to_agency=["Select the partner agency to ask"] if to_agency is None else [],
        question=["Enter the question for the partner agency"] if len(question.strip()) < 10 else [],
        requested_on=_occurred(case, requested_on),
    )
    assert to_agency is not None and requested_on is not None
    owner = _duty_owner(to_agency)
    refused = owner_refusal(Ownable.INFORMATION_REQUEST, owner, case, addressed_agency_id=to_agency.pk)
    if refused:
        raise InvalidInput.single("to_agency", f"{to_agency.name}'s duty owner cannot answer information "
                                               f"requests ({refused[0].lower()}{refused[1:]}); choose another agency")
    request = InformationRequest.objects.create(
        case=case, to_agency=to_agency, owner_user=owner, question=question.strip(),
        requested_by=user, requested_on=requested_on, due_on=information_request_due(requested_on),
    )
    _save(case)
    _event(case, "information_request.sent", request, user, role, requested_on,
           f"Information requested from {to_agency.name}", to_agency=to_agency.pk)
    return request


@transaction.atomic
def information_request_reply(*, user: User, request: InformationRequest, reply: str,
                              replied_on: date | None) -> InformationRequest:
    request = InformationRequest.objects.select_for_update().get(pk=request.pk)
    case = request.case
    if user.agency_id != request.to_agency_id and user.pk != request.owner_user_id:
        raise AccessDenied("Only the agency the request was sent to can reply.")
    require(user, Permission.ANSWER_INFORMATION_REQUEST)
    if request.replied_on is not None:
        raise InvalidInput.single("reply", "This request has already been answered")
    _errors(reply=["Enter the reply"] if len(reply.strip()) < 5 else [],
            replied_on=_occurred(case, replied_on, not_before=request.requested_on,
                                 not_before_label="the date of the request"))
    request.reply, request.replied_by, request.replied_on = reply.strip(), user, replied_on
    request.save(update_fields=["reply", "replied_by", "replied_on"])
    role = acting_role(user.as_actor(), Permission.ANSWER_INFORMATION_REQUEST) or ""
    _save(Case.objects.select_for_update(no_key=True).get(pk=case.pk))
    _event(case, "information_request.answered", request, user, role, replied_on,
           f"{user.agency} answered an information request")
    return request


@transaction.atomic
def panel_decide(*, user: User, case: Case, expected_version: int | None, adopt: bool | None,
                 attendees: list[str], rationale: str, dissent: str, signposted_to: str,
                 decided_on: date | None) -> Decision:
    case, role = _begin(user, Permission.PANEL_DECIDE, case, expected_version)
    _errors(
        adopt=["Select whether the panel adopts the case"] if adopt is None else [],
        attendees=["Record at least two attendees, with their agencies"] if len(attendees) < 2 else [],
        rationale=rationale_errors(rationale),
        signposted_to=["Enter where the person was signposted"]
        if adopt is False and not signposted_to.strip() else [],
        decided_on=_occurred(case, decided_on, not_before=case.referred_to_panel_on,
                             not_before_label="the referral to the panel"),
    )
    assert decided_on is not None
    if adopt:
        _move(case, Action.PANEL_ADOPT, _facts(case), adopted_on=decided_on, outcome="adopted")
    else:
        _move(case, Action.PANEL_NOT_ADOPT, _facts(case), closed_on=decided_on, outcome="not_adopted")
    decision = _decide(case, type=DecisionType.ADOPTION, outcome="adopted" if adopt else "not_adopted",
                       rationale=rationale, user=user, role=role, on=decided_on,
                       details={"signposted_to": signposted_to.strip()}, attendees=attendees, dissent=dissent)
    _event(case, "panel.decided", decision, user, role, decided_on,
           "Panel adopted the case" if adopt else "Panel did not adopt the case")
    safeguards.referrer_outcome_notify(case=case, decision=decision)
    return decision


# ---------------------------------------------------------------- consent


@transaction.atomic
def consent_record(*, user: User, case: Case, expected_version: int | None, given: bool | None, giver: str,
                   giver_name: str, capacity_confirmed: bool, capacity_notes: str, scope: str,
                   given_on: date | None, refusal_consequence: str = "") -> Consent:
    case, role = _begin(user, Permission.RECORD_CONSENT, case, expected_version)
    _errors(given=["Select whether consent was given"] if given is None else [],
            given_on=_occurred(case, given_on, not_before=case.adopted_on, not_before_label="adoption"))
    assert given is not None and given_on is not None
    errors = consent_errors(given=given, giver=giver, giver_name=giver_name, capacity_confirmed=capacity_confirmed,
                            scope=scope, on=given_on, birth=case.person.birth,
                            refusal_consequence=refusal_consequence)
    if errors:
        raise InvalidInput(errors)
    consent = Consent.objects.create(
        case=case, given=given, giver=giver, giver_name=giver_name.strip(), capacity_confirmed=capacity_confirmed,
        capacity_notes=capacity_notes.strip(), scope=scope.strip(), given_on=given_on, recorded_by=user,
        withdrawal_consequence="" if given else refusal_consequence,
    )
    if given:
        _move(case, Action.CONSENT_GIVEN, _facts(case, consent_active=True))
    else:
        _refused(case, refusal_consequence, given_on, user)
    _decide(case, type=DecisionType.CONSENT, outcome="given" if given else "refused",
            rationale=scope if given else f"Consent refused: {CONSENT_REFUSAL_CONSEQUENCES[refusal_consequence]}",
            user=user, role=role, on=given_on, details={"consent": consent.pk, "giver": giver})
    _event(case, "consent.recorded", consent, user, role, given_on,
           "Consent given" if given else "Consent refused", giver=giver)
    return consent


def _refused(case: Case, consequence: str, on: date, user: User) -> None:
    if consequence == "police_led":
        police = case.police_agency
        _move(case, Action.CONSENT_REFUSED_TO_POLICE_LED, _facts(case), owner_agency=police,
              owner_user=_duty_owner(police))
    else:
        _move(case, Action.CONSENT_REFUSED_CLOSE, _facts(case), closed_on=on, outcome="consent_refused")


@transaction.atomic
def consent_withdraw(*, user: User, case: Case, expected_version: int | None, withdrawn_on: date | None,
                     reason: str, consequence: str) -> Consent:
    case, role = _begin(user, Permission.RECORD_CONSENT, case, expected_version)
    consent = case.consents.filter(given=True, withdrawn_on__isnull=True).order_by("-given_on").first()
    if consent is None:
        raise InvalidInput.single("", "There is no current consent to withdraw")
    _errors(withdrawn_on=_occurred(case, withdrawn_on, not_before=consent.given_on,
                                   not_before_label="the date consent was given"),
            **withdrawal_errors(reason=reason, consequence=consequence))
    assert withdrawn_on is not None
    consent.withdrawn_on, consent.withdrawal_reason = withdrawn_on, reason.strip()
    consent.withdrawal_consequence = consequence
    consent.save(update_fields=["withdrawn_on", "withdrawal_reason", "withdrawal_consequence"])
    _refused(case, consequence, withdrawn_on, user)
    _decide(case, type=DecisionType.CONSENT_WITHDRAWAL, outcome=consequence, rationale=reason, user=user,
            role=role, on=withdrawn_on, details={"consent": consent.pk})
    _event(case, "consent.withdrawn", consent, user, role, withdrawn_on,
           f"Consent withdrawn: {CONSENT_REFUSAL_CONSEQUENCES[consequence]}")
    return consent


# ---------------------------------------------------------------- assessment


@transaction.atomic
def assessment_start(*, user: User, case: Case, framework_ref: str = "") -> Assessment:
    case, role = _begin(user, Permission.ASSESS, case, None)
    if case.stage not in (Stage.PANEL, Stage.AWAITING_CONSENT, Stage.SUPPORT):
        raise InvalidInput.single("", "An assessment can be made while the case is with the Channel panel")
    if case.assessments.filter(status=Assessment.Status.DRAFT).exists():
        raise InvalidInput.single("", "There is already a draft assessment: continue that one")
    try:
        framework = (frameworks.get_framework(*framework_ref.split(":", 1)) if framework_ref
                     else frameworks.current_framework(clock.today()))
    except (frameworks.UnknownFramework, TypeError, ValueError):
        raise InvalidInput.single("framework", "Select an assessment framework from the list") from None
    now = clock.now()
    assessment = Assessment.objects.create(case=case, framework_key=framework.key,
                                           framework_version=framework.version, author=user, started_at=now,
                                           updated_at=now)
    _event(case, "assessment.started", assessment, user, role, None,
           f"Assessment started on {framework.name} ({framework.version})")
    return assessment


def _framework_of(assessment: Assessment) -> frameworks.Framework:
    return frameworks.get_framework(assessment.framework_key, assessment.framework_version)


def _judgements(raw: dict[str, Any]) -> dict[str, frameworks.Judgement]:
    return {code: frameworks.Judgement(factor_code=code, present=v.get("present"),
                                       evidence=v.get("evidence", ""), nature=v.get("nature"))
            for code, v in raw.items()}


@transaction.atomic
def assessment_save(*, user: User, assessment: Assessment, expected_version: int | None,
                    judgements: dict[str, dict[str, Any]], summary: str | None = None) -> Assessment:
    """Save some factors' judgements on a draft (one dimension at a time, say)."""
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    case, role = _begin(user, Permission.ASSESS, assessment.case, None)
    if assessment.status != Assessment.Status.DRAFT:
        raise InvalidInput.single("", "A submitted assessment cannot be changed; start a new one")
    if expected_version is not None and expected_version != assessment.version:
        raise StaleState()
    framework = _framework_of(assessment)
    merged = {**assessment.judgements, **{code: {"present": j.get("present"), "evidence": (j.get("evidence") or "").strip(),
                                                   "nature": j.get("nature") or None} for code, j in judgements.items()}}
    errors = frameworks.validate_judgements(framework, _judgements({c: merged[c] for c in judgements}), complete=False)
    if errors:
        raise InvalidInput(errors)
    assessment.judgements = merged
    if summary is not None:
        assessment.summary = summary.strip()
    assessment.updated_at = clock.now()
    assessment.version += 1
    assessment.save(update_fields=["judgements", "summary", "updated_at", "version"])
    _event(case, "assessment.draft_saved", assessment, user, role, None, "Assessment draft saved",
           factors=sorted(judgements))
    return assessment


@transaction.atomic
def assessment_submit(*, user: User, assessment: Assessment, expected_version: int | None,
                      assessed_on: date | None) -> Assessment:
    assessment = Assessment.objects.select_for_update().get(pk=assessment.pk)
    case, role = _begin(user, Permission.ASSESS, assessment.case, None)
    if assessment.status != Assessment.Status.DRAFT:
        raise InvalidInput.single("", "This assessment has already been submitted")
    if expected_version is not None and expected_version != assessment.version:
        raise StaleState()
    framework = _framework_of(assessment)
    errors = frameworks.validate_judgements(framework, _judgements(assessment.judgements), complete=True)
    errors.update({k: v for k, v in {"assessed_on": _occurred(case, assessed_on),
                                     "summary": [] if len(assessment.summary) >= 20 else
                                     ["Write a summary of the assessment of at least 20 characters"]}.items() if v})
    if errors:
        raise InvalidInput(errors)
    now = clock.now()
    assessment.status, assessment.submitted_at, assessment.assessed_on = Assessment.Status.SUBMITTED, now, assessed_on
    assessment.version += 1
    assessment.save(update_fields=["status", "submitted_at", "assessed_on", "version"])
    found = frameworks.identified_vulnerabilities(framework, _judgements(assessment.judgements))
    assert assessed_on is not None
    _decide(case, type=DecisionType.ASSESSMENT, outcome=f"{len(found)} vulnerabilities identified",
            rationale=assessment.summary, user=user, role=role, on=assessed_on,
            details={"assessment": assessment.pk, "framework": framework.ref,
                     "vulnerabilities": [v.factor_code for v in found]})
    _save(case)
    _event(case, "assessment.submitted", assessment, user, role, assessed_on,
           f"Assessment submitted on {framework.ref}: {len(found)} vulnerabilities identified")
    return assessment


def latest_vulnerability_codes(case: Case) -> list[str]:
    assessment = case.assessments.filter(status=Assessment.Status.SUBMITTED).order_by("-submitted_at").first()
    if assessment is None:
        return []
    found = frameworks.identified_vulnerabilities(_framework_of(assessment), _judgements(assessment.judgements))
    return [v.factor_code for v in found]


# ---------------------------------------------------------------- support plan and taskings


@transaction.atomic
def support_action_add(*, user: User, case: Case, description: str, vulnerabilities: Iterable[str],
                       owner_user: User | None, due_on: date | None) -> SupportAction:
    case, role = _begin(user, Permission.PLAN_SUPPORT, case, None)
    codes = list(dict.fromkeys(vulnerabilities))
    known = set(latest_vulnerability_codes(case))
    _errors(
        stage=["Support can only be planned while the case is receiving Channel support"]
        if case.stage != Stage.SUPPORT else [],
        description=["Describe the support action"] if len(description.strip()) < 10 else [],
        vulnerabilities=["Select at least one vulnerability this action addresses"] if not codes else
        (["Select vulnerabilities identified in the latest submitted assessment"] if not set(codes) <= known else []),
        owner_user=["Select who owns this action"] if owner_user is None else
        _refusal(owner_refusal(Ownable.SUPPORT_ACTION, owner_user, case)),
        due_on=["Enter the date the action is due"] if due_on is None else
        (["The due date must be today or later"] if due_on < clock.today() else []),
    )
    assert owner_user is not None
    action = SupportAction.objects.create(
        case=case, description=description.strip(), vulnerabilities=codes, owner_agency_id=owner_user.agency_id,
        owner_user=owner_user, due_on=due_on, created_by=user, created_at=clock.now(),
    )
    _save(case)
    _event(case, "support_action.added", action, user, role, None, "Support action added",
           vulnerabilities=codes, owner_user=owner_user.pk)
    return action


@transaction.atomic
def support_action_complete(*, user: User, action: SupportAction, status: str, completed_on: date | None,
                            note: str) -> SupportAction:
    action = SupportAction.objects.select_for_update().get(pk=action.pk)
    case = action.case
    # The owner completes it only while they still may own it; otherwise the panel's planners do.
    owner_may = user.pk == action.owner_user_id and owner_refusal(Ownable.SUPPORT_ACTION, user, case) is None
    case, role = _begin(user, Permission.DELIVER_SUPPORT_ACTION if owner_may else Permission.PLAN_SUPPORT,
                        case, None)
    if action.status != WorkStatus.OPEN:
        raise InvalidInput.single("status", "This action is already finished")
    _errors(status=["Select whether the action was delivered or cancelled"]
            if status not in (WorkStatus.DONE, WorkStatus.CANCELLED) else [],
            completed_on=_occurred(case, completed_on),
            note=["Say what was delivered, or why it was cancelled"] if len(note.strip()) < 10 else [])
    action.status, action.completed_on, action.completion_note = status, completed_on, note.strip()
    action.save(update_fields=["status", "completed_on", "completion_note"])
    _save(case)
    _event(case, f"support_action.{status}", action, user, role, completed_on, f"Support action marked {status}")
    return action


@transaction.atomic
def tasking_commission(*, user: User, case: Case, provider_user: User | None, sessions_commissioned: int | None,
                       purpose: str, vulnerabilities: Iterable[str], commissioned_on: date | None) -> Tasking:
    from casetrail.providers.models import ProviderWorker

    case, role = _begin(user, Permission.COMMISSION_TASKING, case, None)
    worker = ProviderWorker.objects.filter(user=provider_user).select_related("organisation").first() \
        if provider_user is not None else None
    day = commissioned_on or clock.today()
    codes = list(dict.fromkeys(vulnerabilities))
    _errors(
        stage=["A provider can only be tasked while the case is receiving Channel support"]
        if case.stage != Stage.SUPPORT else [],
        provider_user=["Select an intervention provider"] if provider_user is None else
        (["Only an approved intervention provider with current vetting can be tasked"]
         if worker is None or not worker.is_approved_on(day) else
         _refusal(owner_refusal(Ownable.TASKING, provider_user, case))),
        sessions_commissioned=["Enter the number of sessions commissioned, between 1 and 50"]
        if not sessions_commissioned or not 1 <= sessions_commissioned <= 50 else [],
        purpose=["Describe what the sessions are for"] if len(purpose.strip()) < 10 else [],
        vulnerabilities=["Select vulnerabilities identified in the latest submitted assessment"]
        if not set(codes) <= set(latest_vulnerability_codes(case)) else [],
        commissioned_on=_occurred(case, commissioned_on),
    )
    assert worker is not None and provider_user is not None
    tasking = Tasking.objects.create(
        case=case, provider_agency=worker.organisation.agency, provider_user=provider_user,
        sessions_commissioned=sessions_commissioned, purpose=purpose.strip(), vulnerabilities=codes,
        commissioned_on=commissioned_on, commissioned_by=user,
    )
    _decide(case, type=DecisionType.TASKING, outcome=f"{sessions_commissioned} sessions", rationale=purpose,
            user=user, role=role, on=day, details={"tasking": tasking.pk, "provider_user": provider_user.pk})
    _save(case)
    _event(case, "tasking.commissioned", tasking, user, role, commissioned_on,
           f"{worker.organisation} tasked for {sessions_commissioned} sessions")
    return tasking


def _provider_begin(user: User, tasking: Tasking) -> tuple[Tasking, Case, str]:
    tasking = Tasking.objects.select_for_update().get(pk=tasking.pk)
    case, role = _begin(user, Permission.DELIVER_TASKING, tasking.case, None)
    if user.agency_id != tasking.provider_agency_id:
        raise AccessDenied("Only the tasked provider organisation can do this.")
    return tasking, case, role


@transaction.atomic
def tasking_acknowledge(*, user: User, tasking: Tasking, acknowledged_on: date | None) -> Tasking:
    tasking, case, role = _provider_begin(user, tasking)
    if tasking.acknowledged_on is not None:
        raise InvalidInput.single("", "This tasking has already been acknowledged")
    _errors(acknowledged_on=_occurred(case, acknowledged_on, not_before=tasking.commissioned_on,
                                      not_before_label="the date it was commissioned"))
    tasking.acknowledged_on, tasking.acknowledged_by = acknowledged_on, user
    tasking.save(update_fields=["acknowledged_on", "acknowledged_by"])
    _save(case)
    _event(case, "tasking.acknowledged", tasking, user, role, acknowledged_on, "Tasking acknowledged by provider")
    return tasking


def _next_session(tasking: Tasking) -> int:
    return tasking.sessions.count() + 1


@transaction.atomic
def session_record(*, user: User, tasking: Tasking, held_on: date | None, report: str) -> Session:
    tasking, case, role = _provider_begin(user, tasking)
    number = _next_session(tasking)
    _errors(
        tasking=["Acknowledge the tasking before recording sessions"] if tasking.acknowledged_on is None else [],
        number=[f"All {tasking.sessions_commissioned} commissioned sessions are already accounted for"]
        if number > tasking.sessions_commissioned else [],
        held_on=_occurred(case, held_on, not_before=tasking.commissioned_on,
                          not_before_label="the date it was commissioned"),
        report=["Write the session report (at least 20 characters)"] if len(report.strip()) < 20 else [],
    )
    session = Session.objects.create(tasking=tasking, number=number, status=Session.Status.DELIVERED,
                                     held_on=held_on, report=report.strip(), recorded_by=user,
                                     recorded_at=clock.now())
    _save(case)
    _event(case, "session.delivered", session, user, role, held_on, f"Session {number} delivered")
    return session


@transaction.atomic
def session_cancel(*, user: User, tasking: Tasking, cancelled_on: date | None, reason: str) -> Session:
    tasking, case, role = _provider_begin(user, tasking)
    number = _next_session(tasking)
    _errors(
        number=[f"All {tasking.sessions_commissioned} commissioned sessions are already accounted for"]
        if number > tasking.sessions_commissioned else [],
        cancelled_on=_occurred(case, cancelled_on),
        reason=rationale_errors(reason),
    )
    session = Session.objects.create(tasking=tasking, number=number, status=Session.Status.CANCELLED,
                                     held_on=cancelled_on, cancellation_reason=reason.strip(), recorded_by=user,
                                     recorded_at=clock.now())
    assert cancelled_on is not None
    _decide(case, type=DecisionType.SESSION_CANCELLATION, outcome=f"session {number} cancelled", rationale=reason,
            user=user, role=role, on=cancelled_on, details={"session": session.pk})
    _save(case)
    _event(case, "session.cancelled", session, user, role, cancelled_on, f"Session {number} cancelled")
    return session




@transaction.atomic
def tasking_end(*, user: User, tasking: Tasking, reason_kind: str, rationale: str, ended_on: date | None) -> Decision:
    """End an intervention before its sessions are all delivered: a decision with its reasons, by
    whoever commissioned it on the case or by the provider tasked, put before the panel. Without
    it, undelivered sessions stay overdue: a tasking never ends by silence."""
    case = Case.objects.select_related("referral", "person").get(pk=tasking.case_id)
    permission = Permission.DELIVER_TASKING if tasking.provider_user_id == user.pk else Permission.COMMISSION_TASKING
    case, role = _begin(user, permission, case, None)
    tasking = Tasking.objects.select_for_update().get(pk=tasking.pk)
    delivered = tasking.sessions.filter(status=Session.Status.DELIVERED).count()
    accounted = tasking.sessions.count()
    _errors(
        tasking=["This tasking has already been ended"] if tasking.ended_on is not None else
        ([f"All {tasking.sessions_commissioned} commissioned sessions are already accounted for"]
         if accounted >= tasking.sessions_commissioned else []),
        reason_kind=[] if reason_kind in TASKING_END_REASONS else ["Select why the intervention ends"],
        rationale=rationale_errors(rationale),
        ended_on=_occurred(case, ended_on, "ended_on", not_before=tasking.commissioned_on,
                           not_before_label="the tasking"),
    )
    assert ended_on is not None
    tasking.ended_on = ended_on
    tasking.save(update_fields=["ended_on"])
    decision = _decide(case, type=DecisionType.TASKING_ENDED, outcome=reason_kind, rationale=rationale, user=user,
                       role=role, on=ended_on,
                       details={"tasking": tasking.pk, "delivered": delivered,
                                "commissioned": tasking.sessions_commissioned})
    _save(case)
    _event(case, "tasking.ended", decision, user, role, ended_on,
           f"Tasking ended early: {TASKING_END_REASONS[reason_kind].lower()} ({delivered} of "
           f"{tasking.sessions_commissioned} sessions delivered)", tasking=tasking.pk)
    return decision


# ---------------------------------------------------------------- reviews, exit, closure


@transaction.atomic
def panel_review_record(*, user: User, case: Case, expected_version: int | None, held_on: date | None,
                        outcome: str, notes: str, attendees: list[str]) -> Review:
    case, role = _begin(user, Permission.PANEL_DECIDE, case, expected_version)
    _errors(
        stage=["Panel reviews are held while the case receives Channel support"]
        if case.stage not in (Stage.SUPPORT, Stage.AWAITING_CONSENT) else [],
        outcome=["Select the outcome of the review"] if outcome not in PANEL_REVIEW_OUTCOMES else [],
        notes=rationale_errors(notes),
        attendees=["Record at least two attendees, with their agencies"] if len(attendees) < 2 else [],
        held_on=_occurred(case, held_on, not_before=case.adopted_on, not_before_label="adoption"),
    )
    assert held_on is not None
    decision = _decide(case, type=DecisionType.PANEL_REVIEW, outcome=outcome, rationale=notes, user=user, role=role,
                       on=held_on, attendees=attendees)
    review = Review.objects.create(case=case, kind=Review.Kind.PANEL, held_on=held_on, outcome=outcome,
                                   notes=notes.strip(), decision=decision)
    _save(case)
    _event(case, "review.panel", review, user, role, held_on, f"Panel review: {PANEL_REVIEW_OUTCOMES[outcome]}")
    return review


@transaction.atomic
def case_exit(*, user: User, case: Case, expected_version: int | None, exited_on: date | None, rationale: str,
              residual_concerns: str, onward_support: str, attendees: list[str], dissent: str = "",
              minimum_period_reason: str = "") -> Decision:
    """The panel's exit decision; the exit gate (F1, F3, F4, F5, F7) must be passed."""
    case, role = _begin(user, Permission.PANEL_DECIDE, case, expected_version)
    _errors(
        rationale=rationale_errors(rationale),
        attendees=["Record at least two attendees, with their agencies"] if len(attendees) < 2 else [],
        exited_on=_occurred(case, exited_on, not_before=case.adopted_on, not_before_label="adoption"),
    )
    assert exited_on is not None
    gates = rules.exit_gate(safeguards.case_record(case), on=exited_on, policy=safeguards.current_policy(),
                            rationale=rationale, minimum_period_reason=minimum_period_reason)
    # The lifecycle's own "no assessment" guard says the same as the gate's: keep one.
    gates = [g for g in gates if g.code != "exit.no_assessment"]
    _move(case, Action.EXIT, _facts(case), gates, exited_on=exited_on, outcome="exited")
    decision = _decide(case, type=DecisionType.EXIT, outcome="exited", rationale=rationale, user=user, role=role,
                       on=exited_on, attendees=attendees, dissent=dissent,
                       details={"residual_concerns": residual_concerns.strip(),
                                "onward_support": onward_support.strip(),
                                "minimum_period_reason": minimum_period_reason.strip()})
    _event(case, "case.exited", decision, user, role, exited_on, "Exited from Channel support")
    safeguards.referrer_outcome_notify(case=case, decision=decision)
    return decision


@transaction.atomic
def post_exit_review_record(*, user: User, case: Case, expected_version: int | None, months: int | None,
                            held_on: date | None, outcome: str, notes: str) -> Review:
    case, role = _begin(user, Permission.POST_EXIT_REVIEW, case, expected_version)
    done = set(case.reviews.filter(kind=Review.Kind.POST_EXIT).values_list("months_after_exit", flat=True))
    early: list[str] = []
    if case.exited_on is not None and months in (6, 12) and held_on is not None:
        due = post_exit_review_dates(case.exited_on)[months]
        earliest = due - timedelta(days=safeguards.current_policy().post_exit_review_early_days)
        if held_on < earliest:
            early = [f"The {months}-month review falls due on {due:%-d %B %Y}; it cannot be held before "
                     f"{earliest:%-d %B %Y}"]
    _errors(
        stage=["Post-exit reviews are recorded after the case has exited"] if case.stage != Stage.EXITED else [],
        months=["Select the 6-month or 12-month review"] if months not in (6, 12) else
        (["That review has already been recorded"] if months in done else []),
        outcome=["Select the outcome of the review"] if outcome not in POST_EXIT_OUTCOMES else [],
        notes=rationale_errors(notes),
        held_on=_occurred(case, held_on, not_before=case.exited_on, not_before_label="the exit") or early,
    )
    assert held_on is not None
    decision = _decide(case, type=DecisionType.POST_EXIT_REVIEW, outcome=outcome, rationale=notes, user=user,
                       role=role, on=held_on, details={"months": months})
    review = Review.objects.create(case=case, kind=Review.Kind.POST_EXIT, months_after_exit=months, held_on=held_on,
                                   outcome=outcome, notes=notes.strip(), decision=decision)
    if outcome == "concerns_returned":
        _move(case, Action.POST_EXIT_CONCERNS_RETURNED, _facts(case), exited_on=None, outcome="",
              owner_agency=case.local_authority, owner_user=_duty_owner(case.local_authority))
    else:
        _save(case)
    _event(case, "review.post_exit", review, user, role, held_on, f"{months}-month post-exit review recorded")
    return review


@transaction.atomic
def case_close(*, user: User, case: Case, expected_version: int | None, closed_on: date | None,
               rationale: str) -> Decision:
    """Close an exited case: both post-exit reviews must be recorded, and nothing on the case may be
    waiting for someone to accept it. A person who moved is transferred (`case_transfer_offer`),
    never closed: the receiving area takes the case on with its reviews."""
    case, role = _begin(user, Permission.CLOSE_CASE, case, expected_version)
    _errors(rationale=rationale_errors(rationale),
            closed_on=_occurred(case, closed_on, not_before=case.exited_on, not_before_label="the exit"))
    assert closed_on is not None
    _move(case, Action.CLOSE, _facts(case), _pending_offers_gate(case), closed_on=closed_on, outcome=case.outcome)
    decision = _decide(case, type=DecisionType.CLOSURE, outcome="closed", rationale=rationale, user=user, role=role,
                       on=closed_on)
    _event(case, "case.closed", decision, user, role, closed_on, "Case closed")
    safeguards.referrer_outcome_notify(case=case, decision=decision)
    return decision


def _pending_offers_gate(case: Case) -> list[Unmet]:
    """Closing waits while anything on the case is offered to someone and the offer is still live."""
    pending = [f"{'transfer' if o.transfer_kind else 'hand-over'} of the {o.target_type.replace('_', ' ')} "
               f"to {o.to_agency} (answer due by {offer_due_on(o):%-d %B %Y})"
               for o in live_offers().filter(case=case).select_related("to_agency")]
    return rules.pending_handover_gate(pending)


# ---------------------------------------------------------------- re-referral and hand-over


@transaction.atomic
def case_link_person(*, user: User, case: Case, person: Person | None, rationale: str) -> Decision:
    """Link this case's referral to an earlier person record: a combination decision."""
    case, role = _begin(user, Permission.LINK_PERSON, case, None)
    referral = case.referral
    previous = case.person
    _errors(
        person=["Select the earlier person record"] if person is None else
        (["This case is already linked to that person"] if person.pk == previous.pk else
         (["That record has been linked into another; choose that one"] if person.merged_into_id else [])),
        rationale=rationale_errors(rationale),
    )
    assert person is not None
    decision = _decide(case, type=DecisionType.PERSON_LINK, outcome="linked", rationale=rationale, user=user,
                       role=role, on=clock.today(),
                       details={"from_person": previous.pk, "to_person": person.pk,
                                "from_reference": previous.reference, "to_reference": person.reference})
    type(referral).objects.filter(pk=referral.pk).update(person=person)
    _save(case, person=person)
    person_index(person=person, names=[referral.given_names, referral.family_name, referral.other_names],
                 birth=referral.birth)
    if not previous.referrals.exclude(pk=referral.pk).exists():
        Person.objects.filter(pk=previous.pk).update(merged_into=person)
    stored_findings.forget_people([previous.pk, person.pk])
    _event(case, "person.linked", decision, user, role, None,
           f"Referral {referral.reference} linked to person {person.reference}",
           from_person=previous.pk, to_person=person.pk)
    access_log(user=user, operation="combination", subject=person, case=case, person=person,
               justification=rationale.strip())
    return decision


@transaction.atomic
def person_link_undo(*, user: User, case: Case, rationale: str) -> Decision:
    """Undo a wrong link: the referral goes back to the person it was recorded as, and both
    people's histories are as they were before the link."""
    from casetrail.people.services import person_reindex

    case, role = _begin(user, Permission.LINK_PERSON, case, None)
    before = safeguards.case_record(case)
    link = case.decisions.filter(type=DecisionType.PERSON_LINK).order_by("-recorded_at", "-pk").first()
    undone = link is not None and case.decisions.filter(type=DecisionType.PERSON_UNLINK,
                                                        supersedes=link).exists()
    _errors(
        person=["This case's referral has not been linked to an earlier person"] if link is None or undone else [],
        rationale=rationale_errors(rationale),
    )
    assert link is not None
    original = Person.objects.get(pk=link.details["from_person"])
    linked = case.person
    referral = case.referral
    decision = Decision.objects.create(
        case=case, type=DecisionType.PERSON_UNLINK, outcome="unlinked", rationale=rationale.strip(), author=user,
        author_role=role, author_agency_id=user.agency_id, occurred_at=clock.now(), recorded_at=clock.now(),
        details={"from_person": linked.pk, "to_person": original.pk, "from_reference": linked.reference,
                 "to_reference": original.reference},
        supersedes=link,
    )
    type(referral).objects.filter(pk=referral.pk).update(person=original)
    if original.merged_into_id == linked.pk:
        Person.objects.filter(pk=original.pk).update(merged_into=None)
    stored_findings.forget_people([original.pk, linked.pk])
    _save(case, person=original)
    person_reindex(person=linked)
    person_reindex(person=Person.objects.get(pk=original.pk))
    _event(case, "person.unlinked", decision, user, role, None,
           f"Link of referral {referral.reference} to person {linked.reference} undone",
           from_person=linked.pk, to_person=original.pk)
    _repeat_count_kept(case, before, user, "person_link_undo")
    return decision


def _repeat_count_kept(case: Case, before: rules.CaseRecord, user: User, action: str) -> None:
    """Refuse (rolling back) a change that takes the referral below the repeat-referral threshold
    unless a second officer has reviewed it, exactly as closing it would need."""
    _gate(case, action, rules.unlink_gate(before, safeguards.case_record(case), on=clock.today(),
                                          policy=safeguards.current_policy(),
                                          second_reviewer_id=_second_reviewer(case, user)))


@transaction.atomic
def match_reject(*, user: User, case: Case, person: Person | None, rationale: str) -> Decision:
    """Record that a suggested earlier person is not the person referred, with the reason."""
    case, role = _begin(user, Permission.LINK_PERSON, case, None)
    before = safeguards.case_record(case)
    _errors(
        person=["Select the suggested person"] if person is None else
        (["This case is linked to that person; undo the link instead"] if person.pk == case.person_id else
         (["That person has already been judged not the same person"]
          if case.decisions.filter(type=DecisionType.MATCH_REJECTED, details__person=person.pk).exists() else [])),
        rationale=rationale_errors(rationale),
    )
    assert person is not None
    decision = _decide(case, type=DecisionType.MATCH_REJECTED, outcome="not the same person", rationale=rationale,
                       user=user, role=role, on=clock.today(),
                       details={"person": person.pk, "person_reference": person.reference})
    _save(case)
    _event(case, "person.match_rejected", decision, user, role, None,
           f"Suggested person {person.reference} judged not the same person", person=person.pk)
    _repeat_count_kept(case, before, user, "match_reject")
    return decision


HANDOVER_TARGETS = {
    "case": Case,
    "support_action": SupportAction,
    "tasking": Tasking,
    "information_request": InformationRequest,
}

# Which fields name the owning person and agency of each kind of thing that can be handed over.
OWNER_FIELDS: dict[type, tuple[str, str]] = {
    Case: ("owner_user", "owner_agency"),
    SupportAction: ("owner_user", "owner_agency"),
    Tasking: ("provider_user", "provider_agency"),
    InformationRequest: ("owner_user", "to_agency"),
}


def _owner_of(target: Any) -> User:
    user_field, _ = OWNER_FIELDS[type(target)]
    owner: User = getattr(target, user_field)
    return owner


def _receiver_errors(case: Case, target_type: str, target: Any, to_user: User | None,
                     offerer: User | None = None) -> list[str]:
    """Why `to_user` cannot take `target` over, or nothing if they can: the policy's rule for who
    may own this kind of work on this case (casetrail.core.policy.owner_denial)."""
    if to_user is None or not to_user.is_active:
        return ["Select the person to hand over to"]
    if offerer is not None and to_user.pk == offerer.pk:
        return ["You cannot hand something over to yourself: choose the person who is to take it on"]
    if to_user.pk == _owner_of(target).pk:
        return ["They already own it"]
    addressed = target.to_agency_id if isinstance(target, InformationRequest) else None
    refused = owner_refusal(Ownable(target_type), to_user, case, addressed_agency_id=addressed)
    return [f"{to_user.display_name} cannot take this on: {refused[0].lower()}{refused[1:]}"] if refused else []


def _target(case: Case, target_type: str, target_id: int) -> Any:
    model = HANDOVER_TARGETS.get(target_type)
    if model is None:
        raise InvalidInput.single("target_type", "Choose the case or one of its tasks")
    if model is Case:
        if target_id != case.pk:
            raise InvalidInput.single("target_id", "That is not this case")
        return case
    target = model.objects.filter(pk=target_id, case=case).first()
    if target is None:
        raise InvalidInput.single("target_id", "That task is not part of this case")
    return target


@transaction.atomic
def handover_offer(*, user: User, case: Case, target_type: str, target_id: int, to_user: User | None,
                   reason: str) -> HandOver:
    case, role = _begin(user, Permission.OFFER_HANDOVER, case, None)
    target = _target(case, target_type, target_id)
    pending = live_offers().filter(case=case, target_type=target_type, target_id=target_id).exists()
    _errors(
        stage=["A closed case cannot be handed over"] if case.stage == Stage.CLOSED else [],
        to_user=_receiver_errors(case, target_type, target, to_user, offerer=user),
        reason=rationale_errors(reason),
        target_id=["A hand-over of this is already awaiting an answer"] if pending else [],
    )
    assert to_user is not None
    owner = _owner_of(target)
    offer = HandOver.objects.create(
        case=case, target_type=target_type, target_id=target_id, from_agency_id=owner.agency_id,
        from_user=owner, to_agency_id=to_user.agency_id, to_user=to_user, reason=reason.strip(),
        offered_at=clock.now(), offered_by=user,
    )
    _save(case)
    _event(case, "handover.offered", offer, user, role, None,
           f"Hand-over of {target_type.replace('_', ' ')} offered to {to_user.agency}", to_user=to_user.pk)
    return offer


@transaction.atomic
def case_transfer_offer(*, user: User, case: Case, to_agency: Agency | None, kind: str, reason: str) -> HandOver:
    """Offer the case to another area when the person moves, or goes into or out of custody: to the
    police force while the police hold it, to the local authority once it is a Channel case. The
    receiving agency's duty owner accepts (the case, its history, open findings and due reviews
    move to them and their area) or declines with a reason; until then the case stays here and
    cannot be closed."""
    case, role = _begin(user, Permission.OFFER_HANDOVER, case, None)
    wanted = transfer_receiver_kind(case.stage)
    own_area = transfer_area_of(case)
    receiver = to_agency.duty_owner if to_agency is not None and to_agency.duty_owner_id else None
    to_errors: list[str] = []
    if case.stage == Stage.CLOSED:
        pass  # said once, below
    elif to_agency is None:
        to_errors = ["Select the force or local authority that is to take the case on"]
    elif to_agency.kind != wanted:
        to_errors = [f"At this stage the case goes to a {wanted.label.lower()}"]
    elif to_agency.pk == own_area:
        to_errors = ["That is this case's own area: a transfer goes to another area"]
    elif receiver is None or not receiver.is_active:
        to_errors = [f"{to_agency.name} has no duty owner to receive it; ask an administrator"]
    else:
        to_errors = _receiver_errors(case, "case", case, receiver, offerer=user)
    pending = live_offers().filter(case=case, target_type="case").exists()
    _errors(
        stage=["A closed case cannot be transferred"] if case.stage == Stage.CLOSED else [],
        to_agency=to_errors,
        kind=[] if kind in HandOver.TransferKind.values else ["Select why the case moves"],
        reason=rationale_errors(reason),
        target_id=["A hand-over or transfer of the case is already awaiting an answer"] if pending else [],
    )
    assert to_agency is not None and receiver is not None
    owner = case.owner_user
    offer = HandOver.objects.create(
        case=case, target_type="case", target_id=case.pk, transfer_kind=kind, from_agency_id=owner.agency_id,
        from_user=owner, to_agency=to_agency, to_user=receiver, reason=reason.strip(), offered_at=clock.now(),
        offered_by=user)
    _save(case)
    _event(case, "transfer.offered", offer, user, role, None,
           f"Transfer of the case offered to {to_agency.name} ({offer.get_transfer_kind_display().lower()})",
           to_agency=to_agency.pk, to_user=receiver.pk, transfer_kind=kind)
    return offer


def transfer_area_of(case: Case) -> int:
    """The agency whose area holds the case now: its force, or its local authority from the panel on."""
    police = transfer_receiver_kind(case.stage) is AgencyKind.POLICE
    return case.police_agency_id if police else case.local_authority_id


def _area_after_transfer(case: Case, offer: HandOver) -> dict[str, Any]:
    """The case's area once a transfer is accepted: the receiving force, or the receiving local
    authority and its force."""
    to_agency = offer.to_agency
    if to_agency.kind == AgencyKind.POLICE:
        return {"police_agency": to_agency}
    fields: dict[str, Any] = {"local_authority": to_agency}
    if to_agency.police_force_id is not None:
        fields["police_agency_id"] = to_agency.police_force_id
    return fields


@transaction.atomic
def handover_respond(*, user: User, handover: HandOver, accept: bool | None, note: str) -> HandOver:
    handover = HandOver.objects.select_for_update().get(pk=handover.pk)
    if handover.to_user_id != user.pk:
        raise AccessDenied("Only the person the hand-over was offered to can answer it.")
    if handover.status != HandOver.Status.OFFERED:
        raise InvalidInput.single("", "This hand-over has already been answered")
    if accept and offer_lapsed(handover):
        # Declining a lapsed offer only records the answer; accepting it would grant what has ended.
        raise InvalidInput.single("accept", f"This offer lapsed after {offer_due_on(handover):%-d %B %Y} "
                                            "without an answer, so it can no longer be accepted; ask "
                                            "for it to be offered again")
    case = Case.objects.select_for_update(no_key=True).get(pk=handover.case_id)
    target = _target(case, handover.target_type, handover.target_id)
    _errors(accept=["Select whether you accept"] if accept is None else [],
            note=["Say why you are declining"] if accept is False and len(note.strip()) < 10 else [],
            stage=["A closed case cannot be handed over"] if accept and case.stage == Stage.CLOSED else [],
            # Things may have moved on since the offer: someone else took it over, or vetting lapsed.
            target_id=["Someone else has taken this over since the offer was made"]
            if accept and _owner_of(target).pk != handover.from_user_id else [],
            to_user=_receiver_errors(case, handover.target_type, target, user) if accept else [])
    handover.status = HandOver.Status.ACCEPTED if accept else HandOver.Status.DECLINED
    handover.responded_at, handover.response_note = clock.now(), note.strip()
    handover.save(update_fields=["status", "responded_at", "response_note"])
    if accept:
        user_field, agency_field = OWNER_FIELDS[type(target)]
        if target is case:
            area = _area_after_transfer(case, handover) if handover.transfer_kind else {}
            _save(case, owner_user=user, owner_agency_id=user.agency_id, **area)
        else:
            setattr(target, user_field, user)
            setattr(target, f"{agency_field}_id", user.agency_id)
            target.save(update_fields=[user_field, agency_field])
            _save(case)
    else:
        _save(case)
    role = next(iter(sorted(user.role_set)), "")
    what = "Transfer" if handover.transfer_kind else "Hand-over"
    _event(case, f"{'transfer' if handover.transfer_kind else 'handover'}.{handover.status}", handover, user, role,
           None, f"{what} {handover.status} by {user.agency}")
    return handover


# ---------------------------------------------------------------- the referrer, notes, waivers, holds


def _consultation(case: Case, user: User, role: str, on: date, method: str, summary: str) -> ReferrerConsultation:
    consultation = ReferrerConsultation.objects.create(case=case, consulted_on=on, method=method,
                                                       summary=summary.strip(), recorded_by=user,
                                                       recorded_at=clock.now())
    _event(case, "referrer.consulted", consultation, user, role, on, "Referrer consulted")
    return consultation


@transaction.atomic
def referrer_consultation_record(*, user: User, case: Case, consulted_on: date | None, method: str,
                                 summary: str) -> ReferrerConsultation:
    """The referrer's view was sought on the risk or the support (F4): not a one-way update."""
    case, role = _begin(user, Permission.CONSULT_REFERRER, case, None)
    _errors(
        stage=["The case is closed"] if case.stage == Stage.CLOSED else [],
        method=["Select how the referrer was consulted"] if method not in ReferrerConsultation.Method.values else [],
        summary=["Summarise what the referrer said, in at least 20 characters"] if len(summary.strip()) < 20
        else [],
        consulted_on=_occurred(case, consulted_on, not_before=case.opened_at.date(),
                               not_before_label="the date of the referral"),
    )
    assert consulted_on is not None
    consultation = _consultation(case, user, role, consulted_on, method, summary)
    _save(case)
    return consultation


@transaction.atomic
def case_note_record(*, user: User, case: Case, noted_on: date | None, text: str) -> CaseNote:
    """A dated contact or observation that is neither a decision nor a consultation."""
    case, role = _begin(user, Permission.ADD_NOTE, case, None)
    _errors(text=["Enter the note"] if not text.strip() else [], noted_on=_occurred(case, noted_on))
    assert noted_on is not None
    note = CaseNote.objects.create(case=case, noted_on=noted_on, text=text.strip(), recorded_by=user,
                                   recorded_at=clock.now())
    _save(case)
    _event(case, "note.recorded", note, user, role, noted_on, "Note recorded")
    return note


SUMMARY_MAX = 5000
SOURCE_MAX = 200


@transaction.atomic
def significant_event_record(*, user: User, case: Case, kind: str, occurred_on: date | None, source: str,
                             summary: str) -> SignificantEvent:
    """Record something that changes the picture. It makes the assessment stale and, on an open
    Channel case, puts the case on the agenda of its panel's next meeting, if one is planned."""
    case, role = _begin(user, Permission.RECORD_SIGNIFICANT_EVENT, case, None)
    _errors(
        kind=[] if kind in SignificantEvent.Kind.values else ["Select what happened"],
        occurred_on=_occurred(case, occurred_on),
        source=["Say who told you, or at which meeting it was raised"] if not source.strip() else
        ([f"The source must be {SOURCE_MAX} characters or fewer"] if len(source.strip()) > SOURCE_MAX else []),
        summary=["Say what happened"] if len(summary.strip()) < 10 else
        ([f"The summary must be {SUMMARY_MAX} characters or fewer"] if len(summary.strip()) > SUMMARY_MAX else []),
    )
    assert occurred_on is not None
    event = SignificantEvent.objects.create(case=case, kind=kind, occurred_on=occurred_on, source=source.strip(),
                                            summary=summary.strip(), recorded_by=user, recorded_role=role,
                                            recorded_at=clock.now())
    _save(case)
    _event(case, "significant_event.recorded", event, user, role, occurred_on,
           f"Significant event: {event.get_kind_display()}", event_kind=kind)
    if case.stage in (Stage.PANEL, Stage.AWAITING_CONSENT, Stage.SUPPORT):
        meeting = PanelMeeting.objects.filter(local_authority_id=case.local_authority_id,
                                              meets_on__gte=clock.today()).order_by("meets_on", "pk").first()
        if meeting is not None and not AgendaItem.objects.filter(meeting=meeting, case=case).exists():
            item = AgendaItem.objects.create(meeting=meeting, case=case, added_at=clock.now(), added_by=user)
            _event(case, "panel.agenda_added", item, user, role, None,
                   f"Added to the panel agenda for {meeting.meets_on:%-d %B %Y} after a significant event")
    return event


@transaction.atomic
def significant_event_respond(*, user: User, event: SignificantEvent, outcome: str, rationale: str,
                              responded_on: date | None) -> Decision:
    """The recorded discussion and decision about a significant event (a concern raised at a
    meeting, or an event after closure that may mean referring the person again)."""
    case, role = _begin(user, Permission.RECORD_SIGNIFICANT_EVENT, event.case, None)
    answered = case.decisions.filter(type=DecisionType.SIGNIFICANT_EVENT_RESPONSE, details__event=event.pk).exists()
    _errors(
        event=["A decision about this event is already recorded"] if answered else [],
        outcome=[] if outcome in SIGNIFICANT_EVENT_OUTCOMES else ["Select what was decided"],
        rationale=rationale_errors(rationale),
        responded_on=_occurred(case, responded_on, "responded_on", not_before=event.occurred_on,
                               not_before_label="the event"),
    )
    assert responded_on is not None
    decision = _decide(case, type=DecisionType.SIGNIFICANT_EVENT_RESPONSE, outcome=outcome, rationale=rationale,
                       user=user, role=role, on=responded_on, details={"event": event.pk, "kind": event.kind})
    _save(case)
    _event(case, "significant_event.responded", decision, user, role, responded_on,
           f"Decision on the significant event of {event.occurred_on:%-d %B %Y}: "
           f"{SIGNIFICANT_EVENT_OUTCOMES[outcome].lower()}", event=event.pk, outcome=outcome)
    return decision


@transaction.atomic
def vulnerability_waiver_record(*, user: User, case: Case, code: str, reason: str,
                                approved_on: date | None) -> VulnerabilityWaiver:
    """The chair approves why an identified vulnerability needs no support action (F3)."""
    case, role = _begin(user, Permission.PANEL_DECIDE, case, None)
    identified = {v.code: v.title for v in rules.identified_vulnerabilities(safeguards.case_record(case))}
    _errors(
        stage=["Only a case receiving support can have a vulnerability set aside"]
        if case.stage != Stage.SUPPORT else [],
        code=["Select one of the vulnerabilities identified in the latest assessment"] if code not in identified
        else (["A reason for this vulnerability has already been approved"]
              if case.waivers.filter(code=code).exists() else []),
        reason=rationale_errors(reason),
        approved_on=_occurred(case, approved_on),
    )
    assert approved_on is not None
    decision = _decide(case, type=DecisionType.VULNERABILITY_WAIVER, outcome="approved", rationale=reason,
                       user=user, role=role, on=approved_on, details={"code": code})
    waiver = VulnerabilityWaiver.objects.create(case=case, code=code, reason=reason.strip(), decision=decision,
                                                recorded_at=clock.now())
    _save(case)
    _event(case, "vulnerability.waived", waiver, user, role, approved_on,
           f"Chair approved no support action for '{identified[code]}'")
    return waiver


@transaction.atomic
def retention_hold_place(*, user: User, case: Case, reason_kind: str, reason: str,
                         placed_on: date | None) -> RetentionHold:
    """Hold a case from disposal while an incident or a review needs it (F12)."""
    case, role = _begin(user, Permission.HOLD_FROM_DISPOSAL, case, None)
    _errors(
        reason_kind=["Select why the case is held"] if reason_kind not in RetentionHold.Reason.values else [],
        reason=rationale_errors(reason),
        placed_on=_occurred(case, placed_on),
    )
    assert placed_on is not None
    _decide(case, type=DecisionType.RETENTION_HOLD, outcome="held", rationale=reason, user=user, role=role,
            on=placed_on, details={"reason_kind": reason_kind})
    hold = RetentionHold.objects.create(case=case, reason_kind=reason_kind, reason=reason.strip(),
                                        placed_on=placed_on, placed_by=user, placed_at=clock.now())
    _save(case)
    _event(case, "retention.held", hold, user, role, placed_on, "Held from disposal")
    return hold


@transaction.atomic
def retention_hold_lift(*, user: User, hold: RetentionHold, reason: str, lifted_on: date | None) -> RetentionHold:
    hold = RetentionHold.objects.select_for_update().get(pk=hold.pk)
    case, role = _begin(user, Permission.HOLD_FROM_DISPOSAL, hold.case, None)
    _errors(
        hold=["This hold has already been lifted"] if hold.lifted_on else [],
        reason=rationale_errors(reason),
        lifted_on=_occurred(case, lifted_on, not_before=hold.placed_on, not_before_label="the hold"),
    )
    assert lifted_on is not None
    _decide(case, type=DecisionType.RETENTION_HOLD, outcome="lifted", rationale=reason, user=user, role=role,
            on=lifted_on, details={"hold": hold.pk})
    hold.lifted_on, hold.lifted_by, hold.lift_reason = lifted_on, user, reason.strip()
    hold.save(update_fields=["lifted_on", "lifted_by", "lift_reason"])
    _save(case)
    _event(case, "retention.lifted", hold, user, role, lifted_on, "Hold from disposal lifted")
    return hold


# ---------------------------------------------------------------- break glass


@transaction.atomic
def break_glass_grant(*, user: User, reference: str, reason: str, hours: int | None) -> BreakGlassGrant:
    """Read access to a case outside one's involvement, for a stated reason and a limited time.

    The case owner is told at once and the grant waits in the auditors' queue.
    """
    from datetime import timedelta as _td

    from casetrail.cases.access import view_of
    from casetrail.core.policy import BREAK_GLASS_MAX_HOURS
    from casetrail.notifications.services import case_link, message_queue, recipient_description

    require(user, Permission.BREAK_GLASS)
    case = Case.objects.filter(reference=reference.strip().upper()).select_related("owner_user").first()
    already = case is not None and view_of(user, case) is not View.NONE
    _errors(
        reference=["There is no case with that reference"] if case is None else
        (["You can already see this case; no need to break the glass"] if already else []),
        reason=rationale_errors(reason),
        hours=[f"Choose between 1 and {BREAK_GLASS_MAX_HOURS} hours"]
        if hours is None or not 1 <= hours <= BREAK_GLASS_MAX_HOURS else [],
    )
    assert case is not None and hours is not None
    now = clock.now()
    grant = BreakGlassGrant.objects.create(case=case, user=user, reason=reason.strip(), granted_at=now,
                                           expires_at=now + _td(hours=hours))
    role = next(iter(sorted(user.role_set)), "")
    _event(case, "access.break_glass", grant, user, role, None,
           f"Read access outside involvement granted for {hours} hours to {user.agency}", hours=hours)
    access_log(user=user, operation="consultation", subject=case, case=case, person=case.person,
               justification=f"Break glass: {reason.strip()}")
    message_queue(case=case, recipient=case.owner_user, kind="break_glass", dedupe_key=f"break_glass:{grant.pk}",
                  subject=f"Casetrail {case.reference}: opened by someone outside the case",
                  body=f"{recipient_description(user)} broke the glass to read case {case.reference} for "
                       f"{hours} hours, giving a reason. Read it on the case: {case_link(case)}",
                  data={"grant": grant.pk})
    return grant


@transaction.atomic
def break_glass_review(*, user: User, grant: BreakGlassGrant, note: str) -> BreakGlassGrant:
    """An auditor records that a break-glass grant was looked at, and what they concluded."""
    require(user, Permission.AUDIT)
    grant = BreakGlassGrant.objects.select_for_update().get(pk=grant.pk)
    _errors(grant=["This grant has already been reviewed"] if grant.reviewed_at else [],
            note=["Say what you concluded, in at least 10 characters"] if len(note.strip()) < 10 else [])
    grant.reviewed_by, grant.reviewed_at, grant.review_note = user, clock.now(), note.strip()
    grant.save(update_fields=["reviewed_by", "reviewed_at", "review_note"])
    event_record(kind="access.break_glass_reviewed", subject=grant, case=grant.case, actor=user,
                 summary="Break-glass access reviewed by an auditor")
    return grant
