"""The safeguards from the 2025 learning reviews: gates that block and findings that flag.

Everything here reads a `CaseRecord`, a plain snapshot of what was recorded about one case,
and a date. Nothing depends on a job having run: a finding exists because the recorded facts,
as of that date, say so (DESIGN.md principle 2). `CaseRecord.as_of(day)` forgets everything
recorded after `day`, so the same rules answer "what should we have seen then?".

Each rule has an id, a plain-English message, who must act, the kind of failure it answers (its
`category`, described in general words in CATEGORY_TEXT) and the finding it comes from (`source`,
a code in SOURCE_TEXT, worded generally: no rule belongs to one case, DESIGN.md principle 12).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum
from typing import Protocol, TypeVar

from casetrail.core.dates import add_months
from casetrail.core.decisions import rationale_errors
from casetrail.core.errors import Unmet
from casetrail.core.roles import Role
from casetrail.core.safeguard_policy import SafeguardPolicy
from casetrail.core.schedules import add_working_days, post_exit_review_dates

# ---------------------------------------------------------------- the rules and their sources


@dataclass(frozen=True)
class Rule:
    id: str
    title: str
    source: str  # the review finding it answers
    blocks: bool = False  # a gate (stops an action) rather than a flag

    @property
    def category(self) -> str:
        """The kind of failure it answers (a key of CATEGORY_TEXT)."""
        return RULE_CATEGORY.get(self.id) or SOURCE_CATEGORY[self.source]


SOURCE_TEXT: dict[str, str] = {
    "F1": "Assessment missing, on a superseded framework or out of date (Prevent learning reviews)",
    "F2": "Support aimed at presenting behaviour rather than underlying causes (Prevent learning reviews)",
    "F3": "Support did not address every identified vulnerability (Prevent learning reviews)",
    "F4": "Referrer not involved or kept informed (Prevent learning reviews)",
    "F5": "Commissioned sessions not delivered, and nobody noticed (Prevent learning reviews)",
    "F6": "Agencies lost contact with each other (Prevent learning reviews)",
    "F7": "Exit before the support was done (Prevent learning reviews)",
    "F8": "Records made late or missing (Prevent learning reviews)",
    "F9": "Decisions without explicit rationale (Prevent learning reviews)",
    "F10": "No clear owner for each step (Prevent learning reviews)",
    "F11": "Repeat referrals of the same person not connected (Prevent learning reviews)",
    "F12": "Retention would have destroyed the record needed for learning (Prevent learning reviews)",
    "O": "A safeguard refused an action that went ahead all the same (only a replay of the old process can do "
         "this)",
}

# The kinds of failure the rules answer, in general words; a replay's report groups by them.
CATEGORY_TEXT: dict[str, str] = {
    "assessment": "Assessment: missing, on a superseded framework or out of date",
    "support": "Support: planned for presenting behaviour only, or leaving a vulnerability unaddressed",
    "referrer": "Referrer: not consulted on decisions or not told the outcome",
    "sessions": "Sessions: commissioned work not delivered or not accounted for",
    "communication": "Communication between agencies: work sent and not acknowledged",
    "exit": "Exit: leaving support before the work was done",
    "overrides": "Overrides: actions that went ahead although a safeguard refused them",
    "records": "Records: made late, or required records missing",
    "rationale": "Rationale: decisions without an explicit reason",
    "ownership": "Ownership: work without an active owner, hand-overs unanswered",
    "gateway": "Gateway: closing a referral on too little",
    "repeat referrals": "Repeat referrals: earlier referrals of the same person",
    "retention": "Retention: records held from disposal",
    "significant events": "Significant events: an arrest, custody, a move, a crisis or a meeting's concern not "
                          "acted on",
}
SOURCE_CATEGORY: dict[str, str] = {
    "F1": "assessment", "F2": "support", "F3": "support", "F4": "referrer", "F5": "sessions",
    "F6": "communication", "F7": "exit", "F8": "records", "F9": "rationale", "F10": "ownership",
    "F11": "repeat referrals", "F12": "retention", "O": "overrides",
}
RULE_CATEGORY: dict[str, str] = {  # rules whose kind is not their source's
    "gate.overridden": "overrides",
    "gateway.no_ideology_alone": "gateway",
    "event.reassessment_due": "significant events",
    "event.not_on_agenda": "significant events",
    "event.meeting_concern_unanswered": "significant events",
    "event.possible_rereferral": "significant events",
    "event.closed_not_transferred": "significant events",
    "exit.assessment_before_event": "significant events",
}


RULES: dict[str, Rule] = {
    r.id: r
    for r in [
        Rule("exit.no_assessment", "No submitted assessment", "F1", blocks=True),
        Rule("exit.assessment_superseded", "Assessment on a superseded framework", "F1", blocks=True),
        Rule("exit.assessment_outdated", "Assessment too old to exit on", "F1", blocks=True),
        Rule("exit.vulnerability_unsupported", "Vulnerability without delivered support", "F3", blocks=True),
        Rule("exit.sessions_outstanding", "Commissioned sessions not accounted for", "F5", blocks=True),
        Rule("exit.referrer_not_consulted", "Referrer not consulted before exit", "F4", blocks=True),
        Rule("exit.minimum_support_period", "Minimum support period not reached", "F7", blocks=True),
        Rule("exit.no_rationale", "Exit without rationale", "F9", blocks=True),
        Rule("closure.post_exit_reviews_missing", "Post-exit reviews not recorded", "F8", blocks=True),
        Rule("closure.pending_handover", "Case closed while a hand-over or transfer awaits an answer", "F10",
             blocks=True),
        Rule("gateway.repeat_needs_second_review", "Repeat referral closed without second review", "F11",
             blocks=True),
        Rule("gateway.no_ideology_alone", "'No ideology' given as the only reason to close", "F11",
             blocks=True),
        Rule("gateway.unresolved_match", "Possible earlier record not resolved", "F11", blocks=True),
        Rule("person.unlink_needs_second_review", "Repeat referral unlinked without a second review", "F11",
             blocks=True),
        Rule("assessment.superseded_framework", "Assessment on a superseded framework", "F1"),
        Rule("assessment.outdated", "Assessment out of date", "F1"),
        Rule("plan.presenting_only", "Support addresses only presenting behaviour", "F2"),
        Rule("plan.vulnerability_unaddressed", "Vulnerability with no support planned", "F3"),
        Rule("referrer.not_consulted", "Decision made without consulting the referrer", "F4"),
        Rule("referrer.not_told", "Referrer not told the outcome", "F4"),
        Rule("session.overdue", "Commissioned session overdue", "F5"),
        Rule("tasking.unacknowledged", "Tasking not acknowledged by the provider", "F6"),
        Rule("gate.overridden", "Action taken although a safeguard blocked it", "O"),
        Rule("record.late", "Record made late", "F8"),
        Rule("review.overdue", "Post-exit review overdue", "F8"),
        Rule("decision.no_rationale", "Decision without explicit rationale", "F9"),
        Rule("ownership.no_active_owner", "Work without an active owner", "F10"),
        Rule("handover.unanswered", "Hand-over not answered", "F10"),
        Rule("referral.repeat", "Earlier referrals of this person", "F11"),
        Rule("referral.unresolved_match", "Possible earlier record waiting to be resolved", "F11"),
        Rule("event.reassessment_due", "Reassessment due after a significant event", "F1"),
        Rule("tasking.ended_early", "Intervention ended before its sessions were delivered", "F5"),
        Rule("police_led.review_overdue", "Police-led case not reviewed", "F8"),
        Rule("event.not_on_agenda", "Significant event not yet before the panel", "F6"),
        Rule("event.meeting_concern_unanswered", "Concern raised at a meeting with no recorded decision", "F9"),
        Rule("event.possible_rereferral", "Significant event after closure: possible re-referral", "F11"),
        Rule("event.closed_not_transferred", "Case closed when the person moved, not transferred", "F10"),
        Rule("exit.assessment_before_event", "Assessment made before a significant event", "F1", blocks=True),
        Rule("retention.hold", "Held from disposal", "F12"),
    ]
}


class Severity(StrEnum):
    """Most urgent first when sorted by `rank`."""

    ESCALATED = "escalated"
    OVERDUE = "overdue"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        return list(Severity).index(self)


@dataclass(frozen=True)
class Finding:
    """One open safeguard flag on one case, computed from recorded facts."""

    rule: str
    key: str  # stable across days: the same gap is the same finding
    case_id: int
    message: str
    who: str  # who must act, in words
    since: date  # the first day the recorded facts showed it
    severity: Severity
    notify: tuple[int, ...] = ()  # user ids told of it
    escalated_to: tuple[int, ...] = ()  # user ids told because it was not dealt with

    @property
    def source(self) -> str:
        code = RULES[self.rule].source
        return f"{code}: {SOURCE_TEXT[code]}"

    @property
    def title(self) -> str:
        return RULES[self.rule].title


def unmet(rule: str, message: str, who: str) -> Unmet:
    assert rule in RULES, rule
    return Unmet(rule, message, who)


# ---------------------------------------------------------------- the recorded facts


@dataclass(frozen=True)
class StateRec:
    """The case's stage and owner from `recorded_on`."""

    recorded_on: date
    stage: str
    owner_user_id: int | None
    owner_agency_id: int | None


