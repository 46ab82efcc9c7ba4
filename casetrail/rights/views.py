"""Pages for data-subject rights: the list of subject access requests with their due dates,
opening one from the person page, the review page where items are withheld, the answer's
download (after confirming who you are) and rectification decisions."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from casetrail import clock
from casetrail.core.errors import AccessDenied, NotFound
from casetrail.core.policy import Permission
from casetrail.rights import exports, forms, selectors, services
from casetrail.rights.models import Redaction, SubjectAccessRequest
from casetrail.web.auth_views import reauthenticated
from casetrail.web.steps import run_service


def _guarded(load: Callable[[], Any]) -> Any:
    """A selector's refusals as HTTP: absent (404) or forbidden (403)."""
    try:
        return load()
    except NotFound:
        raise Http404("Not found") from None
    except AccessDenied as denied:
        raise PermissionDenied(str(denied)) from None


def _call(form: Any, call: Callable[[], Any]) -> Any:
    try:
        return run_service(form, call)
    except NotFound:
        raise Http404("Not found") from None
    except AccessDenied as denied:
        raise PermissionDenied(str(denied)) from None


def _request(request: HttpRequest, reference: str) -> SubjectAccessRequest:
    return _guarded(lambda: selectors.sar_get(user=request.user, reference=reference))  # type: ignore[arg-type]


@login_required
def sar_list(request: HttpRequest) -> HttpResponse:
    from casetrail.cases.access import allowed

    if not allowed(request.user, Permission.DATA_SUBJECT_RIGHTS):  # type: ignore[arg-type]
        raise PermissionDenied("Your role does not handle subject access requests.")
    today = clock.today()
    requests = selectors.sar_list(user=request.user)  # type: ignore[arg-type]
    rows = [{"sar": r, "due_on": r.due_on, "overdue": r.times.is_overdue(today), "days_left": r.times.days_left(today)}
            for r in requests]
    return render(request, "rights/list.html", {"rows": rows, "today": today})


