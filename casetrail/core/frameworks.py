"""Versioned assessment frameworks loaded from data files, and the rules for judging factors."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

__all__ = [
    "MIN_EVIDENCE_LENGTH",
    "NATURES",
    "NATURE_LABELS",
    "PRESENTING_BEHAVIOUR",
    "UNDERLYING_CAUSE",
    "Dimension",
    "Factor",
    "Framework",
    "FrameworkDefinitionError",
    "FrameworkError",
    "Judgement",
    "UnknownDimension",
    "UnknownFactor",
    "UnknownFramework",
    "Vulnerability",
    "all_frameworks",
    "clear_framework_cache",
    "current_framework",
    "dimension_progress",
    "framework_from_ref",
    "get_framework",
    "identified_vulnerabilities",
    "load_frameworks",
    "validate_judgements",
]

UNDERLYING_CAUSE = "underlying_cause"
PRESENTING_BEHAVIOUR = "presenting_behaviour"
NATURES: tuple[str, ...] = (UNDERLYING_CAUSE, PRESENTING_BEHAVIOUR)
NATURE_LABELS: Mapping[str, str] = {
    UNDERLYING_CAUSE: "Underlying cause",
    PRESENTING_BEHAVIOUR: "Presenting behaviour",
}

# Ten characters rules out "yes", "see notes" and similar placeholders without
# asking for an essay; the learning reviews faulted records that lacked rationale.
MIN_EVIDENCE_LENGTH = 10

# Codes end up in URLs, form field names and the "key:version" reference a case
# stores, so they are kept to a conservative alphabet with no colon.
_CODE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")


# --- Errors -------------------------------------------------------------------


class FrameworkError(Exception):
    """Base class for problems with assessment frameworks."""


class UnknownFramework(FrameworkError, LookupError):
    """No framework matches the key, version, reference or date asked for."""


class UnknownFactor(FrameworkError, LookupError):
    """The framework has no factor with the code asked for."""


class UnknownDimension(FrameworkError, LookupError):
    """The framework has no dimension with the code asked for."""


class FrameworkDefinitionError(FrameworkError, ValueError):
    """A framework data file is malformed; the message names the file and the problem."""

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


# --- The framework as data ----------------------------------------------------


@dataclass(frozen=True)
class Factor:
    code: str
    title: str
    hint: str
    evidence_prompts: tuple[str, ...]
    dimension_code: str


@dataclass(frozen=True)
class Dimension:
    code: str
    title: str
    description: str
    factors: tuple[Factor, ...]


@dataclass(frozen=True)
class Framework:
    key: str
    version: str
    name: str
    in_use_from: date
    superseded_on: date | None
    superseded_by: str | None
    description: str
    dimensions: tuple[Dimension, ...]

    @property
    def ref(self) -> str:
        """The "key:version" reference a case stores, so it keeps the version it was assessed on."""
        return f"{self.key}:{self.version}"

    @property
    def label(self) -> str:
        return f"{self.name} ({self.version})"

    @property
    def factors(self) -> tuple[Factor, ...]:
        """Every factor, in framework order (dimension by dimension)."""
        return tuple(f for d in self.dimensions for f in d.factors)

    def is_superseded_on(self, on: date) -> bool:
        return self.superseded_on is not None and on >= self.superseded_on

    def is_in_use_on(self, on: date) -> bool:
        return self.in_use_from <= on and not self.is_superseded_on(on)

    def has_factor(self, code: str) -> bool:
        return any(f.code == code for f in self.factors)

    def factor(self, code: str) -> Factor:
        for f in self.factors:
            if f.code == code:
                return f
        raise UnknownFactor(f"{self.label} has no factor {code!r}")

    def dimension(self, code: str) -> Dimension:
        for d in self.dimensions:
            if d.code == code:
                return d
        raise UnknownDimension(f"{self.label} has no dimension {code!r}")

    def dimension_of(self, code: str) -> Dimension:
        """The dimension a factor belongs to."""
        return self.dimension(self.factor(code).dimension_code)


# --- Loading ------------------------------------------------------------------


def _builtin_directory() -> Traversable:
    # importlib.resources rather than __file__ so the data is still found when
    # the package is installed as a zip or wheel.
    return resources.files(__package__ or "casetrail.core").joinpath("framework_data")


def load_frameworks(directory: Traversable | Path) -> list[Framework]:
    """Read and check every *.json framework definition in a directory (uncached).

    Raises FrameworkDefinitionError naming the file for any malformed definition,
    and for problems between files: a duplicate "key:version", a superseded_by that
    names no framework, or two frameworks in use on the same day.
    """
    if not directory.is_dir():
        raise FrameworkDefinitionError(str(directory), "is not a directory")
    entries = sorted(
        (e for e in directory.iterdir() if e.name.endswith(".json") and e.is_file()),
        key=lambda e: e.name,
    )
    if not entries:
        # An empty or mistyped override directory would otherwise leave every
        # date without a framework and fail far from the cause.
        raise FrameworkDefinitionError(str(directory), "contains no *.json framework definitions")
    loaded: list[tuple[str, Framework]] = []
    for entry in entries:
        source = str(entry)
        loaded.append((source, _parse_file(source, entry.read_text(encoding="utf-8"))))
    _check_between_files(loaded)
    frameworks = [fw for _, fw in loaded]
    return sorted(frameworks, key=lambda fw: (fw.in_use_from, fw.key, fw.version))


@cache
def _cached(directory: Path | None) -> tuple[Framework, ...]:
    return tuple(load_frameworks(directory if directory is not None else _builtin_directory()))


def all_frameworks(directory: Path | None = None) -> list[Framework]:
    """Every framework, oldest first: the built-in set, or an installation's own directory.

    Results are cached per directory (the files are part of the release, not
    edited at run time); ``clear_framework_cache()`` makes the next call reload.
    """
    # A fresh list each time so a caller cannot alter the cached set.
    return list(_cached(directory))


def clear_framework_cache() -> None:
    """Forget loaded frameworks so the next call reads the files again (for tests and tools)."""
    _cached.cache_clear()


def get_framework(key: str, version: str, directory: Path | None = None) -> Framework:
    for fw in all_frameworks(directory):
        if fw.key == key and fw.version == version:
            return fw
    raise UnknownFramework(f"There is no assessment framework {key}:{version}")


def framework_from_ref(ref: str, directory: Path | None = None) -> Framework:
    """The framework for a stored "key:version" reference."""
    key, sep, version = ref.partition(":")
    if not sep:
        raise UnknownFramework(f"{ref!r} is not a framework reference (expected key:version)")
    return get_framework(key, version, directory)


def current_framework(on: date, directory: Path | None = None) -> Framework:
    """The framework in use on a date: in_use_from <= on < superseded_on."""
    for fw in all_frameworks(directory):
        # Loading rejects overlapping periods, so at most one can match.
        if fw.is_in_use_on(on):
            return fw
    raise UnknownFramework(f"No assessment framework was in use on {on.isoformat()}")


# --- Parsing one file ----------------------------------------------------------

_FRAMEWORK_FIELDS = {
    "key", "version", "name", "in_use_from", "superseded_on", "superseded_by",
    "description", "dimensions",
}
_DIMENSION_FIELDS = {"code", "title", "description", "factors"}
_FACTOR_FIELDS = {"code", "title", "hint", "evidence_prompts"}


def _reject_duplicate_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    # json silently keeps the last of two equal keys; in a hand-edited file that
    # hides a copy-and-paste mistake, so treat it as malformed.
    result: dict[str, object] = {}
    for name, value in pairs:
        if name in result:
            raise ValueError(f"the field {name!r} appears twice in one object")
        result[name] = value
    return result


def _parse_file(source: str, text: str) -> Framework:
    try:
        data: object = json.loads(text, object_pairs_hook=_reject_duplicate_keys)
    except ValueError as exc:  # json.JSONDecodeError is a ValueError
        raise FrameworkDefinitionError(source, f"is not valid JSON: {exc}") from exc
    return _FileParser(source).framework(data)


class _FileParser:
    """Turns one file's decoded JSON into a Framework, reporting the first problem found."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, problem: str) -> FrameworkDefinitionError:
        return FrameworkDefinitionError(self.source, f"{where}: {problem}" if where else problem)

    def obj(
        self, value: object, where: str, fields: set[str], required: Iterable[str]
    ) -> Mapping[str, object]:
        if not isinstance(value, dict):
            raise self.fail(where, "must be a JSON object")
        missing = [name for name in required if name not in value]
        if missing:
            raise self.fail(where, "missing field(s) " + ", ".join(repr(m) for m in missing))
        unknown = sorted(set(value) - fields)
        if unknown:
            # Rejecting unknown fields catches misspellings such as "superseeded_on"
            # that would otherwise silently leave a framework in use for ever.
            raise self.fail(where, "unknown field(s) " + ", ".join(repr(u) for u in unknown))
        return value

    def text(self, data: Mapping[str, object], name: str, where: str) -> str:
        value = data.get(name)
        if not isinstance(value, str) or not value.strip():
            raise self.fail(where, f"{name!r} must be non-empty text")
        return value.strip()

    def code(self, data: Mapping[str, object], name: str, where: str) -> str:
        value = self.text(data, name, where)
        if not _CODE.fullmatch(value):
            raise self.fail(
                where,
                f"{name!r} is {value!r}; use letters, digits, '.', '_' and '-' only",
            )
        return value

    def day(self, data: Mapping[str, object], name: str, where: str) -> date | None:
        value = data.get(name)
        if value is None:
            return None
        if not isinstance(value, str):
            raise self.fail(where, f"{name!r} must be a date written YYYY-MM-DD")
        try:
            return date.fromisoformat(value)
        except ValueError:
            problem = f"{name!r} is {value!r}, not a date written YYYY-MM-DD"
            raise self.fail(where, problem) from None

    def items(self, data: Mapping[str, object], name: str, where: str) -> Sequence[object]:
        value = data.get(name)
        if not isinstance(value, list) or not value:
            raise self.fail(where, f"{name!r} must be a non-empty list")
        return value

    def framework(self, value: object) -> Framework:
        required = ("key", "version", "name", "in_use_from", "description", "dimensions")
        data = self.obj(value, "", _FRAMEWORK_FIELDS, required)
        key = self.code(data, "key", "")
        version = self.code(data, "version", "")
        in_use_from = self.day(data, "in_use_from", "")
        if in_use_from is None:
            raise self.fail("", "'in_use_from' must be a date written YYYY-MM-DD")
        superseded_on = self.day(data, "superseded_on", "")
        superseded_by: str | None = None
        if data.get("superseded_by") is not None:
            superseded_by = self.text(data, "superseded_by", "")
            if superseded_on is None:
                raise self.fail("", "'superseded_by' is set but 'superseded_on' is not")
        if superseded_on is not None and superseded_on <= in_use_from:
            raise self.fail("", "'superseded_on' must be later than 'in_use_from'")

        dimensions: list[Dimension] = []
        seen_factors: set[str] = set()
        for index, item in enumerate(self.items(data, "dimensions", ""), start=1):
            dimension = self.dimension(item, f"dimension {index}", seen_factors)
            if any(d.code == dimension.code for d in dimensions):
                problem = f"duplicate dimension code {dimension.code!r}"
                raise self.fail(f"dimension {index}", problem)
            dimensions.append(dimension)

        return Framework(
            key=key,
            version=version,
            name=self.text(data, "name", ""),
            in_use_from=in_use_from,
            superseded_on=superseded_on,
            superseded_by=superseded_by,
            description=self.text(data, "description", ""),
            dimensions=tuple(dimensions),
        )

    def dimension(self, value: object, where: str, seen_factors: set[str]) -> Dimension:
        data = self.obj(value, where, _DIMENSION_FIELDS, sorted(_DIMENSION_FIELDS))
        code = self.code(data, "code", where)
        where = f"dimension {code!r}"
        factors: list[Factor] = []
        for index, item in enumerate(self.items(data, "factors", where), start=1):
            factor = self.factor(item, f"{where}, factor {index}", code)
            # Codes must be unique across the whole framework, not just the
            # dimension, because judgements are keyed by factor code alone.
            if factor.code in seen_factors:
                problem = f"duplicate factor code {factor.code!r}"
                raise self.fail(f"{where}, factor {index}", problem)
            seen_factors.add(factor.code)
            factors.append(factor)
        return Dimension(
            code=code,
            title=self.text(data, "title", where),
            description=self.text(data, "description", where),
            factors=tuple(factors),
        )

    def factor(self, value: object, where: str, dimension_code: str) -> Factor:
        data = self.obj(value, where, _FACTOR_FIELDS, sorted(_FACTOR_FIELDS))
        prompts = self.items(data, "evidence_prompts", where)
        if not all(isinstance(p, str) and p.strip() for p in prompts):
            raise self.fail(where, "every evidence prompt must be non-empty text")
        return Factor(
            code=self.code(data, "code", where),
            title=self.text(data, "title", where),
            hint=self.text(data, "hint", where),
            evidence_prompts=tuple(str(p).strip() for p in prompts),
            dimension_code=dimension_code,
        )


