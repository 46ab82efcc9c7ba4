"""Possible earlier records: every earlier person a referral's identity matches strongly, found
when the referral is recorded (and again whenever the index or the model may have changed),
kept exactly as found, and resolved only by a person's recorded decision.

A possible earlier record is resolved by linking the referral to that person (same person) or by
rejecting the match with reasons (not the same person); undoing the link opens it again. Until
then it blocks every gateway decision and a police-led closure, and its referrals count towards
the repeat-referral rule (DESIGN.md principle 11: what the system knows counts until a person
decides otherwise, on the record).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from django.db import transaction
from django.utils import timezone

from casetrail import clock
from casetrail.audit.services import event_record
from casetrail.cases.models import Case, Decision, PossibleMatch
from casetrail.core import safeguards as rules
from casetrail.core.decisions import DecisionType
from casetrail.core.lifecycle import Stage
from casetrail.people.models import Person
from casetrail.referrals.models import Referral

# How many candidate identity records are scored when looking for earlier people; one person's
# several referrals each take a place, so this is well above the people ever shown.
CANDIDATE_LIMIT = 60

RESOLVING_DECISIONS = (DecisionType.PERSON_LINK, DecisionType.PERSON_UNLINK, DecisionType.MATCH_REJECTED)


def threshold() -> float:
    """The probability at or above which an earlier person becomes a possible earlier record."""
    from casetrail.cases.safeguards import current_policy

    return current_policy().possible_match_percent / 100


def _day(moment: Any) -> date:
    return timezone.localdate(moment)


def person_and_merged(person: Person) -> list[int]:
    """The person's id and the ids of records folded into it."""
    return [person.pk, *Person.objects.filter(merged_into=person).values_list("pk", flat=True)]


@transaction.atomic
def possible_matches_find(*, case: Case) -> list[PossibleMatch]:
    """Match the case's referral against every earlier referral as the index and model stand now,
    and keep each earlier person at or above the threshold that is not kept already.

    Earlier findings are never changed: a newer model or index can only add to them.
    """
    from casetrail.people.matching import current_person, identity_of, match_identity, model_version

    referral = case.referral
    cut = threshold()
    candidates = match_identity(identity_of(referral), exclude_referrals=[referral.pk], limit=CANDIDATE_LIMIT,
                                min_probability=cut)
    if not candidates:
        return []
    version = model_version()
    records = Referral.objects.select_related("person").in_bulk([int(c.record_id) for c in candidates])
    own = current_person(case.person).pk
    kept = {current_person(m.person).pk for m in case.possible_matches.select_related("person")}
    best: dict[int, tuple[Any, Referral, Person]] = {}
    for candidate in candidates:
        earlier = records.get(int(candidate.record_id))
        if earlier is None or earlier.submitted_at >= referral.submitted_at:
            continue  # only people referred before this referral are its earlier records
        person = current_person(earlier.person)
        if person.pk == own or person.pk in kept:
            continue
        if person.pk not in best or candidate.match_probability > best[person.pk][0].match_probability:
            best[person.pk] = (candidate, earlier, person)
    found = []
    for candidate, earlier, person in sorted(best.values(), key=lambda b: -b[0].match_probability):
        match = PossibleMatch.objects.create(
            case=case, person=person, matched_referral=earlier, probability=candidate.match_probability,
            match_weight=candidate.match_weight, model_version=version, found_at=clock.now(),
            evidence=[{"field": e.field, "level": e.level, "agrees": e.agrees, "weight": e.weight}
                      for e in candidate.evidence])
        event_record(kind="referral.possible_match_found", subject=match, case=case,
                     summary=f"Possible earlier record {person.reference} found "
                             f"({candidate.match_probability:.0%} likely the same person)",
                     data={"person": person.pk, "probability": round(candidate.match_probability, 6),
                           "model_version": version})
        found.append(match)
    return found


