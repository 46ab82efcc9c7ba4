"""One form per page of the referral form, worded as GOV.UK question pages."""

from __future__ import annotations

import datetime
import re
from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from casetrail import clock
from casetrail.accounts.models import Agency
from casetrail.core.codes import CONCERN_TYPES, PERSON_AWARE, SECTORS, SEX, URGENCY
from casetrail.core.dates import PartialDate
from casetrail.core.errors import InvalidInput
from casetrail.core.referrals import (
    EMAIL,
    MIN_CONCERN_CHARACTERS,
    NHS_NUMBER_EXAMPLE,
    POSTCODE,
    UPN_EXAMPLE,
    nhs_number_compact,
    nhs_number_errors,
    normalise_postcode,
    upn_compact,
    upn_errors,
)
from casetrail.core.roles import AgencyKind
from casetrail.referrals.attachments import MAX_FILES, CheckedFile, UploadedFile, check_upload
from casetrail.web.forms import GovukDateField, PartialDateField

PHONE = re.compile(r"^[0-9+() -]+$")
NO_PREVENT_TEAM = "That area has no police Prevent team set up to screen referrals; contact the administrator"


def _text(label: str, noun: str, *, max_length: int, required_message: str | None = None,
          help_text: str = "", widget: forms.Widget | None = None) -> forms.CharField:
    """A text question; `noun` names the answer in the 'too long' message, as GOV.UK does."""
    messages = {"max_length": f"{noun} must be {max_length} characters or less"}
    if required_message:
        messages["required"] = required_message
    return forms.CharField(label=label, max_length=max_length, required=bool(required_message),
                           help_text=help_text, widget=widget, error_messages=messages)


def _radios(label: str, choices: dict[str, str], required_message: str, help_text: str = "") -> forms.ChoiceField:
    return forms.ChoiceField(label=label, choices=list(choices.items()), widget=forms.RadioSelect,
                             help_text=help_text, error_messages={"required": required_message,
                                                                  "invalid_choice": required_message})


class _NamedDateMixin:
    """The label is a question, but GOV.UK date errors name the date ('Date of birth must...')."""

    def __init__(self, *, message_name: str, **kwargs: Any) -> None:
        self.message_name = message_name
        super().__init__(**kwargs)  # type: ignore[call-arg]

    @property
    def message_label(self) -> str:
        return self.message_name


class NamedDateField(_NamedDateMixin, GovukDateField):
    pass


class NamedPartialDateField(_NamedDateMixin, PartialDateField):
    pass


def _date_error(message: str, parts: tuple[str, ...] = ("day", "month", "year")) -> ValidationError:
    # The govuk tags read "parts" to mark only the wrong inputs.
    return ValidationError(message, code="invalid", params={"parts": parts})


def _json_safe(value: Any) -> Any:
    """A cleaned value as something the JSON session serialiser can store."""
    if isinstance(value, PartialDate):
        return value.to_iso()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, tuple | list):
        return list(value)
    return value


class ReferralPageForm(forms.Form):
    """A page whose answers are kept in the session between requests."""

    def session_values(self) -> dict[str, Any]:
        return {name: _json_safe(value) for name, value in self.cleaned_data.items()}

    @classmethod
    def initial_from(cls, values: dict[str, Any]) -> dict[str, Any]:
        """Turn stored answers back into the values the fields show."""
        initial: dict[str, Any] = {}
        for name, field in cls.base_fields.items():
            if name not in values:
                continue
            value = values[name]
            try:
                if isinstance(field, PartialDateField) and value:
                    value = PartialDate.from_iso(value)
                elif isinstance(field, GovukDateField) and value:
                    value = datetime.date.fromisoformat(value)
            except ValueError:
                # A stored answer that no longer parses is asked for again.
                value = None
            initial[name] = value
        return initial