@login_required
@require_http_methods(["GET", "POST"])
def sar_open(request: HttpRequest, reference: str) -> HttpResponse:
    person = _guarded(lambda: selectors.rights_person_get(user=request.user, reference=reference))  # type: ignore[arg-type]
    form = forms.RequestOpenForm(request.POST or None, initial={"received_on": clock.today()})
    if request.method == "POST" and form.is_valid():
        sar = _call(form, lambda: services.subject_access_request_open(user=request.user, person=person,  # type: ignore[arg-type]
                                                                       **form.cleaned_data))
        if sar is not None:
            messages.success(request, f"Subject access request {sar.reference} opened. "
                                      f"Answer by {sar.due_on:%-d %B %Y}.")
            return redirect("web:sar-detail", reference=sar.reference)
    return render(request, "rights/open.html", {"person": person, "form": form},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def sar_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """The review page: the whole record, items withheld with their grounds, and the answer."""
    sar = _request(request, reference)
    withdraw_form = forms.WithdrawRedactionForm(request.POST if "withdraw" in request.POST else None)
    complete_form = forms.CompleteForm(request.POST if "complete" in request.POST else None,
                                       initial={"completed_on": clock.today()})
    if request.method == "POST" and withdraw_form.is_bound and withdraw_form.is_valid():
        redaction = Redaction.objects.filter(request=sar, pk=withdraw_form.cleaned_data["redaction"]).first()
        if redaction is None:
            withdraw_form.add_error(None, "That redaction is not part of this request")
        elif _call(withdraw_form, lambda: services.redaction_withdraw(
                user=request.user, redaction=redaction, rationale=withdraw_form.cleaned_data["rationale"])):  # type: ignore[arg-type]
            messages.success(request, "Item released into the answer")
            return redirect("web:sar-detail", reference=sar.reference)
    if request.method == "POST" and complete_form.is_bound and complete_form.is_valid():
        if _call(complete_form, lambda: services.subject_access_request_complete(
                user=request.user, request=sar, **complete_form.cleaned_data)):  # type: ignore[arg-type]
            messages.success(request, "Recorded as answered")
            return redirect("web:sar-detail", reference=sar.reference)
    data = selectors.subject_data_for_review(user=request.user, request=sar)  # type: ignore[arg-type]
    redactions = [r for r in sar.redactions.select_related("author", "withdraws").order_by("recorded_at", "id")]
    active = selectors.active_redactions(sar)
    today = clock.today()
    errors = withdraw_form.errors or complete_form.errors
    return render(request, "rights/detail.html", {
        "sar": sar, "data": data, "redactions": redactions, "active": active,
        "withdraw_form": withdraw_form if withdraw_form.is_bound else None,
        "complete_form": complete_form, "export_form": forms.ExportForm(),
        "overdue": sar.times.is_overdue(today), "days_left": sar.times.days_left(today),
        "is_open": sar.status == SubjectAccessRequest.Status.OPEN,
    }, status=400 if errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def sar_redact(request: HttpRequest, reference: str) -> HttpResponse:
    sar = _request(request, reference)
    item = (request.POST.get("item") or request.GET.get("item") or "")[:80]
    data = selectors.subject_data_gather(person=sar.person)
    found = data.find(item)
    if found is None:
        raise Http404("No such item")
    record, field = found
    form = forms.RedactForm(request.POST or None, initial={"item": item})
    if request.method == "POST" and form.is_valid():
        done = _call(form, lambda: services.redaction_mark(user=request.user, request=sar, **form.cleaned_data))  # type: ignore[arg-type]
        if done is not None:
            messages.success(request, "Item withheld from the answer")
            return redirect(f"{reverse('web:sar-detail', args=[sar.reference])}#{record.key}")
    return render(request, "rights/redact.html", {"sar": sar, "record": record, "field": field, "form": form},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def sar_extend(request: HttpRequest, reference: str) -> HttpResponse:
    sar = _request(request, reference)
    form = forms.ExtendForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        done = _call(form, lambda: services.subject_access_request_extend(user=request.user, request=sar,  # type: ignore[arg-type]
                                                                          **form.cleaned_data))
        if done is not None:
            messages.success(request, f"Deadline extended to {done.due_on:%-d %B %Y}")
            return redirect("web:sar-detail", reference=sar.reference)
    return render(request, "rights/extend.html", {"sar": sar, "form": form}, status=400 if form.errors else 200)


@login_required
@reauthenticated  # a disclosure: the password (and code) again unless given in the last few minutes
def sar_export(request: HttpRequest, reference: str) -> HttpResponse:
    """The answer as a PDF or JSON download, logged as a disclosure to the named recipient."""
    sar = _request(request, reference)
    form = forms.ExportForm(request.GET or None)
    if form.is_valid():
        answer = _call(form, lambda: services.subject_access_disclose(user=request.user, request=sar,  # type: ignore[arg-type]
                                                                      **form.cleaned_data))
        if answer is not None:
            if form.cleaned_data["format"] == "pdf":
                body, kind = exports.answer_pdf(answer), "application/pdf"
            else:
                body, kind = exports.answer_json(answer), "application/json"
            response = HttpResponse(body, content_type=kind)
            response["Content-Disposition"] = (f'attachment; filename="{sar.reference}.'
                                               f'{form.cleaned_data["format"]}"')
            response["X-Content-Type-Options"] = "nosniff"
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "rights/export.html", {"sar": sar, "form": form}, status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def rectification(request: HttpRequest, reference: str) -> HttpResponse:
    person = _guarded(lambda: selectors.rights_person_get(user=request.user, reference=reference))  # type: ignore[arg-type]
    sar = None
    if request.GET.get("request"):
        sar = SubjectAccessRequest.objects.filter(person=person, reference=request.GET["request"].upper()).first()
    targets = services.rectification_targets(person)
    form = forms.RectificationForm(request.POST or None, targets=targets,
                                   initial={"decided_on": clock.today(), "target": request.GET.get("target", "")})
    if request.method == "POST" and form.is_valid():
        done = _call(form, lambda: services.rectification_decide(user=request.user, person=person, request=sar,  # type: ignore[arg-type]
                                                                 **form.cleaned_data))
        if done is not None:
            messages.success(request, f"Rectification {done.outcome}: {done.field_label}")
            return redirect("web:person-detail", reference=person.reference)
    return render(request, "rights/rectification.html", {"person": person, "form": form, "sar": sar},
                  status=400 if form.errors else 200)
