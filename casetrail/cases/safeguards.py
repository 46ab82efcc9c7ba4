"""The safeguards' adapter: builds the core's `CaseRecord` from what is stored, asks the core
for gates and findings, and tells people about findings through the notifications outbox.

Findings are computed from recorded facts, as of any date. Today's answers are kept per case by
`stored_findings` under the key they were computed with, and read only while that key holds.
Messages about them are a convenience queued idempotently, so a worker that was down simply
catches up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from casetrail import clock
from casetrail.accounts.models import User
from casetrail.cases.earlier_records import match_records, person_and_merged
from casetrail.cases.models import Assessment, Case, Review, Tasking, WorkStatus
from casetrail.core import frameworks
from casetrail.core import safeguards as core
from casetrail.core.lifecycle import Stage
from casetrail.core.roles import Role
from casetrail.core.safeguard_policy import DEFAULT_POLICY, SafeguardPolicy

# ---------------------------------------------------------------- policy


def current_policy() -> SafeguardPolicy:
    """The policy in force: the documented defaults with the deployment's overrides."""
    return _policy(json.dumps(getattr(settings, "CASETRAIL_SAFEGUARD_POLICY", {}), sort_keys=True))


@lru_cache(maxsize=8)
def _policy(overrides_json: str) -> SafeguardPolicy:
    return DEFAULT_POLICY.with_overrides(json.loads(overrides_json))


# ---------------------------------------------------------------- replaying the old process

_HISTORIC: ContextVar[bool] = ContextVar("casetrail_historic_replay", default=False)


@contextmanager
def historic_replay() -> Iterator[None]:
    """While active, a gate that refuses an action is recorded as overridden and the action goes
    ahead, as the old process did. Only the replay command uses this, on its own database."""
    token = _HISTORIC.set(True)
    try:
        yield
    finally:
        _HISTORIC.reset(token)


def is_historic() -> bool:
    return _HISTORIC.get()


# ---------------------------------------------------------------- the record


def _day(moment: Any) -> date:
    return timezone.localdate(moment)


def chair_ids(case: Case) -> tuple[int, ...]:
    """The panel chairs of the case's local authority, who are told of escalations."""
    chairs = User.objects.filter(agency_id=case.local_authority_id, is_active=True).order_by("pk")
    return tuple(u.pk for u in chairs if u.has_role(Role.PANEL_CHAIR))


def _assessments(case: Case) -> tuple[core.AssessmentRec, ...]:
    records = []
    for a in case.assessments.filter(status=Assessment.Status.SUBMITTED):
        framework = frameworks.get_framework(a.framework_key, a.framework_version)
        judgements = {code: frameworks.Judgement(factor_code=code, present=v.get("present"),
                                                 evidence=v.get("evidence", ""), nature=v.get("nature"))
                      for code, v in a.judgements.items()}
        vulnerabilities = tuple(
            core.VulnerabilityRec(v.factor_code, v.title, v.nature or "")
            for v in frameworks.identified_vulnerabilities(framework, judgements)
        )
        assert a.assessed_on is not None and a.submitted_at is not None
        records.append(core.AssessmentRec(a.pk, framework.ref, framework.superseded_on, a.assessed_on,
                                          _day(a.submitted_at), vulnerabilities))
    return tuple(records)


def _completion_days(case: Case) -> dict[int, date]:
    """When each support action's completion was recorded (from its event)."""
    return {e.subject_id: _day(e.recorded_at)
            for e in case.events.filter(kind__in=["support_action.done", "support_action.cancelled"])}


def _taskings(case: Case) -> tuple[core.TaskingRec, ...]:
    records = []
    acknowledged = {e.subject_id: _day(e.recorded_at) for e in case.events.filter(kind="tasking.acknowledged")}
    ended = {int(e.data.get("tasking", 0)): _day(e.recorded_at) for e in case.events.filter(kind="tasking.ended")}
    for t in case.taskings.select_related("provider_user", "provider_agency").prefetch_related("sessions"):
        sessions = tuple(
            core.SessionRec(s.number, s.status, s.held_on, _day(s.recorded_at), s.cancellation_reason)
            for s in t.sessions.all()
        )
        records.append(core.TaskingRec(
            id=t.pk, provider_user_id=t.provider_user_id, provider_active=t.provider_user.is_active,
            provider_duty_owner_id=t.provider_agency.duty_owner_id, sessions_commissioned=t.sessions_commissioned,
            commissioned_on=t.commissioned_on, recorded_on=_tasking_recorded(case, t),
            vulnerabilities=tuple(t.vulnerabilities), acknowledged_on=t.acknowledged_on,
            acknowledged_recorded_on=acknowledged.get(t.pk, t.acknowledged_on) if t.acknowledged_on else None,
            sessions=sessions, ended_on=t.ended_on,
            ended_recorded_on=ended.get(t.pk, t.ended_on) if t.ended_on else None))
    return tuple(records)


