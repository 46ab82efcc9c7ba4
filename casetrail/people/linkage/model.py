"""The linkage model: Splink comparisons and blocking rules suited to people's identities,
unsupervised training on DuckDB, and the saved model with its match weights.

Every comparison level is one of a few plain kinds (missing, exact, edit distance, list
overlap, column equalities, partial agreement, else), so that the candidate index can compute
exactly the level Splink would pick and add up the same match weights without Splink.
"""

from __future__ import annotations

import json
import math
import platform
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

FORMAT_VERSION = 1
LEVEL_NOT_OBSERVED_TEXT = "level not observed in training dataset"  # Splink's marker
M_FLOOR = 1e-4  # the least m a level may have after training (see _floor_weights)
Progress = Callable[[str, float], None]  # (stage, fraction done)


@dataclass(frozen=True)
class LevelSpec:
    """One comparison level: `kind` and `args` say how to evaluate it (see index.py)."""

    label: str
    kind: str  # null | absent | exact | dl | overlap | pairs | twins | swap | swap_near | partial | initial | apart | else
    args: tuple[Any, ...] = ()
    fixed: tuple[float, float] | None = None  # (m, u) set by design, not trained
    # Term-frequency adjustment: agreeing on a common value weighs less than on a rare one. The
    # level's weight becomes log2(m) - log2(the larger of the level's u and the value's frequency
    # among the records the model was trained on, saved with it: LinkageModel.term_frequencies).
    # Only a penalty, never a bonus, and only for values many records share (TF_MIN_COUNT).
    # Frequencies counted in the data being linked instead (Splink's default) were tried and
    # dropped: in a small index (a new deployment) every name is "common" and a boy referred
    # three times under one name lost ten bits.
    tf: str | None = None


@dataclass(frozen=True)
class ComparisonSpec:
    name: str  # Splink's output column name
    field: str  # the human name shown with the evidence
    levels: tuple[LevelSpec, ...]


def _swapped(*, fixed: tuple[float, float] | None = None) -> LevelSpec:
    # One record's given name is the other's family name (or its first part), and the other
    # way round too: "Rahul Tejas | Rana" and "Rana | Rahul Tejas". Symmetric, like every level.
    # Agreeing the other way round only by initial ("Nikhil | PARMAR" and "Parmar | Nik") is the
    # next level's: at a million records four in five such pairs with one date of birth were
    # strangers whose given name is a family name too (Owen Dunwood and Dylan Owen).
    return LevelSpec("given and family names swapped", "swap", ("given", "family", "family_first"), fixed=fixed)


def _swapped_near(*, fixed: tuple[float, float] | None = None) -> LevelSpec:
    # Swapped, and one of the names also mistyped or written another way: "Hsaw | Bradley" and
    # "Bradley | Shaw", "Nikhil | PARMAR" and "Parmar | Nik". One record's given name is like the
    # other's family name (exact, sounding alike or one letter different) and its family name
    # like the other's given name or with its initial.
    return LevelSpec("given and family names swapped, one spelt differently", "swap_near",
                     ("given", "family", "given_ph", "family_ph"), fixed=fixed)


# Two levels are set by design because no unsupervised estimate can see them: random pairs
# (which give u) almost never share a family name and birth date, so twins, and a father and
# son of the same name at one address, look like one person on every other field. Merging two
# people is the dangerous mistake here, so these differences all but forbid a link (about -24
# bits); a worker who knows better links the records by hand.
# -24 bits (it was -40, then -32): a twin at the brother's address and school, agreeing on
# every other field, must still reach intake's list (p about 0.06 with the shipped model) so
# that the officer is put the brother and decides, while no dedupe threshold (0.2 and above)
# links them. Since one school in one district weighs only what it adds to the district, -32
# sank such a twin below intake's 0.01.
VETO = (2 ** -24, 1.0)
# A swap is counted once, under family name; the given-name level only names it.
NEUTRAL = (0.5, 0.5)


# Given and family name agreeing together are one piece of evidence, weighed under given name by
# how common the full name is: counted as two independent agreements they overstated it (names
# run in families and communities, so "Hamza Sheikh" agrees far more often between strangers
# than "Hamza" times "Sheikh" would say), and at 100,000 records nine in ten pairs that agreed
# on the full name and nothing else were strangers, at p 0.59. The family name's own level for
# it weighs nothing (like a swap's under given name).
FULL_NAME_TF = "name_key"
TF_MIN_COUNT = 3  # a full name shared by fewer training records is not counted as common
TF_MIN_RECORDS = 10_000  # below this, training records are too few to say what is common

