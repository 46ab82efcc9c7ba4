"""The in-memory candidate index that serves intake: it finds the earlier records an identity may
belong to through several keys, and scores each with the trained model's own match weights.

Finding: every record is filed under keys that survive the ways an identity is written
differently (phonetic given and family name, including middle names and aliases; a canonical
given name for nicknames and transliterations; family name or first part with year or date of
birth; date of birth with postcode district; postcode with year or given name; postcode with
family name and given initial; address with either name or the date of birth; either name with
the date of birth; the NHS number; the pupil number). A query also looks under its names
swapped and its day and month swapped. A key shared by more than `max_block` records (a
very common name in one year) is skipped when other keys found candidates, so one query stays
fast at millions of records.

Scoring: for each candidate every comparison picks its level exactly as Splink's SQL would
(same conditions, same NULL rules) and adds that level's weight to the prior, so
`match_weight` and `match_probability` equal Splink's `predict` for the same pair.
"""

from __future__ import annotations

import math
import sys
from array import array
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from rapidfuzz.distance import DamerauLevenshtein

from casetrail.people.linkage.model import LinkageModel
from casetrail.people.linkage.records import COLUMNS, Identity, normalise

_POS = {name: i for i, name in enumerate(COLUMNS)}
_LISTS = {name for name, kind in COLUMNS.items() if kind == "list"}


@dataclass(frozen=True)
class FieldEvidence:
    field: str  # e.g. "Family name"
    level: str  # e.g. "phonetic match", "transposed day and month", "different", "missing"
    agrees: bool | None  # None when either record lacks the field
    weight: float  # this field's match weight (log2 Bayes factor)


@dataclass(frozen=True)
class Candidate:
    record_id: str
    match_probability: float
    match_weight: float
    evidence: tuple[FieldEvidence, ...]


Row = tuple[Any, ...]


def _predicate(kind: str, args: tuple[Any, ...]) -> Callable[[Row, Row], bool]:
    """A level's condition as Splink's SQL evaluates it: anything compared with NULL is false."""
    if kind == "null":
        i = _POS[args[0]]
        return lambda a, b: a[i] is None or b[i] is None
    if kind == "absent":
        positions = tuple(_POS[c] for c in args)
        return lambda a, b: all(a[i] is None or b[i] is None for i in positions)
    if kind == "exact":
        i = _POS[args[0]]
        return lambda a, b: a[i] is not None and a[i] == b[i]
    if kind == "dl":
        i, k = _POS[args[0]], int(args[1])
        distance = DamerauLevenshtein.distance

        def dl(a: Row, b: Row) -> bool:
            x, y = a[i], b[i]
            return x is not None and y is not None and distance(x, y, score_cutoff=k) <= k
        return dl
    if kind == "overlap":
        i = _POS[args[0]]
        return lambda a, b: a[i] is not None and b[i] is not None and not a[i].isdisjoint(b[i])
    if kind == "pairs":
        pairs = tuple((_POS[x], _POS[y]) for x, y in args)

        def all_equal(a: Row, b: Row) -> bool:
            for x, y in pairs:
                if a[x] is None or a[x] != b[y]:
                    return False
            return True
        return all_equal
    if kind == "twins":
        f, fph, dob, *identifiers = (_POS[name] for name in args)
        near = DamerauLevenshtein.distance

        def twins(a: Row, b: Row) -> bool:
            if a[dob] is None or a[dob] != b[dob]:
                return False
            if any(a[i] is not None and a[i] == b[i] for i in identifiers):
                return False
            if a[fph] is not None and a[fph] == b[fph]:
                return True
            x, y = a[f], b[f]
            return x is not None and y is not None and near(x, y, score_cutoff=1) <= 1
        return twins
    if kind == "swap_near":
        g, f, gph, fph = (_POS[name] for name in args)
        distance = DamerauLevenshtein.distance

        def like(x: Any, y: Any, px: Any, py: Any) -> bool:
            if x is None or y is None:
                return px is not None and px == py
            return x == y or (px is not None and px == py) or distance(x, y, score_cutoff=1) <= 1

        def near_way(a: Row, b: Row) -> bool:
            if not like(a[g], b[f], a[gph], b[fph]):
                return False
            return (like(a[f], b[g], a[fph], b[gph])
                    or (a[f] is not None and b[g] is not None and a[f][0] == b[g][0]))

        return lambda a, b: near_way(a, b) or near_way(b, a)
    if kind == "swap":
        g, f, first = (_POS[name] for name in args)

        def one_way(a: Row, b: Row) -> bool:
            x, y = a[g], b[g]
            return (x is not None and (x == b[f] or x == b[first])
                    and y is not None and (y == a[f] or y == a[first]))

        return lambda a, b: one_way(a, b) or one_way(b, a)
    if kind == "partial":
        i, u = _POS[args[0]], _POS[args[1]]
        return lambda a, b: a[i] is not None and a[i] == b[i] and (a[u] is None or b[u] is None)
    if kind == "initial":
        i = _POS[args[0]]

        def initial(a: Row, b: Row) -> bool:
            x, y = a[i], b[i]
            return x is not None and y is not None and (len(x) == 1 or len(y) == 1) and x[0] == y[0]
        return initial
    if kind == "apart":
        i, years = _POS[args[0]], int(args[1])
        return lambda a, b: a[i] is not None and b[i] is not None and abs(a[i] - b[i]) >= years
    if kind == "else":
        return lambda a, b: True
    raise ValueError(f"unknown level kind {kind!r}")


