"""Retention pages: the review queue, a case's review with its decision form, and the
confirmation step before a disposal."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from casetrail import clock
from casetrail.cases.access import allowed
from casetrail.cases.models import Case
from casetrail.core.errors import AccessDenied
from casetrail.core.policy import Permission
from casetrail.core.retention import disposal_unmet, review_errors
from casetrail.retention.forms import DisposalConfirmForm, RetentionReviewForm
from casetrail.retention.selectors import (
    current_policy,
    queue_item,
    retention_facts,
    retention_queue,
)
from casetrail.retention.services import case_dispose, retention_review_record
from casetrail.web.auth_views import reauthenticated
from casetrail.web.steps import load_case, run_service


def _may_review(request: HttpRequest, case: Case | None = None) -> None:
    if not allowed(request.user, Permission.RETENTION_REVIEW, case):  # type: ignore[arg-type]
        raise PermissionDenied("Only a police Prevent officer or Channel coordinator involved in the case "
                               "can review its retention.")


@login_required
def retention_queue_page(request: HttpRequest) -> HttpResponse:
    _may_review(request)
    items = retention_queue(user=request.user, today=clock.today())  # type: ignore[arg-type]
    policy = current_policy()
    return render(request, "retention/queue.html", {"items": items, "policy": policy.describe(),
                                                    "notice_days": policy.review_notice_days})


def _review_context(case: Case) -> dict[str, object]:
    today, policy = clock.today(), current_policy()
    return {"case": case, "item": queue_item(case, today, policy), "today": today,
            "reviews": case.retention_reviews.select_related("decided_by", "decided_agency"),
            "tombstone": getattr(case, "tombstone", None)}


def _add_rule_errors(form: RetentionReviewForm) -> None:
    """When the form itself is refused (no decision chosen, a date that is not a date), add the
    rules' errors on the other fields too, so every problem is listed at once (GOV.UK) rather
    than the missing reasons only after the next submit. Nothing is recorded either way."""
    data = form.cleaned_data
    problems = review_errors(decision=data.get("decision") or "", reason=data.get("reason") or "",
                             next_review_on=data.get("next_review_on"), today=clock.today(),
                             policy=current_policy())
    for field, field_problems in problems.items():
        if field not in form.errors:
            for problem in field_problems:
                form.add_error(field, problem)


@login_required
def retention_review_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = load_case(request, case_id)
    _may_review(request, case)
    form = RetentionReviewForm(request.POST if request.method == "POST" else None, initial={"expected_version": case.version})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            review = run_service(form, lambda: retention_review_record(
                user=request.user, case=case, decision=data["decision"], reason=data["reason"] or "",  # type: ignore[arg-type]
                next_review_on=data["next_review_on"], expected_version=data["expected_version"]))
        except AccessDenied as denied:
            raise PermissionDenied(str(denied)) from None
        if review is not None:
            if review.decision == "dispose":
                messages.success(request, "Decision to dispose recorded. Confirm the disposal.")
                return redirect("web:retention-dispose", case_id=case.pk)
            messages.success(request, f"Retained until {review.next_review_on:%d %B %Y}")
            return redirect("web:retention-queue")
    elif request.method == "POST":
        _add_rule_errors(form)
    return render(request, "retention/review.html", {**_review_context(case), "form": form},
                  status=400 if form.errors else 200)


@login_required
@reauthenticated  # erasure cannot be undone: the password (and code) again unless given in the last few minutes
def retention_dispose_page(request: HttpRequest, case_id: int) -> HttpResponse:
    case = load_case(request, case_id)
    _may_review(request, case)
    form = DisposalConfirmForm(request.POST if request.method == "POST" else None, initial={"expected_version": case.version})
    if request.method == "POST" and form.is_valid():
        try:
            tombstone = run_service(form, lambda: case_dispose(
                user=request.user, case=case, expected_version=form.cleaned_data["expected_version"]))  # type: ignore[arg-type]
        except AccessDenied as denied:
            raise PermissionDenied(str(denied)) from None
        if tombstone is not None:
            messages.success(request, f"{tombstone.case_reference} has been disposed of")
            return redirect("web:retention-review", case_id=case.pk)
    blocked = disposal_unmet(retention_facts(case), clock.today(), current_policy())
    return render(request, "retention/dispose.html",
                  {**_review_context(case), "form": form, "blocked": blocked},
                  status=400 if form.errors else 200)
