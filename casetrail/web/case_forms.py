"""Forms for each step of a case, worded as GOV.UK question pages.

Forms only parse what a person typed; the services apply the programme's rules and
their errors are shown against these same field names.
"""

from __future__ import annotations

from typing import Any

from django import forms

from casetrail.accounts.models import Agency, User
from casetrail.core.codes import (
    CONSENT_REFUSAL_CONSEQUENCES,
    GIVER,
    NFA_REASONS,
    PANEL_REVIEW_OUTCOMES,
    POST_EXIT_OUTCOMES,
    SIGNIFICANT_EVENT_OUTCOMES,
    TASKING_END_REASONS,
)
from casetrail.core.roles import AgencyKind, Role
from casetrail.web.forms import GovukDateField

YES_NO = [("yes", "Yes"), ("no", "No")]
CONSULTATION_METHODS = [("phone", "Phone call"), ("meeting", "Meeting"), ("email", "Email"), ("letter", "Letter")]
HOLD_REASONS = [
    ("serious_incident", "Linked to a serious incident"),
    ("review", "Under review (learning review, inquiry or inquest)"),
    ("litigation", "Legal proceedings"),
]


def _date(label: str, **kwargs: Any) -> GovukDateField:
    return GovukDateField(label=label, not_in_future=True, help_text="For example, 27 3 2025", **kwargs)


def _rationale(label: str = "Rationale", hint: str = "Explain the decision so that someone reading it later "
               "understands why it was made.") -> forms.CharField:
    return forms.CharField(label=label, widget=forms.Textarea(attrs={"rows": 5}), help_text=hint)


def _owner_choices(field: Any, people: Any) -> None:
    """Only the people the access policy lets own this work (casetrail.cases.access.eligible_owners),
    shown with agency and roles."""
    field.queryset = people
    field.label_from_instance = lambda u: f"{u.display_name} ({u.agency}, {u.roles_display})"


class AttendeesField(forms.CharField):
    """One attendee per line, as 'Name, role, agency'."""

    widget = forms.Textarea(attrs={"rows": 4})

    def clean(self, value: Any) -> list[str]:  # type: ignore[override]
        text = super().clean(value) or ""
        return [line.strip() for line in text.splitlines() if line.strip()]


