"""The retention API, mounted on the main API (casetrail/api/router.py): the review queue, a
review decision, and a disposal. Errors as everywhere in the API: 422 field errors, 409 with
unmet conditions (a hold, a review not due, no decision to dispose), 403, 404."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal

from django.http import HttpRequest
from ninja import Router, Schema, Status
from pydantic import Field

from casetrail import clock
from casetrail.api import schemas as s
from casetrail.cases import selectors as case_selectors
from casetrail.cases.access import require
from casetrail.cases.models import Case
from casetrail.core.policy import Permission
from casetrail.retention.models import RetentionReview, Tombstone
from casetrail.retention.selectors import QueueItem, retention_queue
from casetrail.retention.services import case_dispose, retention_review_record

router = Router(tags=["retention"])
ERRORS = s.ERRORS


class HoldOut(Schema):
    reason_kind: str
    reason: str
    placed_on: date


class RetentionQueueItemOut(Schema):
    case_id: int
    case_reference: str
    retention_class: str
    period_years: int
    closed_on: date
    review_due_on: date
    state: Literal["upcoming", "due", "overdue"]
    held: bool
    holds: list[HoldOut]
    dispose_decided: bool


class RetentionReviewIn(Schema):
    decision: Literal["retain", "dispose"]
    reason: str = Field(max_length=5000)
    next_review_on: date | None = None
    expected_version: int | None = None


class RetentionReviewOut(Schema):
    id: int
    case_id: int
    decision: str
    reason: str
    next_review_on: date | None
    retention_class: str
    period_years: int
    due_on: date
    decided_by: str
    decided_at: datetime


class DisposalIn(Schema):
    confirm: Literal[True] = Field(description="Must be true: disposal erases the case's personal data.")
    expected_version: int | None = None


class TombstoneOut(Schema):
    id: int
    case_reference: str
    referral_reference: str
    person_reference: str
    person_erased: bool
    retention_class: str
    period_years: int
    closed_on: date
    review_due_on: date
    decision_id: int
    disposed_by: str
    disposed_at: datetime
    counts: dict[str, int | bool]


def _item(item: QueueItem) -> dict[str, Any]:
    return {"case_id": item.case.pk, "case_reference": item.case.reference,
            "retention_class": item.retention_class.value, "period_years": item.period_years,
            "closed_on": item.case.closed_on, "review_due_on": item.due_on, "state": item.state.value,
            "held": item.held, "dispose_decided": bool(item.latest and item.latest.decision == "dispose"),
            "holds": [{"reason_kind": h.reason_kind, "reason": h.reason, "placed_on": h.placed_on}
                      for h in item.holds]}


def _review(review: RetentionReview) -> dict[str, Any]:
    return {"id": review.pk, "case_id": review.case_id, "decision": review.decision, "reason": review.reason,
            "next_review_on": review.next_review_on, "retention_class": review.retention_class,
            "period_years": review.period_years, "due_on": review.due_on,
            "decided_by": review.decided_by.display_name, "decided_at": review.decided_at}


def _tombstone(t: Tombstone) -> dict[str, Any]:
    return {"id": t.pk, "case_reference": t.case_reference, "referral_reference": t.referral_reference,
            "person_reference": t.person_reference, "person_erased": t.person_erased,
            "retention_class": t.retention_class, "period_years": t.period_years, "closed_on": t.closed_on,
            "review_due_on": t.review_due_on, "decision_id": t.decision_id,
            "disposed_by": t.disposed_by.display_name, "disposed_at": t.disposed_at, "counts": t.counts}


def _case(request: HttpRequest, case_id: int) -> Case:
    case, _ = case_selectors.case_get(user=request.auth, case_id=case_id, channel="api")  # type: ignore[attr-defined]
    return case


@router.get("/retention/queue", response={200: list[RetentionQueueItemOut], **ERRORS})
def queue(request: HttpRequest) -> Any:
    """Closed cases the caller may review whose retention review is due, overdue or due soon;
    held cases are listed with their holds."""
    require(request.auth, Permission.RETENTION_REVIEW)  # type: ignore[attr-defined]
    return [_item(i) for i in retention_queue(user=request.auth, today=clock.today())]  # type: ignore[attr-defined]


@router.post("/cases/{case_id}/retention-reviews", response={201: RetentionReviewOut, **ERRORS})
def review(request: HttpRequest, case_id: int, payload: RetentionReviewIn) -> Any:
    """Record a retention review: retain (reason and next review date) or dispose (reason)."""
    review = retention_review_record(user=request.auth, case=_case(request, case_id),  # type: ignore[attr-defined]
                                     channel="api", **payload.dict())
    return Status(201, _review(review))


@router.post("/cases/{case_id}/disposal", response={201: TombstoneOut, **ERRORS})
def dispose(request: HttpRequest, case_id: int, payload: DisposalIn) -> Any:
    """Dispose of a case whose latest retention review decided so: erase its personal data and
    answer with the tombstone. Refused (409) while a hold is in force."""
    tombstone = case_dispose(user=request.auth, case=_case(request, case_id),  # type: ignore[attr-defined]
                             expected_version=payload.expected_version, channel="api")
    return Status(201, _tombstone(tombstone))
