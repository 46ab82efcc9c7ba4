"""One generic page for every step on a case: show the form, call the step's service,
and turn the service's errors into a GOV.UK error summary. Nothing is written on error."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views import View

from casetrail.cases import selectors
from casetrail.cases.access import allowed
from casetrail.cases.models import Case
from casetrail.core.errors import (
    AccessDenied,
    InvalidInput,
    NotFound,
    StaleState,
    TransitionNotAllowed,
)
from casetrail.core.lifecycle import Stage
from casetrail.core.policy import Permission


def apply_errors(form: forms.Form, problem: InvalidInput) -> None:
    """Put a service's field errors on the form; unknown fields go to the top of the summary."""
    for name, field_messages in problem.errors.items():
        for message in field_messages:
            form.add_error(name if name in form.fields else None, message)


def run_service(form: forms.Form, call: Callable[[], Any]) -> Any:
    """Call a service; on a rule's refusal record it on the form and return None."""
    try:
        return call()
    except InvalidInput as problem:
        apply_errors(form, problem)
    except TransitionNotAllowed as refused:
        for unmet in refused.unmet:
            form.add_error(None, f"{unmet.message} (Who can resolve this: {unmet.who}.)")
    except StaleState as stale:
        form.add_error(None, str(stale))
    return None


def load_case(request: HttpRequest, case_id: int) -> Case:
    try:
        case, _ = selectors.case_get(user=request.user, case_id=case_id)  # type: ignore[arg-type]
    except NotFound:
        raise Http404("No such case") from None
    return case


def matches_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    """Suggested earlier records of the person, for those who may link them, and the link to undo."""
    if not allowed(request.user, Permission.LINK_PERSON, case):  # type: ignore[arg-type]
        return {}
    link = case.decisions.filter(type="person_link").order_by("-recorded_at", "-pk").first()
    if link is not None and case.decisions.filter(type="person_unlink", supersedes=link).exists():
        link = None
    earlier = selectors.case_earlier_records(user=request.user, case=case)  # type: ignore[arg-type]
    matches = selectors.case_matches(user=request.user, case=case) if case.stage != Stage.CLOSED else []  # type: ignore[arg-type]
    return {"earlier_records": earlier, "unresolved": [r for r in earlier if r.status == "open"],
            "matches": matches, "can_link": True, "active_link": link}


@dataclass
class Step:
    """A step's page: its form, who may take it, and the service it calls."""

    title: str
    form_class: type[forms.Form]
    permission: Permission
    perform: Callable[[HttpRequest, Case, dict[str, Any]], Any]
    success: str
    caption: str = ""
    intro: str = ""
    form_kwargs: Callable[[HttpRequest, Case], dict[str, Any]] = field(default=lambda request, case: {})
    initial: Callable[[HttpRequest, Case], dict[str, Any]] = field(default=lambda request, case: {})
    button: str = "Save and continue"
    warning: str = ""
    shows_matches: bool = False  # the possible earlier records of the person, beside the form
    # The service refuses the step while a possible earlier record is unresolved: "all" of it, or
    # only the outcome named (the page then says so beside the button).
    blocked_by_matches: str = ""


class CaseStepView(LoginRequiredMixin, View):
    step: Step = None  # type: ignore[assignment]  # set per step by step_view()

    def _guard(self, request: HttpRequest, case: Case) -> None:
        if not allowed(request.user, self.step.permission, case):  # type: ignore[arg-type]
            raise PermissionDenied("Your role or agency cannot do this on this case.")

    def _render(self, request: HttpRequest, case: Case, form: forms.Form, status: int = 200) -> HttpResponse:
        context = {"case": case, "form": form, "step": self.step}
        if self.step.shows_matches:
            context.update(matches_context(request, case))
        return render(request, "cases/step.html", context, status=status)

    def get(self, request: HttpRequest, case_id: int) -> HttpResponse:
        case = load_case(request, case_id)
        self._guard(request, case)
        initial = {"expected_version": case.version, **self.step.initial(request, case)}
        form = self.step.form_class(initial=initial, **self.step.form_kwargs(request, case))
        return self._render(request, case, form)

    def post(self, request: HttpRequest, case_id: int) -> HttpResponse:
        case = load_case(request, case_id)
        self._guard(request, case)
        form = self.step.form_class(request.POST, request.FILES, **self.step.form_kwargs(request, case))
        if form.is_valid():
            try:
                done = run_service(form, lambda: self.step.perform(request, case, form.cleaned_data) or True)
            except AccessDenied as denied:
                raise PermissionDenied(str(denied)) from None
            if done is not None:
                messages.success(request, self.step.success)
                return redirect("web:case-detail", case_id=case.pk)
        return self._render(request, case, form, status=400)


def step_view(step: Step) -> Callable[..., HttpResponse]:
    return CaseStepView.as_view(step=step)
