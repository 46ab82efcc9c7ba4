"""Reads for retention: the policy in force, a case's retention facts, and the review queue."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from django.conf import settings
from django.db.models import Q, QuerySet

from casetrail.accounts.models import User
from casetrail.cases.access import allowed, visible_cases
from casetrail.cases.models import Case, RetentionHold
from casetrail.core.policy import Permission
from casetrail.core.retention import (
    DEFAULT_RETENTION_POLICY,
    RetentionClass,
    RetentionFacts,
    RetentionPolicy,
    ReviewDecision,
    ReviewState,
    queue_from,
    retention_class,
    review_due_on,
    review_state,
)
from casetrail.retention.models import RetentionReview


@lru_cache(maxsize=4)
def _policy(overrides: str) -> RetentionPolicy:
    return DEFAULT_RETENTION_POLICY.with_overrides(json.loads(overrides))


def current_policy() -> RetentionPolicy:
    """The retention policy in force: the defaults with CASETRAIL_RETENTION_POLICY applied."""
    return _policy(json.dumps(getattr(settings, "CASETRAIL_RETENTION_POLICY", {}), sort_keys=True))


def active_holds(case: Case) -> list[RetentionHold]:
    return list(case.holds.filter(lifted_on__isnull=True).order_by("placed_on", "id"))


def latest_review(case: Case) -> RetentionReview | None:
    return case.retention_reviews.order_by("-decided_at", "-id").first()


def retention_facts(case: Case) -> RetentionFacts:
    latest = latest_review(case)
    return RetentionFacts(
        closed_on=case.closed_on,
        outcome=case.outcome,
        holds=tuple(f"{h.get_reason_kind_display()}: {h.reason}" for h in active_holds(case)),
        next_review_on=latest.next_review_on if latest and latest.decision == ReviewDecision.RETAIN else None,
        dispose_decided=latest is not None and latest.decision == ReviewDecision.DISPOSE,
        disposed=hasattr(case, "tombstone"),
    )


@dataclass
class QueueItem:
    case: Case
    retention_class: RetentionClass
    period_years: int
    due_on: date
    state: ReviewState
    holds: list[RetentionHold]
    latest: RetentionReview | None

    @property
    def held(self) -> bool:
        return bool(self.holds)


def queue_item(case: Case, today: date, policy: RetentionPolicy) -> QueueItem | None:
    facts = retention_facts(case)
    due = review_due_on(facts, policy)
    if due is None:
        return None
    cls = retention_class(case.outcome)
    return QueueItem(case, cls, policy.years_for(cls), due, review_state(facts, today, policy),
                     active_holds(case), latest_review(case))


QUEUE_STATES = (ReviewState.UPCOMING, ReviewState.DUE, ReviewState.OVERDUE)


def reviewable_cases(user: User) -> QuerySet[Case]:
    """Closed, not yet disposed cases the user can see (each still checked against the policy)."""
    return visible_cases(user).filter(closed_on__isnull=False, tombstone__isnull=True)


def retention_queue(*, user: User, today: date) -> list[QueueItem]:
    """Cases whose retention review is due, overdue or due within the notice period, that the
    user may review; held cases are listed as held. Most overdue first."""
    policy = current_policy()
    candidates = reviewable_cases(user).filter(
        Q(closed_on__lte=queue_from(today, policy)) | Q(retention_reviews__isnull=False)).distinct()
    items = []
    for case in candidates.select_related("referral", "owner_agency"):
        if not allowed(user, Permission.RETENTION_REVIEW, case):
            continue
        item = queue_item(case, today, policy)
        if item is not None and item.state in QUEUE_STATES:
            items.append(item)
    return sorted(items, key=lambda i: (i.due_on, i.case.pk))