def _check_between_files(loaded: Sequence[tuple[str, Framework]]) -> None:
    by_ref: dict[str, tuple[str, Framework]] = {}
    for source, fw in loaded:
        if fw.ref in by_ref:
            raise FrameworkDefinitionError(
                source, f"{fw.ref} is already defined in {by_ref[fw.ref][0]}"
            )
        by_ref[fw.ref] = (source, fw)

    for source, fw in loaded:
        if fw.superseded_by is None or fw.superseded_on is None:
            continue
        if fw.superseded_by == fw.ref:
            raise FrameworkDefinitionError(source, f"{fw.ref} cannot be superseded by itself")
        if fw.superseded_by not in by_ref:
            raise FrameworkDefinitionError(
                source, f"'superseded_by' names {fw.superseded_by}, which is not defined"
            )
        successor = by_ref[fw.superseded_by][1]
        if not successor.is_in_use_on(fw.superseded_on):
            raise FrameworkDefinitionError(
                source,
                f"'superseded_by' names {successor.ref}, which is not in use on "
                f"{fw.superseded_on.isoformat()}",
            )

    # current_framework must give one answer for any date, so periods of use may
    # not overlap; a gap is allowed (no framework was in use then).
    for i, (source, fw) in enumerate(loaded):
        for other_source, other in loaded[i + 1 :]:
            if _overlaps(fw, other):
                raise FrameworkDefinitionError(
                    other_source,
                    f"{other.ref} is in use at the same time as {fw.ref} (defined in {source})",
                )