COMPARISONS: tuple[ComparisonSpec, ...] = (
    ComparisonSpec("given_name", "Given name", (
        LevelSpec("missing", "null", ("given",)),
        LevelSpec("exact, as is the family name (weighed as one full name, by how common it is)", "pairs",
                  (("given", "given"), ("family", "family")), tf=FULL_NAME_TF),
        LevelSpec("exact", "exact", ("given",)),
        _swapped(fixed=NEUTRAL),
        _swapped_near(fixed=NEUTRAL),
        LevelSpec("nickname or spelling variant", "overlap", ("given_groups",)),
        LevelSpec("one letter different", "dl", ("given", 1)),
        LevelSpec("phonetic match", "exact", ("given_ph",)),
        LevelSpec("another recorded given name agrees", "overlap", ("given_all",)),
        LevelSpec("initial only, and it agrees", "initial", ("given",)),
        LevelSpec("two letters different", "dl", ("given", 2)),
        # Twins: the family name alike (exact, sounding alike or one letter different: a typo in
        # one twin's surname must not turn a twin into a match) and the same date of birth.
        # Not when both carry the same NHS number or UPN: twins never do, so that is one person
        # whose given name was written in a way no level above recognises.
        LevelSpec("different, with the same family name and date of birth (twins?)", "twins",
                  ("family", "family_ph", "dob", "nhs", "upn"), fixed=VETO),
        LevelSpec("different", "else"),
    )),
    ComparisonSpec("family_name", "Family name", (
        LevelSpec("missing", "null", ("family",)),
        LevelSpec("exact (weighed with the given name)", "pairs", (("family", "family"), ("given", "given")),
                  fixed=NEUTRAL),
        LevelSpec("exact", "exact", ("family",)),
        _swapped(),
        _swapped_near(),
        LevelSpec("one letter different", "dl", ("family", 1)),
        LevelSpec("phonetic match", "exact", ("family_ph",)),
        LevelSpec("shares part of a multi-part name", "overlap", ("family_parts",)),
        LevelSpec("matches a recorded other name", "overlap", ("family_all",)),
        LevelSpec("two letters different", "dl", ("family", 2)),
        LevelSpec("different", "else"),
    )),
    ComparisonSpec("date_of_birth", "Date of birth", (
        LevelSpec("missing", "null", ("dob_year",)),
        LevelSpec("exact", "exact", ("dob",)),
        LevelSpec("year and month agree, day not recorded", "partial", ("dob_ym", "dob_day")),
        LevelSpec("year agrees, month not recorded", "partial", ("dob_year", "dob_month")),
        LevelSpec("transposed day and month", "pairs",
                  (("dob_year", "dob_year"), ("dob_month", "dob_day"), ("dob_day", "dob_month"))),
        LevelSpec("one digit different", "dl", ("dob_digits", 1)),
        LevelSpec("same year", "exact", ("dob_year",)),
        LevelSpec("15 or more years apart (another generation)", "apart", ("dob_year", 15), fixed=VETO),
        LevelSpec("different", "else"),
    )),
    # Postcode and address are one comparison: two records at one address share its postcode,
    # and counted as two independent agreements (17 and 16.5 bits at a million records) they
    # outweighed a different given name and date of birth, so brothers and sisters were linked.
    # Missing only when neither can be compared: the same address still counts when one record
    # lacks the postcode (a referrer who wrote the street but not the postcode).
    ComparisonSpec("postcode", "Postcode", (
        LevelSpec("missing", "absent", ("pc_district", "address")),
        LevelSpec("same address", "exact", ("address",)),
        LevelSpec("exact", "exact", ("postcode",)),
        LevelSpec("same sector", "exact", ("pc_sector",)),
        LevelSpec("one character different", "dl", ("postcode", 1)),
        LevelSpec("same district", "exact", ("pc_district",)),
        LevelSpec("different", "else"),
    )),
    # A move changes the postcode, the address and often the school at once: counted as three
    # independent disagreements (-9, -2.6 and -1.7 bits at a million records) it sank people who
    # had moved (exact name and date of birth, new address) below the threshold. The move is
    # counted once, under postcode: a different school weighs nothing (by design: u from random
    # pairs cannot see that they change together).
    # One school in one postcode district is weighed as what it adds to the district: most
    # children of a district go to a few schools, and counted as independent of it (8.9 bits at
    # 100,000 records, from random pairs across the country) it made strangers of one common
    # name at one school, a few years apart in age, into a match. Its u is set after training
    # to how often two records of one district name one school (see _condition_school).
    ComparisonSpec("school", "School or workplace", (
        LevelSpec("missing", "null", ("school",)),
        LevelSpec("exact, in the same postcode district", "pairs", (("school", "school"), ("pc_district", "pc_district"))),
        LevelSpec("exact", "exact", ("school",)),
        LevelSpec("different", "else", fixed=NEUTRAL),
    )),
    ComparisonSpec("sex", "Sex", (
        LevelSpec("missing", "null", ("sex",)),
        LevelSpec("exact", "exact", ("sex",)),
        LevelSpec("different", "else"),
    )),
    # Where both records carry the same kind of identifier. A number is valid or missing (see
    # records.normalise), so two numbers that differ are two people, or one recorded wrongly
    # (another person's: EM learns how often).
    ComparisonSpec("identifier", "NHS number or UPN", (
        LevelSpec("missing", "absent", ("nhs", "upn")),
        LevelSpec("same NHS number", "exact", ("nhs",)),
        LevelSpec("same Unique Pupil Number", "exact", ("upn",)),
        LevelSpec("different", "else"),
    )),
)

