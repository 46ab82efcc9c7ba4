"""Forms for data-subject rights pages. They only parse what was typed; the services in
casetrail/rights/services.py apply the rules and their errors come back on these fields."""

from __future__ import annotations

from typing import Any

from django import forms

from casetrail.core.subject_access import (
    MAX_EXTENSION_MONTHS,
    REDACTION_LABELS,
    RectificationOutcome,
)
from casetrail.web.case_forms import GovukForm
from casetrail.web.forms import GovukDateField


def _rationale(label: str, hint: str) -> forms.CharField:
    return forms.CharField(label=label, widget=forms.Textarea(attrs={"rows": 5}), help_text=hint)


class RequestOpenForm(GovukForm):
    requested_by = forms.CharField(
        label="Who made the request", max_length=200,
        help_text="The person themselves, or who asked on their behalf and how their authority was checked "
                  "(for example, 'Parent, with the person's written consent')")
    received_on = GovukDateField(label="Date the request was received", not_in_future=True,
                                 help_text="The month to answer runs from this date. For example, 27 3 2026")


class ExtendForm(GovukForm):
    months = forms.TypedChoiceField(label="Extend by", widget=forms.RadioSelect, coerce=int,
                                    choices=[(n, f"{n} month{'s' if n > 1 else ''}")
                                             for n in range(1, MAX_EXTENSION_MONTHS + 1)])
    reason = _rationale("Why the request needs longer",
                        "The law allows longer only for complex or numerous requests. Tell the person within "
                        "the first month, with this reason.")


class RedactForm(GovukForm):
    item = forms.CharField(widget=forms.HiddenInput)
    reason = forms.ChoiceField(label="Why is this withheld?", widget=forms.RadioSelect,
                               choices=[(r.value, label) for r, label in REDACTION_LABELS.items()])
    rationale = _rationale("Your reasons",
                           "Say why the exemption applies to this item. The person will see only the ground, "
                           "not these reasons.")


class WithdrawRedactionForm(GovukForm):
    redaction = forms.IntegerField(widget=forms.HiddenInput)
    rationale = _rationale("Why release this item", "For example, the third party has agreed to its disclosure.")


class ExportForm(GovukForm):
    format = forms.ChoiceField(label="Format", widget=forms.RadioSelect,
                               choices=[("pdf", "PDF, to print or send"), ("json", "JSON, machine-readable")],
                               initial="pdf")
    recipient = forms.CharField(label="Who is the copy for", max_length=200,
                                help_text="For example, 'The person, by secure email' or 'Their solicitor, "
                                          "by recorded post'. This is written to the access log.")


class CompleteForm(GovukForm):
    completed_on = GovukDateField(label="Date the answer was sent", not_in_future=True,
                                  help_text="For example, 27 3 2026")
    note = forms.CharField(label="Note (optional)", required=False, widget=forms.Textarea(attrs={"rows": 3}))


class RectificationForm(GovukForm):
    target = forms.ChoiceField(label="What does the person say is wrong?")
    requested_by = forms.CharField(label="Who asked for the correction", max_length=200)
    requested_value = forms.CharField(label="What they say it should be", max_length=200, required=False)
    outcome = forms.ChoiceField(label="Your decision", widget=forms.RadioSelect, choices=[
        (RectificationOutcome.ACCEPTED.value, "Accept: correct the record"),
        (RectificationOutcome.REFUSED.value, "Refuse: the record stays as it is")])
    corrected_value = forms.CharField(
        label="Corrected value", max_length=200, required=False,
        help_text="Only when accepting. Dates of birth as YYYY-MM-DD (or YYYY-MM, or YYYY).")
    rationale = _rationale("Your reasons", "Say what evidence you saw, or why the record is accurate as it is. "
                                           "The value recorded now is kept with this decision.")
    decided_on = GovukDateField(label="Date of the decision", not_in_future=True, help_text="For example, 27 3 2026")

    def __init__(self, *args: Any, targets: dict[str, tuple[str, str, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", "Choose…")] + [  # type: ignore[attr-defined]
            (key, f"{label}: {value or '(blank)'}") for key, (label, _, value) in targets.items()]
