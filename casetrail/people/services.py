"""Creating people and keeping the search keys of every identity recorded for them."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from casetrail import clock
from casetrail.audit.services import history_lock
from casetrail.core.dates import PartialDate
from casetrail.people.keys import keys_for
from casetrail.people.models import DuplicateCandidate, Person, SearchKey


def _next_reference() -> str:
    history_lock()  # counted while no other writer can add one (audit.services.history_lock)
    year = clock.today().year
    count = Person.objects.filter(reference__startswith=f"P-{year}-").count() + 1
    return f"P-{year}-{count:06d}"


def person_create(*, given_names: str, family_name: str, birth: PartialDate | None, sex: str) -> Person:
    person = Person.objects.create(
        reference=_next_reference(),
        given_names=given_names.strip(),
        family_name=family_name.strip(),
        date_of_birth=birth.to_iso() if birth else "",
        sex=sex,
        created_at=clock.now(),
    )
    person_index(person=person, names=[person.given_names, person.family_name], birth=birth)
    return person


def person_index(*, person: Person, names: list[str], birth: PartialDate | None) -> None:
    """Add the keys of one recorded identity; a person keeps the keys of every spelling."""
    existing = set(SearchKey.objects.filter(person=person).values_list("kind", "value"))
    SearchKey.objects.bulk_create(
        [SearchKey(person=person, kind=k, value=v) for k, v in keys_for(names, birth) - existing]
    )


def person_reindex(*, person: Person) -> None:
    """Rebuild a person's search keys from the identities recorded on their referrals, so that
    undoing a link takes the other record's spellings away again."""
    from casetrail.referrals.models import Referral

    SearchKey.objects.filter(person=person).delete()
    keys: set[tuple[str, str]] = keys_for([person.given_names, person.family_name],
                                          PartialDate.from_iso(person.date_of_birth) if person.date_of_birth else None)
    for referral in Referral.objects.filter(person=person):
        keys |= keys_for([referral.given_names, referral.family_name, referral.other_names], referral.birth)
    SearchKey.objects.bulk_create([SearchKey(person=person, kind=k, value=v) for k, v in keys])


def duplicates_record(*, pairs: list[dict[str, Any]], trained_at: str = "") -> int:
    """Store the pairs a batch linkage run found (person_a, person_b, match_probability, evidence).

    Pairs already reviewed keep their review; open ones get the newest score. Returns how many
    new pairs are waiting for review.
    """
    from casetrail.audit.services import event_record

    created = 0
    with transaction.atomic():
        for pair in pairs:
            a, b = sorted((pair["person_a"], pair["person_b"]))
            if a == b:
                continue
            existing = DuplicateCandidate.objects.filter(person_a_id=a, person_b_id=b).first()
            if existing is None:
                DuplicateCandidate.objects.create(person_a_id=a, person_b_id=b,
                                                  match_probability=pair["match_probability"],
                                                  evidence=pair.get("evidence", []), found_at=clock.now(),
                                                  model_trained_at=trained_at)
                created += 1
            elif existing.status == DuplicateCandidate.Status.OPEN:
                existing.match_probability = pair["match_probability"]
                existing.evidence = pair.get("evidence", [])
                existing.save(update_fields=["match_probability", "evidence"])
        if created:
            first = DuplicateCandidate.objects.order_by("-pk").first()
            event_record(kind="people.duplicates_found", subject=first, summary=f"{created} possible duplicate "
                         "people found by the batch linkage run", data={"new_pairs": created})
    return created


def duplicate_dismiss(*, user: Any, candidate: DuplicateCandidate, reason: str) -> DuplicateCandidate:
    """Record that two person records are different people, with the reason."""
    from casetrail.audit.services import event_record
    from casetrail.cases.access import require
    from casetrail.core.decisions import rationale_errors
    from casetrail.core.errors import InvalidInput
    from casetrail.core.policy import Permission

    require(user, Permission.REVIEW_DUPLICATES)
    with transaction.atomic():
        candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
        errors = {"reason": rationale_errors(reason)}
        if candidate.status != DuplicateCandidate.Status.OPEN:
            errors[""] = ["This pair has already been reviewed"]
        if any(errors.values()):
            raise InvalidInput(errors)
        candidate.status = DuplicateCandidate.Status.DISMISSED
        candidate.reviewed_by, candidate.reviewed_at, candidate.review_reason = user, clock.now(), reason.strip()
        candidate.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_reason"])
        event_record(kind="people.duplicate_dismissed", subject=candidate, actor=user,
                     summary="Two person records judged to be different people", data={
                         "person_a": candidate.person_a_id, "person_b": candidate.person_b_id})
    return candidate


def duplicate_link(*, user: Any, candidate: DuplicateCandidate, reason: str) -> DuplicateCandidate:
    """Link every referral of the second person to the first: one combination decision per case.

    The reviewer must be allowed to link on every one of those cases, or nothing is linked.
    """
    from casetrail.cases.access import require
    from casetrail.cases.services import case_link_person
    from casetrail.core.decisions import rationale_errors
    from casetrail.core.errors import InvalidInput
    from casetrail.core.policy import Permission

    require(user, Permission.REVIEW_DUPLICATES)
    with transaction.atomic():
        candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
        errors = {"reason": rationale_errors(reason)}
        if candidate.status != DuplicateCandidate.Status.OPEN:
            errors[""] = ["This pair has already been reviewed"]
        if any(errors.values()):
            raise InvalidInput(errors)
        keep, fold = candidate.person_a, candidate.person_b
        for referral in fold.referrals.select_related("case"):
            case_link_person(user=user, case=referral.case, person=keep, rationale=reason)
        candidate.status = DuplicateCandidate.Status.LINKED
        candidate.reviewed_by, candidate.reviewed_at, candidate.review_reason = user, clock.now(), reason.strip()
        candidate.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_reason"])
    return candidate
