"""Retention of closed cases: classes by outcome, review dates, and when disposal is allowed.

A closed case belongs to one retention class, chosen by its outcome. Each class has a review
period, counted from the case's closure, after which someone must review the case and record a
decision: retain it (with a reason and the date of the next review) or dispose of it. A case
held from disposal (a serious incident, a review, litigation) is never disposed of. Every period
is configuration with a documented default and source, like the safeguards' policy
(`CASETRAIL_RETENTION_POLICY`, a JSON object of overrides); see docs/retention.md.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, fields
from datetime import date, timedelta
from enum import StrEnum
from typing import Any

from casetrail.core.decisions import rationale_errors
from casetrail.core.errors import Unmet


class RetentionClass(StrEnum):
    NO_FURTHER_ACTION = "no_further_action"
    SIGNPOSTED = "signposted"
    POLICE_LED = "police_led"
    CHANNEL_NOT_ADOPTED = "channel_not_adopted"
    CHANNEL = "channel"
    UNCLASSIFIED = "unclassified"

    @property
    def label(self) -> str:
        return CLASS_LABELS[self]

    @property
    def setting(self) -> str:
        """The policy setting that holds this class's review period."""
        return f"{self.value}_years"


CLASS_LABELS: dict[RetentionClass, str] = {
    RetentionClass.NO_FURTHER_ACTION: "No further action at the gateway",
    RetentionClass.SIGNPOSTED: "Signposted to other services",
    RetentionClass.POLICE_LED: "Police-led case management",
    RetentionClass.CHANNEL_NOT_ADOPTED: "Discussed at a Channel panel, not adopted",
    RetentionClass.CHANNEL: "Channel case (adopted; exited, consent refused or transferred)",
    RetentionClass.UNCLASSIFIED: "Closed with no recognised outcome",
}

# Case.outcome at closure -> class. Anything else falls to UNCLASSIFIED, which takes the longest
# default period, so that an unforeseen outcome is kept rather than disposed of early.
OUTCOME_CLASSES: dict[str, RetentionClass] = {
    "no_further_action": RetentionClass.NO_FURTHER_ACTION,
    "signposted": RetentionClass.SIGNPOSTED,
    "police_led": RetentionClass.POLICE_LED,
    "not_adopted": RetentionClass.CHANNEL_NOT_ADOPTED,
    "exited": RetentionClass.CHANNEL,
    "consent_refused": RetentionClass.CHANNEL,
    "transferred": RetentionClass.CHANNEL,
}


class ReviewDecision(StrEnum):
    RETAIN = "retain"
    DISPOSE = "dispose"