@dataclass(frozen=True)
class DecisionRec:
    id: int
    type: str
    outcome: str
    on: date
    recorded_on: date
    rationale: str
    author_id: int | None


@dataclass(frozen=True)
class VulnerabilityRec:
    code: str
    title: str
    nature: str  # underlying_cause | presenting_behaviour


@dataclass(frozen=True)
class AssessmentRec:
    id: int
    framework_ref: str
    framework_superseded_on: date | None
    assessed_on: date
    recorded_on: date
    vulnerabilities: tuple[VulnerabilityRec, ...]


@dataclass(frozen=True)
class ActionRec:
    id: int
    vulnerabilities: tuple[str, ...]
    owner_user_id: int | None
    owner_active: bool
    due_on: date
    recorded_on: date
    status: str = "open"  # open | done | cancelled
    completed_on: date | None = None
    completed_recorded_on: date | None = None


@dataclass(frozen=True)
class WaiverRec:
    """The chair's approved reason why a vulnerability needs no support action."""

    code: str
    reason: str
    recorded_on: date


@dataclass(frozen=True)
class SessionRec:
    number: int
    status: str  # delivered | cancelled
    on: date
    recorded_on: date
    reason: str = ""


@dataclass(frozen=True)
class TaskingRec:
    id: int
    provider_user_id: int | None
    provider_active: bool
    provider_duty_owner_id: int | None
    sessions_commissioned: int
    commissioned_on: date
    recorded_on: date
    vulnerabilities: tuple[str, ...] = ()
    acknowledged_on: date | None = None
    acknowledged_recorded_on: date | None = None
    sessions: tuple[SessionRec, ...] = ()
    # Ended early by a recorded decision: the day it ended and the day that was recorded.
    ended_on: date | None = None
    ended_recorded_on: date | None = None


@dataclass(frozen=True)
class ConsultationRec:
    """A recorded consultation with the referrer (not a mere update)."""

    on: date
    recorded_on: date


@dataclass(frozen=True)
class NoticeRec:
    """The referrer was told the outcome of a decision."""

    decision_id: int
    recorded_on: date


@dataclass(frozen=True)
class ReviewRec:
    months: int
    held_on: date
    recorded_on: date


@dataclass(frozen=True)
class HandOverRec:
    id: int
    what: str
    offered_on: date
    from_user_id: int | None
    to_user_id: int | None
    responded_recorded_on: date | None = None
    offered_by_id: int | None = None  # who made the offer (the owner, or someone acting for them)
    transfer_kind: str = ""  # set when it is a transfer of the case to another area


@dataclass(frozen=True)
class EventRec:
    id: int
    kind: str
    summary: str
    on: date
    recorded_on: date
    data: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class HoldRec:
    reason: str
    placed_on: date
    lifted_on: date | None = None


@dataclass(frozen=True)
class SignificantEventRec:
    """Something that changes the picture (an arrest, a release, a move, a crisis, an exclusion,
    new information, a concern raised at a meeting), with when it happened and was recorded, and
    the day a discussion and decision about it was recorded, if one was."""

    id: int
    kind: str
    title: str  # the kind in words
    on: date
    recorded_on: date
    responded_on: date | None = None


