"""Findings kept current per case, so that pages and the worker read them instead of computing
them case by case.

The findings of a case are a function of its recorded facts, the day, the rules and the safeguard
policy (`casetrail.cases.safeguards.case_findings`). The answer is stored with the key it was
computed under:

- `day`: findings change as dates pass (a review falls due, an offer lapses);
- `last_event_id`: every change to a case records an event on it in the same transaction, so a
  new event means new facts;
- `generation`: a digest of the rules' code, the policy in force, and a counter moved on whenever
  a fact outside any one case changes that findings read (an account deactivated, a role or agency
  changed, an agency's duty owner).

A stored answer is read only while its key is the case's key now; otherwise the case is computed
again and stored. So no job has to run for the answer to be right: the worker computing each new
day's answers, and each change computing its case's answer once committed, only make reads cheap.
Linking two people's records changes what the other cases of that person read (their earlier
referrals), so the link services drop those cases' answers (`forget`).
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable, Sequence
from datetime import date
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, transaction
from django.db.models import F, Max
from django.db.models.signals import post_save

from casetrail import clock
from casetrail.accounts.models import Agency, User
from casetrail.audit.models import Event
from casetrail.cases.models import Case, FindingsGeneration, StoredFindings
from casetrail.core import safeguards as core

logger = logging.getLogger("casetrail.findings")

# The user fields that findings read (who is active, who chairs, who is whose duty owner).
_USER_FIELDS = frozenset({"is_active", "roles", "agency", "agency_id"})


# ---------------------------------------------------------------- the key


@lru_cache(maxsize=1)
def _rules_digest() -> str:
    """A digest of the rules' code and the assessment frameworks: a new release recomputes everything."""
    import casetrail.core as core_package

    root = Path(core_package.__file__).parent
    digest = hashlib.sha256()
    for path in sorted([*root.glob("*.py"), *root.glob("framework_data/**/*")]):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def generation() -> str:
    """The part of the key that is the same for every case: rules, policy, facts outside cases."""
    counter = FindingsGeneration.objects.filter(pk=1).values_list("counter", flat=True).first() or 0
    policy = json.dumps(getattr(settings, "CASETRAIL_SAFEGUARD_POLICY", {}), sort_keys=True, default=str)
    return hashlib.sha256(f"{_rules_digest()}|{policy}|{counter}".encode()).hexdigest()


def generation_advance() -> None:
    """Every stored answer is stale from now (called when a fact outside any one case changed)."""
    updated = FindingsGeneration.objects.filter(pk=1).update(counter=F("counter") + 1)
    if not updated:
        FindingsGeneration.objects.get_or_create(pk=1, defaults={"counter": 1})


def last_event_ids(case_ids: Iterable[int]) -> dict[int, int]:
    """Each case's latest event id (cases with no event are left out)."""
    rows = Event.objects.filter(case_id__in=list(case_ids)).values("case_id").annotate(last=Max("id"))
    return {row["case_id"]: row["last"] for row in rows}


# ---------------------------------------------------------------- the stored form


def encode(findings: Sequence[core.Finding]) -> list[dict[str, Any]]:
    return [{"rule": f.rule, "key": f.key, "case_id": f.case_id, "message": f.message, "who": f.who,
             "since": f.since.isoformat(), "severity": f.severity.value, "notify": list(f.notify),
             "escalated_to": list(f.escalated_to)} for f in findings]


def decode(rows: Sequence[dict[str, Any]]) -> list[core.Finding]:
    return [core.Finding(rule=r["rule"], key=r["key"], case_id=r["case_id"], message=r["message"], who=r["who"],
                         since=date.fromisoformat(r["since"]), severity=core.Severity(r["severity"]),
                         notify=tuple(r["notify"]), escalated_to=tuple(r["escalated_to"])) for r in rows]


# ---------------------------------------------------------------- reading


def findings_of(cases: Sequence[Case]) -> dict[int, list[core.Finding]]:
    """Today's findings of each case: the stored answer where it is current, computed (and stored)
    where it is not. A bounded number of queries whatever the number of cases, plus the
    computation of those whose facts changed since they were last computed."""
    answers, _ = _answers(cases)
    return answers


