"""Assessment pages: choose a framework, judge one dimension per page, check a summary, submit, read back."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from casetrail import clock
from casetrail.cases import services
from casetrail.cases.access import allowed, view_of
from casetrail.cases.models import Assessment, Case
from casetrail.core import frameworks
from casetrail.core.errors import AccessDenied, InvalidInput, StaleState
from casetrail.core.policy import Permission, View
from casetrail.web.forms import GovukDateField
from casetrail.web.steps import load_case

PRESENT, ABSENT, NOT_JUDGED = "present", "absent", "not_judged"
PRESENT_CHOICES = [(PRESENT, "Present"), (ABSENT, "Not present"), (NOT_JUDGED, "Not yet judged")]
_PRESENT_VALUE = {PRESENT: True, ABSENT: False, NOT_JUDGED: None, "": None}
_PRESENT_CHOICE = {True: PRESENT, False: ABSENT, None: NOT_JUDGED}
NATURE_CHOICES = list(frameworks.NATURE_LABELS.items())


# --- Loading and guarding -------------------------------------------------------------


def _assessable_case(request: HttpRequest, case_id: int) -> Case:
    case = load_case(request, case_id)
    if not allowed(request.user, Permission.ASSESS, case):  # type: ignore[arg-type]
        raise PermissionDenied("Your role or agency cannot assess this case.")
    return case


def _assessment_of(case: Case, assessment_id: int) -> tuple[Assessment, frameworks.Framework]:
    assessment = get_object_or_404(Assessment, pk=assessment_id, case=case)
    return assessment, frameworks.get_framework(assessment.framework_key, assessment.framework_version)


def _dimension_url(case: Case, assessment: Assessment, code: str) -> str:
    return reverse("web:assessment-dimension", args=(case.pk, assessment.pk, code))


def _summary_url(case: Case, assessment: Assessment) -> str:
    return reverse("web:assessment-summary", args=(case.pk, assessment.pk))


def _detail_url(case: Case, assessment: Assessment) -> str:
    return reverse("web:assessment-detail", args=(case.pk, assessment.pk))


def _draft_entry(case: Case, assessment: Assessment, framework: frameworks.Framework) -> str:
    """Where to resume a draft: the first dimension with an unjudged factor, else the summary."""
    progress = frameworks.dimension_progress(framework, services._judgements(assessment.judgements))
    for dimension in framework.dimensions:
        judged, total = progress[dimension.code]
        if judged < total:
            return _dimension_url(case, assessment, dimension.code)
    return _summary_url(case, assessment)


def _call(form: forms.Form, call: Callable[[], Any]) -> tuple[Any, dict[str, list[str]]]:
    """Run a service; field errors go on the form and factor errors are returned by factor code."""
    try:
        return call(), {}
    except AccessDenied as denied:
        raise PermissionDenied(str(denied)) from None
    except StaleState as stale:
        form.add_error(None, str(stale))
    except InvalidInput as problem:
        factor_errors: dict[str, list[str]] = {}
        for name, field_messages in problem.errors.items():
            if name in form.fields:
                for message in field_messages:
                    form.add_error(name, message)
            elif name:
                factor_errors[name] = field_messages
            else:
                for message in field_messages:
                    form.add_error(None, message)
        return None, factor_errors
    return None, {}


# --- Start ------------------------------------------------------------------------------


class StartForm(forms.Form):
    framework_ref = forms.ChoiceField(label="Assessment framework", widget=forms.RadioSelect)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        today = clock.today()
        choices = []
        for fw in reversed(frameworks.all_frameworks()):
            note = f" – superseded on {fw.superseded_on:%-d %B %Y}" if fw.is_superseded_on(today) else ""
            choices.append((fw.ref, f"{fw.label}{note}"))
        field = self.fields["framework_ref"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices


@login_required
def assessment_start(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _assessable_case(request, case_id)
    draft = Assessment.objects.filter(case=case, status=Assessment.Status.DRAFT).first()
    if draft is not None:
        # Only one draft may exist, so "start" means "carry on with it".
        _, framework = _assessment_of(case, draft.pk)
        return redirect(_draft_entry(case, draft, framework))
    try:
        current = frameworks.current_framework(clock.today())
    except frameworks.UnknownFramework:
        current = None
    form = StartForm(request.POST or None, initial={"framework_ref": current.ref if current else None})
    if request.method == "POST" and form.is_valid():
        ref = form.cleaned_data["framework_ref"]
        assessment, _ = _call(form, lambda: services.assessment_start(user=request.user, case=case,  # type: ignore[arg-type]
                                                                       framework_ref=ref))
        if assessment is not None:
            framework = frameworks.framework_from_ref(ref)
            return redirect(_dimension_url(case, assessment, framework.dimensions[0].code))
    status = 400 if form.errors else 200
    return render(request, "assessments/start.html", {"case": case, "form": form, "current": current},
                  status=status)


# --- One dimension per page --------------------------------------------------------------


class _Answer(forms.ChoiceField):
    """A choice that may be left blank; the service, not the form, decides what a judgement needs.

    It stays required=True only so the GOV.UK label does not say "(optional)" about a
    question that is required once the factor is present.
    """

    def validate(self, value: Any) -> None:
        if value not in self.empty_values:
            super().validate(value)


class _Text(forms.CharField):
    """Free text that may be blank for the same reason as _Answer."""

    def validate(self, value: Any) -> None:
        pass


def dimension_form(dimension: frameworks.Dimension, data: Any = None,
                   initial: dict[str, Any] | None = None) -> forms.Form:
    """A form with <code>-present, <code>-evidence and <code>-nature for each factor of the dimension."""
    fields: dict[str, forms.Field] = {"expected_version": forms.IntegerField(widget=forms.HiddenInput)}
    for factor in dimension.factors:
        fields[f"{factor.code}-present"] = _Answer(
            label="Is this factor present?", choices=PRESENT_CHOICES, widget=forms.RadioSelect,
            initial=NOT_JUDGED)
        fields[f"{factor.code}-evidence"] = _Text(
            label="Evidence", widget=forms.Textarea(attrs={"rows": 4}), strip=True,
            help_text=f"Needed when the factor is present: at least {frameworks.MIN_EVIDENCE_LENGTH} "
                      "characters, with where the information came from.")
        fields[f"{factor.code}-nature"] = _Answer(
            label="If present, is it an underlying cause or a presenting behaviour?",
            choices=NATURE_CHOICES, widget=forms.RadioSelect)
    # No HTML "required": the fields are only required=True to keep "(optional)" off their labels.
    form_class = type("DimensionForm", (forms.Form,), {**fields, "use_required_attribute": False})
    form: forms.Form = form_class(data, initial=initial)
    return form


def _field_for_message(code: str, message: str) -> str:
    """Which of a factor's fields a validate_judgements message is about (it only gives the factor)."""
    lowered = message.lower()
    if "evidence" in lowered:
        return f"{code}-evidence"
    if "present or not" in lowered:
        return f"{code}-present"
    return f"{code}-nature"