@dataclass(frozen=True)
class PossibleMatchRec:
    """An earlier person the referral's identity matched strongly (at intake or later), as found.

    `changes` are the resolutions recorded since, oldest first: (day recorded, status), the
    status one of "linked" (same person), "rejected" (not the same person) or "open" (a link
    undone). `referrals` are that person's referrals made before this one, (id, day).
    """

    id: int
    person: str  # the person's reference, for messages
    probability: float
    found_on: date
    referrals: tuple[tuple[int, date], ...] = ()
    changes: tuple[tuple[date, str], ...] = ()

    @property
    def status(self) -> str:
        return self.changes[-1][1] if self.changes else "open"

    @property
    def resolved(self) -> bool:
        return self.status != "open"

    @property
    def percent(self) -> str:
        return f"{self.probability * 100:.1f}%" if self.probability < 0.999 else "over 99.9%"


@dataclass(frozen=True)
class CaseRecord:
    """Everything the safeguards read about one case. Built by the persistence layer."""

    case_id: int
    referred_on: date
    local_authority_id: int | None = None
    chair_ids: tuple[int, ...] = ()
    referrer_user_id: int | None = None
    states: tuple[StateRec, ...] = ()
    decisions: tuple[DecisionRec, ...] = ()
    assessments: tuple[AssessmentRec, ...] = ()
    actions: tuple[ActionRec, ...] = ()
    waivers: tuple[WaiverRec, ...] = ()
    taskings: tuple[TaskingRec, ...] = ()
    consultations: tuple[ConsultationRec, ...] = ()
    notices: tuple[NoticeRec, ...] = ()
    reviews: tuple[ReviewRec, ...] = ()
    handovers: tuple[HandOverRec, ...] = ()
    events: tuple[EventRec, ...] = ()
    earlier_referrals: tuple[date, ...] = ()
    # The ids of those referrals, in the same order, so a possible earlier record's referrals
    # are never counted twice (empty: each date counts as its own referral).
    earlier_referral_ids: tuple[int, ...] = ()
    # The day a person confirmed this referral is someone already known (None: known at intake).
    history_known_on: date | None = None
    holds: tuple[HoldRec, ...] = ()
    owner_active: bool = True
    possible_matches: tuple[PossibleMatchRec, ...] = ()
    # Who is told when a possible earlier record waits too long: the owning agency's duty owner.
    duty_owner_id: int | None = None
    significant_events: tuple[SignificantEventRec, ...] = ()
    # Panel meetings the case is on the agenda of: (day the item was recorded, day of the meeting).
    agenda: tuple[tuple[date, date], ...] = ()

    # -- the state as of the newest StateRec
    @property
    def state(self) -> StateRec | None:
        return self.states[-1] if self.states else None

    @property
    def stage(self) -> str:
        return self.state.stage if self.state else "gateway"

    @property
    def owner_user_id(self) -> int | None:
        return self.state.owner_user_id if self.state else None

    def first_on(self, stage: str) -> date | None:
        """The day the case last entered `stage` (as recorded)."""
        entered = None
        previous = None
        for s in self.states:
            if s.stage == stage and previous != stage:
                entered = s.recorded_on
            previous = s.stage
        return entered

    def decisions_of(self, *types: str) -> list[DecisionRec]:
        return [d for d in self.decisions if d.type in types]

    @property
    def latest_assessment(self) -> AssessmentRec | None:
        return max(self.assessments, key=lambda a: (a.assessed_on, a.id), default=None)

    @property
    def exited_on(self) -> date | None:
        if self.stage not in ("exited", "closed"):
            return None
        exits = self.decisions_of("exit")
        return exits[-1].on if exits else None

    def as_of(self, day: date) -> CaseRecord:
        """What was recorded by the end of `day`, and nothing recorded later."""

        actions = tuple(
            a if a.completed_recorded_on is None or a.completed_recorded_on <= day
            else dataclasses.replace(a, status="open", completed_on=None, completed_recorded_on=None)
            for a in _known(self.actions, day)
        )
        taskings = tuple(
            dataclasses.replace(
                t,
                acknowledged_on=t.acknowledged_on if _by(t.acknowledged_recorded_on, day) else None,
                acknowledged_recorded_on=t.acknowledged_recorded_on if _by(t.acknowledged_recorded_on, day) else None,
                sessions=tuple(s for s in t.sessions if s.recorded_on <= day),
                ended_on=t.ended_on if _by(t.ended_recorded_on, day) else None,
                ended_recorded_on=t.ended_recorded_on if _by(t.ended_recorded_on, day) else None,
            )
            for t in self.taskings
            if t.recorded_on <= day
        )
        handovers = tuple(
            h if _by(h.responded_recorded_on, day) else dataclasses.replace(h, responded_recorded_on=None)
            for h in self.handovers
            if h.offered_on <= day
        )
        earlier, earlier_ids = self._earlier_as_of(day)
        holds = tuple(
            h if _by(h.lifted_on, day) else dataclasses.replace(h, lifted_on=None)
            for h in self.holds
            if h.placed_on <= day
        )
        return dataclasses.replace(
            self,
            states=_known(self.states, day),
            decisions=_known(self.decisions, day),
            assessments=_known(self.assessments, day),
            actions=actions,
            waivers=_known(self.waivers, day),
            taskings=taskings,
            consultations=_known(self.consultations, day),
            notices=_known(self.notices, day),
            reviews=_known(self.reviews, day),
            handovers=handovers,
            events=_known(self.events, day),
            earlier_referrals=earlier,
            earlier_referral_ids=earlier_ids,
            holds=holds,
            possible_matches=tuple(
                dataclasses.replace(m, changes=tuple(c for c in m.changes if c[0] <= day))
                for m in self.possible_matches if m.found_on <= day
            ),
            significant_events=tuple(
                e if _by(e.responded_on, day) else dataclasses.replace(e, responded_on=None)
                for e in self.significant_events if e.recorded_on <= day
            ),
            agenda=tuple(a for a in self.agenda if a[0] <= day),
        )

    def _earlier_as_of(self, day: date) -> tuple[tuple[date, ...], tuple[int, ...]]:
        """The confirmed earlier referrals known by `day` (none before someone linked them)."""
        if self.history_known_on is not None and self.history_known_on > day:
            return (), ()
        kept = [i for i, d in enumerate(self.earlier_referrals) if d <= day]
        return (tuple(self.earlier_referrals[i] for i in kept),
                tuple(self.earlier_referral_ids[i] for i in kept) if self.earlier_referral_ids else ())

    # -- possible earlier records (principle 11: a strong match counts until a person decides)
    @property
    def unresolved_matches(self) -> tuple[PossibleMatchRec, ...]:
        return tuple(m for m in self.possible_matches if not m.resolved)

    def repeat_referral_days(self) -> list[date]:
        """The days of this person's earlier referrals: those confirmed by a link, and those of
        every possible earlier record not judged a different person (each referral once)."""
        known: dict[int, date] = {}
        if self.earlier_referral_ids:
            known.update(zip(self.earlier_referral_ids, self.earlier_referrals, strict=True))
        else:
            known.update({-(i + 1): d for i, d in enumerate(self.earlier_referrals)})
        for match in self.possible_matches:
            if match.status != "rejected":
                known.update(match.referrals)
        return sorted(known.values())