def _tasking_recorded(case: Case, tasking: Tasking) -> date:
    event = case.events.filter(kind="tasking.commissioned", subject_id=tasking.pk).first()
    return _day(event.recorded_at) if event else tasking.commissioned_on


def _notices(case: Case) -> tuple[core.NoticeRec, ...]:
    from casetrail.notifications.models import Message

    sent = Message.objects.filter(case=case, kind="referrer_outcome", status="sent", sent_at__isnull=False)
    return tuple(core.NoticeRec(int(m.data.get("decision_id", 0)), _day(m.sent_at)) for m in sent)


def _significant_events(case: Case) -> tuple[core.SignificantEventRec, ...]:
    """The case's significant events, each with the day its discussion and decision was recorded."""
    from casetrail.cases.selectors import significant_events_with_decisions

    return tuple(
        core.SignificantEventRec(e.pk, e.kind, e.get_kind_display(), e.occurred_on, _day(e.recorded_at),
                                 _day(d.recorded_at) if d is not None else None)
        for e, d in significant_events_with_decisions(case)
    )


def _linked_on(events: list[Any]) -> date | None:
    """The day someone last linked this case's referral to an earlier person, if ever."""
    links = [e for e in events if e.kind == "person.linked"]
    return _day(links[-1].recorded_at) if links else None


def case_record(case: Case) -> core.CaseRecord:
    """Everything the safeguards read about the case, each fact with the day it was recorded."""
    events = list(case.events.order_by("recorded_at", "id"))
    states = tuple(
        core.StateRec(_day(e.recorded_at), e.data["stage"], e.data.get("owner_user"), e.data.get("owner_agency"))
        for e in events if e.kind == "case.state"
    ) or (core.StateRec(_day(case.opened_at), case.stage, case.owner_user_id, case.owner_agency_id),)
    completion = _completion_days(case)
    referral = case.referral
    earlier = list(
        type(referral).objects.filter(person_id__in=person_and_merged(case.person),
                                      submitted_at__lt=referral.submitted_at).values_list("pk", "submitted_at")
    )
    duty_owner = case.owner_agency.duty_owner_id
    return core.CaseRecord(
        case_id=case.pk,
        referred_on=_day(referral.submitted_at),
        local_authority_id=case.local_authority_id,
        chair_ids=chair_ids(case),
        referrer_user_id=referral.submitted_by_id,
        states=states,
        decisions=tuple(
            core.DecisionRec(d.pk, d.type, d.outcome, _day(d.occurred_at), _day(d.recorded_at), d.rationale,
                             d.author_id)
            for d in case.decisions.order_by("recorded_at", "id")
        ),
        assessments=_assessments(case),
        actions=tuple(
            core.ActionRec(a.pk, tuple(a.vulnerabilities), a.owner_user_id, a.owner_user.is_active, a.due_on,
                           _day(a.created_at), a.status, a.completed_on,
                           completion.get(a.pk, a.completed_on) if a.status != WorkStatus.OPEN else None)
            for a in case.support_actions.select_related("owner_user")
        ),
        waivers=tuple(core.WaiverRec(w.code, w.reason, _day(w.recorded_at)) for w in case.waivers.all()),
        taskings=_taskings(case),
        consultations=tuple(core.ConsultationRec(c.consulted_on, _day(c.recorded_at))
                            for c in case.consultations.all()),
        notices=_notices(case),
        reviews=tuple(core.ReviewRec(r.months_after_exit or 0, r.held_on, _day(r.decision.recorded_at))
                      for r in case.reviews.filter(kind=Review.Kind.POST_EXIT).select_related("decision")),
        handovers=tuple(
            core.HandOverRec(h.pk, h.target_type.replace("_", " "), _day(h.offered_at), h.from_user_id,
                             h.to_user_id, _day(h.responded_at) if h.responded_at else None, h.offered_by_id,
                             h.transfer_kind)
            for h in case.handovers.all()
        ),
        events=tuple(
            core.EventRec(e.pk, e.kind, e.summary, _day(e.occurred_at), _day(e.recorded_at),
                          tuple((str(k), str(v)) for k, v in e.data.items()))
            for e in events if e.kind != "case.state"
        ),
        earlier_referrals=tuple(_day(at) for _, at in earlier),
        earlier_referral_ids=tuple(pk for pk, _ in earlier),
        history_known_on=_linked_on(events),
        possible_matches=match_records(case),
        duty_owner_id=duty_owner,
        significant_events=_significant_events(case),
        agenda=tuple((_day(i.added_at), i.meeting.meets_on) for i in case.agenda_items.select_related("meeting")),
        holds=tuple(core.HoldRec(h.get_reason_kind_display() + ": " + h.reason, h.placed_on, h.lifted_on)
                    for h in case.holds.all()),
        owner_active=case.owner_user.is_active,
    )