class AboutYouForm(ReferralPageForm):
    referrer_name = _text("What is your full name?", "Your full name", max_length=200,
                          required_message="Enter your full name",
                          widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}))
    referrer_job_title = _text("What is your job title or role?", "Your job title or role", max_length=200,
                               required_message="Enter your job title or role",
                               widget=forms.TextInput(attrs={"autocomplete": "organization-title"}))
    referrer_email = _text("What is your email address?", "Your email address", max_length=254,
                           required_message="Enter your email address",
                           help_text="We will only use this to contact you about this referral",
                           widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}))
    referrer_phone = _text("What is your phone number?", "Your phone number", max_length=40,
                           help_text="A Prevent officer may call you to talk about the referral",
                           widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "width": 20}))
    referrer_organisation = _text("What organisation do you work for?", "Your organisation's name",
                                  max_length=200, required_message="Enter the name of your organisation",
                                  widget=forms.TextInput(attrs={"autocomplete": "organization"}))
    referrer_sector = _radios("Which sector is your organisation in?", SECTORS,
                              "Select the sector your organisation is in")
    discussed_with = _text("Which safeguarding lead did you discuss this with?", "The safeguarding lead",
                           max_length=200,
                           help_text="Give their name and role, for example your designated safeguarding lead")

    @staticmethod
    def initial_for(user: Any) -> dict[str, Any]:
        """What the service already knows about the signed-in person."""
        return {
            "referrer_name": user.get_full_name(),
            "referrer_email": user.email,
            "referrer_job_title": user.job_title,
            "referrer_organisation": user.agency.name if user.agency_id else "",
        }

    def clean_referrer_email(self) -> str:
        value: str = self.cleaned_data["referrer_email"]
        if not EMAIL.match(value):
            raise ValidationError("Enter an email address in the correct format, like name@example.org")
        return value

    def clean_referrer_phone(self) -> str:
        value: str = self.cleaned_data["referrer_phone"]
        digits = sum(ch.isdigit() for ch in value)
        if value and (not PHONE.match(value) or not 7 <= digits <= 15):
            raise ValidationError("Enter a telephone number, like 01632 960 001 or +44 808 157 0192")
        return value


class LocalAuthorityChoiceField(forms.ModelChoiceField):  # type: ignore[type-arg]
    def label_from_instance(self, obj: Agency) -> str:
        return obj.name


class PersonForm(ReferralPageForm):
    given_names = _text("What is their first name?", "First name", max_length=200,
                        required_message="Enter the person's first name",
                        help_text="Include any middle names")
    family_name = _text("What is their last name?", "Last name", max_length=200,
                        required_message="Enter the person's last name")
    other_names = _text("Other names or spellings they use", "Other names", max_length=300,
                        help_text="For example, a nickname, a previous surname or an online username")
    date_of_birth = NamedPartialDateField(
        label="What is their date of birth?", message_name="Date of birth", required=False,
        help_text="If you do not know the full date, give the month and year, or just the year. "
                  "For example, 27 3 2009, 3 2009 or 2009")
    sex = _radios("What is their sex?", SEX, "Select the person's sex, or 'Not known'")
    nhs_number = forms.CharField(
        label="What is their NHS number?", required=False,
        help_text=f"Leave this blank if you do not know it. It is 10 digits, like {NHS_NUMBER_EXAMPLE}, and is "
                  "on letters from the NHS and in health records",
        widget=forms.TextInput(attrs={"width": 10, "inputmode": "numeric", "spellcheck": "false",
                                      "autocomplete": "off"}))
    address = forms.CharField(label="What is their address?", required=False,
                              widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "off"}),
                              max_length=500,
                              error_messages={"max_length": "Address must be 500 characters or less"})
    postcode = _text("What is their postcode?", "Postcode", max_length=10,
                     widget=forms.TextInput(attrs={"width": 10, "autocomplete": "off"}))
    school_or_workplace = _text("Which school, college or workplace do they attend?",
                                "School, college or workplace", max_length=200)
    upn = forms.CharField(
        label="What is their Unique Pupil Number (UPN)?", required=False,
        help_text=f"Leave this blank if you do not know it. It is 13 characters, like {UPN_EXAMPLE}: schools "
                  "in England can find it in their pupil records",
        widget=forms.TextInput(attrs={"width": 20, "spellcheck": "false", "autocapitalize": "characters",
                                      "autocomplete": "off"}))
    local_authority = LocalAuthorityChoiceField(
        label="Which local authority area do they live in?",
        help_text="If you do not know, choose the area of their school, college or workplace",
        queryset=Agency.objects.filter(kind=AgencyKind.LOCAL_AUTHORITY).order_by("name"),
        empty_label="Select an area",
        error_messages={"required": "Select the local authority area the person lives in",
                        "invalid_choice": "Select the local authority area the person lives in"},
    )

    def clean_date_of_birth(self) -> PartialDate | None:
        birth: PartialDate | None = self.cleaned_data.get("date_of_birth")
        if birth is None:
            return None
        parts = {"day": ("day", "month", "year"), "month": ("month", "year"), "year": ("year",)}[birth.precision]
        today = clock.today()
        # The same limits the referral service applies, so the error appears on this page.
        if birth.earliest() > today:
            raise _date_error("Date of birth must be in the past", parts)
        if today.year - birth.year > 120:
            raise _date_error("Date of birth must be within the last 120 years", ("year",))
        return birth

    def clean_postcode(self) -> str:
        value: str = self.cleaned_data["postcode"]
        if not value:
            return ""
        tidy = normalise_postcode(value)
        if not POSTCODE.match(tidy):
            raise ValidationError("Enter a real postcode, like SW1A 1AA")
        return tidy

    def clean_nhs_number(self) -> str:
        # The referral service's own rule, so the error appears on this page; kept compact.
        value: str = self.cleaned_data["nhs_number"]
        problems = nhs_number_errors(value)
        if problems:
            raise ValidationError(problems)
        return nhs_number_compact(value)

    def clean_upn(self) -> str:
        value: str = self.cleaned_data["upn"]
        problems = upn_errors(value)
        if problems:
            raise ValidationError(problems)
        return upn_compact(value)

    def clean_local_authority(self) -> Agency:
        authority: Agency = self.cleaned_data["local_authority"]
        # Without a force and its duty owner nobody would screen the referral, so it cannot be sent.
        force = authority.police_force
        if force is None or force.duty_owner_id is None:
            raise ValidationError(NO_PREVENT_TEAM)
        return authority