def _initial_for(dimension: frameworks.Dimension, assessment: Assessment) -> dict[str, Any]:
    initial: dict[str, Any] = {"expected_version": assessment.version}
    for factor in dimension.factors:
        saved = assessment.judgements.get(factor.code) or {}
        initial[f"{factor.code}-present"] = _PRESENT_CHOICE.get(saved.get("present"), NOT_JUDGED)
        initial[f"{factor.code}-evidence"] = saved.get("evidence", "")
        initial[f"{factor.code}-nature"] = saved.get("nature") or ""
    return initial


def _judgements_from(dimension: frameworks.Dimension, cleaned: dict[str, Any]) -> dict[str, dict[str, Any]]:
    judgements = {}
    for factor in dimension.factors:
        present = _PRESENT_VALUE.get(cleaned.get(f"{factor.code}-present") or "")
        # Without JavaScript the nature radios stay on screen, so a nature left ticked
        # on a factor judged not present is dropped rather than refused.
        nature = (cleaned.get(f"{factor.code}-nature") or None) if present else None
        judgements[factor.code] = {"present": present, "evidence": cleaned.get(f"{factor.code}-evidence", ""),
                                   "nature": nature}
    return judgements


@login_required
def assessment_dimension(request: HttpRequest, case_id: int, assessment_id: int, dimension_code: str) -> HttpResponse:
    case = _assessable_case(request, case_id)
    assessment, framework = _assessment_of(case, assessment_id)
    if assessment.status != Assessment.Status.DRAFT:
        return redirect(_detail_url(case, assessment))
    try:
        dimension = framework.dimension(dimension_code)
    except frameworks.UnknownDimension:
        raise Http404("No such dimension") from None

    if request.method == "POST":
        form = dimension_form(dimension, request.POST)
        if form.is_valid():
            judgements = _judgements_from(dimension, form.cleaned_data)
            saved, factor_errors = _call(form, lambda: services.assessment_save(
                user=request.user, assessment=assessment,  # type: ignore[arg-type]
                expected_version=form.cleaned_data["expected_version"], judgements=judgements))
            for code, field_messages in factor_errors.items():
                for message in field_messages:
                    name = _field_for_message(code, message)
                    form.add_error(name if name in form.fields else None, message)
            if saved is not None:
                messages.success(request, f"{dimension.title}: your judgements are saved as a draft")
                if request.POST.get("action") == "draft":
                    return redirect("web:case-detail", case_id=case.pk)
                index = framework.dimensions.index(dimension)
                if index + 1 < len(framework.dimensions):
                    return redirect(_dimension_url(case, saved, framework.dimensions[index + 1].code))
                return redirect(_summary_url(case, saved))
    else:
        form = dimension_form(dimension, initial=_initial_for(dimension, assessment))

    progress = frameworks.dimension_progress(framework, services._judgements(assessment.judgements))
    factors = [
        {"factor": factor, "present": form[f"{factor.code}-present"], "evidence": form[f"{factor.code}-evidence"],
         "nature": form[f"{factor.code}-nature"]}
        for factor in dimension.factors
    ]
    context = {
        "case": case, "assessment": assessment, "framework": framework, "dimension": dimension, "form": form,
        "factors": factors, "number": framework.dimensions.index(dimension) + 1,
        "dimension_count": len(framework.dimensions), "judged": progress[dimension.code][0],
        "total": progress[dimension.code][1],
        "contents": [{"dimension": d, "judged": progress[d.code][0], "total": progress[d.code][1],
                      "url": _dimension_url(case, assessment, d.code), "current": d == dimension}
                     for d in framework.dimensions],
        "summary_url": _summary_url(case, assessment),
    }
    return render(request, "assessments/dimension.html", context, status=400 if form.errors else 200)