class _Recorded(Protocol):
    @property
    def recorded_on(self) -> date: ...


R = TypeVar("R", bound=_Recorded)


def _known(items: Iterable[R], day: date) -> tuple[R, ...]:
    return tuple(i for i in items if i.recorded_on <= day)


def _by(day: date | None, limit: date) -> bool:
    return day is not None and day <= limit


# ---------------------------------------------------------------- who acts

COORDINATOR = Role.CHANNEL_COORDINATOR.label
CHAIR = Role.PANEL_CHAIR.label
POLICE = Role.POLICE_OFFICER.label
PROVIDER = Role.PROVIDER.label


def _ids(*ids: int | None) -> tuple[int, ...]:
    return tuple(dict.fromkeys(i for i in ids if i is not None))


# ---------------------------------------------------------------- gates


def identified_vulnerabilities(record: CaseRecord) -> tuple[VulnerabilityRec, ...]:
    latest = record.latest_assessment
    return latest.vulnerabilities if latest else ()


def _delivered_support(record: CaseRecord, code: str) -> bool:
    if any(code in a.vulnerabilities and a.status == "done" for a in record.actions):
        return True
    return any(
        code in t.vulnerabilities and any(s.status == "delivered" for s in t.sessions) for t in record.taskings
    )


def _waived(record: CaseRecord, code: str) -> bool:
    return any(w.code == code for w in record.waivers)


def outstanding_sessions(tasking: TaskingRec) -> int:
    """Sessions neither delivered nor cancelled with a reason, nor ended with the tasking by a decision."""
    if tasking.ended_on is not None:
        return 0
    return max(tasking.sessions_commissioned - len(tasking.sessions), 0)


def exit_gate(
    record: CaseRecord,
    *,
    on: date,
    policy: SafeguardPolicy,
    rationale: str,
    minimum_period_reason: str = "",
) -> list[Unmet]:
    """Every reason the panel may not exit the case on `on` (F1, F3, F4, F5, F7, F9)."""
    found: list[Unmet] = []
    latest = record.latest_assessment
    if latest is None:
        found.append(unmet("exit.no_assessment",
                           "A vulnerability assessment must be submitted before the case can exit.", COORDINATOR))
    else:
        if latest.framework_superseded_on is not None and latest.framework_superseded_on <= on:
            found.append(unmet(
                "exit.assessment_superseded",
                f"The latest assessment uses {latest.framework_ref}, which has been superseded: "
                "reassess on the current framework before exit.", COORDINATOR))
        age = (on - latest.assessed_on).days
        if age > policy.assessment_max_age_days:
            found.append(unmet(
                "exit.assessment_outdated",
                f"The latest assessment is {age} days old; exit needs one made within "
                f"{policy.assessment_max_age_days} days.", COORDINATOR))
        for event in record.significant_events:
            if latest.assessed_on < event.on <= on:
                found.append(unmet(
                    "exit.assessment_before_event",
                    f"The latest assessment ({latest.assessed_on:%-d %B %Y}) was made before the significant event of "
                    f"{event.on:%-d %B %Y} ({event.title.lower()}): reassess before exit.", COORDINATOR))
    for vulnerability in identified_vulnerabilities(record):
        if not _delivered_support(record, vulnerability.code) and not _waived(record, vulnerability.code):
            found.append(unmet(
                "exit.vulnerability_unsupported",
                f"'{vulnerability.title}' has no delivered support and no reason approved by the chair.",
                f"{COORDINATOR} (deliver support) or {CHAIR} (approve a reason)"))
    for tasking in record.taskings:
        missing = outstanding_sessions(tasking)
        if missing:
            found.append(unmet(
                "exit.sessions_outstanding",
                f"{missing} of {tasking.sessions_commissioned} commissioned sessions are neither delivered nor "
                "cancelled with a reason.", f"{PROVIDER} (record or cancel them)"))
    adopted = record.first_on("awaiting_consent") or record.referred_on
    if not any(c.on >= adopted for c in record.consultations):
        found.append(unmet(
            "exit.referrer_not_consulted",
            "The referrer has not been consulted since the case was adopted: record a consultation.",
            COORDINATOR))
    support_started = record.first_on("support")
    if policy.minimum_support_days and support_started is not None:
        days = (on - support_started).days
        if days < policy.minimum_support_days and len(minimum_period_reason.strip()) < 20:
            found.append(unmet(
                "exit.minimum_support_period",
                f"Support has lasted {days} days, less than the {policy.minimum_support_days}-day minimum: "
                "the chair must record why an earlier exit is right.", CHAIR))
    if rationale_errors(rationale):
        found.append(unmet("exit.no_rationale", "The exit decision needs a written rationale.", CHAIR))
    return found


NO_IDEOLOGY = "no_ideology"
# How an import or replay of an old record marks a decision that was recorded without reasons.
NO_RATIONALE_MARK = "[No explicit rationale"