class ConcernForm(ReferralPageForm):
    concern = forms.CharField(
        label="What have you seen or heard that concerns you?",
        help_text="Say what was seen or heard, when and where, who saw or heard it, and what the "
                  "person said in their own words. Give facts rather than opinions.",
        widget=forms.Textarea(attrs={"rows": 10}),
        max_length=10000,
        error_messages={"required": "Describe what you observed",
                        "max_length": "What you observed must be 10,000 characters or less"},
    )
    first_observed_on = NamedDateField(
        label="When was the concern first observed?", message_name="The date the concern was first observed",
        not_in_future=True, help_text="For example, 27 3 2025. If you are not sure, give your best estimate")
    concern_types = forms.MultipleChoiceField(
        label="What type of concern is it?", help_text="Select all that apply",
        choices=list(CONCERN_TYPES.items()), widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Select at least one type of concern, or 'No ideology identified'",
                        "invalid_choice": "Select types of concern from the list"},
    )

    def __init__(self, *args: Any, birth: PartialDate | None = None, **kwargs: Any) -> None:
        # The date of birth was given on an earlier page; the observation cannot come before it.
        self.birth = birth
        super().__init__(*args, **kwargs)

    def clean_concern(self) -> str:
        value: str = self.cleaned_data["concern"]
        if len(value) < MIN_CONCERN_CHARACTERS:
            raise ValidationError(f"Describe what you observed in at least {MIN_CONCERN_CHARACTERS} characters")
        return value

    def clean_first_observed_on(self) -> datetime.date:
        value: datetime.date = self.cleaned_data["first_observed_on"]
        if self.birth is not None and value < self.birth.earliest():
            raise _date_error(
                "The date the concern was first observed must be after the person's date of birth")
        return value


class UrgencyForm(ReferralPageForm):
    urgency = _radios("How urgent is this?", URGENCY, "Select how urgent the concern is")
    person_aware = _radios("Does the person know you are making this referral?", PERSON_AWARE,
                           "Select whether the person knows about this referral")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one input; Django's FileField only cleans one."""

    widget = MultipleFileInput

    def __init__(self, **kwargs: Any) -> None:
        # check_upload gives the GOV.UK message for an empty file, naming it.
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:  # type: ignore[override]
        files = list(data) if isinstance(data, list | tuple) else ([data] if data else [])
        if not files and self.required:
            raise ValidationError(self.error_messages["required"], code="required")
        return [super(MultipleFileField, self).clean(item, initial) for item in files]


class AttachmentsForm(forms.Form):
    attachments = MultipleFileField(label="Upload files", required=False)

    def __init__(self, *args: Any, already: int = 0, **kwargs: Any) -> None:
        self.already = already
        super().__init__(*args, **kwargs)
        megabytes = settings.MAX_ATTACHMENT_BYTES // (1024 * 1024)
        self.fields["attachments"].help_text = (
            f"You can attach up to {MAX_FILES} files in total: PDF, Word (.docx), JPG, PNG or plain "
            f"text, each smaller than {megabytes} MB. To choose more than one file, hold Ctrl "
            f"(or Cmd on a Mac) while you select them."
        )

    def clean_attachments(self) -> list[CheckedFile]:
        files = self.cleaned_data["attachments"]
        if self.already + len(files) > MAX_FILES:
            if self.already:
                raise ValidationError(
                    f"You can attach up to {MAX_FILES} files in total; you have already attached "
                    f"{self.already}")
            raise ValidationError(f"You can attach up to {MAX_FILES} files")
        limit = settings.MAX_ATTACHMENT_BYTES
        checked: list[CheckedFile] = []
        problems: list[str] = []
        for upload in files:
            # One byte past the limit is enough to know it is too big, without reading it all.
            content = upload.read(limit + 1)
            try:
                checked.append(check_upload(UploadedFile(upload.name or "", content)))
            except InvalidInput as problem:
                problems.extend(m for messages in problem.errors.values() for m in messages)
        if problems:
            raise ValidationError(problems)
        return checked