@dataclass(frozen=True)
class RetentionPolicy:
    no_further_action_years: int = 3
    signposted_years: int = 3
    police_led_years: int = 6
    channel_not_adopted_years: int = 6
    channel_years: int = 6
    unclassified_years: int = 6
    retain_max_years: int = 6
    review_notice_days: int = 30
    review_grace_days: int = 28

    def years_for(self, retention_class: RetentionClass) -> int:
        years: int = getattr(self, retention_class.setting)
        return years

    def with_overrides(self, overrides: Mapping[str, Any]) -> RetentionPolicy:
        """A copy with the given settings changed; unknown names or bad values raise ValueError."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - known)
        if unknown:
            raise ValueError(f"Unknown retention policy settings: {', '.join(unknown)}")
        for name, value in overrides.items():
            if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                raise ValueError(f"Retention policy setting {name} must be a whole number of 0 or more")
            if name.endswith("_years") and value < 1:
                raise ValueError(f"Retention policy setting {name} must be at least 1 year")
        return dataclasses.replace(self, **dict(overrides))

    def describe(self) -> list[tuple[str, str, Any, Any, str]]:
        """(setting, meaning, value in force, default, source) for pages and docs."""
        default = RetentionPolicy()
        return [
            (f.name, MEANINGS[f.name], getattr(self, f.name), getattr(default, f.name), SOURCES[f.name])
            for f in fields(self)
        ]


_POLICE_BASELINE = ("DOMAIN.md, Records and retention: police information management practice reviews "
                    "records at set points, a 6-year minimum being the common baseline.")

MEANINGS: dict[str, str] = {
    "no_further_action_years": "Years after closure before a case closed with no further action is reviewed.",
    "signposted_years": "Years after closure before a case signposted to other services is reviewed.",
    "police_led_years": "Years after closure before a police-led case is reviewed.",
    "channel_not_adopted_years": "Years after closure before a case the panel did not adopt is reviewed.",
    "channel_years": "Years after closure before a Channel case (adopted) is reviewed.",
    "unclassified_years": "Years after closure before a case with no recognised outcome is reviewed.",
    "retain_max_years": "A decision to retain must set the next review within this many years.",
    "review_notice_days": "A review shows in the queue this many days before it falls due.",
    "review_grace_days": "A review not decided this many days after it fell due is overdue.",
}

SOURCES: dict[str, str] = {
    "no_further_action_years": "DOMAIN.md, Records and retention: a three-year rule for no-further-action "
    "referrals was proposed.",
    "signposted_years": "As no further action (the proposed three-year rule): the programme's involvement "
    "ended at the gateway; the service signposted to keeps its own record.",
    "police_led_years": _POLICE_BASELINE,
    "channel_not_adopted_years": _POLICE_BASELINE + " A five-year rule for Prevent data was reported; the "
    "police baseline is longer and the police hold the case, so it applies.",
    "channel_years": _POLICE_BASELINE + " A five-year rule for Prevent data was reported; the police "
    "baseline is longer and applies. The 12-month post-exit review falls well inside it.",
    "unclassified_years": "The longest default: an outcome the classes do not know is kept, not disposed "
    "of early.",
    "retain_max_years": "DOMAIN.md: records are reviewed at set points and every review decision recorded; "
    "no case is retained without a next review.",
    "review_notice_days": "A month's notice lets the owner prepare the review.",
    "review_grace_days": "Four weeks: reviews are decided by people, not on the due day by a job.",
}

DEFAULT_RETENTION_POLICY = RetentionPolicy()


def add_years(start: date, years: int) -> date:
    """The same day `years` later; 29 February becomes 28 February in a common year."""
    try:
        return start.replace(year=start.year + years)
    except ValueError:
        return start.replace(year=start.year + years, day=28)


def retention_class(outcome: str) -> RetentionClass:
    return OUTCOME_CLASSES.get(outcome, RetentionClass.UNCLASSIFIED)


@dataclass(frozen=True)
class RetentionFacts:
    """What the rules read about one case, as recorded."""

    closed_on: date | None
    outcome: str
    holds: tuple[str, ...] = ()  # active holds, each as "why: the reason given"
    next_review_on: date | None = None  # set by the latest decision to retain
    dispose_decided: bool = False  # the latest review decision was to dispose
    disposed: bool = False


def review_due_on(facts: RetentionFacts, policy: RetentionPolicy = DEFAULT_RETENTION_POLICY) -> date | None:
    """When the case's next retention review falls due; None while it is open."""
    if facts.closed_on is None:
        return None
    if facts.next_review_on is not None:
        return facts.next_review_on
    return add_years(facts.closed_on, policy.years_for(retention_class(facts.outcome)))


class ReviewState(StrEnum):
    OPEN = "open"  # not closed: no retention clock yet
    NOT_DUE = "not_due"
    UPCOMING = "upcoming"  # within the notice period
    DUE = "due"
    OVERDUE = "overdue"
    DISPOSED = "disposed"


def review_state(facts: RetentionFacts, today: date,
                 policy: RetentionPolicy = DEFAULT_RETENTION_POLICY) -> ReviewState:
    if facts.disposed:
        return ReviewState.DISPOSED
    due = review_due_on(facts, policy)
    if due is None:
        return ReviewState.OPEN
    if today > due + timedelta(days=policy.review_grace_days):
        return ReviewState.OVERDUE
    if today >= due:
        return ReviewState.DUE
    if today >= due - timedelta(days=policy.review_notice_days):
        return ReviewState.UPCOMING
    return ReviewState.NOT_DUE


