"""The referral form for referrers: one GOV.UK page with an error summary, then a confirmation."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from casetrail.accounts.models import Agency
from casetrail.core.codes import CONCERN_TYPES, PERSON_AWARE, SECTORS, SEX, URGENCY
from casetrail.core.errors import AccessDenied
from casetrail.core.referrals import ReferralInput
from casetrail.core.roles import AgencyKind
from casetrail.referrals.attachments import UploadedFile
from casetrail.referrals.models import Referral
from casetrail.referrals.services import referral_submit
from casetrail.web.case_forms import GovukForm
from casetrail.web.forms import GovukDateField, PartialDateField
from casetrail.web.steps import run_service


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data: Any, initial: Any = None) -> list[Any]:  # type: ignore[override]
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class ReferralForm(GovukForm):
    referrer_name = forms.CharField(label="Your full name", max_length=200)
    referrer_job_title = forms.CharField(label="Your job title or role", max_length=200)
    referrer_email = forms.CharField(label="Your email address", max_length=254)
    referrer_phone = forms.CharField(label="Your phone number", max_length=40, required=False)
    referrer_organisation = forms.CharField(label="Your organisation", max_length=200)
    referrer_sector = forms.ChoiceField(label="Sector of your organisation", choices=list(SECTORS.items()),
                                        widget=forms.RadioSelect)
    discussed_with = forms.CharField(label="Safeguarding lead you discussed this with", required=False,
                                     max_length=200)
    given_names = forms.CharField(label="The person's first name", max_length=200)
    family_name = forms.CharField(label="The person's last name", max_length=200)
    other_names = forms.CharField(label="Other names or spellings they use", required=False, max_length=300)
    date_of_birth = PartialDateField(label="Date of birth", required=False, not_in_future=True,
                                     help_text="If you do not know the full date, give the month and year, or the year")
    sex = forms.ChoiceField(label="Sex", choices=list(SEX.items()), widget=forms.RadioSelect)
    address = forms.CharField(label="Address", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    postcode = forms.CharField(label="Postcode", required=False, max_length=10,
                               widget=forms.TextInput(attrs={"width": 10}))
    school_or_workplace = forms.CharField(label="School, college or workplace", required=False, max_length=200)
    local_authority = forms.ModelChoiceField(label="Local authority area where the person lives",
                                             queryset=Agency.objects.filter(kind=AgencyKind.LOCAL_AUTHORITY),
                                             empty_label="Select an area")
    concern = forms.CharField(label="What you observed", widget=forms.Textarea(attrs={"rows": 8}),
                              help_text="What was seen or heard, when, by whom, and in the person's own words")
    first_observed_on = GovukDateField(label="Date the concern was first observed", not_in_future=True)
    concern_types = forms.MultipleChoiceField(label="Type of concern", choices=list(CONCERN_TYPES.items()),
                                              widget=forms.CheckboxSelectMultiple)
    urgency = forms.ChoiceField(label="How urgent is this?", choices=list(URGENCY.items()), widget=forms.RadioSelect)
    person_aware = forms.ChoiceField(label="Does the person know about this referral?",
                                     choices=list(PERSON_AWARE.items()), widget=forms.RadioSelect)
    attachments = MultipleFileField(label="Attachments", required=False,
                                    help_text="Up to 5 files: PDF, Word (.docx), JPG, PNG or text, 10 MB each")
    idempotency_key = forms.CharField(widget=forms.HiddenInput)


@login_required
def referral_new(request: HttpRequest) -> HttpResponse:
    user = request.user
    if request.method == "POST":
        form = ReferralForm(request.POST, request.FILES)
        if form.is_valid():
            d = form.cleaned_data
            if len(d["attachments"]) > 5:
                form.add_error("attachments", "Attach no more than 5 files")
            else:
                data = ReferralInput(
                    referrer_name=d["referrer_name"], referrer_job_title=d["referrer_job_title"],
                    referrer_email=d["referrer_email"], referrer_phone=d["referrer_phone"],
                    referrer_organisation=d["referrer_organisation"], referrer_sector=d["referrer_sector"],
                    given_names=d["given_names"], family_name=d["family_name"], other_names=d["other_names"],
                    date_of_birth=d["date_of_birth"], sex=d["sex"], address=d["address"], postcode=d["postcode"],
                    school_or_workplace=d["school_or_workplace"], local_authority_id=d["local_authority"].pk,
                    concern=d["concern"], first_observed_on=d["first_observed_on"],
                    concern_types=tuple(d["concern_types"]), urgency=d["urgency"], person_aware=d["person_aware"],
                    discussed_with=d["discussed_with"])
                uploads = [UploadedFile(f.name, f.read()) for f in d["attachments"]]
                try:
                    result = run_service(form, lambda: referral_submit(
                        user=user, data=data, attachments=uploads,  # type: ignore[arg-type]
                        idempotency_key=d["idempotency_key"]))
                except AccessDenied:
                    raise Http404 from None
                if result is not None:
                    return redirect("web:referral-confirmation", reference=result[0].reference)
        return render(request, "referrals/new.html", {"form": form}, status=400)
    form = ReferralForm(initial={
        "referrer_name": user.get_full_name(), "referrer_email": user.email,  # type: ignore[union-attr]
        "referrer_job_title": user.job_title,  # type: ignore[union-attr]
        "referrer_organisation": user.agency.name if user.agency_id else "",  # type: ignore[union-attr]
        "idempotency_key": secrets.token_urlsafe(16),
    })
    return render(request, "referrals/new.html", {"form": form})


@login_required
def referral_confirmation(request: HttpRequest, reference: str) -> HttpResponse:
    referral = Referral.objects.filter(reference=reference, submitted_by=request.user).first()
    if referral is None:
        raise Http404("No such referral")
    return render(request, "referrals/confirmation.html", {"referral": referral})
