"""Writes for data-subject rights: opening and extending a subject access request, redaction
decisions, the disclosure of the answer, and rectification decisions. One transaction each,
the access policy checked first, every error collected before anything is written.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.db import transaction

from casetrail import clock
from casetrail.accounts.models import User
from casetrail.audit.services import access_log, event_record, history_lock
from casetrail.cases.models import Case, RetentionHold
from casetrail.cases.services import retention_hold_lift, retention_hold_place
from casetrail.core.decisions import rationale_errors
from casetrail.core.errors import InvalidInput
from casetrail.core.policy import Permission, acting_role
from casetrail.core.subject_access import (
    RECTIFIABLE_PERSON_FIELDS,
    RECTIFIABLE_REFERRAL_FIELDS,
    RectificationOutcome,
    corrected_value_stored,
    extension_errors,
    received_errors,
    rectification_errors,
    redaction_errors,
)
from casetrail.people.models import Person
from casetrail.referrals.models import Referral
from casetrail.rights import selectors
from casetrail.rights.models import Rectification, Redaction, SubjectAccessRequest

EXPORT_FORMATS = ("pdf", "json")


def _raise(errors: list[tuple[str, str]] | dict[str, list[str]]) -> None:
    if isinstance(errors, dict):
        found = {k: v for k, v in errors.items() if v}
    else:
        found = {}
        for name, message in errors:
            found.setdefault(name, []).append(message)
    if found:
        raise InvalidInput(found)


def _role(user: User) -> str:
    role = acting_role(user.as_actor(), Permission.DATA_SUBJECT_RIGHTS)
    return role.value if role is not None else ""


def _next_reference() -> str:
    history_lock()  # counted while no other writer can add one (audit.services.history_lock)
    year = clock.today().year
    count = SubjectAccessRequest.objects.filter(reference__startswith=f"SAR-{year}-").count() + 1
    return f"SAR-{year}-{count:04d}"


def _locked(request: SubjectAccessRequest, user: User) -> SubjectAccessRequest:
    locked = SubjectAccessRequest.objects.select_for_update().select_related("person").get(pk=request.pk)
    selectors.rights_check(user=user, person=locked.person)
    return locked


@transaction.atomic
def subject_access_request_open(*, user: User, person: Person, requested_by: str,
                                received_on: date | None) -> SubjectAccessRequest:
    """Record a request for everything held about the person; the handler is the user."""
    selectors.rights_check(user=user, person=person)
    _raise({
        "requested_by": ["Enter who made the request (the person themselves, or who asked for them)"]
        if not requested_by.strip() else (["Keep who made the request to 200 characters"]
                                          if len(requested_by.strip()) > 200 else []),
        "received_on": received_errors(received_on, today=clock.today()),
    })
    assert received_on is not None
    request = SubjectAccessRequest.objects.create(
        reference=_next_reference(), person=person, requested_by=requested_by.strip(), received_on=received_on,
        handler=user, handler_agency_id=user.agency_id, opened_at=clock.now())
    event_record(kind="subject_access.opened", subject=request, actor=user, role=_role(user),
                 occurred_at=received_on, summary=f"Subject access request {request.reference} received",
                 data={"person": person.pk, "due_on": request.due_on.isoformat()})
    access_log(user=user, operation="collection", subject=request, person=person,
               justification=f"Subject access request {request.reference}")
    # Nothing the person asked for may be disposed of before they have their answer.
    for case in selectors.person_cases(person):
        retention_hold_place(user=user, case=case, reason_kind=RetentionHold.Reason.SUBJECT_ACCESS,
                             reason=_hold_reason(request), placed_on=clock.today())
    return request


def _hold_reason(request: SubjectAccessRequest) -> str:
    return (f"Subject access request {request.reference} in progress: the record is kept as it was asked for "
            "until the answer is sent.")


@transaction.atomic
def subject_access_request_extend(*, user: User, request: SubjectAccessRequest, months: int | None,
                                  reason: str) -> SubjectAccessRequest:
    """Extend the deadline (by up to two months in all) for a complex or numerous request."""
    request = _locked(request, user)
    _raise(extension_errors(request.times, months=months, reason=reason, on=clock.today()))
    assert months is not None
    before = request.due_on
    request.extension_months += months
    request.extension_reason = "\n".join(filter(None, [request.extension_reason, reason.strip()]))
    request.save(update_fields=["extension_months", "extension_reason"])
    event_record(kind="subject_access.extended", subject=request, actor=user, role=_role(user),
                 summary=f"Deadline of {request.reference} extended by {months} month(s)",
                 data={"months": months, "due_before": before.isoformat(), "due_on": request.due_on.isoformat(),
                       "reason": reason.strip()})
    return request


@transaction.atomic
def redaction_mark(*, user: User, request: SubjectAccessRequest, item: str, reason: str,
                   rationale: str) -> Redaction:
    """Withhold one item (or a whole record) from the answer: a decision with its ground and reasons."""
    request = _locked(request, user)
    data = selectors.subject_data_gather(person=request.person)
    active = selectors.active_redactions(request)
    errors = redaction_errors(reason, rationale)
    if request.status != SubjectAccessRequest.Status.OPEN:
        errors.append(("", "This request has been answered; its redactions can no longer change"))
    if item not in data.keys():
        errors.append(("item", "Choose an item from this person's record"))
    elif item in active:
        errors.append(("item", "This item is already withheld"))
    _raise(errors)
    redaction = Redaction.objects.create(
        request=request, item=item, reason=reason, rationale=rationale.strip(), author=user,
        author_role=_role(user), author_agency_id=user.agency_id, recorded_at=clock.now())
    found = data.find(item)
    case = _case_of(found[0].key) if found else None
    event_record(kind="subject_access.redacted", subject=redaction, actor=user, role=_role(user), case=case,
                 summary=f"Item withheld from the answer to {request.reference}",
                 data={"request": request.pk, "item": item, "reason": reason})
    return redaction


@transaction.atomic
def redaction_withdraw(*, user: User, redaction: Redaction, rationale: str) -> Redaction:
    """Release an item after all: a later decision naming the one it withdraws."""
    request = _locked(redaction.request, user)
    errors = [("rationale", message) for message in rationale_errors(rationale)]
    if request.status != SubjectAccessRequest.Status.OPEN:
        errors.append(("", "This request has been answered; its redactions can no longer change"))
    if redaction.withdraws_id is not None or selectors.active_redactions(request).get(redaction.item) != redaction:
        errors.append(("", "This redaction is not in force"))
    _raise(errors)
    withdrawal = Redaction.objects.create(
        request=request, item=redaction.item, reason="", rationale=rationale.strip(), withdraws=redaction,
        author=user, author_role=_role(user), author_agency_id=user.agency_id, recorded_at=clock.now())
    event_record(kind="subject_access.redaction_withdrawn", subject=withdrawal, actor=user, role=_role(user),
                 summary=f"Item released into the answer to {request.reference}",
                 data={"request": request.pk, "item": redaction.item, "withdraws": redaction.pk})
    return withdrawal


def _case_of(record_key: str) -> Case | None:
    kind, _, pk = record_key.partition(":")
    if kind == "case":
        return Case.objects.filter(pk=pk).first()
    if kind == "referral":
        return Case.objects.filter(referral_id=pk).first()
    if kind == "decision":
        return Case.objects.filter(decisions__pk=pk).first()
    return None


@transaction.atomic
def subject_access_disclose(*, user: User, request: SubjectAccessRequest, recipient: str, format: str,
                            channel: str = "web") -> dict[str, Any]:
    """The answer with every redaction applied, recorded as a disclosure to the recipient."""
    request = _locked(request, user)
    _raise({
        "recipient": ["Enter who the copy is for (for example, the person, by secure email)"]
        if not recipient.strip() else (["Keep the recipient to 200 characters"] if len(recipient) > 200 else []),
        "format": ["Choose PDF or JSON"] if format not in EXPORT_FORMATS else [],
    })
    data = selectors.apply_redactions(selectors.subject_data_gather(person=request.person),
                                      selectors.active_redactions(request))
    access_log(user=user, operation="disclosure", subject=request, person=request.person, channel=channel,
               recipient=recipient.strip(),
               justification=f"Answer to subject access request {request.reference} ({format.upper()})")
    withheld = sum(1 for s in data.sections for r in s.records for i in r.items if i.redacted)
    event_record(kind="subject_access.disclosed", subject=request, actor=user, role=_role(user),
                 summary=f"Answer to {request.reference} produced as {format.upper()}",
                 data={"format": format, "items_withheld": withheld, "channel": channel})
    return {
        "request": {"reference": request.reference, "received_on": request.received_on.isoformat(),
                    "due_on": request.due_on.isoformat(), "requested_by": request.requested_by,
                    "produced_at": clock.now().isoformat(), "recipient": recipient.strip()},
        **selectors.redacted_copy(data),
    }


@transaction.atomic
def subject_access_request_complete(*, user: User, request: SubjectAccessRequest, completed_on: date | None,
                                    note: str) -> SubjectAccessRequest:
    request = _locked(request, user)
    if completed_on is None or completed_on > clock.today():
        when = ["Enter the date the answer was sent, today or in the past"]
    elif completed_on < request.received_on:
        when = ["The answer cannot be sent before the request was received"]
    else:
        when = []
    _raise({
        "": ["This request has already been answered"] if request.status != SubjectAccessRequest.Status.OPEN
        else [],
        "completed_on": when,
    })
    request.status, request.completed_on, request.completion_note = (
        SubjectAccessRequest.Status.COMPLETED, completed_on, note.strip())
    request.save(update_fields=["status", "completed_on", "completion_note"])
    event_record(kind="subject_access.completed", subject=request, actor=user, role=_role(user),
                 occurred_at=completed_on, summary=f"Subject access request {request.reference} answered",
                 data={"late": request.times.is_overdue(clock.today())})
    for hold in RetentionHold.objects.filter(case__in=selectors.person_cases(request.person), lifted_on=None,
                                             reason_kind=RetentionHold.Reason.SUBJECT_ACCESS,
                                             reason=_hold_reason(request)):
        retention_hold_lift(user=user, hold=hold, reason=f"Subject access request {request.reference} answered.",
                            lifted_on=clock.today())
    return request


# ---------------------------------------------------------------- rectification


def rectification_targets(person: Person) -> dict[str, tuple[str, str, str]]:
    """'person:<field>' and 'referral:<id>:<field>' -> (label, kind, value as recorded)."""
    targets: dict[str, tuple[str, str, str]] = {}
    for name, (label, kind) in RECTIFIABLE_PERSON_FIELDS.items():
        targets[f"person:{name}"] = (f"{label} (person record)", kind, str(getattr(person, name)))
    for referral in Referral.objects.filter(person=person).order_by("submitted_at"):
        for name, (label, kind) in RECTIFIABLE_REFERRAL_FIELDS.items():
            targets[f"referral:{referral.pk}:{name}"] = (f"{label} on referral {referral.reference}", kind,
                                                         str(getattr(referral, name)))
    return targets


@transaction.atomic
def rectification_decide(*, user: User, person: Person, target: str, requested_by: str, requested_value: str,
                         outcome: str, corrected_value: str, rationale: str, decided_on: date | None,
                         request: SubjectAccessRequest | None = None) -> Rectification:
    """Decide a claim that something recorded is wrong. Accepting changes the value, keeping
    the old one in the decision, with an event on every affected case and an alteration in the
    access log; refusing is recorded the same way, and changes nothing else."""
    person = Person.objects.select_for_update(no_key=True).get(pk=person.pk)  # as cases.services._begin
    cases = selectors.rights_check(user=user, person=person)
    targets = rectification_targets(person)
    errors: list[tuple[str, str]] = []
    if target not in targets:
        errors.append(("target", "Select what the person says is wrong"))
        kind, current = "text", ""
    else:
        _, kind, current = targets[target]
    if not requested_by.strip():
        errors.append(("requested_by", "Enter who asked for the correction"))
    errors.extend(rectification_errors(kind=kind, outcome=outcome, current=current, corrected=corrected_value,
                                       rationale=rationale, today=clock.today()))
    if decided_on is None:
        errors.append(("decided_on", "Enter the date of the decision"))
    elif decided_on > clock.today():
        errors.append(("decided_on", "The date of the decision must be today or in the past"))
    if request is not None and request.person_id != person.pk:
        errors.append(("request", "That subject access request is about someone else"))
    _raise(errors)
    assert decided_on is not None
    label = targets[target][0]
    accepted = outcome == RectificationOutcome.ACCEPTED
    new_value = corrected_value_stored(kind, corrected_value) if accepted else ""
    parts = target.split(":")
    if parts[0] == "person":
        subject: Any = person
        field = parts[1]
        affected = cases
        case = None
    else:
        subject = Referral.objects.select_for_update().get(pk=int(parts[1]))
        field = parts[2]
        affected = [c for c in cases if c.referral_id == subject.pk]
        case = affected[0] if affected else None
    role = _role(user)
    decision = Rectification.objects.create(
        person=person, case=case, request=request, target_type=parts[0], target_id=subject.pk, field=field,
        field_label=label, requested_by=requested_by.strip(), recorded_value=current,
        requested_value=requested_value.strip(), outcome=outcome, corrected_value=new_value,
        rationale=rationale.strip(), decided_on=decided_on, author=user, author_role=role,
        author_agency_id=user.agency_id, recorded_at=clock.now())
    if accepted:
        setattr(subject, field, new_value)
        subject.save(update_fields=[field])
        if field in ("given_names", "family_name", "other_names", "date_of_birth", "nhs_number", "upn"):
            from casetrail.people.services import person_reindex

            person_reindex(person=person)
        access_log(user=user, operation="alteration", subject=subject, case=case, person=person,
                   justification=f"Rectification accepted: {label}")
    summary = f"Rectification {'accepted' if accepted else 'refused'}: {label}"
    for affected_case in affected or [None]:
        event_record(kind=f"rectification.{outcome}", subject=decision, actor=user, role=role,
                     case=affected_case, occurred_at=decided_on, summary=summary,
                     data={"target": target, "rectification": decision.pk})
    return decision
