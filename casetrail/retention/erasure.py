"""Erasing the personal data of one case, for its disposal: the narrow, deliberate path.

Called only by `casetrail.retention.services.case_dispose`, inside its transaction, after the
policy and the retention rules have allowed the disposal; the service records the erasure in the
event history, the access log and a tombstone. Rows that other records point at (the case, its
referral, decisions, the person) are kept as empty shells, so that the hash-chained audit entries
that name them by id still verify; what they said is blanked. Rows nothing points at are removed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import models, transaction

from casetrail.audit.models import AccessLogEntry, Event, erase_payloads
from casetrail.cases.models import (
    Assessment,
    BreakGlassGrant,
    Case,
    CaseNote,
    Consent,
    Decision,
    HandOver,
    InformationRequest,
    ReferrerConsultation,
    RetentionHold,
    Review,
    Session,
    SignificantEvent,
    StoredFindings,
    SupportAction,
    Tasking,
    VulnerabilityWaiver,
)
from casetrail.people.models import DuplicateCandidate, Person, SearchKey
from casetrail.referrals.models import Attachment, IdempotencyRecord, Referral
from casetrail.retention.models import RetentionReview
from casetrail.rights.models import Rectification, Redaction, SubjectAccessRequest

DISPOSED = "(disposed)"  # shown where a name was, so a disposed record is recognisable

# (model, how to find the case's rows, the blanks that erase their free text)
BLANKS: list[tuple[type[models.Model], str, dict[str, Any]]] = [
    (Decision, "case", {"rationale": "", "dissent": "", "attendees": [], "details": {}}),
    (InformationRequest, "case", {"question": "", "reply": ""}),
    (Consent, "case", {"giver_name": "", "capacity_notes": "", "scope": "", "withdrawal_reason": ""}),
    (Assessment, "case", {"summary": ""}),
    (SupportAction, "case", {"description": "", "completion_note": ""}),
    (Tasking, "case", {"purpose": ""}),
    (Session, "tasking__case", {"report": "", "cancellation_reason": ""}),
    (Review, "case", {"notes": ""}),
    (HandOver, "case", {"reason": "", "response_note": ""}),
    (ReferrerConsultation, "case", {"summary": ""}),
    (CaseNote, "case", {"text": ""}),
    (SignificantEvent, "case", {"source": "", "summary": ""}),
    (VulnerabilityWaiver, "case", {"reason": ""}),
    (RetentionHold, "case", {"reason": "", "lift_reason": ""}),
    (BreakGlassGrant, "case", {"reason": "", "review_note": ""}),
    (RetentionReview, "case", {"reason": ""}),
]

REFERRAL_BLANKS: dict[str, Any] = {
    "referrer_name": "", "referrer_job_title": "", "referrer_email": "", "referrer_phone": "",
    "referrer_organisation": "", "given_names": "", "family_name": DISPOSED, "other_names": "",
    "date_of_birth": "", "sex": "", "address": "", "postcode": "", "school_or_workplace": "",
    "nhs_number": "", "upn": "", "concern": "", "discussed_with": "",
}
PERSON_BLANKS: dict[str, Any] = {"given_names": "", "family_name": DISPOSED, "date_of_birth": "", "sex": ""}
# A correction keeps the old and new values it decided between; a subject access request, who
# asked and what was said in answering. Both go with the record they were about.
RECTIFICATION_BLANKS: dict[str, Any] = {"requested_by": "", "recorded_value": "", "requested_value": "",
                                        "corrected_value": "", "rationale": ""}
REQUEST_BLANKS: dict[str, Any] = {"requested_by": "", "extension_reason": "", "completion_note": ""}


def _blank(queryset: models.QuerySet[Any], values: dict[str, Any]) -> int:
    # Deliberately past AppendOnlyQuerySet.update, which refuses any change to a decision,
    # consultation, note or waiver: disposal is the one change they take, and only here.
    return models.QuerySet.update(queryset, **values)


def _assessment_evidence(case: Case) -> int:
    """Judgements keep which factors were found (for statistics); their evidence text goes."""
    count = 0
    for assessment in Assessment.objects.filter(case=case):
        judgements = {code: {**j, "evidence": ""} if isinstance(j, dict) else j
                      for code, j in (assessment.judgements or {}).items()}
        count += _blank(Assessment.objects.filter(pk=assessment.pk), {"judgements": judgements})
    return count


def case_personal_data_erase(*, case: Case) -> dict[str, Any]:
    """Erase everything personal about this case; returns counts for the tombstone."""
    counts: dict[str, Any] = {}
    for model, path, values in BLANKS:
        counts[model._meta.model_name or ""] = _blank(model.objects.filter(**{path: case}), values)
    _assessment_evidence(case)

    referral: Referral = case.referral
    removals: list[Path] = []
    attachments = list(Attachment.objects.filter(referral=referral))
    upload_dir = Path(settings.MEDIA_ROOT)
    for attachment in attachments:
        removals.append(upload_dir / attachment.stored_name)
    counts["attachments"] = Attachment.objects.filter(referral=referral).delete()[0]
    counts["idempotency_records"] = IdempotencyRecord.objects.filter(referral=referral).delete()[0]
    # The stored findings are an answer computed from what is being erased: computed again on demand.
    StoredFindings.objects.filter(case=case).delete()
    counts["referral"] = _blank(Referral.objects.filter(pk=referral.pk), REFERRAL_BLANKS)

    # The case's person, and any record the referral was linked away from (left empty by the link).
    people_ids = {case.person_id} | _linked_people(case)
    erased_people: list[int] = []
    counts["person"], counts["search_keys"], counts["duplicate_candidates"] = 0, 0, 0
    for person in Person.objects.filter(pk__in=people_ids):
        still_held = (Case.objects.filter(person=person).exclude(pk=case.pk).exists()
                      or Referral.objects.filter(person=person).exclude(pk=referral.pk).exists())
        if still_held:
            # The person stays, for their other case; the spellings only this referral gave go.
            counts["search_keys"] += _reindex_without(person, referral)
            continue
        erased_people.append(person.pk)
        counts["person"] += _blank(Person.objects.filter(pk=person.pk), PERSON_BLANKS)
        counts["search_keys"] += SearchKey.objects.filter(person=person).delete()[0]
        counts["duplicate_candidates"] += DuplicateCandidate.objects.filter(
            models.Q(person_a=person) | models.Q(person_b=person)).delete()[0]
    person_erased = case.person_id in erased_people
    counts["rectifications"] = _blank(
        Rectification.objects.filter(models.Q(case=case) | models.Q(person_id__in=erased_people)),
        RECTIFICATION_BLANKS)
    requests = SubjectAccessRequest.objects.filter(person_id__in=erased_people)
    counts["subject_access_requests"] = _blank(requests, REQUEST_BLANKS)
    _blank(Redaction.objects.filter(request__in=requests), {"rationale": ""})

    log_ids = AccessLogEntry.objects.filter(models.Q(case=case) | models.Q(person_id__in=erased_people))
    erased, stuck = erase_payloads(AccessLogEntry, list(log_ids.values_list("pk", flat=True)))
    counts["access_log_texts_erased"] = erased
    counts["access_log_texts_not_erasable"] = stuck  # written before hash format 2

    # Files go once the transaction has committed: a rollback must not lose them.
    def remove_files(paths: list[Path] = removals) -> None:
        for path in paths:
            path.unlink(missing_ok=True)

    counts["files"] = len(removals)
    transaction.on_commit(remove_files)
    transaction.on_commit(_forget_linkage_index)
    counts["person_erased"] = person_erased
    return counts


def _linked_people(case: Case) -> set[int]:
    """Person records this case's referral was linked from or to (from the event history)."""
    ids: set[int] = set()
    for data in Event.objects.filter(case=case, kind__in=("person.linked", "person.unlinked")).values_list(
            "data", flat=True):
        ids |= {value for key in ("from_person", "to_person") if isinstance(value := (data or {}).get(key), int)}
    return ids


def _reindex_without(person: Person, disposed: Referral) -> int:
    """Rebuild the person's search keys from what is still held; returns how many went."""
    from casetrail.core.dates import PartialDate
    from casetrail.people.keys import keys_for

    keys = keys_for([person.given_names, person.family_name],
                    PartialDate.from_iso(person.date_of_birth) if person.date_of_birth else None)
    for other in Referral.objects.filter(person=person).exclude(pk=disposed.pk):
        keys |= keys_for([other.given_names, other.family_name, other.other_names], other.birth)
    removed = SearchKey.objects.filter(person=person).delete()[0]
    SearchKey.objects.bulk_create([SearchKey(person=person, kind=k, value=v) for k, v in keys])
    return max(removed - len(keys), 0)


def _forget_linkage_index() -> None:
    from casetrail.people.matching import forget_index

    forget_index()


__all__: list[str] = ["case_personal_data_erase", "DISPOSED"]
