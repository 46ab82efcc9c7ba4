"""The retention review and disposal forms, worded as GOV.UK question pages. They only parse
input; the rules (casetrail.core.retention) are applied by the services."""

from __future__ import annotations

from django import forms

from casetrail.web.case_forms import VersionedForm
from casetrail.web.forms import GovukDateField


class RetentionReviewForm(VersionedForm):
    decision = forms.ChoiceField(label="What is your decision?", widget=forms.RadioSelect, choices=[
        ("retain", "Retain the case until a later review"),
        ("dispose", "Dispose of the case: erase its personal data and keep a tombstone")])
    reason = forms.CharField(label="Your reasons", widget=forms.Textarea(attrs={"rows": 5}), required=False,
                             help_text="Say why the case must be kept, or why nothing requires it to be kept.")
    next_review_on = GovukDateField(label="Date of the next review", required=False,
                                    help_text="Only if you retain the case. For example, 27 3 2031")


class DisposalConfirmForm(VersionedForm):
    confirm = forms.BooleanField(
        label="I understand that disposal erases this case's personal data and cannot be undone",
        required=True)