# Pairs the batch dedupe scores: together they find a record's duplicates however its name or
# date was mistyped, while no block grows quadratically at a million people.
# The rules' own pair counts at a million records (synthetic population) are in bench/README.md:
# "family name and year of birth" alone made 50.6 million pairs and "family and given name"
# alone 19.3 million, so both are narrowed below. DuckDB joins on the equalities and filters
# on the rest, so an OR after them costs little: only the pairs kept are scored.
BLOCKING_RULES_SQL: tuple[str, ...] = (
    # Both names sound alike, and the date cannot tell them apart (missing on one side), or
    # only the year differs (mistyped), or day and month are written the other way round, or
    # they live in one postcode district.
    'l.family_ph = r.family_ph AND l.given_ph = r.given_ph AND (l.dob_year IS NULL OR r.dob_year IS NULL '
    'OR (l.dob_month = r.dob_month AND l.dob_day = r.dob_day) OR (l.dob_month = r.dob_day AND l.dob_day = r.dob_month) '
    'OR l.pc_district = r.pc_district)',
    # The family name sounds alike, born in the same month, and the given initial agrees (a
    # nickname, another form or a typo), or the day cannot tell them apart, or one district.
    'l.family_ph = r.family_ph AND l.dob_ym = r.dob_ym AND (substr(l.given, 1, 1) = substr(r.given, 1, 1) '
    'OR l.dob_day IS NULL OR r.dob_day IS NULL OR l.pc_district = r.pc_district)',
    # ... or in the same year with the same given initial, where the month cannot tell them apart
    # or the day agrees.
    'l.family_ph = r.family_ph AND l.dob_year = r.dob_year AND substr(l.given, 1, 1) = substr(r.given, 1, 1) '
    'AND (l.dob_month IS NULL OR r.dob_month IS NULL OR l.dob_day = r.dob_day OR l.sex IS NULL OR r.sex IS NULL)',
    # Names swapped (also when the given names were several, or one of them is mistyped), in the
    # same year of birth or district (or the year is missing).
    'l.given_ph = r.family_ph AND l.family_ph = r.given_ph '
    'AND (l.dob_year IS NULL OR r.dob_year IS NULL OR l.dob_year = r.dob_year OR l.pc_district = r.pc_district)',
    'l.given = r.family_first AND l.family_first = r.given '
    'AND (l.dob_year IS NULL OR r.dob_year IS NULL OR l.dob_year = r.dob_year OR l.pc_district = r.pc_district)',
    # One household: the same address with the given or the family name, or the date of birth
    # (Kieran and Ciarán O'Brien at one address; a transliterated name with the same birthday).
    # Brothers and sisters at one address are scored too, at little cost (0.2 million pairs at a
    # million records; the twins level keeps them apart); at one postcode, the family name needs
    # the given initial as well. (Rules on one key are one rule with OR: each rule is a join of
    # the whole table, which costs a second or two at a million records.)
    'l.address = r.address AND (l.given_ph = r.given_ph OR l.family_ph = r.family_ph OR l.dob = r.dob)',
    'l.postcode = r.postcode AND (l.dob_year = r.dob_year OR l.given_ph = r.given_ph '
    'OR (l.family_ph = r.family_ph AND substr(l.given, 1, 1) = substr(r.given, 1, 1)))',
    'l.given_ph = r.given_ph AND l.dob_year = r.dob_year AND l.pc_district = r.pc_district',
    # The date of birth with one more field (not merged into one rule: a join on the date alone
    # makes some seventy million candidate pairs at a million records).
    'l.school = r.school AND l.dob = r.dob',
    'l.dob = r.dob AND l.pc_district = r.pc_district',
    'l.given_ph = r.given_ph AND l.dob = r.dob',
    'l.dob = r.dob AND l.family_first = r.family_first',
    # Names swapped, exactly, with the date of birth.
    'l.given = r.family_first AND l.dob = r.dob',
    'l.family_first = r.given AND l.dob = r.dob',
    # The same NHS number or pupil number, however everything else was recorded.
    'l.nhs = r.nhs',
    'l.upn = r.upn',
)
# The two rules of the first version, before they were narrowed above: their pairs grow with the
# square of the table (70 of 76 million pairs at a million records), but at FEBRL's or a local
# authority's size they are cheap and find a few more pairs whose date of birth was replaced
# wholesale (FEBRL 2's F1 0.925 without them, 0.928 with). Used up to BROAD_RULES_MAX_RECORDS.
BROAD_RULES_SQL: tuple[str, ...] = (
    'l.family_ph = r.family_ph AND l.given_ph = r.given_ph',
    'l.family_ph = r.family_ph AND l.dob_year = r.dob_year',
)
BROAD_RULES_MAX_RECORDS = 250_000


def blocking_rules_for(record_count: int) -> tuple[str, ...]:
    """The blocking rules for a table of `record_count` records (see BROAD_RULES_SQL)."""
    if record_count <= BROAD_RULES_MAX_RECORDS:
        return BLOCKING_RULES_SQL + BROAD_RULES_SQL
    return BLOCKING_RULES_SQL


# Pairs that agree on everything important: used to estimate how often two records match.
DETERMINISTIC_RULES_SQL: tuple[str, ...] = (
    'l.given = r.given AND l.family = r.family AND l.dob = r.dob',
)
DETERMINISTIC_RECALL = 0.6
# EM sessions: Splink estimates in each only the comparisons that use none of the columns it
# blocks on. The second names the parts of the date, not `dob`, because the given-name
# comparison's twins level reads `dob`: the session must still estimate the names.
EM_BLOCKING_RULES_SQL: tuple[str, ...] = (
    'l.family_ph = r.family_ph AND l.given_ph = r.given_ph',
    'l.dob_year = r.dob_year AND l.dob_month = r.dob_month AND l.dob_day = r.dob_day '
    'AND l.pc_district = r.pc_district',
)
# Tried in turn when a session's rule finds no pairs in the data.
EM_FALLBACK_RULES_SQL: dict[str, tuple[str, ...]] = {
    EM_BLOCKING_RULES_SQL[1]: (
        'l.dob_year = r.dob_year AND l.dob_month = r.dob_month AND l.dob_day = r.dob_day '
        'AND l.family_first = r.family_first',
        'l.dob_year = r.dob_year AND l.dob_month = r.dob_month AND l.dob_day = r.dob_day',
    ),
}