# --- Summary and submission --------------------------------------------------------------


class SummaryForm(forms.Form):
    expected_version = forms.IntegerField(widget=forms.HiddenInput)
    summary = forms.CharField(
        label="Summary of the assessment", required=False, strip=True, widget=forms.Textarea(attrs={"rows": 6}),
        help_text="What the panel needs to know: the vulnerabilities found, how they relate, and the risk. "
                  "At least 20 characters to submit.")
    assessed_on = GovukDateField(label="Date of the assessment", not_in_future=True,
                                 help_text="For example, 27 3 2025")


def _rows(case: Case, assessment: Assessment, framework: frameworks.Framework,
          factor_errors: dict[str, list[str]] | None = None) -> list[dict[str, Any]]:
    """Each dimension with its factors' judgements, for the GOV.UK summary lists."""
    progress = frameworks.dimension_progress(framework, services._judgements(assessment.judgements))
    sections = []
    for dimension in framework.dimensions:
        rows = []
        for factor in dimension.factors:
            saved = assessment.judgements.get(factor.code) or {}
            present = saved.get("present")
            rows.append({
                "factor": factor,
                "judgement": dict(PRESENT_CHOICES)[_PRESENT_CHOICE.get(present, NOT_JUDGED)],
                "present": present,
                "evidence": saved.get("evidence", ""),
                "nature": frameworks.NATURE_LABELS.get(saved.get("nature") or "", ""),
                "errors": (factor_errors or {}).get(factor.code, []),
                "url": f"{_dimension_url(case, assessment, dimension.code)}#factor-{factor.code}",
            })
        judged, total = progress[dimension.code]
        sections.append({"dimension": dimension, "rows": rows, "judged": judged, "total": total,
                         "url": _dimension_url(case, assessment, dimension.code)})
    return sections


def _vulnerabilities(assessment: Assessment, framework: frameworks.Framework) -> dict[str, Any]:
    found = frameworks.identified_vulnerabilities(framework, services._judgements(assessment.judgements))
    return {
        "vulnerabilities": found,
        "underlying": [v for v in found if v.nature == frameworks.UNDERLYING_CAUSE],
        "presenting": [v for v in found if v.nature == frameworks.PRESENTING_BEHAVIOUR],
    }