def queue_from(today: date, policy: RetentionPolicy = DEFAULT_RETENTION_POLICY) -> date:
    """Cases closed on or before this day may be in the review queue (the shortest period
    less the notice), so the queue's query need not compute every case's due date."""
    shortest = min(policy.years_for(c) for c in RetentionClass)
    earliest = add_years(today + timedelta(days=policy.review_notice_days), -shortest)
    return earliest


def review_errors(*, decision: str, reason: str, next_review_on: date | None, today: date,
                  policy: RetentionPolicy = DEFAULT_RETENTION_POLICY) -> dict[str, list[str]]:
    """What is wrong with a review decision as entered (field -> messages)."""
    errors: dict[str, list[str]] = {}
    if decision not in {d.value for d in ReviewDecision}:
        errors["decision"] = ["Select whether to retain the case or dispose of it"]
    reason_problems = rationale_errors(reason)
    if reason_problems:
        errors["reason"] = reason_problems
    if decision == ReviewDecision.RETAIN:
        latest = add_years(today, policy.retain_max_years)
        if next_review_on is None:
            errors["next_review_on"] = ["Enter the date of the next review"]
        elif next_review_on <= today:
            errors["next_review_on"] = ["The next review must be after today"]
        elif next_review_on > latest:
            errors["next_review_on"] = [
                f"The next review must be within {policy.retain_max_years} years, "
                f"on or before {latest.day} {latest:%B} {latest.year}"]
    elif decision == ReviewDecision.DISPOSE and next_review_on is not None:
        errors["next_review_on"] = ["Leave the next review date empty when disposing of the case"]
    return errors


WHO_REVIEWS = "a police Prevent officer or Channel coordinator involved in the case"


def review_unmet(facts: RetentionFacts, *, decision: str, today: date,
                 policy: RetentionPolicy = DEFAULT_RETENTION_POLICY) -> list[Unmet]:
    """Conditions that stop this review decision being recorded now."""
    if facts.disposed:
        return [Unmet("retention.disposed", "This case has already been disposed of.", "nobody")]
    if facts.closed_on is None:
        return [Unmet("retention.case_open", "Only a closed case has a retention review.", WHO_REVIEWS)]
    if decision != ReviewDecision.DISPOSE:
        return []
    return _dispose_unmet(facts, today, policy)


def _dispose_unmet(facts: RetentionFacts, today: date, policy: RetentionPolicy) -> list[Unmet]:
    unmet = [Unmet("retention.held", f"The case is held from disposal: {hold}.",
                   "whoever placed the hold, by lifting it with a reason") for hold in facts.holds]
    due = review_due_on(facts, policy)
    if due is not None and today < due:
        unmet.append(Unmet("retention.review_not_due",
                           f"The retention review is not due until {due.day} {due:%B} {due.year}.",
                           "nobody before that date"))
    return unmet


def disposal_unmet(facts: RetentionFacts, today: date,
                   policy: RetentionPolicy = DEFAULT_RETENTION_POLICY) -> list[Unmet]:
    """Conditions that stop the case being disposed of now: it must be closed, its review due,
    the latest review decision must be to dispose, and no hold may be in force."""
    if facts.disposed:
        return [Unmet("retention.disposed", "This case has already been disposed of.", "nobody")]
    if facts.closed_on is None:
        return [Unmet("retention.case_open", "Only a closed case can be disposed of.", WHO_REVIEWS)]
    unmet = _dispose_unmet(facts, today, policy)
    if not facts.dispose_decided:
        unmet.append(Unmet("retention.no_dispose_decision",
                           "No retention review has decided to dispose of this case.", WHO_REVIEWS))
    return unmet


def disposal_allowed(facts: RetentionFacts, today: date,
                     policy: RetentionPolicy = DEFAULT_RETENTION_POLICY) -> bool:
    return not disposal_unmet(facts, today, policy)


def describe_holds(holds: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """(kind label, reason) pairs as the facts carry them."""
    return tuple(f"{label}: {reason}" for label, reason in holds)
