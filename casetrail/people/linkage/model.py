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
    kind: str  # null | exact | dl | overlap | pairs | swap | partial | initial | apart | else
    args: tuple[Any, ...] = ()
    fixed: tuple[float, float] | None = None  # (m, u) set by design, not trained
    # Term-frequency adjustment (exact levels only): agreeing on a rare value weighs more than on
    # a common one. Splink adds log2(u of the level) - log2(the value's frequency in the data
    # being linked), and so does the index, counting its own records. No shipped level uses it:
    # measured on names at a million records it moved recall at precision 0.98 from 0.966 to
    # 0.969 but lowered the best F1, and frequencies counted in a small index (a new deployment,
    # a handful of referrals) make every name "common" and sink exact agreement by ten bits.
    # Frequencies saved with the model from its training data would avoid that; not done.
    tf: str | None = None


@dataclass(frozen=True)
class ComparisonSpec:
    name: str  # Splink's output column name
    field: str  # the human name shown with the evidence
    levels: tuple[LevelSpec, ...]


def _swapped(*, fixed: tuple[float, float] | None = None) -> LevelSpec:
    # One record's given name is the other's family name (or its first part), and the other
    # way round at least the initials agree: "Rahul Tejas | Rana" and "Rana | Rahul Tejas",
    # "Nikhil | PARMAR" and "Parmar | Nik". Symmetric, like every level.
    return LevelSpec("given and family names swapped", "swap", ("given", "family", "family_first"), fixed=fixed)


# Two levels are set by design because no unsupervised estimate can see them: random pairs
# (which give u) almost never share a family name and birth date, so twins, and a father and
# son of the same name at one address, look like one person on every other field. Merging two
# people is the dangerous mistake here, so these differences all but forbid a link (about -32
# bits); a worker who knows better links the records by hand.
# -32 bits, not -40 as before: since postcode and address count once together (see below), a
# twin at the brother's address and school scores just under even (p about 0.2 with the shipped
# model), so intake still puts the brother to the officer, while the batch dedupe's thresholds
# (0.5 and above) never link them.
VETO = (2e-10, 1.0)
# A swap is counted once, under family name; the given-name level only names it.
NEUTRAL = (0.5, 0.5)