class GovukForm(forms.Form):
    """Required-field messages in GOV.UK style, naming the field."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            label = str(field.label or "")
            if label.endswith("?"):
                message = f"Answer the question: {label}"
            else:
                prompt = "Select" if isinstance(field, forms.ChoiceField | forms.ModelChoiceField) else "Enter"
                message = f"{prompt} {label[:1].lower()}{label[1:]}"
            field.error_messages["required"] = message


class VersionedForm(GovukForm):
    expected_version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class GatewayForm(VersionedForm):
    deconfliction_done = forms.BooleanField(
        label="Deconfliction against live counter-terrorism work is complete", required=False)
    database_checks_done = forms.BooleanField(label="Police database checks are complete", required=False)
    referrer_contacted_on = GovukDateField(label="Date you spoke to the referrer", required=False,
                                           not_in_future=True, help_text="Leave blank if you have not yet")
    referrer_contact_method = forms.ChoiceField(label="How you spoke to them", required=False,
                                                widget=forms.RadioSelect, initial="phone",
                                                choices=CONSULTATION_METHODS)
    referrer_contact_summary = forms.CharField(label="What the referrer told you", required=False,
                                               widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.ChoiceField(label="Outcome of the gateway assessment", widget=forms.RadioSelect, choices=[
        ("no_further_action", "No further action"),
        ("signpost", "Signpost to another service"),
        ("police_led", "Police-led case management"),
        ("refer_to_panel", "Refer to the Channel panel"),
    ])
    signposted_to = forms.CharField(label="Service signposted to", required=False,
                                    help_text="Only if signposting, for example 'Northshire early help team'")
    nfa_reasons = forms.MultipleChoiceField(
        label="Why no further action is needed", required=False, widget=forms.CheckboxSelectMultiple,
        choices=list(NFA_REASONS.items()),
        help_text="Only for no further action. 'No clear ideology' on its own is not enough.")
    rationale = _rationale()
    decided_on = _date("Date of the decision")

    def clean_referrer_contact_method(self) -> str:
        return self.cleaned_data.get("referrer_contact_method") or "phone"


class GatewaySecondReviewForm(GovukForm):
    agree = forms.TypedChoiceField(label="Do you agree the referral can close with no further action?",
                                   widget=forms.RadioSelect, coerce=lambda v: v == "yes", choices=YES_NO)
    rationale = _rationale("Your reasons", hint="Say what you read, including the person's earlier referrals.")
    reviewed_on = _date("Date of your review")


class SignpostingReplyForm(VersionedForm):
    accepted = forms.TypedChoiceField(label="Did the service accept the referral?", widget=forms.RadioSelect,
                                      choices=[("yes", "Yes, it accepted"), ("no", "No, it declined")],
                                      coerce=lambda v: v == "yes")
    service_contact = forms.CharField(label="Who at the service replied")
    rationale = _rationale("Notes on the reply")
    replied_on = _date("Date of the reply")


class PoliceLedForm(VersionedForm):
    outcome = forms.ChoiceField(label="What happens to the case", widget=forms.RadioSelect, choices=[
        ("refer_to_panel", "Refer to the Channel panel"), ("close", "Close police-led case management")])
    rationale = _rationale()
    decided_on = _date("Date of the decision")


class PanelMeetingForm(GovukForm):
    meets_on = GovukDateField(label="Date of the meeting")
    chair = forms.ModelChoiceField(label="Chair", queryset=User.objects.none(), empty_label="Select the chair")
    location = forms.CharField(label="Where the panel meets", required=False)

    def __init__(self, *args: Any, agency: Agency, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        chairs = [u.pk for u in User.objects.filter(agency=agency, is_active=True) if u.has_role(Role.PANEL_CHAIR)]
        self.fields["chair"].queryset = User.objects.filter(pk__in=chairs)  # type: ignore[attr-defined]
        self.fields["chair"].label_from_instance = lambda u: u.display_name  # type: ignore[attr-defined]


class AgendaForm(GovukForm):
    meeting = forms.ModelChoiceField(label="Panel meeting", queryset=None, empty_label="Select a meeting")  # type: ignore[arg-type]

    def __init__(self, *args: Any, meetings: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["meeting"].queryset = meetings  # type: ignore[attr-defined]
        self.fields["meeting"].label_from_instance = lambda m: f"{m.meets_on:%-d %B %Y} ({m.location or 'no location'})"  # type: ignore[attr-defined]


class InformationRequestForm(GovukForm):
    to_agency = forms.ModelChoiceField(label="Partner agency to ask", queryset=Agency.objects.exclude(
        kind=AgencyKind.PROVIDER).filter(duty_owner__isnull=False), empty_label="Select an agency")
    question = forms.CharField(label="What you need to know", widget=forms.Textarea(attrs={"rows": 4}))
    requested_on = _date("Date of the request")

    def __init__(self, *args: Any, agencies: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if agencies is not None:  # only agencies whose duty owner may answer (the access policy)
            self.fields["to_agency"].queryset = agencies  # type: ignore[attr-defined]


class InformationReplyForm(GovukForm):
    reply = forms.CharField(label="Your reply", widget=forms.Textarea(attrs={"rows": 6}))
    replied_on = _date("Date of the reply")


class PanelDecisionForm(VersionedForm):
    adopt = forms.TypedChoiceField(label="Does the panel adopt the case?", widget=forms.RadioSelect,
                                   choices=[("yes", "Yes, adopt as a Channel case"), ("no", "No, do not adopt")],
                                   coerce=lambda v: v == "yes")
    attendees = AttendeesField(label="Attendees", help_text="One per line: name, role, agency")
    rationale = _rationale()
    dissent = forms.CharField(label="Dissent", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                              help_text="Record any member who disagreed, and why")
    signposted_to = forms.CharField(label="Where the person was signposted", required=False,
                                    help_text="Only if not adopted")
    decided_on = _date("Date of the panel decision")


class ConsentForm(VersionedForm):
    given = forms.TypedChoiceField(label="Was consent given?", widget=forms.RadioSelect,
                                   choices=[("yes", "Yes"), ("no", "No, consent was refused")],
                                   coerce=lambda v: v == "yes")
    giver = forms.ChoiceField(label="Who gave or refused consent", widget=forms.RadioSelect,
                              choices=list(GIVER.items()),
                              help_text="For anyone under 18, consent comes from a parent or carer")
    giver_name = forms.CharField(label="Their full name")
    capacity_confirmed = forms.BooleanField(label="Capacity to consent was considered and is present",
                                            required=False)
    capacity_notes = forms.CharField(label="Notes on capacity", required=False,
                                     widget=forms.Textarea(attrs={"rows": 3}))
    scope = forms.CharField(label="What the consent covers", required=False,
                            widget=forms.Textarea(attrs={"rows": 3}),
                            help_text="For example, sharing information with the named provider and school")
    given_on = _date("Date consent was given or refused")
    refusal_consequence = forms.ChoiceField(label="If refused, what happens now", required=False,
                                            widget=forms.RadioSelect,
                                            choices=list(CONSENT_REFUSAL_CONSEQUENCES.items()))


class ConsentWithdrawForm(VersionedForm):
    withdrawn_on = _date("Date consent was withdrawn")
    reason = forms.CharField(label="What they said", widget=forms.Textarea(attrs={"rows": 4}))
    consequence = forms.ChoiceField(label="What happens now", widget=forms.RadioSelect,
                                    choices=list(CONSENT_REFUSAL_CONSEQUENCES.items()))


class SupportActionForm(GovukForm):
    description = forms.CharField(label="Support action", widget=forms.Textarea(attrs={"rows": 3}),
                                  help_text="For example, mentoring sessions on online safety; a referral to "
                                            "the school's counsellor")
    vulnerabilities = forms.MultipleChoiceField(label="Vulnerabilities it addresses",
                                                widget=forms.CheckboxSelectMultiple, choices=[])
    owner_user = forms.ModelChoiceField(label="Who owns this action", queryset=User.objects.none(),
                                        empty_label="Select a person")
    due_on = GovukDateField(label="Due date")

    def __init__(self, *args: Any, vulnerabilities: list[tuple[str, str]], owners: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["vulnerabilities"].choices = vulnerabilities  # type: ignore[attr-defined]
        _owner_choices(self.fields["owner_user"], owners)


class SupportActionCompleteForm(GovukForm):
    status = forms.ChoiceField(label="What happened", widget=forms.RadioSelect,
                               choices=[("done", "Delivered"), ("cancelled", "Cancelled")])
    completed_on = _date("Date")
    note = forms.CharField(label="What was delivered, or why it was cancelled", widget=forms.Textarea(attrs={"rows": 3}))


class TaskingForm(GovukForm):
    provider_user = forms.ModelChoiceField(label="Intervention provider", queryset=User.objects.none(),
                                           empty_label="Select an approved provider")
    sessions_commissioned = forms.IntegerField(label="Number of sessions commissioned", min_value=1, max_value=50,
                                               widget=forms.NumberInput(attrs={"width": 2}))
    purpose = forms.CharField(label="What the sessions are for", widget=forms.Textarea(attrs={"rows": 3}))
    vulnerabilities = forms.MultipleChoiceField(label="Vulnerabilities the sessions address", required=False,
                                                widget=forms.CheckboxSelectMultiple, choices=[])
    commissioned_on = _date("Date commissioned")

    def __init__(self, *args: Any, vulnerabilities: list[tuple[str, str]], providers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["vulnerabilities"].choices = vulnerabilities  # type: ignore[attr-defined]
        self.fields["provider_user"].queryset = providers  # type: ignore[attr-defined]
        self.fields["provider_user"].label_from_instance = lambda u: f"{u.display_name} ({u.agency})"  # type: ignore[attr-defined]


class AcknowledgeForm(GovukForm):
    acknowledged_on = _date("Date you acknowledged the tasking")


class SessionForm(GovukForm):
    held_on = _date("Date of the session")
    report = forms.CharField(label="Session report", widget=forms.Textarea(attrs={"rows": 6}),
                             help_text="What was discussed, how the person engaged, any risk noted, next steps")


class SessionCancelForm(GovukForm):
    cancelled_on = _date("Date of the cancellation")
    reason = _rationale("Why the session was cancelled", hint="Say who cancelled it and why.")


class PanelReviewForm(VersionedForm):
    held_on = _date("Date of the review")
    outcome = forms.ChoiceField(label="Outcome", widget=forms.RadioSelect, choices=list(PANEL_REVIEW_OUTCOMES.items()))
    notes = _rationale("Review notes", hint="Progress against the plan, changes in vulnerability, and why.")
    attendees = AttendeesField(label="Attendees", help_text="One per line: name, role, agency")


class ExitForm(VersionedForm):
    exited_on = _date("Date of the exit decision")
    rationale = _rationale("Why the panel agrees vulnerability is removed or much reduced")
    residual_concerns = forms.CharField(label="Residual concerns", required=False,
                                        widget=forms.Textarea(attrs={"rows": 3}))
    onward_support = forms.CharField(label="Onward support", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    attendees = AttendeesField(label="Attendees", help_text="One per line: name, role, agency")
    dissent = forms.CharField(label="Dissent", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    minimum_period_reason = forms.CharField(
        label="Why exit before the minimum support period", required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Only needed when the policy sets a minimum period of support and it has not passed.")


class PostExitReviewForm(VersionedForm):
    months = forms.TypedChoiceField(label="Which review", widget=forms.RadioSelect, coerce=int,
                                    choices=[("6", "6-month review"), ("12", "12-month review")])
    held_on = _date("Date of the review")
    outcome = forms.ChoiceField(label="Outcome", widget=forms.RadioSelect, choices=list(POST_EXIT_OUTCOMES.items()))
    notes = _rationale("Review notes")


class CloseForm(VersionedForm):
    closed_on = _date("Date of closure")
    rationale = _rationale()


class TransferForm(GovukForm):
    to_agency = forms.ModelChoiceField(label="Area taking the case on", queryset=Agency.objects.none(),
                                       empty_label="Select the force or local authority")
    kind = forms.ChoiceField(label="Why the case moves", widget=forms.RadioSelect, choices=[])
    reason = _rationale("What the receiving area needs to know",
                        hint="Where the person has gone, since when, and what is outstanding on the case.")

    def __init__(self, *args: Any, agencies: Any = None, **kwargs: Any) -> None:
        from casetrail.cases.models import HandOver

        super().__init__(*args, **kwargs)
        self.fields["to_agency"].queryset = agencies if agencies is not None else Agency.objects.none()  # type: ignore[attr-defined]
        self.fields["kind"].choices = HandOver.TransferKind.choices  # type: ignore[attr-defined]


class ReferrerConsultationForm(GovukForm):
    consulted_on = _date("Date you consulted the referrer")
    method = forms.ChoiceField(label="How", widget=forms.RadioSelect, choices=CONSULTATION_METHODS)
    summary = forms.CharField(label="What the referrer told you about the risk or the support",
                              widget=forms.Textarea(attrs={"rows": 5}),
                              help_text="A consultation asks for the referrer's view. Telling them the matter is "
                                        "'being dealt with' is not one: record that as a note.")


class CaseNoteForm(GovukForm):
    noted_on = _date("Date of the contact or observation")
    text = forms.CharField(label="Note", widget=forms.Textarea(attrs={"rows": 5}))


class TaskingEndForm(GovukForm):
    tasking = forms.TypedChoiceField(label="The intervention", widget=forms.RadioSelect, coerce=int, choices=[])
    reason_kind = forms.ChoiceField(label="Why it ends", widget=forms.RadioSelect, choices=[])
    rationale = _rationale("Reasons, and what replaces it",
                           hint="The panel reads this: say what happened and what support the person has now.")
    ended_on = _date("Date it ended")

    def __init__(self, *args: Any, taskings: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["tasking"].choices = taskings or []  # type: ignore[attr-defined]
        self.fields["reason_kind"].choices = list(TASKING_END_REASONS.items())  # type: ignore[attr-defined]


class PoliceLedReviewForm(GovukForm):
    rationale = _rationale("What you reviewed and why the case stays police-led",
                           hint="Checks made, contact with partners, and what would change the plan.")
    reviewed_on = _date("Date of the review")


class SignificantEventForm(GovukForm):
    kind = forms.ChoiceField(label="What happened", widget=forms.RadioSelect, choices=[])
    occurred_on = _date("When it happened")
    source = forms.CharField(label="Who told you, or where it was raised",
                             help_text="For example, 'Probation, by phone' or 'Multi-agency risk meeting'",
                             max_length=200)
    summary = forms.CharField(label="What happened, in brief", widget=forms.Textarea(attrs={"rows": 5}),
                              help_text="Only what the people working on the case need to know.")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from casetrail.cases.models import SignificantEvent

        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = SignificantEvent.Kind.choices  # type: ignore[attr-defined]


class SignificantEventResponseForm(GovukForm):
    event = forms.TypedChoiceField(label="The event", widget=forms.RadioSelect, coerce=int, choices=[])
    outcome = forms.ChoiceField(label="What was decided", widget=forms.RadioSelect, choices=[])
    rationale = _rationale("The discussion and decision, and why",
                           hint="Who discussed it, what they decided and why.")
    responded_on = _date("Date of the decision")

    def __init__(self, *args: Any, events: list[tuple[int, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["event"].choices = events or []  # type: ignore[attr-defined]
        self.fields["outcome"].choices = list(SIGNIFICANT_EVENT_OUTCOMES.items())  # type: ignore[attr-defined]


class VulnerabilityWaiverForm(GovukForm):
    code = forms.ChoiceField(label="Vulnerability", widget=forms.RadioSelect, choices=[])
    reason = _rationale("Why no support action is needed for it",
                        hint="For example, another service already provides this support; say which.")
    approved_on = _date("Date approved")

    def __init__(self, *args: Any, vulnerabilities: list[tuple[str, str]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].choices = vulnerabilities or []  # type: ignore[attr-defined]


class RetentionHoldForm(GovukForm):
    reason_kind = forms.ChoiceField(label="Why the case is held", widget=forms.RadioSelect, choices=HOLD_REASONS)
    reason = _rationale("Details", hint="Name the incident or review, without personal details.")
    placed_on = _date("Date the hold starts")


class LinkPersonForm(GovukForm):
    person_reference = forms.CharField(label="Earlier person's reference", help_text="For example, P-2026-000012",
                                       widget=forms.TextInput(attrs={"width": 10}))
    rationale = _rationale("Why these are the same person",
                           hint="Say which details match, for example date of birth, address and school.")


class RejectMatchForm(GovukForm):
    person_reference = forms.CharField(label="Suggested person's reference", widget=forms.TextInput(attrs={"width": 10}))
    rationale = _rationale("Why this is not the same person",
                           hint="Say which details differ, for example a twin with another first name, or a "
                                "different date of birth confirmed with the school.")


class UnlinkPersonForm(GovukForm):
    rationale = _rationale("Why the link was wrong",
                           hint="Both people's histories are restored as they were before the link.")


class DuplicateReviewForm(GovukForm):
    same = forms.TypedChoiceField(label="Are these the same person?", widget=forms.RadioSelect,
                                  coerce=lambda v: v == "yes", choices=[("yes", "Yes, link them as one person"),
                                                                        ("no", "No, they are different people")])
    reason = _rationale("Your reasons", hint="Say which details settle it, for example a date of birth confirmed "
                                            "with the school.")


class BreakGlassForm(GovukForm):
    reference = forms.CharField(label="Case reference", help_text="For example, CT-2026-00012",
                                widget=forms.TextInput(attrs={"width": 10}))
    reason = _rationale("Why you need to read this case now",
                        hint="The case owner and the auditors will read this. Say what is urgent and why it "
                             "cannot wait for the owner.")
    hours = forms.TypedChoiceField(label="For how long", widget=forms.RadioSelect, coerce=int,
                                   choices=[(1, "1 hour"), (4, "4 hours"), (8, "8 hours")], initial=1)


class AuditSearchForm(GovukForm):
    person = forms.CharField(label="Person reference", required=False, help_text="For example, P-2026-000012",
                             widget=forms.TextInput(attrs={"width": 10}))
    case = forms.CharField(label="Case reference", required=False, help_text="For example, CT-2026-00012",
                           widget=forms.TextInput(attrs={"width": 10}))
    username = forms.CharField(label="Username of the person who looked", required=False,
                               widget=forms.TextInput(attrs={"width": 20}))
    operation = forms.ChoiceField(label="Operation", required=False, choices=[
        ("", "Any"), ("collection", "Collection"), ("alteration", "Alteration"), ("consultation", "Consultation"),
        ("disclosure", "Disclosure"), ("combination", "Combination"), ("erasure", "Erasure")])
    start = GovukDateField(label="From", not_in_future=True, help_text="For example, 1 3 2026")
    end = GovukDateField(label="To", not_in_future=True, help_text="For example, 31 3 2026")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", "The end date must be on or after the start date")
        return data


class BreakGlassReviewForm(GovukForm):
    note = forms.CharField(label="What you concluded", widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="For example: justified by an urgent risk to a child, or referred to the "
                                     "force's professional standards team.")


class HandOverForm(GovukForm):
    target = forms.ChoiceField(label="What to hand over", widget=forms.RadioSelect, choices=[])
    to_user = forms.ModelChoiceField(label="Hand over to", queryset=User.objects.none(), empty_label="Select a person")
    reason = _rationale("Why you are handing it over")

    def __init__(self, *args: Any, targets: list[tuple[str, str]], receivers: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = targets  # type: ignore[attr-defined]
        _owner_choices(self.fields["to_user"], receivers)


class HandOverRespondForm(GovukForm):
    accept = forms.TypedChoiceField(label="Do you accept?", widget=forms.RadioSelect, coerce=lambda v: v == "yes",
                                    choices=[("yes", "Yes, I take ownership"), ("no", "No, decline")])
    note = forms.CharField(label="Note", required=False, widget=forms.Textarea(attrs={"rows": 3}),
                           help_text="Required if you decline: say why")


class SearchForm(GovukForm):
    q = forms.CharField(label="Search by name, date of birth or reference", max_length=100,
                        help_text="For example, 'Adam Hussain', '14/03/2009' or 'CT-2026-00012'")
