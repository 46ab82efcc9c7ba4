"""The person index at work: every referral ever recorded is an identity record, and a new
identity is matched against all of them by the linkage engine (casetrail/people/linkage).

A match is a suggestion with its evidence until a person confirms it (DESIGN.md principle 6).
The index lives in memory in each process; it adds referrals recorded since it last looked
and rebuilds itself when a referral leaves the index (erasure).
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings

from casetrail.people.linkage.index import Candidate, CandidateIndex
from casetrail.people.linkage.model import LinkageModel
from casetrail.people.linkage.records import Identity
from casetrail.people.models import Person
from casetrail.referrals.models import Referral

DEFAULT_MODEL = Path(__file__).resolve().parent / "linkage_data" / "default_model.json"


def trained_model_path() -> Path:
    """Where `linkage_train` saves the model trained on this deployment's referrals."""
    return Path(settings.CASETRAIL_LINKAGE_MODEL)


def model_path() -> Path:
    """The trained model in use: the deployment's own once `linkage_train` has run, else the
    default trained on the synthetic population and shipped with Casetrail."""
    trained = trained_model_path()
    return trained if trained.exists() else DEFAULT_MODEL


def identity_of(referral: Referral) -> Identity:
    """A referral's identity attributes, as recorded on it."""
    aliases = tuple(a.strip() for a in referral.other_names.replace(",", ";").split(";") if a.strip())
    return Identity(
        record_id=str(referral.pk), given_names=referral.given_names, family_name=referral.family_name,
        other_names=aliases, date_of_birth=referral.date_of_birth, sex=referral.sex,
        postcode=referral.postcode, address=referral.address, school=referral.school_or_workplace,
        nhs_number=referral.nhs_number, upn=referral.upn,
    )


# Events after which recorded identities differ from what an index built earlier holds: a
# disposal erases them, an accepted rectification corrects them. Any process seeing a newer one
# rebuilds its index, so an erased identity is never suggested again by any web process.
IDENTITY_CHANGE_EVENTS = ("retention.disposed", "rectification.accepted")


def _last_identity_change() -> int:
    from casetrail.audit.models import Event

    # One look per kind, each the top of the events' (kind, seq) index: asked over both kinds at
    # once, PostgreSQL may walk the whole chain backwards instead (bench/national).
    return max((Event.objects.filter(kind=kind).order_by("-seq").values_list("seq", flat=True).first() or 0
                for kind in IDENTITY_CHANGE_EVENTS), default=0)


class _Holder:
    """One index per process, kept in step with the referrals table."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.index: CandidateIndex | None = None
        self.model_file: Path | None = None
        self.model_mtime = 0.0
        self.last_id = 0
        self.count = 0
        self.last_change = 0
        self.version = ""
        self.last_made: Any = None  # when the newest referral indexed (last_id) was made

    def get(self) -> CandidateIndex:
        with self.lock:
            path = model_path()
            mtime = path.stat().st_mtime
            top = Referral.objects.order_by("-pk").values_list("pk", "submitted_at").first()
            newest = top[0] if top else 0
            count = Referral.objects.count()
            changed = _last_identity_change()
            # The last referral indexed must still be the one it was: a rolled-back write can free an
            # id that a later referral takes (SQLite), and the index must not keep the first identity.
            moved = self.last_id and Referral.objects.filter(pk=self.last_id).values_list(
                "submitted_at", flat=True).first() != self.last_made
            stale = (self.index is None or path != self.model_file or mtime != self.model_mtime
                     or newest < self.last_id or count < self.count or changed != self.last_change or moved)
            if stale:
                model = LinkageModel.load(path)
                self.index = CandidateIndex.build(
                    (identity_of(r) for r in Referral.objects.order_by("pk").iterator()), model)
                self.model_file, self.model_mtime = path, mtime
                digest = hashlib.sha256(path.read_bytes()).hexdigest()[:12]
                self.version = f"{model.trained_at} {digest}"
            else:
                assert self.index is not None
                for referral in Referral.objects.filter(pk__gt=self.last_id).order_by("pk"):
                    self.index.add(identity_of(referral))
            self.last_id, self.count, self.last_change = newest, count, changed
            self.last_made = top[1] if top else None
            assert self.index is not None
            return self.index

    def forget(self) -> None:
        with self.lock:
            self.index = None


_HOLDER = _Holder()


def candidate_index() -> CandidateIndex:
    return _HOLDER.get()


def model_version() -> str:
    """The matching model in use: when it was trained, and a digest of its file."""
    _HOLDER.get()
    return _HOLDER.version


def forget_index() -> None:
    """Drop this process's index (after an erasure, or in tests)."""
    _HOLDER.forget()