COMPARISONS: tuple[ComparisonSpec, ...] = (
    ComparisonSpec("given_name", "Given name", (
        LevelSpec("missing", "null", ("given",)),
        LevelSpec("exact", "exact", ("given",)),
        _swapped(fixed=NEUTRAL),
        LevelSpec("nickname or spelling variant", "overlap", ("given_groups",)),
        LevelSpec("one letter different", "dl", ("given", 1)),
        LevelSpec("phonetic match", "exact", ("given_ph",)),
        LevelSpec("another recorded given name agrees", "overlap", ("given_all",)),
        LevelSpec("initial only, and it agrees", "initial", ("given",)),
        LevelSpec("two letters different", "dl", ("given", 2)),
        LevelSpec("different, with the same family name and date of birth (twins?)", "pairs",
                  (("family", "family"), ("dob", "dob")), fixed=VETO),
        LevelSpec("different", "else"),
    )),
    ComparisonSpec("family_name", "Family name", (
        LevelSpec("missing", "null", ("family",)),
        LevelSpec("exact", "exact", ("family",)),
        _swapped(),
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
    ComparisonSpec("postcode", "Postcode", (
        LevelSpec("missing", "null", ("pc_district",)),
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
    ComparisonSpec("school", "School or workplace", (
        LevelSpec("missing", "null", ("school",)),
        LevelSpec("exact", "exact", ("school",)),
        LevelSpec("different", "else", fixed=NEUTRAL),
    )),
    ComparisonSpec("sex", "Sex", (
        LevelSpec("missing", "null", ("sex",)),
        LevelSpec("exact", "exact", ("sex",)),
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
    # only the year differs (mistyped), or they live in one postcode district.
    'l.family_ph = r.family_ph AND l.given_ph = r.given_ph AND (l.dob_year IS NULL OR r.dob_year IS NULL '
    'OR (l.dob_month = r.dob_month AND l.dob_day = r.dob_day) OR l.pc_district = r.pc_district)',
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
    # One household: the same address or postcode with the given name, or with the family name
    # and given initial. Not postcode or address with the family name alone: brothers and
    # sisters at one address would be scored. (Rules on one key are one rule with OR: each rule
    # is a join of the whole table, which costs a second or two at a million records.)
    'l.address = r.address AND (l.given_ph = r.given_ph '
    'OR (l.family_ph = r.family_ph AND substr(l.given, 1, 1) = substr(r.given, 1, 1)))',
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


def _level_sql(level: LevelSpec, dialect: str) -> str:
    """The SQL condition of a level that is not missing or else, for `dialect`."""
    a = level.args
    if level.kind == "exact":
        return f"{a[0]}_l = {a[0]}_r"
    if level.kind == "dl":
        # DuckDB's Damerau-Levenshtein is eight times slower than its Levenshtein, and CASE
        # evaluates lazily: Levenshtein is at most twice Damerau-Levenshtein, so the guard
        # changes no answer and skips the slow function for all but near-identical strings.
        col, k = a
        return (f'CASE WHEN levenshtein({col}_l, {col}_r) <= {2 * k} '
                f'THEN damerau_levenshtein({col}_l, {col}_r) <= {k} ELSE FALSE END')
    if level.kind == "overlap":
        function = "arrays_overlap" if dialect == "spark" else "list_has_any"
        return f"{function}({a[0]}_l, {a[0]}_r)"
    if level.kind == "pairs":
        return " AND ".join(f'{x}_l = {y}_r' for x, y in a)
    if level.kind == "swap":
        g, f, first = a

        def one_way(x: str, y: str) -> str:
            return (f"(({g}_{x} = {f}_{y} OR {g}_{x} = {first}_{y}) "
                    f"AND substr({f}_{x}, 1, 1) = substr({g}_{y}, 1, 1))")
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
            elif level.kind == "else":
                creator = cll.ElseLevel()
            else:
                creator = cll.CustomLevel(_level_sql(level, dialect))
            creator.configure(label_for_charts=level.label)
            if level.tf is not None:
                creator.configure(tf_adjustment_column=level.tf, tf_adjustment_weight=1.0)
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
    _weights: Weights | None = field(default=None, repr=False, compare=False)

    @property
    def weights(self) -> Weights:
        if self._weights is None:
            self._weights = weights_from_settings(self.settings)
        return self._weights

    def as_dict(self) -> dict[str, Any]:
        return {
            "format": "casetrail-linkage-model",
            "format_version": FORMAT_VERSION,
            "trained_at": self.trained_at,
            "record_count": self.record_count,
            "versions": self.versions,
            "training": self.training,
            "splink_settings": self.settings,
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
            training=data.get("training", {}),
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


def _floor_weights(settings: dict[str, Any], m_floor: float = M_FLOOR) -> list[str]:
    """Regularise what EM learnt from a sample. No level's m falls below `m_floor` (EM drives
    the m of a level no sampled match fell into towards zero, which would make it a veto), and
    agreeing in part is never weaker evidence than disagreeing: a level whose weight is below
    its comparison's "different" level is raised to it. The change is made to m in Splink's own
    settings, so Splink and the index still agree."""
    raised = []
    for comparison in settings["comparisons"]:
        levels = [lv for lv in comparison["comparison_levels"]
                  if not lv.get("is_null_level") and not lv.get("fix_m_probability")]
        if not levels:
            continue
        for level in levels:
            m = _probability(level.get("m_probability"))
            if m is not None and m < m_floor:
                level["m_probability"] = m_floor
        else_level = levels[-1]
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
            try:
                with _em_underflow_guard():
                    linker.training.estimate_parameters_using_expectation_maximisation(
                        _blocking_rule(sql), max_pairs=max_pairs, estimate_without_term_frequencies=True
                    )
                break
            except EMTrainingException:  # no pairs in this data (no postcodes, say)
                skipped.append(sql)
            finally:
                linker._settings_obj._probability_two_random_records_match = prior
        timings[f"em_{i + 1}_s"] = time.perf_counter() - step

    settings = linker.misc.save_model_to_json(overwrite=True)
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
    settings = json.loads(json.dumps(model.settings))
    # Blocking rules are not trained: a model saved by an earlier version predicts with this
    # version's rules, chosen for the size of the table.
    settings["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": sql, "sql_dialect": "duckdb"} for sql in blocking_rules_for(_record_count(data))
    ]
    return Linker(sdf, settings, log_level=logging.WARNING)