def _within_sql(x: str, y: str, k: int) -> str:
    """x and y at most k edits apart (Damerau-Levenshtein). DuckDB's Damerau-Levenshtein is
    eight times slower than its Levenshtein, and CASE evaluates lazily: Levenshtein is at most
    twice Damerau-Levenshtein, so the guard changes no answer and skips the slow function for
    all but near-identical strings."""
    return f"CASE WHEN levenshtein({x}, {y}) <= {2 * k} THEN damerau_levenshtein({x}, {y}) <= {k} ELSE FALSE END"


def _level_sql(level: LevelSpec, dialect: str) -> str:
    """The SQL condition of a level that is not missing or else, for `dialect`."""
    a = level.args
    if level.kind == "exact":
        return f"{a[0]}_l = {a[0]}_r"
    if level.kind == "dl":
        col, k = a
        return _within_sql(f"{col}_l", f"{col}_r", k)
    if level.kind == "overlap":
        function = "arrays_overlap" if dialect == "spark" else "list_has_any"
        return f"{function}({a[0]}_l, {a[0]}_r)"
    if level.kind == "pairs":
        return " AND ".join(f'{x}_l = {y}_r' for x, y in a)
    if level.kind == "absent":  # a null level over several columns: none is on both records
        return " AND ".join(f"({c}_l IS NULL OR {c}_r IS NULL)" for c in a)
    if level.kind == "twins":
        family, family_ph, dob, *identifiers = a
        alike = _level_sql(LevelSpec("", "dl", (family, 1)), dialect)
        unlike = "".join(f" AND NOT coalesce({c}_l = {c}_r, FALSE)" for c in identifiers)
        return f"{dob}_l = {dob}_r AND ({family_ph}_l = {family_ph}_r OR {alike}){unlike}"
    if level.kind == "swap_near":
        g, f, gph, fph = a

        def like(name: str, code: str, x: str, other: str, other_code: str, y: str) -> str:
            return (f"({name}_{x} = {other}_{y} OR {code}_{x} = {other_code}_{y} "
                    f"OR {_within_sql(f'{name}_{x}', f'{other}_{y}', 1)})")

        def near_way(x: str, y: str) -> str:
            return (f"({like(g, gph, x, f, fph, y)} AND ({like(f, fph, x, g, gph, y)} "
                    f"OR substr({f}_{x}, 1, 1) = substr({g}_{y}, 1, 1)))")
        return f"({near_way('l', 'r')} OR {near_way('r', 'l')})"
    if level.kind == "swap":
        g, f, first = a

        def one_way(x: str, y: str) -> str:
            return (f"(({g}_{x} = {f}_{y} OR {g}_{x} = {first}_{y}) "
                    f"AND ({f}_{x} = {g}_{y} OR {first}_{x} = {g}_{y}))")
        return f"({one_way('l', 'r')} OR {one_way('r', 'l')})"
    if level.kind == "partial":
        eq, unknown = a
        return f'{eq}_l = {eq}_r AND ({unknown}_l IS NULL OR {unknown}_r IS NULL)'
    if level.kind == "initial":  # one side is a single letter, the other starts with it
        c = a[0]
        return (f"(length({c}_l) = 1 OR length({c}_r) = 1) "
                f"AND substr({c}_l, 1, 1) = substr({c}_r, 1, 1)")
    if level.kind == "apart":
        c, years = a
        return f"abs({c}_l - {c}_r) >= {int(years)}"
    raise ValueError(f"unknown level kind {level.kind!r}")  # pragma: no cover


def splink_comparisons(dialect: str = "duckdb") -> list[Any]:
    """Splink CustomComparisons built from COMPARISONS, with SQL for `dialect`."""
    import splink.comparison_level_library as cll
    import splink.comparison_library as cl

    comparisons = []
    for spec in COMPARISONS:
        levels = []
        for level in spec.levels:
            if level.kind == "null":
                creator = cll.NullLevel(level.args[0])
            elif level.kind == "absent":
                creator = cll.CustomLevel(_level_sql(level, dialect)).configure(is_null_level=True)
            elif level.kind == "else":
                creator = cll.ElseLevel()
            else:
                creator = cll.CustomLevel(_level_sql(level, dialect))
            creator.configure(label_for_charts=level.label)
            if level.tf is not None:
                creator.configure(tf_adjustment_column=level.tf, tf_adjustment_weight=1.0,
                                  disable_tf_exact_match_detection=True)
            if level.fixed is not None:
                creator.configure(m_probability=level.fixed[0], u_probability=level.fixed[1],
                                  fix_m_probability=True, fix_u_probability=True)
            levels.append(creator)
        comparisons.append(cl.CustomComparison(
            comparison_levels=levels, output_column_name=spec.name, comparison_description=spec.field
        ))
    return comparisons