class _Scorer:
    """The model's weights compiled into level predicates."""

    def __init__(self, model: LinkageModel) -> None:
        weights = model.weights
        self.prior = weights.prior
        self.model = model
        self.comparisons = [
            (c.field, tuple((_predicate(lv.kind, lv.args), lv.weight, lv.label, lv.kind in ("null", "absent"),
                             lv.kind == "else", self._adjustment(lv.tf, lv.u) if lv.tf is not None else None)
                            for lv in c.levels))
            for c in weights.comparisons
        ]

    def _adjustment(self, column: str, u: float | None) -> Callable[[Row, Row], float]:
        """Splink's term-frequency adjustment with the level's u as the least value:
        log2(u) - log2(max(u, the two values' frequencies saved with the model)); nothing when
        neither value's frequency was saved (not common in training)."""
        i, u = _POS[column], u or 1.0
        log2_u, frequency = math.log2(u), self.model.term_frequency

        def adjust(a: Row, b: Row) -> float:
            fa, fb = frequency(column, a[i]), frequency(column, b[i])
            if fa is None and fb is None:
                return 0.0
            return log2_u - math.log2(max(fa or 0.0, fb or 0.0, u))
        return adjust

    def score(self, a: Row, b: Row) -> float:
        total = self.prior
        for _field, levels in self.comparisons:
            for test, weight, _label, _null, _else, adjust in levels:
                if test(a, b):
                    total += weight if adjust is None else weight + adjust(a, b)
                    break
        return total

    def evidence(self, a: Row, b: Row) -> tuple[FieldEvidence, ...]:
        found = []
        for field, levels in self.comparisons:
            for test, weight, label, null, other, adjust in levels:
                if test(a, b):
                    if adjust is not None:
                        weight += adjust(a, b)
                    # A level that agrees but is weighed under another field (a swap, the family
                    # name weighed with the given name) weighs nothing and still agrees.
                    agrees = None if null else weight > 0 or (weight == 0 and not other)
                    found.append(FieldEvidence(field, label, agrees, weight))
                    break
        return tuple(found)


def probability(weight: float) -> float:
    """Splink's conversion of a match weight to a probability, computed the same way."""
    if weight >= 0:
        return 1.0 / (1.0 + math.pow(2.0, -weight))
    odds = math.pow(2.0, weight)
    return odds / (1.0 + odds)


def _row(record: dict[str, Any], intern: Callable[[str], str] = sys.intern) -> Row:
    values = []
    for name in COLUMNS:
        value = record[name]
        if name in _LISTS:
            value = frozenset(intern(v) for v in value) if value else None
        elif isinstance(value, str):
            value = intern(value)
        values.append(value)
    return tuple(values)


_G, _GPH, _GROUPS, _GALL = _POS["given"], _POS["given_ph"], _POS["given_groups"], _POS["given_all"]
_F, _FPH, _FFIRST, _FALL = _POS["family"], _POS["family_ph"], _POS["family_first"], _POS["family_all"]
_DOB, _YEAR, _MONTH, _DAY = _POS["dob"], _POS["dob_year"], _POS["dob_month"], _POS["dob_day"]
_PC, _DISTRICT = _POS["postcode"], _POS["pc_district"]
_ADDRESS, _SCHOOL = _POS["address"], _POS["school"]
_NHS, _UPN = _POS["nhs"], _POS["upn"]


