"""The provider register's form."""

from __future__ import annotations

from typing import Any

from django import forms

from casetrail.providers.models import ApprovalStatus
from casetrail.providers.services import SPECIALISMS
from casetrail.web.case_forms import GovukForm
from casetrail.web.forms import GovukDateField


class ProviderOrganisationForm(GovukForm):
    name = forms.CharField(label="Organisation name", max_length=200)
    specialisms = forms.MultipleChoiceField(label="Specialisms", widget=forms.CheckboxSelectMultiple,
                                            choices=list(SPECIALISMS.items()))
    status = forms.ChoiceField(label="Approval status", widget=forms.RadioSelect, choices=ApprovalStatus.choices)
    approved_until = GovukDateField(label="Approval expires on", required=False)

    def __init__(self, *args: Any, editing: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["name"]