def possible_matches_refresh(*, cases: Iterable[Case] | None = None) -> int:
    """Look again for possible earlier records of every referral still open before a panel
    (gateway, signposted, police-led), after the index or the model changed. Returns how many
    new ones were found. Safe to run as often as wanted."""
    if cases is None:
        cases = Case.objects.filter(stage__in=[Stage.GATEWAY, Stage.SIGNPOSTED, Stage.POLICE_LED]) \
            .select_related("referral", "person").order_by("pk")
    return sum(len(possible_matches_find(case=case)) for case in cases)


# ---------------------------------------------------------------- as the safeguards read them


def distinct_people(matches: Iterable[PossibleMatch]) -> list[PossibleMatch]:
    """The earliest-found match of each person: records found as two people and linked since are
    one person now, shown and resolved once."""
    from casetrail.people.matching import current_person

    seen: set[int] = set()
    kept = []
    for match in sorted(matches, key=lambda m: (m.found_at, m.pk)):
        person = current_person(match.person).pk
        if person not in seen:
            seen.add(person)
            kept.append(match)
    return kept


@dataclass
class Resolution:
    """Where one possible earlier record stands, from the case's decisions."""

    status: str  # open | linked | rejected
    changes: list[tuple[date, str]] = field(default_factory=list)
    decision: Decision | None = None  # the decision that resolved it, while resolved


def resolutions(case: Case, matches: list[PossibleMatch]) -> dict[int, Resolution]:
    """Each match's resolution, keyed by match id: linked by a link decision to that person (not
    since undone), rejected by a match-rejected decision, open otherwise."""
    from casetrail.people.matching import current_person

    decisions = list(case.decisions.filter(type__in=RESOLVING_DECISIONS).select_related("author")
                     .order_by("recorded_at", "id"))
    # Read afresh: a link made since this case object was loaded moves the referral's person.
    case_person = current_person(Person.objects.get(cases=case.pk)).pk
    found: dict[int, Resolution] = {}
    for match in matches:
        people = {match.person_id, current_person(match.person).pk}
        state = Resolution("open")
        links: set[int] = set()
        for d in decisions:
            if d.type == DecisionType.PERSON_LINK and d.details.get("to_person") in people:
                links.add(d.pk)
                state.status, state.decision = "linked", d
            elif d.type == DecisionType.PERSON_UNLINK and d.supersedes_id in links:
                state.status, state.decision = "open", None
            elif d.type == DecisionType.MATCH_REJECTED and d.details.get("person") in people:
                state.status, state.decision = "rejected", d
            else:
                continue
            state.changes.append((_day(d.recorded_at), state.status))
        if state.status == "open" and case_person in people:
            # Joined some other way (the duplicates review folding one record into another).
            state.status = "linked"
            state.changes.append((_day(match.found_at), "linked"))
        found[match.pk] = state
    return found


def match_records(case: Case) -> tuple[rules.PossibleMatchRec, ...]:
    """The case's possible earlier records as the core's safeguards read them."""
    from casetrail.people.matching import current_person

    matches = distinct_people(case.possible_matches.select_related("person"))
    if not matches:
        return ()
    states = resolutions(case, matches)
    submitted = case.referral.submitted_at
    records = []
    for match in matches:
        person = current_person(match.person)
        earlier = Referral.objects.filter(person_id__in=person_and_merged(person), submitted_at__lt=submitted) \
            .values_list("pk", "submitted_at")
        records.append(rules.PossibleMatchRec(
            id=match.pk, person=person.reference, probability=match.probability, found_on=_day(match.found_at),
            referrals=tuple((pk, _day(at)) for pk, at in earlier), changes=tuple(states[match.pk].changes)))
    return tuple(records)


def unresolved(case: Case) -> list[PossibleMatch]:
    """The case's possible earlier records nobody has resolved yet, oldest first."""
    matches = distinct_people(case.possible_matches.select_related("person"))
    states = resolutions(case, matches)
    return [m for m in matches if states[m.pk].status == "open"]