def gateway_close_gate(
    record: CaseRecord, *, on: date, policy: SafeguardPolicy, reasons: Sequence[str], second_reviewer_id: int | None
) -> list[Unmet]:
    """Closing a referral at the gateway (no further action): F11 safeguards."""
    found: list[Unmet] = []
    if set(reasons) == {NO_IDEOLOGY}:
        found.append(unmet(
            "gateway.no_ideology_alone",
            "'No clear ideology' cannot be the only reason to close: say what else shows no vulnerability "
            "to radicalisation.", POLICE))
    return found + repeat_referral_gate(record, on=on, policy=policy, second_reviewer_id=second_reviewer_id)


def repeat_referral_gate(record: CaseRecord, *, on: date, policy: SafeguardPolicy,
                         second_reviewer_id: int | None) -> list[Unmet]:
    """The referral that makes `repeat_referral_count` for one person within the window closes (at
    the gateway or police-led) only after a second officer's review."""
    count = repeat_count(record, on=on, policy=policy)
    if count < policy.repeat_referral_count or second_reviewer_id is not None:
        return []
    return [unmet(
        "gateway.repeat_needs_second_review",
        f"This is referral {count} of this person within {policy.repeat_referral_months} months "
        "(counting possible earlier records not judged a different person): a second officer must review "
        "the decision to close.", f"A second {POLICE}")]


def pending_handover_gate(pending: Sequence[str]) -> list[Unmet]:
    """A case does not close while anything on it is offered to someone: a transfer to another
    area, or a hand-over, is answered first (accepted, declined, or lapsed)."""
    if not pending:
        return []
    return [unmet("closure.pending_handover",
                  f"Waiting for an answer: {'; '.join(pending)}. The receiver accepts or declines first, or the "
                  "offer lapses.", "The receiver (accept or decline)")]


def repeat_count(record: CaseRecord, *, on: date, policy: SafeguardPolicy) -> int:
    """Which referral of this person, within the policy's window, this one is (1: the first)."""
    window_start = add_months(on, -policy.repeat_referral_months)
    return sum(1 for d in record.repeat_referral_days() if d >= window_start) + 1


def unresolved_match_gate(matches: Iterable[PossibleMatchRec]) -> list[Unmet]:
    """No decision on a referral while a possible earlier record of the person waits unread."""
    waiting = [m for m in matches if not m.resolved]
    if not waiting:
        return []
    names = "; ".join(f"{m.person} ({m.percent} likely, found {m.found_on:%-d %B %Y})" for m in waiting)
    return [unmet(
        "gateway.unresolved_match",
        f"{len(waiting)} possible earlier record{'s' if len(waiting) > 1 else ''} of this person "
        f"{'are' if len(waiting) > 1 else 'is'} not resolved: {names}. Read each and record whether it is the "
        "same person (link) or not (with your reasons) before deciding.",
        f"{POLICE} or {COORDINATOR} (resolve the possible earlier records)")]


def unlink_gate(before: CaseRecord, after: CaseRecord, *, on: date, policy: SafeguardPolicy,
                second_reviewer_id: int | None) -> list[Unmet]:
    """Undoing a link or rejecting a match may not take a referral at the gateway below the repeat
    threshold on one officer's word: it needs the second review that closing would need."""
    if before.stage != "gateway" or second_reviewer_id is not None:
        return []
    was, now = repeat_count(before, on=on, policy=policy), repeat_count(after, on=on, policy=policy)
    if was >= policy.repeat_referral_count > now:
        return [unmet(
            "person.unlink_needs_second_review",
            f"This would make referral {was} of this person look like referral {now}, below the "
            f"{policy.repeat_referral_count} that needs a second officer to close: a second officer must review "
            "it first.", f"A second {POLICE}")]
    return []


# ---------------------------------------------------------------- findings


def _escalation(
    due: date, today: date, policy: SafeguardPolicy, chairs: tuple[int, ...]
) -> tuple[Severity, tuple[int, ...]]:
    if today > due + timedelta(days=policy.escalation_days):
        return Severity.ESCALATED, chairs
    return Severity.OVERDUE, ()


def findings(record: CaseRecord, *, today: date, policy: SafeguardPolicy) -> list[Finding]:
    """Every open safeguard flag on the case as of `today`, most urgent first.

    Pass `record.as_of(today)` to ask about a past date; a current record asks about now.
    """
    rules = [
        _assessment_findings, _plan_findings, _referrer_findings, _tasking_findings, _ownership_findings,
        _late_records, _review_findings, _decision_findings, _repeat_findings, _unresolved_match_findings,
        _event_findings, _ended_early_findings, _police_led_findings, _hold_findings, _override_findings,
    ]
    found = [f for rule in rules for f in rule(record, today, policy)]
    return sorted(found, key=lambda f: (f.severity.rank, f.since, f.key))


ACTIVE_STAGES = ("panel", "awaiting_consent", "support")


def _assessment_findings(record: CaseRecord, today: date, policy: SafeguardPolicy) -> list[Finding]:
    latest = record.latest_assessment
    if latest is None or record.stage not in ACTIVE_STAGES:
        return []
    found = []
    owner = _ids(record.owner_user_id)
    superseded = latest.framework_superseded_on
    if superseded is not None and superseded <= today:
        found.append(Finding(
            "assessment.superseded_framework", f"assessment.superseded:{latest.id}", record.case_id,
            f"The latest assessment uses {latest.framework_ref}, which was superseded on {superseded:%-d %B %Y}.",
            COORDINATOR, max(superseded, latest.recorded_on), Severity.WARNING, owner))
    stale_from = latest.assessed_on + timedelta(days=policy.assessment_max_age_days + 1)
    if record.stage == "support" and today >= stale_from:
        found.append(Finding(
            "assessment.outdated", f"assessment.outdated:{latest.id}", record.case_id,
            f"The latest assessment was made on {latest.assessed_on:%-d %B %Y}, more than "
            f"{policy.assessment_max_age_days} days ago: reassess before exit.",
            COORDINATOR, stale_from, Severity.WARNING, owner))
    return found


def _planned(record: CaseRecord) -> list[tuple[tuple[str, ...], date]]:
    return [(a.vulnerabilities, a.recorded_on) for a in record.actions if a.status != "cancelled"] + [
        (t.vulnerabilities, t.recorded_on) for t in record.taskings
    ]