def _error_items(form: forms.Form, case: Case, assessment: Assessment, framework: frameworks.Framework,
                 factor_errors: dict[str, list[str]]) -> list[dict[str, str]]:
    """The error summary: the page's own fields, then each factor's problem linking to its dimension page."""
    items = [{"text": str(e), "href": ""} for e in form.non_field_errors()]
    for name, anchor in (("summary", "#id_summary"), ("assessed_on", "#id_assessed_on_day")):
        items += [{"text": str(e), "href": anchor} for e in form.errors.get(name, [])]
    for factor in framework.factors:
        for message in factor_errors.get(factor.code, []):
            field = _field_for_message(factor.code, message)
            url = _dimension_url(case, assessment, factor.dimension_code)
            items.append({"text": message, "href": f"{url}#id_{field}"})
    return items


@login_required
def assessment_summary(request: HttpRequest, case_id: int, assessment_id: int) -> HttpResponse:
    case = _assessable_case(request, case_id)
    assessment, framework = _assessment_of(case, assessment_id)
    if assessment.status != Assessment.Status.DRAFT:
        return redirect(_detail_url(case, assessment))
    factor_errors: dict[str, list[str]] = {}

    if request.method == "POST":
        submitting = request.POST.get("action") == "submit"
        form = SummaryForm(request.POST)
        # The date only matters for submission; saving the summary alone must not ask for it.
        form.fields["assessed_on"].required = submitting
        if form.is_valid():
            data = form.cleaned_data
            saved, _ = _call(form, lambda: services.assessment_save(
                user=request.user, assessment=assessment,  # type: ignore[arg-type]
                expected_version=data["expected_version"], judgements={}, summary=data["summary"]))
            if saved is not None and not submitting:
                messages.success(request, "The summary of the assessment is saved")
                return redirect(_summary_url(case, saved))
            if saved is not None:
                assessment = saved
                # The save moved the version on; the re-shown form must carry the new one.
                posted = request.POST.copy()
                posted["expected_version"] = str(saved.version)
                form = SummaryForm(posted)
                form.is_valid()
                submitted, factor_errors = _call(form, lambda: services.assessment_submit(
                    user=request.user, assessment=saved,  # type: ignore[arg-type]
                    expected_version=saved.version, assessed_on=data["assessed_on"]))
                if submitted is not None:
                    messages.success(request, "The assessment is submitted")
                    return redirect("web:case-detail", case_id=case.pk)
        elif submitting:
            # Show every problem at once, not the date first and the unjudged factors next time.
            factor_errors = frameworks.validate_judgements(
                framework, services._judgements(assessment.judgements), complete=True)
    else:
        form = SummaryForm(initial={"expected_version": assessment.version, "summary": assessment.summary,
                                    "assessed_on": clock.today()})

    context = {
        "case": case, "assessment": assessment, "framework": framework, "form": form,
        "sections": _rows(case, assessment, framework, factor_errors),
        "error_items": _error_items(form, case, assessment, framework, factor_errors),
        **_vulnerabilities(assessment, framework),
    }
    status = 400 if context["error_items"] else 200
    return render(request, "assessments/summary.html", context, status=status)


# --- Read-only record -----------------------------------------------------------------------


@login_required
def assessment_detail(request: HttpRequest, case_id: int, assessment_id: int) -> HttpResponse:
    case = load_case(request, case_id)
    # The referrer's status page shows no case content, so neither may this.
    if view_of(request.user, case) is not View.FULL:  # type: ignore[arg-type]
        raise PermissionDenied("Your role or agency cannot see this case's assessment.")
    assessment, framework = _assessment_of(case, assessment_id)
    context = {
        "case": case, "assessment": assessment, "framework": framework,
        "superseded": framework.is_superseded_on(clock.today()),
        "can_edit": assessment.status == Assessment.Status.DRAFT
        and allowed(request.user, Permission.ASSESS, case),  # type: ignore[arg-type]
        "summary_url": _summary_url(case, assessment),
        "sections": _rows(case, assessment, framework),
        **_vulnerabilities(assessment, framework),
    }
    return render(request, "assessments/detail.html", context)