def _phonetics(names: frozenset[str] | None, first: str | None) -> set[str]:
    from casetrail.people.linkage.records import phonetic

    codes = set()
    for name in (names or ()):
        code = phonetic(name)
        if code:
            codes.add(code)
    if first:
        codes.add(first)
    return codes


def _keys(r: Row, *, query: bool = False) -> set[int]:
    """Hashes of the keys a record is filed under (or, for a query, looked up under)."""
    keys: set[Any] = set()
    given_codes = _phonetics(r[_GALL], r[_GPH])
    family_codes = _phonetics(r[_FALL], r[_FPH])
    if r[_FFIRST] and r[_FFIRST] != r[_F]:  # "Rana | Rahul Tejas" is filed under rahul too
        family_codes |= _phonetics(frozenset((r[_FFIRST],)), None)
    if len(given_codes) * len(family_codes) <= 16:
        for g in given_codes:
            for f in family_codes:
                keys.add(("gf", g, f))
                if query:
                    keys.add(("gf", f, g))  # names swapped
    dobs = [r[_DOB]] if r[_DOB] else []
    if query and r[_DOB] and r[_MONTH] != r[_DAY] and r[_DAY] <= 12:
        dobs.append(f"{r[_YEAR]:04d}-{r[_DAY]:02d}-{r[_MONTH]:02d}")  # day and month swapped
    groups = r[_GROUPS] or ()
    for dob in dobs:
        if r[_GPH]:
            keys.add(("gd", r[_GPH], dob))
        for group in groups:
            keys.add(("cd", group, dob))
        if r[_DISTRICT]:
            keys.add(("dp", dob, r[_DISTRICT]))
        for name in (r[_FFIRST], r[_G]):  # either name with the date: also finds them swapped
            if name:
                keys.add(("nd", name, dob))
    if r[_YEAR] is not None:
        for f in family_codes:
            keys.add(("fy", f, r[_YEAR]))
        if r[_PC]:
            keys.add(("py", r[_PC], r[_YEAR]))
    if r[_FPH]:
        for group in groups:
            keys.add(("cf", group, r[_FPH]))
    if r[_ADDRESS] and r[_GPH]:
        keys.add(("ag", r[_ADDRESS], r[_GPH]))
    if r[_PC] and r[_GPH]:
        keys.add(("pg", r[_PC], r[_GPH]))
    if r[_FPH] and r[_G] and r[_PC]:  # postcode and family name, given initial (not the neighbours)
        keys.add(("pfi", r[_PC], r[_FPH], r[_G][0]))
    if r[_ADDRESS]:  # one household: the family name, or the date of birth
        if r[_FPH]:
            keys.add(("af", r[_ADDRESS], r[_FPH]))
        if r[_DOB]:
            keys.add(("ad", r[_ADDRESS], r[_DOB]))
    if r[_GPH] and r[_YEAR] is not None and r[_DISTRICT]:
        keys.add(("gyd", r[_GPH], r[_YEAR], r[_DISTRICT]))
    if r[_SCHOOL] and r[_DOB]:
        keys.add(("sd", r[_SCHOOL], r[_DOB]))
    for kind, i in (("nhs", _NHS), ("upn", _UPN)):
        if r[i]:
            keys.add((kind, r[i]))
    return {hash(k) for k in keys}