def _overlaps(a: Framework, b: Framework) -> bool:
    a_end = a.superseded_on or date.max
    b_end = b.superseded_on or date.max
    return a.in_use_from < b_end and b.in_use_from < a_end


# --- Judgements -----------------------------------------------------------------


@dataclass(frozen=True)
class Judgement:
    """An assessor's judgement on one factor, as entered (it may not be valid yet)."""

    factor_code: str
    present: bool | None  # None: not yet judged
    evidence: str = ""
    nature: str | None = None  # UNDERLYING_CAUSE or PRESENTING_BEHAVIOUR when present


@dataclass(frozen=True)
class Vulnerability:
    """A factor judged present: what a support plan must address."""

    factor_code: str
    title: str
    dimension_code: str
    nature: str | None


def validate_judgements(
    framework: Framework, judgements: Mapping[str, Judgement], *, complete: bool
) -> dict[str, list[str]]:
    """Errors keyed by factor code, in framework order; an empty dict means valid.

    ``complete`` is for submission: every factor must then be judged. The other
    rules apply to drafts too, so a draft never holds a contradictory judgement.
    """
    errors: dict[str, list[str]] = {}

    for factor in framework.factors:
        judgement = judgements.get(factor.code)
        problems = _judgement_problems(factor, judgement, complete=complete)
        if problems:
            errors[factor.code] = problems

    for code, judgement in judgements.items():
        if not framework.has_factor(code):
            errors[code] = [f"{code!r} is not a factor in the {framework.label}"]
        elif judgement.factor_code != code:
            # A mismatch means the caller built the mapping wrongly; saying so is
            # safer than saving evidence against the wrong factor.
            errors.setdefault(code, []).append(
                f"The judgement filed under '{framework.factor(code).title}' "
                f"is for a different factor ({judgement.factor_code!r})"
            )
    return errors


