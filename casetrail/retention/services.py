"""Retention writes: record a review decision on a closed case, and dispose of a case.

Each is one transaction that checks the access policy and the retention rules
(casetrail.core.retention) before writing, and records its event and access-log entry.
"""

from __future__ import annotations

from datetime import date

from django.db import transaction
from django.db.models import F

from casetrail import clock
from casetrail.accounts.models import User
from casetrail.audit.services import access_log, event_record
from casetrail.cases.access import require
from casetrail.cases.models import Case
from casetrail.core.errors import InvalidInput, StaleState, TransitionNotAllowed
from casetrail.core.policy import Permission, acting_role
from casetrail.core.retention import (
    ReviewDecision,
    disposal_unmet,
    retention_class,
    review_due_on,
    review_errors,
    review_unmet,
)
from casetrail.retention.erasure import case_personal_data_erase
from casetrail.retention.models import RetentionReview, Tombstone
from casetrail.retention.selectors import current_policy, latest_review, retention_facts


def _begin(user: User, case: Case, expected_version: int | None) -> tuple[Case, str]:
    # No key update (cases.services._begin says why).
    locked = Case.objects.select_for_update(no_key=True).select_related("referral", "person").get(pk=case.pk)
    require(user, Permission.RETENTION_REVIEW, locked)
    if expected_version is not None and expected_version != locked.version:
        raise StaleState()
    role = acting_role(user.as_actor(), Permission.RETENTION_REVIEW)
    assert role is not None  # require() has established it
    return locked, role.value


def _bump(case: Case) -> None:
    Case.objects.filter(pk=case.pk).update(version=F("version") + 1)
    case.refresh_from_db(fields=["version"])


@transaction.atomic
def retention_review_record(*, user: User, case: Case, decision: str, reason: str,
                            next_review_on: date | None = None,
                            expected_version: int | None = None, channel: str = "web") -> RetentionReview:
    """Record a retention review: retain (with a reason and the next review date) or dispose
    (with a reason). A decision to dispose is refused while a hold is in force or before the
    review is due; the disposal itself is a separate, confirmed step (case_dispose)."""
    case, role = _begin(user, case, expected_version)
    policy, today = current_policy(), clock.today()
    errors = review_errors(decision=decision, reason=reason, next_review_on=next_review_on, today=today,
                           policy=policy)
    if errors:
        raise InvalidInput(errors)
    facts = retention_facts(case)
    unmet = review_unmet(facts, decision=decision, today=today, policy=policy)
    if unmet:
        raise TransitionNotAllowed("retention_review", unmet)
    cls = retention_class(case.outcome)
    due_on = review_due_on(facts, policy)
    assert due_on is not None  # the case is closed
    review = RetentionReview.objects.create(
        case=case, decision=decision, reason=reason.strip(),
        next_review_on=next_review_on if decision == ReviewDecision.RETAIN else None,
        retention_class=cls.value, period_years=policy.years_for(cls), due_on=due_on,
        decided_by=user, decided_role=role, decided_agency_id=user.agency_id, decided_at=clock.now())
    _bump(case)
    summary = (f"Retention review: retain until {next_review_on:%d %B %Y}" if decision == ReviewDecision.RETAIN
               else "Retention review: dispose of the case")
    event_record(kind="retention.reviewed", subject=review, actor=user, role=role, case=case, summary=summary,
                 data={"decision": decision, "retention_class": cls.value, "due_on": due_on.isoformat(),
                       "next_review_on": review.next_review_on.isoformat() if review.next_review_on else None})
    access_log(user=user, operation="alteration", subject=case, case=case, person=case.person,
               justification=f"Retention review: {decision}", channel=channel)
    return review


@transaction.atomic
def case_dispose(*, user: User, case: Case, expected_version: int | None = None,
                 channel: str = "web") -> Tombstone:
    """Dispose of a closed case whose latest retention review decided so: erase its personal
    data (casetrail.retention.erasure) and leave a tombstone. Refused while a hold is in force."""
    case, role = _begin(user, case, expected_version)
    policy, today = current_policy(), clock.today()
    facts = retention_facts(case)
    unmet = disposal_unmet(facts, today, policy)
    if unmet:
        raise TransitionNotAllowed("dispose", unmet)
    decision = latest_review(case)
    assert decision is not None and facts.closed_on is not None
    due_on = review_due_on(facts, policy)
    assert due_on is not None
    cls = retention_class(case.outcome)
    counts = case_personal_data_erase(case=case)
    tombstone = Tombstone.objects.create(
        case=case, case_reference=case.reference, referral_reference=case.referral.reference,
        person_reference=case.person.reference, person_erased=bool(counts.pop("person_erased")),
        retention_class=cls.value, period_years=decision.period_years, closed_on=facts.closed_on,
        review_due_on=due_on, decision=decision, disposed_by=user, disposed_role=role,
        disposed_agency_id=user.agency_id, disposed_at=clock.now(), counts=counts)
    _bump(case)
    event_record(kind="retention.disposed", subject=tombstone, actor=user, role=role, case=case,
                 summary=f"Case disposed of under retention class '{cls.label}' "
                         f"({decision.period_years} years from closure)",
                 data={"tombstone": tombstone.pk, "decision": decision.pk, "retention_class": cls.value,
                       "period_years": decision.period_years, "counts": counts})
    access_log(user=user, operation="erasure", subject=case, case=case, person=case.person,
               justification=f"Disposal under retention class {cls.value} (tombstone {tombstone.pk})",
               channel=channel)
    return tombstone