def _plan_findings(record: CaseRecord, today: date, policy: SafeguardPolicy) -> list[Finding]:
    latest = record.latest_assessment
    if latest is None or record.stage != "support":
        return []
    owner = _ids(record.owner_user_id)
    planned = _planned(record)
    found = []
    causes = [v for v in latest.vulnerabilities if v.nature == "underlying_cause"]
    addressed = {code for codes, _ in planned for code in codes}
    if planned and causes and not any(v.code in addressed for v in causes):
        since = max(latest.recorded_on, min(day for _, day in planned))
        found.append(Finding(
            "plan.presenting_only", f"plan.presenting_only:{latest.id}", record.case_id,
            "The support plan addresses only presenting behaviour; none of it addresses an underlying cause ("
            + ", ".join(v.title for v in causes) + ").",
            COORDINATOR, since, Severity.WARNING, owner))
    started = record.first_on("support") or latest.recorded_on
    since = max(latest.recorded_on, started)
    for v in latest.vulnerabilities:
        if v.code not in addressed and not _waived(record, v.code):
            found.append(Finding(
                "plan.vulnerability_unaddressed", f"plan.unaddressed:{latest.id}:{v.code}", record.case_id,
                f"'{v.title}' was identified but no support action or tasking addresses it, and the chair has "
                "approved no reason why not.", COORDINATOR, since, Severity.WARNING, owner))
    return found


RISK_DECISIONS = {"gateway": "gateway decision", "adoption": "panel decision", "exit": "exit decision"}
TOLD_DECISIONS = {"gateway": "gateway decision", "adoption": "panel decision", "exit": "exit",
                  "closure": "closure"}


def _referrer_findings(record: CaseRecord, today: date, policy: SafeguardPolicy) -> list[Finding]:
    found = []
    owner = _ids(record.owner_user_id)
    for decision in record.decisions_of(*RISK_DECISIONS):
        if decision.type == "adoption" and decision.outcome != "adopted":
            continue
        if not any(record.referred_on <= c.on <= decision.on for c in record.consultations):
            found.append(Finding(
                "referrer.not_consulted", f"referrer.not_consulted:{decision.id}", record.case_id,
                f"The {RISK_DECISIONS[decision.type]} of {decision.on:%-d %B %Y} was made without a recorded "
                "consultation with the referrer.", f"{COORDINATOR} or {POLICE} (consult the referrer)",
                decision.recorded_on, Severity.WARNING, _ids(decision.author_id, *owner)))
    if record.referrer_user_id is None:
        return found
    told = {n.decision_id for n in record.notices}
    for decision in record.decisions_of(*TOLD_DECISIONS):
        due = decision.recorded_on + timedelta(days=policy.referrer_told_days)
        if decision.id not in told and today > due:
            found.append(Finding(
                "referrer.not_told", f"referrer.not_told:{decision.id}", record.case_id,
                f"The referrer has not been told the outcome of the {TOLD_DECISIONS[decision.type]} of "
                f"{decision.on:%-d %B %Y}.", COORDINATOR, due + timedelta(days=1), Severity.OVERDUE, owner))
    return found


def session_due(tasking: TaskingRec, policy: SafeguardPolicy) -> date | None:
    """When the next commissioned session should have happened by, or None if all are accounted for."""
    if outstanding_sessions(tasking) == 0:
        return None
    if tasking.sessions:
        return max(s.on for s in tasking.sessions) + timedelta(days=policy.session_interval_days)
    start = tasking.acknowledged_on or acknowledgement_due(tasking, policy)
    return start + timedelta(days=policy.first_session_days)


def acknowledgement_due(tasking: TaskingRec, policy: SafeguardPolicy) -> date:
    return add_working_days(tasking.commissioned_on, policy.tasking_acknowledgement_working_days)


def _tasking_findings(record: CaseRecord, today: date, policy: SafeguardPolicy) -> list[Finding]:
    if record.stage == "closed":
        return []
    found = []
    for t in record.taskings:
        if t.ended_on is not None:
            continue  # ended by a recorded decision: nothing more is owed on it
        told = _ids(record.owner_user_id, t.provider_user_id, t.provider_duty_owner_id)
        if t.acknowledged_on is None and record.stage == "support":
            due = acknowledgement_due(t, policy)
            if today > due:
                severity, chairs = _escalation(due, today, policy, record.chair_ids)
                found.append(Finding(
                    "tasking.unacknowledged", f"tasking.unacknowledged:{t.id}", record.case_id,
                    f"The provider has not acknowledged the tasking of {t.commissioned_on:%-d %B %Y} "
                    f"(due by {due:%-d %B %Y}).", f"{PROVIDER} (acknowledge) and {COORDINATOR} (follow up)",
                    due + timedelta(days=1), severity, told, chairs))
            continue
        session_by = session_due(t, policy)
        if session_by is not None and today > session_by:
            number = len(t.sessions) + 1
            severity, chairs = _escalation(session_by, today, policy, record.chair_ids)
            found.append(Finding(
                "session.overdue", f"session.overdue:{t.id}:{number}", record.case_id,
                f"Session {number} of {t.sessions_commissioned} was due by {session_by:%-d %B %Y} and is "
                "neither recorded as delivered nor cancelled with a reason.",
                f"{PROVIDER} (record or cancel it) and {COORDINATOR} (follow up)",
                session_by + timedelta(days=1), severity, told, chairs))
    return found


def _ended_early_findings(record: CaseRecord, today: date, policy: SafeguardPolicy) -> list[Finding]:
    """An intervention ended early is put before the panel: flagged to its chairs and the case
    owner until a panel review is recorded after the end."""
    if record.stage not in ACTIVE_STAGES:
        return []
    found = []
    for t in record.taskings:
        if t.ended_on is None or t.ended_recorded_on is None:
            continue
        ended = t.ended_recorded_on
        if any(d.recorded_on >= ended for d in record.decisions_of("panel_review")):
            continue
        delivered = sum(1 for s in t.sessions if s.status == "delivered")
        found.append(Finding(
            "tasking.ended_early", f"tasking.ended_early:{t.id}", record.case_id,
            f"The tasking of {t.commissioned_on:%-d %B %Y} ended on {t.ended_on:%-d %B %Y} with {delivered} of "
            f"{t.sessions_commissioned} sessions delivered: the panel reviews what replaces it.",
            f"{CHAIR} (review it at the panel)", ended, Severity.WARNING,
            _ids(*record.chair_ids, record.owner_user_id)))
    return found