# ---------------------------------------------------------------- asking


def case_findings(case: Case, *, as_of: date | None = None) -> list[core.Finding]:
    """The case's open findings now, or as the recorded facts stood at the end of `as_of` (none
    before the referral was made: there was no case to find anything on)."""
    if as_of is not None and as_of < _day(case.referral.submitted_at):
        return []
    record = case_record(case)
    day = as_of or clock.today()
    if as_of is not None:
        record = record.as_of(as_of)
    return core.findings(record, today=day, policy=current_policy())


def exit_blockers(case: Case, *, on: date | None = None, rationale: str = "x" * 40,
                  minimum_period_reason: str = "") -> list[Any]:
    """What stands in the way of exiting the case (the rationale is checked on the form itself)."""
    return core.exit_gate(case_record(case), on=on or clock.today(), policy=current_policy(), rationale=rationale,
                          minimum_period_reason=minimum_period_reason)


def _cases_concerning(user: User) -> Any:
    """Cases on which the user may be told of a finding: owned, tasked, offered, chaired, decided.

    Each way in is an id subquery rather than a join, so the database reads each through its own
    index instead of joining every case to its taskings, hand-overs and decisions and removing the
    duplicates (100 ms for a police officer at 100,000 cases; a few ms this way)."""
    from casetrail.cases.access import visible_cases
    from casetrail.cases.models import Decision, HandOver, SignificantEvent

    condition = (Q(owner_user=user) | Q(pk__in=Tasking.objects.filter(provider_user=user).values("case_id"))
                 | Q(pk__in=HandOver.objects.filter(Q(to_user=user) | Q(from_user=user)).values("case_id"))
                 | Q(pk__in=Decision.objects.filter(author=user).values("case_id")))
    if user.agency_id is not None and user.agency is not None and user.agency.duty_owner_id == user.pk:
        condition |= Q(pk__in=Tasking.objects.filter(provider_agency=user.agency_id).values("case_id"))
    if user.has_role(Role.PANEL_CHAIR):
        condition |= Q(local_authority_id=user.agency_id)
    # Closed cases too where something happened since: it may mean referring the person again.
    open_or_watched = ~Q(stage=Stage.CLOSED) | Q(pk__in=SignificantEvent.objects.values("case_id"))
    return visible_cases(user).filter(open_or_watched).filter(condition)


def findings_for(user: User, *, as_of: date | None = None) -> list[tuple[Case, core.Finding]]:
    """The findings this user is told of (to act on, or escalated to them), most urgent first.

    Today's are read from the stored answers (`stored_findings`); a past date's are computed.
    """
    from casetrail.cases.stored_findings import findings_of

    # The ids first, then the rows by id: asked in one, the database misjudged how few cases the
    # filter leaves and read every person and referral to join them.
    ids = list(_cases_concerning(user).values_list("pk", flat=True))
    cases = list(Case.objects.filter(pk__in=ids).select_related("referral", "owner_user", "owner_agency", "person"))
    answers = (findings_of(cases) if as_of is None
               else {case.pk: case_findings(case, as_of=as_of) for case in cases})
    found = [(case, finding) for case in cases for finding in answers[case.pk]
             if user.pk in finding.notify or user.pk in finding.escalated_to]
    return sorted(found, key=lambda cf: (cf[1].severity.rank, cf[1].since, cf[1].key))


# ---------------------------------------------------------------- telling people


def notify_candidates(day: date) -> Any:
    """Open cases, and those closed lately: an override at closure, say, must still be told."""
    return Case.objects.filter(~Q(stage=Stage.CLOSED) | Q(closed_on__gte=day - timedelta(days=31))
                               | Q(significant_events__isnull=False)).distinct()