def _judgement_problems(
    factor: Factor, judgement: Judgement | None, *, complete: bool
) -> list[str]:
    title = factor.title
    if judgement is None or judgement.present is None:
        problems = [f"Say whether '{title}' is present or not"] if complete else []
        nature = judgement.nature if judgement is not None else None
        if nature is not None and nature not in NATURES:
            problems.append(_bad_nature(title))
        return problems

    problems = []
    if judgement.present:
        evidence = judgement.evidence.strip()
        if not evidence:
            problems.append(f"Give the evidence for '{title}'")
        elif len(evidence) < MIN_EVIDENCE_LENGTH:
            problems.append(
                f"Give more detail in the evidence for '{title}' "
                f"(at least {MIN_EVIDENCE_LENGTH} characters)"
            )
        if judgement.nature is None:
            problems.append(
                f"Say whether '{title}' is an underlying cause or a presenting behaviour"
            )
        elif judgement.nature not in NATURES:
            problems.append(_bad_nature(title))
    elif judgement.nature is not None:
        problems.append(
            f"Remove the nature from '{title}': it is only recorded for a factor that is present"
        )
    return problems


def _bad_nature(title: str) -> str:
    return f"The nature of '{title}' must be either an underlying cause or a presenting behaviour"


def identified_vulnerabilities(
    framework: Framework, judgements: Mapping[str, Judgement]
) -> list[Vulnerability]:
    """The factors judged present, in framework order (unknown codes are ignored)."""
    found: list[Vulnerability] = []
    for factor in framework.factors:
        judgement = judgements.get(factor.code)
        if judgement is not None and judgement.present is True:
            found.append(
                Vulnerability(factor.code, factor.title, factor.dimension_code, judgement.nature)
            )
    return found


def dimension_progress(
    framework: Framework, judgements: Mapping[str, Judgement]
) -> dict[str, tuple[int, int]]:
    """For each dimension code, (factors judged, factors in the dimension)."""
    progress: dict[str, tuple[int, int]] = {}
    for dimension in framework.dimensions:
        judged = 0
        for factor in dimension.factors:
            judgement = judgements.get(factor.code)
            if judgement is not None and judgement.present is not None:
                judged += 1
        progress[dimension.code] = (judged, len(dimension.factors))
    return progress