@dataclass
class PersonMatch:
    """One earlier person the identity may be, with the best-scoring of their recorded identities."""

    person: Person
    probability: float
    best: Candidate
    referrals: list[Referral] = field(default_factory=list)
    visible_cases: list[Any] = field(default_factory=list)
    hidden_cases: int = 0
    rejected: Any = None  # the decision that said "not the same person", if any

    @property
    def percent(self) -> str:
        return f"{self.probability * 100:.1f}%" if self.probability < 0.999 else "over 99.9%"


def current_person(person: Person) -> Person:
    """The person record a merged record now lives on."""
    seen = set()
    while person.merged_into_id and person.pk not in seen:
        seen.add(person.pk)
        person = person.merged_into  # type: ignore[assignment]
    return person


def match_identity(identity: Identity, *, exclude_referrals: Iterable[int] = (), limit: int = 10,
                   min_probability: float = 0.05) -> list[Candidate]:
    """Candidate identity records for `identity`, best first; never raises on odd input."""
    excluded = {str(pk) for pk in exclude_referrals}
    found = candidate_index().candidates(identity, limit=limit + len(excluded), min_probability=min_probability)
    return [c for c in found if c.record_id not in excluded][:limit]


def person_matches(*, user: Any, identity: Identity, exclude_person: Person | None = None,
                   exclude_referrals: Iterable[int] = (), limit: int = 5,
                   rejected: dict[int, Any] | None = None) -> list[PersonMatch]:
    """The earlier people this identity may be, grouped from their identity records, best first,
    each with the cases this user may see (the rest only counted)."""
    from casetrail.cases.access import visible_cases

    candidates = match_identity(identity, exclude_referrals=exclude_referrals, limit=limit * 4)
    referrals = Referral.objects.in_bulk([int(c.record_id) for c in candidates])
    visible = visible_cases(user)
    by_person: dict[int, PersonMatch] = {}
    for candidate in candidates:
        referral = referrals.get(int(candidate.record_id))
        if referral is None:
            continue
        person = current_person(referral.person)
        if exclude_person is not None and person.pk == current_person(exclude_person).pk:
            continue
        match = by_person.get(person.pk)
        if match is None:
            match = by_person[person.pk] = PersonMatch(person, candidate.match_probability, candidate)
        elif candidate.match_probability > match.probability:
            match.probability, match.best = candidate.match_probability, candidate
    matches = sorted(by_person.values(), key=lambda m: -m.probability)[:limit]
    for match in matches:
        people = [match.person.pk, *match.person.merged_records.values_list("pk", flat=True)]
        match.referrals = list(Referral.objects.filter(person_id__in=people).order_by("submitted_at"))
        cases = [r.case for r in match.referrals if hasattr(r, "case")]
        seen = set(visible.filter(pk__in=[c.pk for c in cases]).values_list("pk", flat=True))
        match.visible_cases = [c for c in cases if c.pk in seen]
        match.hidden_cases = len(cases) - len(match.visible_cases)
        if rejected:
            match.rejected = rejected.get(match.person.pk)
    return matches