def findings_notify(*, as_of: date | None = None, cases: Any = None, batch_size: int = 500) -> int:
    """Queue one message per finding per person told of it; already queued ones are skipped.

    Safe to run at any time and as often as wanted: after an outage it catches up. Today's
    findings are read from the stored answers, a batch of cases at a time.
    """
    from casetrail.cases.stored_findings import findings_of

    day = as_of or clock.today()
    candidates = (cases if cases is not None else notify_candidates(day)).order_by("pk")
    ids = list(candidates.values_list("pk", flat=True))
    users: dict[int, User | None] = {}
    queued = 0
    for start in range(0, len(ids), batch_size):
        batch = list(Case.objects.filter(pk__in=ids[start:start + batch_size])
                     .select_related("referral", "owner_user", "owner_agency", "person"))
        answers = (findings_of(batch) if as_of is None
                   else {case.pk: case_findings(case, as_of=as_of) for case in batch})
        queued += _tell(batch, answers, day, users)
    return queued


def _tell(cases: list[Case], answers: dict[int, list[core.Finding]], day: date,
          users: dict[int, User | None]) -> int:
    """Queue the messages about these cases' findings that are not queued already."""
    from casetrail.notifications.models import Message
    from casetrail.notifications.services import case_link, message_queue

    wanted = [(case, finding, user_id, kind) for case in cases for finding in answers[case.pk] if finding.since <= day
              for user_id, kind in [*((u, "finding") for u in finding.notify),
                                    *((u, "escalation") for u in finding.escalated_to)]]
    keys = {f"{kind}:{finding.key}:{user_id}" for _, finding, user_id, kind in wanted}
    told = set(Message.objects.filter(dedupe_key__in=keys).values_list("dedupe_key", flat=True))
    missing = {user_id for _, _, user_id, _ in wanted} - users.keys()
    users.update({u.pk: u for u in User.objects.filter(pk__in=missing)})
    queued = 0
    for case, finding, user_id, kind in wanted:
        key = f"{kind}:{finding.key}:{user_id}"
        user = users.get(user_id)
        if key in told or user is None or not user.is_active:
            continue
        subject = (f"Casetrail {case.reference}: {finding.title}" if kind == "finding"
                   else f"Casetrail {case.reference}: escalated to you: {finding.title}")
        body = (f"A safeguard has flagged case {case.reference} ({finding.source}).\n"
                f"Who must act: {finding.who}.\nFlagged since {finding.since:%-d %B %Y}.\n"
                f"Open the case to see what is needed: {case_link(case)}")
        _, created = message_queue(case=case, recipient=user, kind=kind, dedupe_key=key, subject=subject,
                                   body=body, data={"finding_key": finding.key, "rule": finding.rule})
        told.add(key)
        queued += created
    return queued


REFERRER_OUTCOMES = {
    "gateway": "The police have completed their initial assessment of your referral.",
    "adoption": "The Channel panel has considered your referral.",
    "exit": "Channel support for the person you referred has ended.",
    "closure": "The case that began with your referral has been closed.",
}


def referrer_outcome_notify(*, case: Case, decision: Any) -> None:
    """Tell the referrer, in words suited to their role, that a decision on their referral was made.

    Queued in the same transaction as the decision, so it cannot be forgotten.
    """
    from casetrail.notifications.services import message_queue

    text = REFERRER_OUTCOMES.get(decision.type)
    referrer = case.referral.submitted_by
    if text is None or referrer is None:
        return
    message_queue(
        case=case, recipient=referrer, kind="referrer_outcome", dedupe_key=f"referrer_outcome:{decision.pk}",
        subject=f"Your Prevent referral {case.referral.reference}: an update",
        body=f"{text}\nSign in to Casetrail to see the status of referral {case.referral.reference}: "
             f"{_status_link(case)}",
        data={"decision_id": decision.pk}, occurred_on=_day(decision.occurred_at),
    )


def _status_link(case: Case) -> str:
    base = getattr(settings, "CASETRAIL_BASE_URL", "http://127.0.0.1:8000").rstrip("/")
    return f"{base}/my-referrals"


__all__ = [
    "current_policy", "historic_replay", "is_historic", "case_record", "case_findings", "exit_blockers",
    "findings_for", "findings_notify", "referrer_outcome_notify", "chair_ids",
]