def _police_led_findings(record: CaseRecord, today: date, policy: SafeguardPolicy) -> list[Finding]:
    """A police-led case is reviewed at least every `police_led_review_days`, like any open case."""
    if record.stage != "police_led":
        return []
    since = record.first_on("police_led") or record.referred_on
    reviews = [d.recorded_on for d in record.decisions_of("police_led_review") if d.recorded_on >= since]
    last = max([since, *reviews])
    due = last + timedelta(days=policy.police_led_review_days)
    if today <= due:
        return []
    late = today > due + timedelta(days=policy.escalation_days)
    return [Finding(
        "police_led.review_overdue", f"police_led.review_overdue:{record.case_id}:{due.isoformat()}", record.case_id,
        f"The police-led case was last reviewed on {last:%-d %B %Y}; a review was due by {due:%-d %B %Y}.",
        POLICE, due + timedelta(days=1), Severity.ESCALATED if late else Severity.OVERDUE,
        _ids(record.owner_user_id), _ids(record.duty_owner_id) if late else ())]


def _ownership_findings(record: CaseRecord, today: date, policy: SafeguardPolicy) -> list[Finding]:
    found = []
    if record.stage != "closed" and (record.owner_user_id is None or not record.owner_active):
        found.append(Finding(
            "ownership.no_active_owner", f"ownership.case:{record.case_id}", record.case_id,
            "The case has no active named owner: hand it to someone who can take it.",
            "An administrator or the owning agency's duty owner", record.state.recorded_on if record.state
            else record.referred_on, Severity.OVERDUE, record.chair_ids))
    for a in record.actions:
        if a.status == "open" and (a.owner_user_id is None or not a.owner_active):
            found.append(Finding(
                "ownership.no_active_owner", f"ownership.action:{a.id}", record.case_id,
                "A support action has no active owner.", COORDINATOR, a.recorded_on, Severity.OVERDUE,
                _ids(record.owner_user_id)))
    for t in record.taskings:
        if outstanding_sessions(t) and record.stage != "closed" and not t.provider_active:
            found.append(Finding(
                "ownership.no_active_owner", f"ownership.tasking:{t.id}", record.case_id,
                "A tasking's provider is no longer active: hand the tasking to another approved provider.",
                COORDINATOR, t.recorded_on, Severity.OVERDUE, _ids(record.owner_user_id)))
    for h in record.handovers:
        if h.responded_recorded_on is not None or record.stage == "closed":
            continue
        due = add_working_days(h.offered_on, policy.handover_response_working_days)
        if today > due:
            severity, chairs = _escalation(due, today, policy, record.chair_ids)
            # The offer lapses with its response date: it can no longer be accepted and gives no
            # access, so the work stays with its owner and the offerer must act again.
            found.append(Finding(
                "handover.unanswered", f"handover.unanswered:{h.id}", record.case_id,
                f"The hand-over of the {h.what} offered on {h.offered_on:%-d %B %Y} was not answered by "
                f"{due:%-d %B %Y} and has lapsed; the current owner keeps it. Offer it again, or to someone "
                "else.", "The person who offered it (offer it again or keep it)",
                due + timedelta(days=1), severity, _ids(h.offered_by_id, h.from_user_id, h.to_user_id), chairs))
    return found


def _late_records(record: CaseRecord, today: date, policy: SafeguardPolicy) -> list[Finding]:
    return [
        Finding(
            "record.late", f"record.late:{e.id}", record.case_id,
            f"'{e.summary}' happened on {e.on:%-d %B %Y} but was recorded on {e.recorded_on:%-d %B %Y}, "
            f"{(e.recorded_on - e.on).days} days later.", "Nobody: shown on the chronology",
            e.recorded_on, Severity.INFO)
        for e in record.events
        if (e.recorded_on - e.on).days > policy.late_record_days and not e.kind.startswith(SYSTEM_EVENTS)
    ]


# Events the system writes about itself (messages, stage bookkeeping): never "late records".
SYSTEM_EVENTS = ("notification.", "case.state", "gate.overridden")


def post_exit_reviews_owed(record: CaseRecord, policy: SafeguardPolicy) -> dict[int, date]:
    """The post-exit reviews not yet recorded, with the day each becomes overdue."""
    exited = record.exited_on
    if exited is None or record.stage == "closed":
        return {}
    done = {r.months for r in record.reviews}
    grace = timedelta(days=policy.post_exit_review_grace_days)
    return {m: due + grace for m, due in post_exit_review_dates(exited).items() if m not in done}


def _review_findings(record: CaseRecord, today: date, policy: SafeguardPolicy) -> list[Finding]:
    found = []
    for months, due in post_exit_reviews_owed(record, policy).items():
        if today > due:
            severity, chairs = _escalation(due, today, policy, record.chair_ids)
            found.append(Finding(
                "review.overdue", f"review.overdue:{record.case_id}:{months}", record.case_id,
                f"The {months}-month post-exit review was due on {due:%-d %B %Y} and has not been recorded.",
                COORDINATOR, due + timedelta(days=1), severity, _ids(record.owner_user_id), chairs))
    return found


def _decision_findings(record: CaseRecord, today: date, policy: SafeguardPolicy) -> list[Finding]:
    return [
        Finding(
            "decision.no_rationale", f"decision.no_rationale:{d.id}", record.case_id,
            f"The {d.type.replace('_', ' ')} decision of {d.on:%-d %B %Y} has no explicit rationale.",
            "The decision's author (record a superseding decision with its reasons)", d.recorded_on,
            Severity.WARNING, _ids(d.author_id))
        for d in record.decisions
        if rationale_errors(d.rationale) or d.rationale.startswith(NO_RATIONALE_MARK)
    ]


def _repeat_findings(record: CaseRecord, today: date, policy: SafeguardPolicy) -> list[Finding]:
    days = record.repeat_referral_days()
    if not days or record.stage == "closed":
        return []
    count = len(days)
    dates = ", ".join(f"{d:%-d %B %Y}" for d in days)
    since = [record.history_known_on or record.referred_on] if record.earlier_referrals else []
    since += [m.found_on for m in record.possible_matches if m.status != "rejected" and m.referrals]
    pending = " (some only possibly the same person: resolve them)" if record.unresolved_matches else ""
    return [Finding(
        "referral.repeat", f"referral.repeat:{record.case_id}", record.case_id,
        f"This person has {count} earlier referral{'s' if count > 1 else ''} ({dates}){pending}: read them "
        "before deciding.", "Whoever handles this referral", min(since, default=record.referred_on),
        Severity.INFO, ())]