class CandidateIndex:
    """Identity records held in memory, filed under several keys, scored with a LinkageModel."""

    def __init__(self, model: LinkageModel, *, max_block: int = 300) -> None:
        self.model = model
        self.max_block = max_block
        self._scorer = _Scorer(model)
        self._rows: list[Row | None] = []
        self._ids: list[str | None] = []
        self._slot: dict[str, int] = {}
        self._postings: dict[int, array[int] | int] = {}

    @classmethod
    def build(
        cls,
        identities: Iterable[Identity],
        model: LinkageModel,
        *,
        max_block: int = 300,
        progress: Callable[[int], None] | None = None,
    ) -> CandidateIndex:
        """An index of `identities` (Identity objects, or normalised dicts from records.normalise)."""
        index = cls(model, max_block=max_block)
        for i, identity in enumerate(identities):
            index.add(identity)
            if progress is not None and i % 10_000 == 0:
                progress(i)
        return index

    @classmethod
    def from_normalised_table(cls, table: Any, model: LinkageModel, *, max_block: int = 300,
                              progress: Callable[[int], None] | None = None) -> CandidateIndex:
        """An index built from a normalised Arrow table (records.normalise_table), in batches."""
        import gc

        index = cls(model, max_block=max_block)
        done = 0
        collecting = gc.isenabled()
        gc.disable()  # see records.normalise_table: the collector would rescan every record
        try:
            for batch in table.select(list(COLUMNS)).to_batches(max_chunksize=50_000):
                columns = [batch.column(i).to_pylist() for i in range(len(COLUMNS))]
                for values in zip(*columns, strict=True):
                    index._insert(dict(zip(COLUMNS, values, strict=True)))
                done += batch.num_rows
                if progress is not None:
                    progress(done)
        finally:
            if collecting:
                gc.enable()
        return index

    def __len__(self) -> int:
        return len(self._slot)

    def __contains__(self, record_id: object) -> bool:
        return record_id in self._slot

    def add(self, identity: Identity | dict[str, Any]) -> None:
        """File an identity record (replacing any earlier one with the same record_id)."""
        self._insert(identity if isinstance(identity, dict) else normalise(identity))

    def _insert(self, record: dict[str, Any]) -> None:
        record_id = str(record["record_id"])
        if record_id in self._slot:
            self.remove(record_id)
        row = _row(record)
        slot = len(self._rows)
        self._rows.append(row)
        self._ids.append(record_id)
        self._slot[record_id] = slot
        postings = self._postings
        for key in _keys(row):
            existing = postings.get(key)
            if existing is None:
                postings[key] = slot  # most keys hold one record: no array until a second
            elif isinstance(existing, int):
                postings[key] = array("i", (existing, slot))
            else:
                existing.append(slot)

    def remove(self, record_id: str) -> bool:
        """Forget a record (erasure); its postings are skipped from now on."""
        slot = self._slot.pop(str(record_id), None)
        if slot is None:
            return False
        self._rows[slot] = None
        self._ids[slot] = None
        return True

    def candidates(self, identity: Identity, *, limit: int = 10, min_probability: float = 0.01,
                   exclude: Iterable[str] = ()) -> list[Candidate]:
        """The records most likely to be the same person, best first, with their evidence.

        Bad input gets an answer from the fields that are usable; nothing here raises on the
        content of an Identity (a non-Identity is a TypeError).
        """
        if not isinstance(identity, Identity):
            raise TypeError(f"candidates() needs an Identity, not {type(identity).__name__}")
        if limit <= 0:
            return []
        query = _row(normalise(identity), intern=str)
        excluded = {str(identity.record_id), *map(str, exclude)}
        scored = []
        rows, ids, score = self._rows, self._ids, self._scorer.score
        for slot in self._lookup(query):
            row = rows[slot]
            if row is None or ids[slot] in excluded:
                continue
            scored.append((score(query, row), slot))
        scored.sort(key=lambda pair: -pair[0])
        result = []
        for weight, slot in scored[:limit]:
            p = probability(weight)
            if p < min_probability:
                break
            result.append(Candidate(ids[slot], p, weight, self._scorer.evidence(query, rows[slot])))  # type: ignore[arg-type]
        return result

    def _lookup(self, query: Row) -> set[int]:
        found: set[int] = set()
        crowded = []
        for key in _keys(query, query=True):
            posting = self._postings.get(key)
            if posting is None:
                continue
            if isinstance(posting, int):
                found.add(posting)
            elif len(posting) <= self.max_block:
                found.update(posting)
            else:
                crowded.append(posting)
        if not found:  # nothing else to go on: look in the crowded blocks after all
            for posting in crowded:
                found.update(posting)
        return found

    def score_pair(self, left: Identity, right: Identity) -> Candidate:
        """Score two identities directly (for explanations and tests)."""
        a = _row(normalise(left), intern=str)
        b = _row(normalise(right), intern=str)
        weight = self._scorer.score(a, b)
        return Candidate(str(right.record_id), probability(weight), weight, self._scorer.evidence(a, b))


def score_normalised(model: LinkageModel, left: dict[str, Any], right: dict[str, Any]) -> float:
    """The match weight of two normalised records (records.normalise output), as Splink's
    predict weighs them with the model's saved term frequencies."""
    return _Scorer(model).score(_row(left, intern=str), _row(right, intern=str))
