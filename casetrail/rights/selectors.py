"""Reads for data-subject rights: which requests a user may handle, and everything Casetrail
holds about a person, gathered across every case and referral (closed ones included), with the
request's redactions applied.

Handling a person's rights needs the DATA_SUBJECT_RIGHTS permission on *every* case of the
person: an answer built from part of the record would be an incomplete disclosure. A person the
user cannot see at all is reported as absent (404), never as forbidden.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from casetrail.accounts.models import User
from casetrail.audit.models import AccessLogEntry, Event
from casetrail.audit.services import access_log
from casetrail.cases.access import require, visible_cases
from casetrail.cases.models import Case
from casetrail.core import frameworks
from casetrail.core.codes import CONCERN_TYPES, PERSON_AWARE, SECTORS, SEX, URGENCY
from casetrail.core.errors import AccessDenied, NotFound
from casetrail.core.policy import Permission
from casetrail.core.subject_access import RedactionReason
from casetrail.people.models import Person
from casetrail.rights.models import Redaction, SubjectAccessRequest

NO_PERSON = "There is no person with that reference that you can see."
NO_REQUEST = "There is no subject access request with that reference that you can see."


# ---------------------------------------------------------------- who may handle a person's rights


def person_cases(person: Person) -> QuerySet[Case]:
    """Every case of the person, whoever can see it."""
    return Case.objects.filter(Q(person=person) | Q(referral__person=person)).distinct()


def rights_person_get(*, user: User, reference: str) -> Person:
    """The person, when the user may handle their rights; NotFound when the user sees none of
    their cases, AccessDenied when the role may not, or sees only part of the record."""
    person = Person.objects.filter(reference=reference.strip().upper()).first()
    if person is None or not user.is_authenticated:
        raise NotFound(NO_PERSON)
    rights_check(user=user, person=person)
    return person


def rights_check(*, user: User, person: Person) -> list[Case]:
    if not visible_cases(user).filter(Q(person=person) | Q(referral__person=person)).exists():
        raise NotFound(NO_PERSON)
    require(user, Permission.DATA_SUBJECT_RIGHTS)
    cases = list(person_cases(person).select_related("referral"))
    for case in cases:
        try:
            require(user, Permission.DATA_SUBJECT_RIGHTS, case)
        except AccessDenied:
            raise AccessDenied("You cannot answer for this person's records: it needs someone who can work on "
                               "every case of the person (usually the force's Prevent officer).") from None
    return cases


def may_handle(*, user: User, person: Person) -> bool:
    try:
        rights_check(user=user, person=person)
    except AccessDenied:
        return False
    return True


def sar_list(*, user: User, open_only: bool = False) -> list[SubjectAccessRequest]:
    """Requests about people the user can see, for a user whose role handles them (oldest due first)."""
    try:
        require(user, Permission.DATA_SUBJECT_RIGHTS)
    except AccessDenied:
        return []
    people = visible_cases(user).values("person_id")
    requests = SubjectAccessRequest.objects.filter(person_id__in=people).select_related("person", "handler")
    if open_only:
        requests = requests.filter(status=SubjectAccessRequest.Status.OPEN)
    return sorted(requests, key=lambda r: (r.status != SubjectAccessRequest.Status.OPEN, r.due_on, r.pk))


def sar_get(*, user: User, reference: str) -> SubjectAccessRequest:
    request = (SubjectAccessRequest.objects.select_related("person", "handler", "handler_agency")
               .filter(reference=reference.strip().upper()).first())
    if request is None or not user.is_authenticated:
        raise NotFound(NO_REQUEST)
    try:
        rights_check(user=user, person=request.person)
    except NotFound:
        raise NotFound(NO_REQUEST) from None
    return request


def active_redactions(request: SubjectAccessRequest) -> dict[str, Redaction]:
    """Item key -> the redaction in force (withdrawn ones and withdrawals left out)."""
    rows = list(request.redactions.select_related("author", "author_agency"))
    withdrawn = {r.withdraws_id for r in rows if r.withdraws_id is not None}
    return {r.item: r for r in rows if r.withdraws_id is None and r.pk not in withdrawn}


# ---------------------------------------------------------------- everything held about a person


@dataclass
class Item:
    key: str
    label: str
    value: str
    redacted: RedactionReason | None = None


@dataclass
class Record:
    key: str
    title: str
    items: list[Item] = field(default_factory=list)
    redacted: RedactionReason | None = None

    def add(self, name: str, label: str, value: Any) -> None:
        self.items.append(Item(f"{self.key}:{name}", label, _text(value)))


@dataclass
class Section:
    key: str
    title: str
    records: list[Record] = field(default_factory=list)


@dataclass
class SubjectData:
    person: Person
    sections: list[Section]

    def keys(self) -> set[str]:
        found = set()
        for section in self.sections:
            for record in section.records:
                found.add(record.key)
                found.update(item.key for item in record.items)
        return found

    def find(self, key: str) -> tuple[Record, Item | None] | None:
        for section in self.sections:
            for record in section.records:
                if record.key == key:
                    return record, None
                for item in record.items:
                    if item.key == key:
                        return record, item
        return None


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if hasattr(value, "tzinfo") and hasattr(value, "hour"):
        return timezone.localtime(value).strftime("%-d %B %Y %H:%M")
    if hasattr(value, "strftime"):
        return value.strftime("%-d %B %Y")
    if isinstance(value, list | tuple):
        return "; ".join(_text(v) for v in value)
    return str(value)


def _who(user: Any) -> str:
    return user.display_name if user is not None else ""


def subject_data_gather(*, person: Person) -> SubjectData:
    """Everything recorded about the person, as sections of records of labelled items. Call only
    after `rights_check`; the caller logs the consultation."""
    cases = list(person_cases(person).select_related("referral", "referral__submitted_by", "owner_agency",
                                                     "local_authority", "police_agency").order_by("opened_at"))
    sections = [
        _identity(person),
        _referrals(cases),
        _cases(cases),
        _decisions(cases),
        _consents(cases),
        _assessments(cases),
        _support(cases),
        _taskings(cases),
        _reviews(cases),
        _information_requests(cases),
        _consultations(cases),
        _notes(cases),
        _significant_events(cases),
        _attachments(cases),
        _rectifications(person),
        _history(cases),
        _access_log(person, cases),
    ]
    return SubjectData(person=person, sections=sections)


def _identity(person: Person) -> Section:
    record = Record(f"person:{person.pk}", f"Person record {person.reference}")
    record.add("reference", "Reference", person.reference)
    record.add("given_names", "Given names", person.given_names)
    record.add("family_name", "Family name", person.family_name)
    record.add("date_of_birth", "Date of birth", person.birth.as_text() if person.birth else "Not known")
    record.add("sex", "Sex", SEX.get(person.sex, person.sex))
    record.add("created_at", "First recorded", person.created_at)
    return Section("identity", "Identity as recorded", [record])


def _referrals(cases: list[Case]) -> Section:
    section = Section("referrals", "Referrals")
    for case in cases:
        r = case.referral
        record = Record(f"referral:{r.pk}", f"Referral {r.reference}")
        record.add("submitted_at", "Received", r.submitted_at)
        record.add("referrer_name", "Referrer", r.referrer_name)
        record.add("referrer_job_title", "Referrer's job title", r.referrer_job_title)
        record.add("referrer_organisation", "Referrer's organisation", r.referrer_organisation)
        record.add("referrer_sector", "Sector", SECTORS.get(r.referrer_sector, r.referrer_sector))
        record.add("referrer_email", "Referrer's email", r.referrer_email)
        record.add("referrer_phone", "Referrer's phone", r.referrer_phone)
        record.add("given_names", "Given names as referred", r.given_names)
        record.add("family_name", "Family name as referred", r.family_name)
        record.add("other_names", "Other names as referred", r.other_names)
        record.add("date_of_birth", "Date of birth as referred", r.birth.as_text() if r.birth else "Not given")
        record.add("sex", "Sex as referred", SEX.get(r.sex, r.sex))
        record.add("address", "Address", r.address)
        record.add("postcode", "Postcode", r.postcode)
        record.add("school_or_workplace", "School or workplace", r.school_or_workplace)
        record.add("nhs_number", "NHS number", r.nhs_number_spaced)
        record.add("upn", "Unique Pupil Number", r.upn)
        record.add("concern", "What was observed", r.concern)
        record.add("first_observed_on", "First observed", r.first_observed_on)
        record.add("concern_types", "Type of concern", [CONCERN_TYPES.get(c, c) for c in r.concern_types])
        record.add("urgency", "Urgency", URGENCY.get(r.urgency, r.urgency))
        record.add("person_aware", "Person aware of the referral", PERSON_AWARE.get(r.person_aware, r.person_aware))
        record.add("discussed_with", "Discussed with", r.discussed_with)
        section.records.append(record)
    return section


def _cases(cases: list[Case]) -> Section:
    section = Section("cases", "Cases")
    for case in cases:
        record = Record(f"case:{case.pk}", f"Case {case.reference}")
        record.add("stage", "Stage", case.get_stage_display())
        record.add("opened_at", "Opened", case.opened_at)
        record.add("outcome", "Outcome", case.outcome)
        record.add("referred_to_panel_on", "Referred to the Channel panel", case.referred_to_panel_on)
        record.add("adopted_on", "Adopted", case.adopted_on)
        record.add("exited_on", "Exited", case.exited_on)
        record.add("closed_on", "Closed", case.closed_on)
        record.add("owner_agency", "Responsible organisation", case.owner_agency.name)
        section.records.append(record)
    return section


def _decisions(cases: list[Case]) -> Section:
    section = Section("decisions", "Decisions and their reasons")
    for case in cases:
        for d in case.decisions.select_related("author", "author_agency").order_by("occurred_at", "id"):
            record = Record(f"decision:{d.pk}", f"{d.get_type_display()} decision, case {case.reference}")
            record.add("occurred_at", "Made", d.occurred_at)
            record.add("outcome", "Outcome", d.outcome.replace("_", " "))
            record.add("author", "Made by", _who(d.author))
            record.add("author_role", "In the role", d.author_role.replace("_", " "))
            record.add("author_agency", "Organisation", d.author_agency.name)
            record.add("rationale", "Reasons", d.rationale)
            if d.attendees:
                record.add("attendees", "Present", d.attendees)
            if d.dissent:
                record.add("dissent", "Dissent", d.dissent)
            section.records.append(record)
    return section


def _consents(cases: list[Case]) -> Section:
    section = Section("consents", "Consent")
    for case in cases:
        for c in case.consents.all():
            record = Record(f"consent:{c.pk}", f"Consent, case {case.reference}")
            record.add("given", "Consent given", c.given)
            record.add("giver_name", "Given by", c.giver_name)
            record.add("given_on", "On", c.given_on)
            record.add("scope", "Scope", c.scope)
            record.add("capacity_notes", "Capacity", c.capacity_notes or ("Confirmed" if c.capacity_confirmed
                                                                           else "Not confirmed"))
            if c.withdrawn_on:
                record.add("withdrawn_on", "Withdrawn", c.withdrawn_on)
                record.add("withdrawal_reason", "Reason for withdrawal", c.withdrawal_reason)
            section.records.append(record)
    return section


def _assessments(cases: list[Case]) -> Section:
    section = Section("assessments", "Assessments")
    for case in cases:
        for a in case.assessments.all().order_by("started_at", "id"):
            record = Record(f"assessment:{a.pk}", f"Assessment, case {case.reference}")
            try:
                framework = frameworks.get_framework(a.framework_key, a.framework_version)
                titles = {f.code: f.title for f in framework.factors}
                record.add("framework", "Framework", framework.label)
            except frameworks.FrameworkError:
                titles = {}
                record.add("framework", "Framework", f"{a.framework_key} {a.framework_version}")
            record.add("status", "Status", a.get_status_display())
            record.add("assessed_on", "Assessed", a.assessed_on)
            for code, judgement in sorted((a.judgements or {}).items()):
                if not isinstance(judgement, dict) or not judgement.get("present"):
                    continue
                nature = str(judgement.get("nature") or "").replace("_", " ")
                text = f"Present{f' ({nature})' if nature else ''}: {judgement.get('evidence', '')}"
                record.add(f"judgement.{code}", titles.get(code, code), text)
            record.add("summary", "Summary", a.summary)
            section.records.append(record)
    return section


def _support(cases: list[Case]) -> Section:
    section = Section("support_plan", "Support plan")
    for case in cases:
        for action in case.support_actions.select_related("owner_agency"):
            record = Record(f"support_action:{action.pk}", f"Support action, case {case.reference}")
            record.add("description", "Action", action.description)
            record.add("owner_agency", "By", action.owner_agency.name)
            record.add("due_on", "Due", action.due_on)
            record.add("status", "Status", action.get_status_display())
            if action.completion_note:
                record.add("completion_note", "Note on completion", action.completion_note)
            section.records.append(record)
    return section


def _taskings(cases: list[Case]) -> Section:
    section = Section("taskings", "Intervention provider taskings and sessions")
    for case in cases:
        for t in case.taskings.select_related("provider_agency").prefetch_related("sessions"):
            record = Record(f"tasking:{t.pk}", f"Tasking, case {case.reference}")
            record.add("provider_agency", "Provider", t.provider_agency.name)
            record.add("commissioned_on", "Commissioned", t.commissioned_on)
            record.add("sessions_commissioned", "Sessions commissioned", t.sessions_commissioned)
            record.add("purpose", "Purpose", t.purpose)
            section.records.append(record)
            for s in t.sessions.all():
                session = Record(f"session:{s.pk}", f"Session {s.number}, case {case.reference}")
                session.add("held_on", "Date", s.held_on)
                session.add("status", "Status", s.get_status_display())
                session.add("report", "Session report", s.report or s.cancellation_reason)
                section.records.append(session)
    return section


def _reviews(cases: list[Case]) -> Section:
    section = Section("reviews", "Reviews")
    for case in cases:
        for review in case.reviews.all():
            record = Record(f"review:{review.pk}", f"{review.get_kind_display()}, case {case.reference}")
            record.add("held_on", "Held", review.held_on)
            record.add("outcome", "Outcome", review.outcome.replace("_", " "))
            record.add("notes", "Notes", review.notes)
            section.records.append(record)
    return section


def _information_requests(cases: list[Case]) -> Section:
    section = Section("information_requests", "Information shared between agencies for the panel")
    for case in cases:
        for request in case.information_requests.select_related("to_agency"):
            record = Record(f"information_request:{request.pk}", f"Information request, case {case.reference}")
            record.add("to_agency", "Asked of", request.to_agency.name)
            record.add("requested_on", "Asked", request.requested_on)
            record.add("question", "Question", request.question)
            record.add("reply", "Reply", request.reply)
            section.records.append(record)
    return section


def _consultations(cases: list[Case]) -> Section:
    section = Section("consultations", "Consultations with the referrer")
    for case in cases:
        for c in case.consultations.all():
            record = Record(f"consultation:{c.pk}", f"Consultation, case {case.reference}")
            record.add("consulted_on", "Date", c.consulted_on)
            record.add("method", "How", c.get_method_display())
            record.add("summary", "Summary", c.summary)
            section.records.append(record)
    return section


def _notes(cases: list[Case]) -> Section:
    section = Section("notes", "Case notes")
    for case in cases:
        for note in case.notes.all():
            record = Record(f"note:{note.pk}", f"Note, case {case.reference}")
            record.add("noted_on", "Date", note.noted_on)
            record.add("text", "Note", note.text)
            section.records.append(record)
    return section


def _significant_events(cases: list[Case]) -> Section:
    section = Section("significant_events", "Significant events")
    for case in cases:
        for event in case.significant_events.all():
            record = Record(f"significant_event:{event.pk}", f"Significant event, case {case.reference}")
            record.add("kind", "What happened", event.get_kind_display())
            record.add("occurred_on", "Date", event.occurred_on)
            record.add("source", "Source", event.source)
            record.add("summary", "Summary", event.summary)
            section.records.append(record)
    return section


def _attachments(cases: list[Case]) -> Section:
    section = Section("attachments", "Files received with referrals (list)")
    for case in cases:
        for a in case.referral.attachments.all():
            record = Record(f"attachment:{a.pk}", f"File with referral {case.referral.reference}")
            record.add("original_name", "File name", a.original_name)
            record.add("content_type", "Type", a.content_type)
            record.add("size", "Size (bytes)", a.size)
            record.add("uploaded_at", "Received", a.uploaded_at)
            section.records.append(record)
    return section


def _rectifications(person: Person) -> Section:
    section = Section("rectifications", "Corrections asked for")
    for r in person.rectifications.all():
        record = Record(f"rectification:{r.pk}", f"{r.field_label}: {r.get_outcome_display().lower()}")
        record.add("decided_on", "Decided", r.decided_on)
        record.add("recorded_value", "As recorded before", r.recorded_value)
        record.add("requested_value", "Correction asked for", r.requested_value)
        if r.corrected_value:
            record.add("corrected_value", "Now recorded", r.corrected_value)
        record.add("rationale", "Reasons", r.rationale)
        section.records.append(record)
    return section


def _history(cases: list[Case]) -> Section:
    """Each case's event history: what was done, when, and by whom (summaries hold references and
    codes, never free text: docs/audit.md)."""
    section = Section("history", "What was done, and when")
    events = (Event.objects.filter(case__in=[c.pk for c in cases]).select_related("case", "actor", "actor_agency")
              .order_by("occurred_at", "id"))
    for e in events:
        record = Record(f"event:{e.pk}", f"{_text(e.occurred_at)}, case {e.case.reference}")  # type: ignore[union-attr]
        record.add("summary", "What was done", e.summary)
        record.add("actor", "By", _who(e.actor) or "Casetrail (automatic)")
        if e.actor_role:
            record.add("role", "Role", e.actor_role.replace("_", " "))
        if e.actor_agency:
            record.add("agency", "Organisation", e.actor_agency.name)
        record.add("recorded_at", "Recorded", e.recorded_at)
        section.records.append(record)
    return section


def _access_log(person: Person, cases: Iterable[Case]) -> Section:
    section = Section("access_log", "Who has seen, changed or shared this information")
    entries = (AccessLogEntry.objects.filter(Q(person=person) | Q(case__in=[c.pk for c in cases]))
               .select_related("user", "agency").order_by("at", "id"))
    for e in entries:
        record = Record(f"access:{e.pk}", f"{e.get_operation_display()} {_text(e.at)}")
        record.add("user", "By", _who(e.user) or "Casetrail (automatic)")
        record.add("role", "Role", e.role)
        record.add("agency", "Organisation", e.agency.name if e.agency else "")
        record.add("channel", "Through", e.channel)
        if e.recipient:
            record.add("recipient", "Given to", e.recipient)
        if e.justification:
            record.add("justification", "Reason given", e.justification)
        section.records.append(record)
    return section


def apply_redactions(data: SubjectData, redactions: dict[str, Redaction]) -> SubjectData:
    """Mark every item that is withheld, by its own key or its record's; the caller shows or
    exports `value_shown`, so the withheld text never leaves this function."""
    for section in data.sections:
        for record in section.records:
            whole = redactions.get(record.key)
            record.redacted = RedactionReason(whole.reason) if whole else None
            for item in record.items:
                own = redactions.get(item.key)
                item.redacted = RedactionReason(own.reason) if own else record.redacted
    return data


def redacted_copy(data: SubjectData) -> dict[str, Any]:
    """The answer as plain data: withheld values replaced by '[Redacted: <reason>]'."""
    return {
        "person_reference": data.person.reference,
        "sections": [
            {"key": s.key, "title": s.title, "records": [
                {"title": r.title, "items": [
                    {"label": i.label, "value": i.redacted.placeholder if i.redacted else i.value}
                    for i in r.items]}
                for r in s.records]}
            for s in data.sections],
    }


def subject_data_for_review(*, user: User, request: SubjectAccessRequest, channel: str = "web") -> SubjectData:
    """The whole record with the request's redactions marked, for its handler; logged."""
    rights_check(user=user, person=request.person)
    data = apply_redactions(subject_data_gather(person=request.person), active_redactions(request))
    access_log(user=user, operation="consultation", subject=request, person=request.person, channel=channel,
               justification=f"Review for subject access request {request.reference}")
    return data