def _unresolved_match_findings(record: CaseRecord, today: date, policy: SafeguardPolicy) -> list[Finding]:
    """Each possible earlier record goes to the case's owner from the day it was found, and to the
    owning agency's duty owner once it has waited longer than the policy allows."""
    if record.stage == "closed":
        return []
    found = []
    for m in record.unresolved_matches:
        due = m.found_on + timedelta(days=policy.unresolved_match_escalation_days)
        late = today > due
        found.append(Finding(
            "referral.unresolved_match", f"referral.unresolved_match:{m.id}", record.case_id,
            f"A possible earlier record of this person ({m.person}, {m.percent} likely) was found on "
            f"{m.found_on:%-d %B %Y} and nobody has yet said whether it is the same person.",
            f"The case owner ({POLICE} or {COORDINATOR}): link it or record why it is a different person",
            m.found_on, Severity.ESCALATED if late else Severity.WARNING, _ids(record.owner_user_id),
            _ids(record.duty_owner_id) if late else ()))
    return found


MEETING_CONCERN = "meeting_concern"
# Events that call for a transfer, not a closure, in words.
MOVES = {"into_custody": "was taken into custody", "released": "was released from custody",
         "moved": "moved address or area"}


def closed_on(record: CaseRecord) -> date | None:
    """The day the case was last recorded as closed, while it is."""
    return record.first_on("closed") if record.stage == "closed" else None


def _event_findings(record: CaseRecord, today: date, policy: SafeguardPolicy) -> list[Finding]:
    """What a significant event asks for: a new assessment, a place on the panel's agenda, a
    recorded decision about a concern raised at a meeting, and, after closure, a look at whether
    the person should be referred again."""
    found = []
    owner = _ids(record.owner_user_id)
    latest = record.latest_assessment
    ended = closed_on(record)
    for e in record.significant_events:
        if record.stage in ACTIVE_STAGES and latest is not None and latest.assessed_on < e.on:
            due = e.recorded_on + timedelta(days=policy.reassessment_after_event_days)
            severity, chairs = (_escalation(due, today, policy, record.chair_ids) if today > due
                                else (Severity.WARNING, ()))
            found.append(Finding(
                "event.reassessment_due", f"event.reassessment_due:{e.id}", record.case_id,
                f"The assessment of {latest.assessed_on:%-d %B %Y} predates the significant event of {e.on:%-d %B %Y} "
                f"({e.title.lower()}): reassess by {due:%-d %B %Y}.", COORDINATOR, e.recorded_on, severity, owner,
                chairs))
        if record.stage in ACTIVE_STAGES and not any(meets >= e.on for _, meets in record.agenda):
            found.append(Finding(
                "event.not_on_agenda", f"event.not_on_agenda:{e.id}", record.case_id,
                f"No panel meeting on or after {e.on:%-d %B %Y} has the case on its agenda to consider the "
                f"significant event ({e.title.lower()}): add it to the next meeting.", COORDINATOR, e.recorded_on,
                Severity.WARNING, owner))
        if e.kind == MEETING_CONCERN and e.responded_on is None and record.stage != "closed":
            due = e.recorded_on + timedelta(days=policy.meeting_concern_response_days)
            if today > due:
                severity, chairs = _escalation(due, today, policy, record.chair_ids)
                found.append(Finding(
                    "event.meeting_concern_unanswered", f"event.meeting_concern:{e.id}", record.case_id,
                    f"A concern raised at a meeting on {e.on:%-d %B %Y} has no recorded discussion and decision "
                    f"(due by {due:%-d %B %Y}).", f"The case owner ({COORDINATOR} or {POLICE})",
                    due + timedelta(days=1), severity, owner, chairs))
        if (ended is not None and e.kind in MOVES and e.on <= ended
                and not any(h.transfer_kind and h.offered_on >= e.on for h in record.handovers)):
            found.append(Finding(
                "event.closed_not_transferred", f"event.closed_not_transferred:{e.id}", record.case_id,
                f"The case was closed on {ended:%-d %B %Y}, after the person {MOVES[e.kind]} on {e.on:%-d %B %Y}, "
                "and no transfer to the area now responsible was offered: a move or custody is "
                "a transfer, not a reason to close.", "The case's last owner (tell the area now responsible)", ended,
                Severity.WARNING, owner))
        if (ended is not None and e.responded_on is None and ended <= e.on
                and (e.on - ended).days <= policy.rereferral_watch_days):
            found.append(Finding(
                "event.possible_rereferral", f"event.possible_rereferral:{e.id}", record.case_id,
                f"A significant event ({e.title.lower()}, {e.on:%-d %B %Y}) was recorded about this person "
                f"{(e.on - ended).days} days after the case closed: decide whether to refer them again.",
                "The case's last owner", e.recorded_on, Severity.WARNING, owner))
    return found


def _hold_findings(record: CaseRecord, today: date, policy: SafeguardPolicy) -> list[Finding]:
    return [
        Finding(
            "retention.hold", f"retention.hold:{record.case_id}:{h.placed_on.isoformat()}", record.case_id,
            f"Held from disposal since {h.placed_on:%-d %B %Y}: {h.reason}", "Nobody: disposal is blocked",
            h.placed_on, Severity.INFO)
        for h in record.holds
        if h.lifted_on is None
    ]


def _override_findings(record: CaseRecord, today: date, policy: SafeguardPolicy) -> list[Finding]:
    """Actions taken although a gate refused them (only a replay of the old process can do this)."""
    found = []
    for e in record.events:
        if e.kind != "gate.overridden":
            continue
        data = dict(e.data)
        found.append(Finding(
            "gate.overridden", f"gate.overridden:{e.id}", record.case_id,
            f"{e.summary} The safeguards refused it: {data.get('unmet', '')}", CHAIR, e.recorded_on,
            Severity.WARNING, record.chair_ids))
    return found