def _blocking_rule(sql: str, dialect: str = "duckdb") -> Any:
    from splink.blocking_rule_library import CustomRule

    return CustomRule(sql, sql_dialect=dialect)


def splink_settings(*, blocking_rules: Sequence[str] = BLOCKING_RULES_SQL, dialect: str = "duckdb") -> Any:
    """Splink's SettingsCreator for deduplicating identity records."""
    from splink import SettingsCreator

    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=splink_comparisons(dialect),
        blocking_rules_to_generate_predictions=[_blocking_rule(sql, dialect) for sql in blocking_rules],
        retain_intermediate_calculation_columns=False,
        retain_matching_columns=False,
    )


@dataclass(frozen=True)
class LevelWeight:
    label: str
    kind: str
    args: tuple[Any, ...]
    weight: float  # log2(m / u); 0 for a missing value
    m: float | None
    u: float | None
    tf: str | None = None  # the column whose term frequency adjusts this level's weight


@dataclass(frozen=True)
class ComparisonWeights:
    name: str
    field: str
    levels: tuple[LevelWeight, ...]


@dataclass(frozen=True)
class Weights:
    """Everything needed to score a pair as Splink does: the prior and each level's weight."""

    prior: float  # log2 of the prior odds that two random records match
    comparisons: tuple[ComparisonWeights, ...]


def _probability(value: Any) -> float | None:
    if value == LEVEL_NOT_OBSERVED_TEXT:
        return 1e-6
    return None if value is None else float(value)


def weights_from_settings(settings: dict[str, Any]) -> Weights:
    """The match weights Splink would use, read from its saved settings."""
    by_name = {c["output_column_name"]: c for c in settings["comparisons"]}
    comparisons = []
    for spec in COMPARISONS:
        saved = by_name.get(spec.name)
        if saved is None or len(saved["comparison_levels"]) != len(spec.levels):
            raise ValueError(
                f"The saved model's {spec.name!r} comparison does not match this version's "
                "design; retrain the model."
            )
        levels = []
        for level, saved_level in zip(spec.levels, saved["comparison_levels"], strict=True):
            if saved_level.get("is_null_level"):
                levels.append(LevelWeight(level.label, level.kind, level.args, 0.0, None, None))
                continue
            m = _probability(saved_level.get("m_probability"))
            u = _probability(saved_level.get("u_probability"))
            if m is None or u is None:
                raise ValueError(f"The model is not trained: {spec.name!r} level {level.label!r}.")
            weight = math.log2(max(m, 1e-300) / max(u, 1e-300))
            tf = saved_level.get("tf_adjustment_column")
            if tf is not None and float(saved_level.get("tf_adjustment_weight", 1.0)) != 1.0:
                raise ValueError(f"{spec.name!r} level {level.label!r}: only a full term-frequency "
                                 "adjustment is supported")
            levels.append(LevelWeight(level.label, level.kind, level.args, weight, m, u, tf))
        comparisons.append(ComparisonWeights(spec.name, spec.field, tuple(levels)))
    p = float(settings["probability_two_random_records_match"])
    return Weights(prior=math.log2(p / (1 - p)), comparisons=tuple(comparisons))


def _versions() -> dict[str, str]:
    import duckdb
    import splink

    return {"splink": splink.__version__, "duckdb": duckdb.__version__,
            "python": platform.python_version()}


@dataclass
class LinkageModel:
    """A trained model: Splink's settings with m and u, when and on how many records it was trained."""

    settings: dict[str, Any]
    trained_at: str
    record_count: int
    versions: dict[str, str] = field(default_factory=dict)
    training: dict[str, Any] = field(default_factory=dict)
    # Per term-frequency column: how many training records had a value, and the count of each
    # value shared by at least TF_MIN_COUNT of them (see LevelSpec.tf). Empty: no adjustment.
    term_frequencies: dict[str, dict[str, Any]] = field(default_factory=dict)
    _weights: Weights | None = field(default=None, repr=False, compare=False)

    @property
    def weights(self) -> Weights:
        if self._weights is None:
            self._weights = weights_from_settings(self.settings)
        return self._weights

    def term_frequency(self, column: str, value: Any) -> float | None:
        """How often `value` occurred in `column` among the training records, if it was common."""
        saved = self.term_frequencies.get(column)
        count = saved["counts"].get(value) if saved and value is not None else None
        return count / saved["total"] if count else None

    def term_frequency_table(self, column: str) -> Any:
        """The frequencies of `column` as Splink's lookup table (`column`, `tf_<column>`)."""
        import pyarrow as pa

        saved = self.term_frequencies.get(column) or {"total": 1, "counts": {}}
        values = list(saved["counts"])
        return pa.table({column: pa.array(values, pa.string()),
                         f"tf_{column}": pa.array([saved["counts"][v] / saved["total"] for v in values],
                                                  pa.float64())})

    def prediction_settings(self, blocking_rules: Sequence[str], dialect: str = "duckdb") -> dict[str, Any]:
        """Splink settings to predict with: the trained parameters, this version's blocking rules,
        and each term-frequency level's u as its least value (an adjustment only lowers it)."""
        settings = json.loads(json.dumps(self.settings))
        settings["blocking_rules_to_generate_predictions"] = [
            {"blocking_rule": sql, "sql_dialect": dialect} for sql in blocking_rules
        ]
        for comparison in settings["comparisons"]:
            for level in comparison["comparison_levels"]:
                if level.get("tf_adjustment_column"):
                    level["tf_minimum_u_value"] = _probability(level.get("u_probability"))
        return settings

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": "casetrail-linkage-model",
            "format_version": FORMAT_VERSION,
            "trained_at": self.trained_at,
            "record_count": self.record_count,
            "versions": self.versions,
            "training": self.training,
            "splink_settings": self.settings,
            "term_frequencies": self.term_frequencies,
        }

    def save(self, path: str | Path) -> Path:
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.as_dict(), indent=1, sort_keys=False), encoding="utf-8")
        tmp.replace(path)  # a reader never sees half a model
        return path

    @classmethod
    def load(cls, path: str | Path) -> LinkageModel:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if data.get("format") != "casetrail-linkage-model":
            raise ValueError(f"{path} is not a Casetrail linkage model")
        model = cls(
            settings=data["splink_settings"], trained_at=data["trained_at"],
            record_count=int(data["record_count"]), versions=data.get("versions", {}),
            training=data.get("training", {}), term_frequencies=data.get("term_frequencies", {}),
        )
        model.weights  # noqa: B018 - fail on load, not at the first intake
        return model