def _answers(cases: Sequence[Case]) -> tuple[dict[int, list[core.Finding]], int]:
    """The answers, and how many had to be computed."""
    from casetrail.cases.safeguards import case_findings

    if not cases:
        return {}, 0
    day = clock.today()
    ids = [c.pk for c in cases]
    last = last_event_ids(ids)
    current = generation()
    answers: dict[int, list[core.Finding]] = {}
    for row in StoredFindings.objects.filter(case_id__in=ids):
        if row.day == day and row.last_event_id == last.get(row.case_id, 0) and row.generation == current:
            answers[row.case_id] = decode(row.findings)
    stale = [c for c in cases if c.pk not in answers]
    for case in stale:
        answers[case.pk] = case_findings(case)
    _store([(case, last.get(case.pk, 0), answers[case.pk]) for case in stale], day=day, generation=current)
    return answers, len(stale)


def case_findings_now(case: Case) -> list[core.Finding]:
    """Today's findings of one case (for its page)."""
    return findings_of([case])[case.pk]


def _store(rows: Sequence[tuple[Case, int, list[core.Finding]]], *, day: date, generation: str) -> None:
    """Keep the answers. If the database takes no writes just now (full, read-only), the page still
    shows the answers it computed; they are kept next time."""
    if not rows:
        return
    now = clock.now()
    try:
        with transaction.atomic():  # a savepoint inside a caller's transaction
            StoredFindings.objects.bulk_create(
                [StoredFindings(case=case, day=day, last_event_id=last, generation=generation,
                                findings=encode(found), computed_at=now) for case, last, found in rows],
                update_conflicts=True, unique_fields=["case"],
                update_fields=["day", "last_event_id", "generation", "findings", "computed_at"])
    except DatabaseError:
        logger.warning("stored findings not kept", extra={"cases": [case.pk for case, _, _ in rows]})


# ---------------------------------------------------------------- keeping them current


def refresh(cases: Iterable[Case], *, batch_size: int = 200) -> int:
    """Compute and store the answer of every given case whose stored one is not current; returns
    how many were computed. The worker runs it on the open cases, so each new day's answers are
    ready before anyone asks."""
    computed = 0
    batch: list[Case] = []
    for case in cases:
        batch.append(case)
        if len(batch) == batch_size:
            computed += _answers(batch)[1]
            batch = []
    return computed + _answers(batch)[1]


def _recompute(case_id: int) -> None:
    case = Case.objects.filter(pk=case_id).select_related("referral", "owner_user", "owner_agency").first()
    if case is not None:
        findings_of([case])


def _event_saved(sender: Any, instance: Event, created: bool = False, **kwargs: Any) -> None:
    """A change to a case recorded its event: once it commits, compute the case's answer, so that
    the next page to show the case reads it. (A read computes it anyway if this never runs.)"""
    if created and instance.case_id is not None:
        transaction.on_commit(partial(_recompute, instance.case_id))


def forget(case_ids: Iterable[int]) -> None:
    """Drop the stored answers of these cases (their facts changed without an event on them)."""
    StoredFindings.objects.filter(case_id__in=list(case_ids)).delete()


def forget_people(person_ids: Iterable[int]) -> None:
    """Linking or unlinking records changes what every case of those people reads (earlier
    referrals, which possible earlier record is whose): drop those cases' answers."""
    from django.db.models import Q

    from casetrail.people.models import Person

    ids = set(person_ids)
    ids |= set(Person.objects.filter(merged_into_id__in=ids).values_list("pk", flat=True))
    cases = Case.objects.filter(Q(person_id__in=ids) | Q(possible_matches__person_id__in=ids))
    forget(cases.values_list("pk", flat=True).distinct())


def _user_saved(sender: Any, instance: User, update_fields: Any = None, created: bool = False, **kwargs: Any) -> None:
    if update_fields is not None and not (set(update_fields) & _USER_FIELDS):
        return  # a sign-in (last_login) or a password change changes nothing findings read
    generation_advance()


def _agency_saved(sender: Any, instance: Agency, update_fields: Any = None, created: bool = False,
                  **kwargs: Any) -> None:
    if not created:
        generation_advance()


def connect_signals() -> None:
    post_save.connect(_user_saved, sender=User, dispatch_uid="stored_findings_user")
    post_save.connect(_agency_saved, sender=Agency, dispatch_uid="stored_findings_agency")
    post_save.connect(_event_saved, sender=Event, dispatch_uid="stored_findings_event")