def duckdb_temp_directory() -> str:
    """Where DuckDB spills what does not fit in memory: $CASETRAIL_LINKAGE_TEMP, or a directory
    in the system's temporary directory."""
    import os
    import tempfile

    path = os.environ.get("CASETRAIL_LINKAGE_TEMP") or os.path.join(tempfile.gettempdir(), "casetrail-duckdb")
    return path.replace("'", "")


def _duckdb_api(connection: Any = None, *, memory_limit: str | None = None, threads: int | None = None) -> Any:
    import duckdb
    from splink import DuckDBAPI

    con = connection if connection is not None else duckdb.connect()
    if connection is None:  # DuckDB spills to ./.tmp by default: never into the working directory
        con.execute(f"SET temp_directory = '{duckdb_temp_directory()}'")
    if memory_limit:
        con.execute(f"SET memory_limit = '{memory_limit}'")
    if threads:
        con.execute(f"SET threads = {int(threads)}")
    con.execute("SET preserve_insertion_order = false")
    return DuckDBAPI(con)


def _as_normalised(table: Any, progress: Progress | None) -> Any:
    """A normalised Arrow table from a population table, a normalised table or identities."""
    from casetrail.people.linkage.records import COLUMNS, normalise_table

    if hasattr(table, "column_names") and set(COLUMNS) <= set(table.column_names):
        return table.select(list(COLUMNS))
    return normalise_table(table, progress=(lambda i: progress("normalise", 0.0)) if progress else None)


@contextmanager
def _em_underflow_guard() -> Iterator[None]:
    """Splink 5.0's EM can drive a level's m to exactly 0.0 (a level no match in the sample
    falls into) and then rejects its own value; we record such a level as not observed instead,
    and `_floor_weights` then keeps its weight sensible."""
    import splink.internals.expectation_maximisation as em

    original = em.populate_m_u_from_lookup

    def guarded(fixed: Any, level: Any, name: str, lookup: dict[str, dict[int, Any]]) -> None:
        record = lookup.get(name, {}).get(level.comparison_vector_value)
        if record is not None:
            for key in ("m_probability", "u_probability"):
                value = record.get(key)
                if value is not None and value < 1e-300:
                    record[key] = LEVEL_NOT_OBSERVED_TEXT
        original(fixed, level, name, lookup)

    em.populate_m_u_from_lookup = guarded
    try:
        yield
    finally:
        em.populate_m_u_from_lookup = original


def _condition_school(settings: dict[str, Any], data: Any) -> None:
    """Weigh one school within one postcode district by what it adds to the district: its u
    becomes the share of pairs of records in one district (both naming a school) that name the
    same school, counted over the whole table; its m is the school's m anywhere."""
    import pyarrow.compute as pc

    known = data.select(["school", "pc_district"]).filter(
        pc.and_(pc.is_valid(data.column("school")), pc.is_valid(data.column("pc_district"))))

    def pairs(keys: list[str]) -> int:
        counts = known.group_by(keys).aggregate([([], "count_all")]).column("count_all").to_numpy()
        return int((counts * (counts - 1) // 2).sum())

    in_district, same_school = pairs(["pc_district"]), pairs(["pc_district", "school"])
    school = next(c for c in settings["comparisons"] if c["output_column_name"] == "school")
    in_one, anywhere = school["comparison_levels"][1:3]
    m_in, m_anywhere = _probability(in_one.get("m_probability")), _probability(anywhere.get("m_probability"))
    if not in_district or not same_school or m_in is None or m_anywhere is None:
        return  # nothing to condition on: the level keeps what EM learnt
    # m: how often a person's records name one school at all (EM's two levels together), a little
    # less than within one district, so the weight errs low.
    in_one["m_probability"] = min(1.0, m_in + m_anywhere)
    in_one["u_probability"] = same_school / in_district


def _identifier_u(settings: dict[str, Any], data: Any) -> None:
    """u of "same NHS number" and "same UPN", counted over the whole table: random sampling
    never draws two records with one number. The share of the pairs that compare identifiers
    (both records carry one of a kind) that share the number; true pairs included, so u errs
    high and the weight low."""
    import pyarrow.compute as pc

    def pairs(n: Any) -> int:
        return int(n) * (int(n) - 1) // 2

    present = {c: pc.is_valid(data.column(c)) for c in ("nhs", "upn")}
    compared = (pairs(pc.sum(present["nhs"]).as_py() or 0) + pairs(pc.sum(present["upn"]).as_py() or 0)
                - pairs(pc.sum(pc.and_(present["nhs"], present["upn"])).as_py() or 0))
    if compared <= 0:
        return  # nothing to compare: the levels keep what training gave them
    spec = next(c for c in COMPARISONS if c.name == "identifier")
    comparison = next(c for c in settings["comparisons"] if c["output_column_name"] == spec.name)
    for design, level in zip(spec.levels, comparison["comparison_levels"], strict=True):
        if design.kind != "exact":
            continue
        column = design.args[0]
        counts = pc.value_counts(pc.drop_null(data.column(column))).field("counts").to_numpy()
        shared = int((counts * (counts - 1) // 2).sum())
        level["u_probability"] = max(shared, 1) / compared


def _floor_weights(settings: dict[str, Any], m_floor: float = M_FLOOR) -> list[str]:
    """Regularise what EM learnt from a sample. No level's m falls below `m_floor` (EM drives
    the m of a level no sampled match fell into towards zero, which would make it a veto), and
    agreeing in part is never weaker evidence than disagreeing: a level whose weight is below
    its comparison's "different" level is raised to it. The change is made to m in Splink's own
    settings, so Splink and the index still agree."""
    raised = []
    for comparison in settings["comparisons"]:
        else_level = comparison["comparison_levels"][-1]  # "different", trained or set by design
        levels = [lv for lv in comparison["comparison_levels"]
                  if not lv.get("is_null_level") and not lv.get("fix_m_probability")]
        if not levels:
            continue
        for level in levels:
            m = _probability(level.get("m_probability"))
            if m is not None and m < m_floor:
                level["m_probability"] = m_floor
        if levels[-1] is not else_level:
            levels.append(else_level)
        m_else, u_else = _probability(else_level.get("m_probability")), _probability(else_level.get("u_probability"))
        if not m_else or not u_else:  # nothing learnt about disagreeing: untrained levels weigh 0
            for level in levels:
                if level.get("m_probability") is None or level.get("u_probability") is None:
                    level["m_probability"], level["u_probability"] = 1.0, 1.0
                    raised.append(f"{comparison['output_column_name']}: {level.get('label_for_charts')}")
            continue
        floor = math.log2(m_else / u_else)
        for level in levels[:-1]:
            m, u = _probability(level.get("m_probability")), _probability(level.get("u_probability"))
            if m is None or u is None:  # never observed in any sample: weigh it as "different"
                level["m_probability"], level["u_probability"] = m_else, u_else
                raised.append(f"{comparison['output_column_name']}: {level.get('label_for_charts')}")
                continue
            if math.log2(max(m, 1e-300) / max(u, 1e-300)) < floor:
                level["m_probability"] = min(1.0, u * m_else / u_else)
                raised.append(f"{comparison['output_column_name']}: {level.get('label_for_charts')}")
    return raised


def _lift_vetoes(settings: dict[str, Any]) -> None:
    """Give each veto level the m and u of its comparison's "different" level."""
    for comparison in settings["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"] if not lv.get("is_null_level")]
        else_level = levels[-1]
        for level in levels[:-1]:
            if level.get("fix_m_probability") and level.get("m_probability") == VETO[0]:
                level["m_probability"] = else_level.get("m_probability")
                level["u_probability"] = else_level.get("u_probability")


def train_model(
    table: Any,
    *,
    seed: int = 0,
    max_pairs: float = 2e6,
    u_max_pairs: float = 1e7,
    memory_limit: str | None = "3GB",
    threads: int | None = None,
    progress: Progress | None = None,
    vetoes: bool = True,
) -> LinkageModel:
    """Train on the data itself: u by random sampling, m by EM on bounded samples of blocked pairs.

    `table` is a population table (see population.py), an already normalised table, or an
    iterable of Identity. `max_pairs` bounds each EM session (never unbounded: at a million
    records unsampled EM exhausts memory and disk). `vetoes=False` weighs the levels set by
    design to forbid a link (twins, another generation: see VETO) as their comparison's
    "different" level: only for data known to hold neither, such as the FEBRL benchmark.
    """
    import logging

    from splink import Linker

    if not max_pairs or max_pairs <= 0:
        raise ValueError("max_pairs must be a positive number; unbounded EM is refused")
    report = progress or (lambda stage, done: None)
    started = time.perf_counter()
    timings: dict[str, float] = {}

    report("normalise", 0.0)
    data = _as_normalised(table, progress)
    timings["normalise_s"] = time.perf_counter() - started
    if data.num_rows < 2:
        raise ValueError("Training needs at least two records")

    db_api = _duckdb_api(memory_limit=memory_limit, threads=threads)
    sdf = db_api.register(data, table_name="__casetrail_people")
    linker = Linker(sdf, splink_settings(), log_level=logging.WARNING)

    step = time.perf_counter()
    report("prior", 0.1)
    linker.training.estimate_probability_two_random_records_match(
        [_blocking_rule(sql) for sql in DETERMINISTIC_RULES_SQL], recall=DETERMINISTIC_RECALL
    )
    timings["prior_s"] = time.perf_counter() - step

    step = time.perf_counter()
    report("u", 0.2)
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    timings["u_s"] = time.perf_counter() - step

    from splink.internals.exceptions import EMTrainingException

    # Splink 5.0 leaves the prior at the blocking-adjusted value of an EM session that fails
    # for want of pairs (1.8e-10 instead of 8e-5 on FEBRL 2, which then lost two thirds of its
    # true pairs): EM here never changes the prior, so it is put back after every session.
    prior = linker._settings_obj._probability_two_random_records_match
    skipped = []
    for i, rules in enumerate(EM_BLOCKING_RULES_SQL):
        step = time.perf_counter()
        report(f"em {i + 1}/{len(EM_BLOCKING_RULES_SQL)}", 0.4 + 0.5 * i / len(EM_BLOCKING_RULES_SQL))
        for sql in (rules, *EM_FALLBACK_RULES_SQL.get(rules, ())):
            # Splink 5.0's session takes the comparisons it cannot train out of the linker's own
            # settings and puts them back only when it succeeds: a failed session lost them (a
            # model trained without postcodes had no date of birth, postcode or school).
            before = linker._settings_obj.core_model_settings.copy()
            try:
                with _em_underflow_guard():
                    linker.training.estimate_parameters_using_expectation_maximisation(
                        _blocking_rule(sql), max_pairs=max_pairs, estimate_without_term_frequencies=True
                    )
                break
            except EMTrainingException:  # no pairs in this data (no postcodes, say)
                linker._settings_obj.core_model_settings = before
                skipped.append(sql)
            finally:
                linker._settings_obj._probability_two_random_records_match = prior
        timings[f"em_{i + 1}_s"] = time.perf_counter() - step

    settings = linker.misc.save_model_to_json(overwrite=True)
    _condition_school(settings, data)
    _identifier_u(settings, data)
    raised = _floor_weights(settings)
    if not vetoes:
        _lift_vetoes(settings)
    report("done", 1.0)
    timings["total_s"] = time.perf_counter() - started
    return LinkageModel(
        settings=settings,
        trained_at=datetime.now(UTC).isoformat(timespec="seconds"),
        record_count=int(data.num_rows),
        versions=_versions(),
        term_frequencies=count_term_frequencies(data),
        training={"seed": seed, "max_pairs": max_pairs, "u_max_pairs": u_max_pairs, "vetoes": vetoes,
                  "em_blocking_rules": list(EM_BLOCKING_RULES_SQL), "timings": timings,
                  "levels_raised_to_different": raised, "em_rules_without_pairs": skipped},
    )


def retrain(table: Any, path: str | Path, **kwargs: Any) -> LinkageModel:
    """Train on `table` and save the model to `path` (what the `linkage_train` command runs)."""
    model = train_model(table, **kwargs)
    model.save(path)
    return model


def _record_count(data: Any) -> int:
    count = getattr(data, "num_rows", None)
    if count is None:
        count = len(data) if hasattr(data, "__len__") else BROAD_RULES_MAX_RECORDS + 1
    return int(count)


def linker_for(model: LinkageModel, data: Any, *, db_api: Any = None, table_name: str = "__casetrail_people") -> Any:
    """A Splink Linker over normalised `data` (Arrow table) with the model's parameters."""
    import logging

    from splink import Linker

    db_api = db_api or _duckdb_api()
    sdf = db_api.register(data, table_name=table_name)
    # Blocking rules are not trained: a model saved by an earlier version predicts with this
    # version's rules, chosen for the size of the table.
    linker = Linker(sdf, model.prediction_settings(blocking_rules_for(_record_count(data))), log_level=logging.WARNING)
    register_term_frequencies(linker, db_api, model)
    return linker


def register_term_frequencies(linker: Any, db_api: Any, model: LinkageModel, *, convert: Any = None) -> None:
    """Give Splink the model's saved frequencies, so it never counts them in the data it links
    (an empty table where the model saved none: no adjustment). `convert` turns an Arrow table
    into what `db_api` registers (a Spark DataFrame, say)."""
    for column in _tf_columns():
        table = model.term_frequency_table(column)
        frame = convert(table) if convert else table
        lookup = db_api.register(frame, table_name=f"__casetrail_tf_{column}")
        linker.table_management.register_term_frequency_lookup(lookup, column)


def _tf_columns() -> list[str]:
    return sorted({level.tf for spec in COMPARISONS for level in spec.levels if level.tf is not None})


def count_term_frequencies(data: Any, *, min_count: int = TF_MIN_COUNT,
                           min_records: int = TF_MIN_RECORDS) -> dict[str, dict[str, Any]]:
    """The values of each term-frequency column shared by at least `min_count` of the normalised
    records, with their counts; nothing when there are fewer than `min_records` records."""
    import pyarrow.compute as pc

    if data.num_rows < min_records:
        return {}
    found: dict[str, dict[str, Any]] = {}
    for column in _tf_columns():
        values = data.column(column)
        counted = pc.value_counts(pc.drop_null(values))
        keys, counts = counted.field("values").to_pylist(), counted.field("counts").to_pylist()
        found[column] = {"total": int(len(values) - values.null_count), "min_count": min_count,
                         "counts": {k: int(c) for k, c in zip(keys, counts, strict=True) if c >= min_count}}
    return found
