"""Synthetic person populations with known true identities, to train and measure person linkage.

Issue 4: the Southport learning review found three referrals of one boy handled as if they
were about different people, partly because his surname was misspelt on the later ones. The
linkage engine (casetrail.people.linkage) is trained unsupervised and measured on what this
module makes: people drawn from the UK's naming traditions, each referred one or more times,
every referral a noisy copy of who they are (typos, swapped name order, transliterations,
nicknames, dropped or reordered surname parts, partial or mistyped dates, moves), among hard
negatives (twins, siblings, a father and son of the same name, strangers who share a common
name). Every record carries its true identity in `person_key`, which matching must never use.

Nothing here is real: names come from the pools in casetrail.people.population_names, places
and postcode areas are invented, and full names that would point at real, widely reported
people are never produced. No Django import: benchmarks and the demo use it as plain Python.

The generator is vectorised with numpy and pyarrow and returns a pyarrow Table: a million
records took 6.8 s and 1.0 GB peak RSS (1.2 GB with the truth table) on a 2-core machine.
"""

from __future__ import annotations

import csv
import random
from collections.abc import Callable
from dataclasses import dataclass, fields
from functools import cache
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from tqdm import tqdm

from casetrail.people import population_names as names

LINKAGE_DATA = Path(__file__).resolve().parent / "linkage_data"

# The record schema shared with the linkage engine. `person_key` is the truth; never match on it.
SCHEMA = pa.schema([
    pa.field("record_id", pa.string(), nullable=False),
    pa.field("person_key", pa.string(), nullable=False),
    pa.field("given_names", pa.string(), nullable=False),
    pa.field("family_name", pa.string(), nullable=False),
    pa.field("other_names", pa.string(), nullable=False),    # aliases separated by ';', may be ''
    pa.field("date_of_birth", pa.string(), nullable=False),  # 'YYYY-MM-DD', 'YYYY-MM', 'YYYY' or ''
    pa.field("sex", pa.string(), nullable=False),            # 'male', 'female' or ''
    pa.field("postcode", pa.string(), nullable=False),       # synthetic UK-format postcode, may be ''
    pa.field("address", pa.string(), nullable=False),
    pa.field("school", pa.string(), nullable=False),         # may be ''
    pa.field("nhs_number", pa.string(), nullable=False),     # 10 digits, synthetic 999 range, may be ''
    pa.field("upn", pa.string(), nullable=False),            # Unique Pupil Number, 13 characters, may be ''
    pa.field("referred_on", pa.string(), nullable=False),    # ISO date
])
COLUMNS: tuple[str, ...] = tuple(SCHEMA.names)
MATCHING_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c not in ("record_id", "person_key", "referred_on"))

# The same as casetrail.core.referrals.POSTCODE (the referral form's rule), repeated so that
# this module stays free of the core's imports.
POSTCODE_PATTERN = r"^[A-Z]{1,2}[0-9][0-9A-Z]? ?[0-9][A-Z]{2}$"

DEFAULT_DUPLICATE_RATE = 0.2


@dataclass(frozen=True)
class PopulationConfig:
    """Who is in a synthetic population and how often each kind of recording error happens.

    Rates marked "of records" apply to every record. Rates marked "where possible" apply
    only to records where the error can happen at all (a nickname needs a name that has one;
    swapping day and month needs a day of 12 or less that differs from the month); the
    truth table marks the other records None for that error.

    The defaults aim at realistic referral data: most records are clean or carry one error,
    a true pair of records usually still agrees on enough to be linked, and a few are very
    hard. They are judgement, not measurement; no public source gives these rates. They were
    set so that the linkage targets (recall 0.99 at precision 0.98) are within reach but not
    easy: a supervised classifier on simple pair features, an upper bound for unsupervised
    linkage, reached pairwise F1 0.990 and recall 0.991 at precision 0.98 on 40,000 records.
    """

    # --- who is in the population ---
    # Among people referred more than once: relative weights of 1, 2, 3, 4 extra referrals.
    # (Southport: three referrals of the same boy.) `duplicate_rate` sets how many there are.
    extra_referral_weights: tuple[float, ...] = (0.76, 0.18, 0.045, 0.015)
    twin_rate: float = 0.005              # people created as the twin of another person
    sibling_rate: float = 0.015           # ... as a brother or sister (1 to 6 years apart)
    parent_namesake_rate: float = 0.002   # ... as a father with his son's full name and address
    common_name_rate: float = 0.005       # people given one of names.COMMON_FULL_NAMES
    middle_name_rate: float = 0.25        # people with a second given name (Somali: father's name, 0.6)
    double_barrelled_rate: float = 0.3    # people of mixed heritage whose surname joins both families'
    alias_rate: float = 0.04              # people known by another name (a nickname, another surname)
    english_alias_rate: float = 0.3       # people of Chinese or Vietnamese heritage using an English name
    family_name_change_rate: float = 0.01  # people referred more than once whose surname changes between
    male_share: float = 0.9               # about 90% of people referred are male
    older_share: float = 0.06             # adults of 26 to 45 at first referral; the rest follow AGE_WEIGHTS
    first_day: str = "2016-01-01"         # referrals fall between these days
    last_day: str = "2025-12-31"
    mean_days_between_referrals: float = 300.0
    move_rate: float = 0.1                # of later referrals: the person moved since the one before
    move_within_town_share: float = 0.7   # of moves: same town; the rest go to another town

    # --- errors on each record ---
    given_typo_rate: float = 0.03          # of records: one keyboard, OCR, phonetic or edit error
    family_typo_rate: float = 0.04         # of records: the same in the family name
    given_initial_rate: float = 0.005      # of records: only the first initial of the given name
    name_swap_rate: float = 0.02           # of records: given and family names recorded the other way round
    nickname_rate: float = 0.1             # where possible: a nickname (William -> Bill, Mohammed -> Mo)
    transliteration_rate: float = 0.15     # where possible, for given and family names separately
    multi_part_variant_rate: float = 0.3   # where possible: Okafor-Smith -> Smith, Van der Berg -> Vanderberg
    middle_name_dropped_rate: float = 0.4  # where possible: the second given name left off
    case_variant_rate: float = 0.05        # of records: surname in capitals, or the whole name in lower case
    alias_recorded_rate: float = 0.6       # where possible: the alias is in other_names
    dob_missing_rate: float = 0.01         # of records (the date-of-birth errors exclude each other)
    dob_year_only_rate: float = 0.008      # of records: 'YYYY'
    dob_year_month_rate: float = 0.008     # of records: 'YYYY-MM'
    dob_day_month_swap_rate: float = 0.02  # where possible: 2009-04-07 -> 2009-07-04
    dob_digit_typo_rate: float = 0.015     # of records: one digit wrong, still a valid date
    sex_missing_rate: float = 0.02         # of records
    sex_wrong_rate: float = 0.002          # of records
    postcode_missing_rate: float = 0.04    # of records (the postcode errors exclude each other)
    postcode_typo_rate: float = 0.02       # of records: one character wrong, still a valid format
    postcode_unspaced_rate: float = 0.02   # of records: 'NS34AB'
    address_missing_rate: float = 0.03     # of records (the address errors exclude each other)
    address_reformatted_rate: float = 0.1  # of records: 'Rd' for 'Road', no town, lower case, no flat
    address_typo_rate: float = 0.02        # of records
    school_missing_rate: float = 0.25      # where possible (people of school or college age)
    school_reformatted_rate: float = 0.05  # where possible
    # Identifiers: recorded only where the referrer knows them (a GP or hospital the NHS number,
    # a school the pupil number); every person has an NHS number, people of school age a UPN.
    nhs_number_recorded_rate: float = 0.12  # of records
    upn_recorded_rate: float = 0.3          # of records of people of school or college age
    identifier_wrong_rate: float = 0.005    # where one is recorded: another person's (a brother's, a slip)

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.name.endswith(("_rate", "_share")) and not 0.0 <= value <= 1.0:
                raise ValueError(f"{f.name} must be between 0 and 1, not {value}")
        groups = ((self.dob_missing_rate, self.dob_year_only_rate, self.dob_year_month_rate,
                   self.dob_day_month_swap_rate, self.dob_digit_typo_rate),
                  (self.postcode_missing_rate, self.postcode_typo_rate, self.postcode_unspaced_rate),
                  (self.address_missing_rate, self.address_reformatted_rate, self.address_typo_rate),
                  (self.given_typo_rate, self.given_initial_rate),
                  (self.nickname_rate, self.transliteration_rate),
                  (self.multi_part_variant_rate, self.transliteration_rate),
                  (self.school_missing_rate, self.school_reformatted_rate),
                  (self.sex_missing_rate, self.sex_wrong_rate))
        if any(sum(group) > 1.0 for group in groups):
            raise ValueError("Rates of errors that exclude each other must add up to 1 or less")
        if not self.extra_referral_weights or min(self.extra_referral_weights) < 0:
            raise ValueError("extra_referral_weights needs at least one weight, none negative")

    @classmethod
    def without_errors(cls) -> PopulationConfig:
        """Every record exactly as the person is (the population's structure is unchanged)."""
        error_rates = {f.name: 0.0 for f in fields(cls) if f.name.endswith("_rate")
                       and f.name.split("_rate")[0] in _ERROR_RATE_FIELDS}
        return cls(**error_rates)


# Each error type the truth table flags, with the config rate that drives it.
ERROR_TYPES: dict[str, str] = {
    "given_typo": "given_typo_rate",
    "family_typo": "family_typo_rate",
    "given_initial_only": "given_initial_rate",
    "name_order_swapped": "name_swap_rate",
    "nickname_used": "nickname_rate",
    "given_transliterated": "transliteration_rate",
    "family_transliterated": "transliteration_rate",
    "family_multi_part_varied": "multi_part_variant_rate",
    "middle_name_dropped": "middle_name_dropped_rate",
    "name_case_changed": "case_variant_rate",
    "alias_recorded": "alias_recorded_rate",
    "dob_missing": "dob_missing_rate",
    "dob_year_only": "dob_year_only_rate",
    "dob_year_month": "dob_year_month_rate",
    "dob_day_month_swapped": "dob_day_month_swap_rate",
    "dob_digit_typo": "dob_digit_typo_rate",
    "sex_missing": "sex_missing_rate",
    "sex_wrong": "sex_wrong_rate",
    "postcode_missing": "postcode_missing_rate",
    "postcode_typo": "postcode_typo_rate",
    "postcode_unspaced": "postcode_unspaced_rate",
    "address_missing": "address_missing_rate",
    "address_reformatted": "address_reformatted_rate",
    "address_typo": "address_typo_rate",
    "school_missing": "school_missing_rate",
    "school_reformatted": "school_reformatted_rate",
    "identifier_wrong": "identifier_wrong_rate",
    "moved": "move_rate",
}
_ERROR_RATE_FIELDS = frozenset(rate.removesuffix("_rate") for name, rate in ERROR_TYPES.items() if name != "moved")

RELATIONS = ("", "common_name", "twin", "sibling", "parent_namesake")


@dataclass(frozen=True)
class Population:
    """Records in the shared schema, and per record the truth behind them.

    `truth` has the record_id and person_key; relation ('', 'common_name', 'twin', 'sibling',
    'parent_namesake'; set on the person created as the relative) and related_person_key;
    the person's tradition and the clean values the record would carry without errors
    (true_given_names, true_family_name, true_date_of_birth, true_postcode, true_address);
    and one nullable boolean column per entry of ERROR_TYPES: True where that error was made,
    False where it could have been and was not, None where it could not happen.
    """

    records: pa.Table
    truth: pa.Table


# --------------------------------------------------------------------------- variant tables


@cache
def nicknames() -> dict[str, tuple[str, ...]]:
    """Formal given name -> the nicknames and short forms it is recorded as (nicknames.csv)."""
    table: dict[str, list[str]] = {}
    with (LINKAGE_DATA / "nicknames.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            table.setdefault(row["name"], []).append(row["variant"])
    return {name: tuple(variants) for name, variants in table.items()}


@cache
def transliteration_groups() -> dict[str, tuple[str, ...]]:
    """Group id -> the spellings of one name in Latin letters (transliterations.csv)."""
    groups: dict[str, list[str]] = {}
    with (LINKAGE_DATA / "transliterations.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            groups.setdefault(row["group_id"], []).append(row["variant"])
    return {group: tuple(variants) for group, variants in groups.items()}


@cache
def transliterations() -> dict[str, tuple[str, ...]]:
    """Spelling -> the other spellings of the same name."""
    other: dict[str, tuple[str, ...]] = {}
    for variants in transliteration_groups().values():
        for variant in variants:
            other[variant] = tuple(v for v in variants if v != variant)
    return other


def _same_given_name(a: str, b: str) -> bool:
    """The same name, another spelling of it, or a nickname of it (or sharing a nickname)."""
    if a == b or b in transliterations().get(a, ()):
        return True
    nick = nicknames()
    a_forms = {a, *nick.get(a, ())}
    b_forms = {b, *nick.get(b, ())}
    return bool(a_forms & b_forms)


# --------------------------------------------------------------------------- typing errors

_KEYBOARD_ROWS = ("qwertyuiop", "asdfghjkl", "zxcvbnm")


def _keyboard_neighbours() -> dict[str, str]:
    where = {c: (r, i) for r, row in enumerate(_KEYBOARD_ROWS) for i, c in enumerate(row)}
    near: dict[str, str] = {}
    for c, (r, i) in where.items():
        found = []
        for dr, di in ((0, -1), (0, 1), (-1, 0), (-1, 1), (1, -1), (1, 0)):
            rr, ii = r + dr, i + di
            if 0 <= rr < 3 and 0 <= ii < len(_KEYBOARD_ROWS[rr]):
                found.append(_KEYBOARD_ROWS[rr][ii])
        near[c] = "".join(found)
    return near


KEYBOARD_NEIGHBOURS = _keyboard_neighbours()
# Misreadings of handwriting and scanned forms, both ways round.
OCR_CONFUSIONS: tuple[tuple[str, str], ...] = (
    ("rn", "m"), ("m", "rn"), ("cl", "d"), ("d", "cl"), ("vv", "w"), ("w", "vv"), ("li", "h"), ("h", "li"),
    ("e", "c"), ("c", "e"), ("a", "o"), ("o", "a"), ("u", "v"), ("v", "u"), ("i", "l"), ("l", "i"),
    ("n", "h"), ("h", "n"), ("g", "q"), ("b", "h"), ("u", "a"),
)
# Spelling by sound: what someone writes down when a name is said to them.
PHONETIC_SWAPS: tuple[tuple[str, str], ...] = (
    ("ph", "f"), ("f", "ph"), ("ck", "k"), ("c", "k"), ("k", "c"), ("ee", "ea"), ("ea", "ee"), ("ie", "y"),
    ("y", "ie"), ("ou", "u"), ("z", "s"), ("s", "z"), ("th", "t"), ("ei", "ie"), ("ie", "ei"), ("son", "sen"),
    ("ey", "y"), ("y", "ey"), ("ah", "a"), ("oo", "u"), ("u", "oo"), ("i", "y"), ("y", "i"), ("sh", "ch"),
    ("ch", "sh"), ("q", "k"), ("v", "w"), ("w", "v"), ("j", "y"), ("kh", "k"), ("gh", "g"), ("a", "e"),
    ("e", "a"), ("i", "e"), ("o", "u"), ("ll", "l"), ("l", "ll"), ("nn", "n"), ("n", "nn"), ("tt", "t"),
    ("t", "tt"), ("rr", "r"), ("r", "rr"), ("ss", "s"), ("s", "ss"), ("mm", "m"), ("dd", "d"),
)
TYPO_KINDS: tuple[str, ...] = ("keyboard", "deletion", "insertion", "transposition", "ocr", "phonetic")
_TYPO_WEIGHTS = (0.22, 0.18, 0.12, 0.14, 0.12, 0.22)


def _match_case(original: str, replacement: str) -> str:
    return replacement.upper() if original.isupper() else replacement


def _substitute(name: str, rules: tuple[tuple[str, str], ...], rnd: random.Random) -> str:
    lower = name.lower()
    options = [(at, old, new) for old, new in rules for at in _starts(lower, old)]
    if not options:
        return name
    at, old, new = rnd.choice(options)
    new = (new[0].upper() + new[1:]) if name[at].isupper() else new
    return name[:at] + new + name[at + len(old):]


def _starts(text: str, part: str) -> list[int]:
    found, at = [], text.find(part)
    while at != -1:
        found.append(at)
        at = text.find(part, at + 1)
    return found


def typo(name: str, rnd: random.Random, kind: str | None = None) -> str:
    """One recording error in a name: a keyboard slip, a dropped, doubled or swapped letter,
    a misread letter (OCR) or a spelling by sound. Returns the name unchanged only when no
    error of that kind fits it."""
    letters = [i for i, c in enumerate(name) if c.isalpha()]
    if len(letters) < 2:
        return name
    kind = kind or rnd.choices(TYPO_KINDS, weights=_TYPO_WEIGHTS)[0]
    for _ in range(6):
        i = rnd.choice(letters[1:] if kind in ("deletion", "keyboard") else letters)
        c = name[i]
        if kind == "keyboard":
            near = KEYBOARD_NEIGHBOURS.get(c.lower(), "")
            result = name[:i] + _match_case(c, rnd.choice(near)) + name[i + 1:] if near else name
        elif kind == "deletion":
            result = name[:i] + name[i + 1:]
        elif kind == "insertion":
            extra = c.lower() if rnd.random() < 0.6 else rnd.choice(KEYBOARD_NEIGHBOURS.get(c.lower(), c.lower()))
            result = name[:i + 1] + extra + name[i + 1:]
        elif kind == "transposition":
            pairs = [k for k in letters if k + 1 < len(name) and name[k + 1].isalpha() and name[k + 1] != name[k]]
            result = name
            if pairs:
                i = rnd.choice(pairs)
                a, b = name[i], name[i + 1]
                if i == 0:
                    a, b = a.lower(), b.upper()
                result = name[:i] + b + a + name[i + 2:]
        elif kind == "ocr":
            result = _substitute(name, OCR_CONFUSIONS, rnd)
        else:
            result = _substitute(name, PHONETIC_SWAPS, rnd)
        if result != name and result.strip():
            return result
        kind = rnd.choices(TYPO_KINDS, weights=_TYPO_WEIGHTS)[0]
    return name


# --------------------------------------------------------------------------- surname parts

_PARTICLES = ("van der ", "van den ", "van ", "de ", "da ", "dos ", "du ", "le ", "la ", "di ", "von ")


@cache
def multi_part_variants(name: str) -> tuple[str, ...]:
    """How a surname of several parts gets recorded: parts dropped, reordered, run together."""
    variants: list[str] = []
    lower = name.lower()
    if "-" in name and not lower.startswith(("al-", "el-")):
        first, second = name.split("-", 1)
        # Dropping a part is the commonest, so it appears twice.
        variants += [second, second, first, first, f"{first} {second}", f"{second}-{first}", f"{first}{second.lower()}"]
    elif lower.startswith(("al-", "el-", "al ", "el ")):
        rest = name[3:]
        other = "El" if lower.startswith("al") else "Al"
        variants += [rest, rest, f"{name[:2]} {rest}", f"{name[:2]}{rest.lower()}", f"{other}-{rest}"]
    elif lower.startswith(_PARTICLES):
        particle = next(p for p in _PARTICLES if lower.startswith(p))
        head, rest = name[:len(particle) - 1], name[len(particle):]
        variants += [rest, head.replace(" ", "") + rest.lower(), head.title() + " " + rest,
                     head.lower() + " " + rest, head.replace(" ", "") + rest]
    elif name.startswith(("O'", "D'")):
        rest = name[2:]
        variants += [name[0] + rest, f"{name[0]} {rest}", name[0] + rest.lower()]
        if name.startswith("D'"):
            variants.append(f"De {rest}")
    elif len(name) > 3 and name.startswith(("Mc", "Mac")) and name[2 if name[1] == "c" and name[2].isupper() else 3:][:1].isupper():
        cut = 2 if name.startswith("Mc") else 3
        variants += [f"{name[:cut]} {name[cut:]}", name[:cut] + name[cut:].lower()]
    elif " " in name:
        parts = name.split(" ")
        variants += [parts[-1], parts[0], "".join(parts[:1] + [p.lower() for p in parts[1:]]), "-".join(parts)]
    return tuple(v for v in variants if v and v != name)


# --------------------------------------------------------------------------- vocabularies


def _zipf(count: int, exponent: float) -> np.ndarray:
    weights = 1.0 / np.arange(1, count + 1, dtype=np.float64) ** exponent
    return weights / weights.sum()


_FEMININE_ENDINGS = (("ski", "ska"), ("cki", "cka"), ("dzki", "dzka"), ("ov", "ova"), ("ev", "eva"), ("in", "ina"))
_FEMININE_TRADITIONS = {"polish": ("ski", "cki", "dzki"), "ukrainian_russian": ("ov", "ev", "in")}


def _feminine(family: str, tradition: str) -> str:
    for ending, feminine in _FEMININE_ENDINGS:
        if ending in _FEMININE_TRADITIONS.get(tradition, ()) and family.endswith(ending):
            return family[: -len(ending)] + feminine
    return family


@dataclass(frozen=True)
class _Vocab:
    traditions: tuple[str, ...]          # index = tradition code; the last is "mixed"
    tradition_p: np.ndarray
    given: np.ndarray                    # object array of given names
    given_pools: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]  # (tradition, sex) -> (ids, p)
    family: np.ndarray                   # object array of family names (with feminine forms)
    family_pools: dict[int, tuple[np.ndarray, np.ndarray]]
    feminine: np.ndarray                 # family id -> id of its feminine form for a tradition (by tradition)
    kaur: int
    singh: int


@cache
def _vocab() -> _Vocab:
    traditions = tuple(t for t in names.TRADITION_WEIGHTS if t != "mixed") + ("mixed",)
    weights = np.array([names.TRADITION_WEIGHTS[t] for t in traditions], dtype=np.float64)
    given_ids: dict[str, int] = {}
    family_ids: dict[str, int] = {}
    given_pools: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]] = {}
    family_pools: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    for code, tradition in enumerate(traditions[:-1]):
        pools = names.TRADITIONS[tradition]
        for sex_code, sex in enumerate(names.SEXES):
            ids = np.array([given_ids.setdefault(n, len(given_ids)) for n in pools[sex]], dtype=np.int32)
            given_pools[(code, sex_code)] = (ids, _zipf(len(ids), 0.5 if len(ids) > 60 else 0.4))
        family = tuple(dict.fromkeys(pools["family"] + (names.COMPOUND_SURNAMES if tradition == "white_british" else ())))
        ids = np.array([family_ids.setdefault(n, len(family_ids)) for n in family], dtype=np.int32)
        family_pools[code] = (ids, _zipf(len(ids), 0.6 if tradition in names.CONCENTRATED_SURNAMES else 0.4))
    for sex in names.SEXES:
        for alias in names.ENGLISH_ALIASES[sex]:
            given_ids.setdefault(alias, len(given_ids))
    # Feminine forms (only Polish and East Slavic surnames change), per tradition.
    forms = {(code, name): _feminine(name, tradition) for code, tradition in enumerate(traditions[:-1])
             for name in list(family_ids)}
    for form in forms.values():
        family_ids.setdefault(form, len(family_ids))
    kaur, singh = family_ids.setdefault("Kaur", len(family_ids)), family_ids["Singh"]
    feminine = np.tile(np.arange(len(family_ids), dtype=np.int32), (len(traditions), 1))
    for (code, name), form in forms.items():
        feminine[code, family_ids[name]] = family_ids[form]
    return _Vocab(traditions=traditions, tradition_p=weights / weights.sum(),
                  given=np.array(list(given_ids), dtype=object), given_pools=given_pools,
                  family=np.array(list(family_ids), dtype=object), family_pools=family_pools, feminine=feminine,
                  kaur=kaur, singh=singh)


@dataclass(frozen=True)
class _Places:
    town: np.ndarray        # object array of town names
    outward: np.ndarray     # object array of outward codes, per town ('NS3')
    area_of_town: np.ndarray
    towns_of_area: list[np.ndarray]
    area_p: np.ndarray
    street: np.ndarray      # object array of street names ('Mill')
    kind: np.ndarray        # object array of street kinds ('Road')
    inward: np.ndarray      # object array of the 4,000 inward codes ('4AB')
    school: np.ndarray      # per town x slot: object array of secondary school names
    primary: np.ndarray     # per town
    college: np.ndarray     # per town


SCHOOLS_PER_TOWN = 4


@cache
def _places() -> _Places:
    towns, outward, area_of_town, towns_of_area = [], [], [], []
    for a, (code, (_, area_towns)) in enumerate(names.AREAS.items()):
        towns_of_area.append(np.arange(len(towns), len(towns) + len(area_towns)))
        for district, town in enumerate(area_towns, start=1):
            towns.append(town)
            outward.append(f"{code}{district}")
            area_of_town.append(a)
    area_p = np.array([names.AREA_WEIGHTS[code] for code in names.AREAS], dtype=np.float64)
    rnd = random.Random("casetrail-schools")
    schools = []
    for town in towns:
        forms = rnd.sample(names.SCHOOL_FORMS, SCHOOLS_PER_TOWN)
        schools.append([form.format(town=town, saint=rnd.choice(names.SAINTS)) for form in forms])
    colleges = [rnd.choice(names.COLLEGE_FORMS).format(town=town) for town in towns]
    primaries = [f"{town} Primary School" for town in towns]
    letters = names.INWARD_LETTERS
    inward = [f"{d}{a}{b}" for d in range(10) for a in letters for b in letters]
    return _Places(town=np.array(towns, dtype=object), outward=np.array(outward, dtype=object),
                   area_of_town=np.array(area_of_town), towns_of_area=towns_of_area, area_p=area_p / area_p.sum(),
                   street=np.array(names.STREET_NAMES, dtype=object), kind=np.array(names.STREET_KINDS, dtype=object),
                   inward=np.array(inward, dtype=object), school=np.array(schools, dtype=object),
                   primary=np.array(primaries, dtype=object), college=np.array(colleges, dtype=object))


# --------------------------------------------------------------------------- people


@dataclass
class _People:
    """One row per person (numpy arrays); the truth every record of theirs is a copy of."""

    given_tradition: np.ndarray
    family_tradition: np.ndarray
    male: np.ndarray
    given: np.ndarray        # given id
    middle: np.ndarray       # given id or -1
    family_root: np.ndarray  # family id (masculine form)
    family_second: np.ndarray  # family id of a double-barrelled surname's second part, or -1
    kaur: np.ndarray         # a Sikh woman recorded with Kaur as her surname
    dob: np.ndarray          # datetime64[D]
    town: np.ndarray
    street: np.ndarray
    kind: np.ndarray
    house: np.ndarray
    flat: np.ndarray         # 0 = none
    school_slot: np.ndarray
    relation: np.ndarray     # index into RELATIONS
    related: np.ndarray      # person index or -1
    first_day: np.ndarray    # datetime64[D], the first referral (before spreading repeats)


def _draw_from_pools(rng: np.random.Generator, traditions: np.ndarray, male: np.ndarray,
                     pools: dict[tuple[int, int], tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
    out = np.empty(len(traditions), dtype=np.int32)
    for (tradition, sex_code), (ids, p) in pools.items():
        where = np.flatnonzero((traditions == tradition) & (male == (sex_code == 0)))
        if len(where):
            out[where] = rng.choice(ids, size=len(where), p=p)
    return out


def _draw_family(rng: np.random.Generator, traditions: np.ndarray, vocab: _Vocab) -> np.ndarray:
    out = np.empty(len(traditions), dtype=np.int32)
    for tradition, (ids, p) in vocab.family_pools.items():
        where = np.flatnonzero(traditions == tradition)
        if len(where):
            out[where] = rng.choice(ids, size=len(where), p=p)
    return out


def _ages(rng: np.random.Generator, count: int, config: PopulationConfig) -> np.ndarray:
    ages = np.array(list(names.AGE_WEIGHTS), dtype=np.int64)
    p = np.array(list(names.AGE_WEIGHTS.values()), dtype=np.float64)
    drawn = rng.choice(ages, size=count, p=p / p.sum())
    older = rng.random(count) < config.older_share
    drawn[older] = rng.integers(26, 46, size=int(older.sum()))
    return drawn


def _days(years: np.ndarray) -> np.ndarray:
    return np.round(years * 365.25).astype("timedelta64[D]")


def _new_homes(rng: np.random.Generator, count: int, places: _Places,
               towns: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    if towns is None:
        areas = rng.choice(len(places.area_p), size=count, p=places.area_p)
        sizes = np.array([len(t) for t in places.towns_of_area])
        starts = np.array([t[0] for t in places.towns_of_area])
        towns = starts[areas] + (rng.random(count) * sizes[areas]).astype(np.int64)
    street = rng.integers(0, len(places.street), size=count)
    kind = rng.integers(0, len(places.kind), size=count)
    house = np.minimum(rng.geometric(1 / 45, size=count), 400)
    flat = np.where(rng.random(count) < 0.15, rng.integers(1, 25, size=count), 0)
    return towns, street, kind, house, flat


def _make_people(rng: np.random.Generator, n_people: int, config: PopulationConfig, vocab: _Vocab,
                 places: _Places, start: np.datetime64, end: np.datetime64) -> _People:
    wanted = [round(n_people * rate) for rate in (config.twin_rate, config.sibling_rate, config.parent_namesake_rate)]
    if sum(wanted) > n_people // 2:  # relatives need someone to be related to
        wanted = [int(w * (n_people // 2) / sum(wanted)) for w in wanted]
    n_twin, n_sibling, n_parent = wanted
    n_base = n_people - sum(wanted)
    mixed = len(vocab.traditions) - 1

    # Base people: heritage, sex, names, birth, home.
    tradition = rng.choice(len(vocab.traditions), size=n_base, p=vocab.tradition_p)
    given_t, family_t = tradition.copy(), tradition.copy()
    is_mixed = np.flatnonzero(tradition == mixed)
    pair_codes = np.array([[vocab.traditions.index(a), vocab.traditions.index(b)] for a, b in names.MIXED_PAIRS])
    pairs = pair_codes[rng.integers(0, len(pair_codes), size=len(is_mixed))]
    given_t[is_mixed], family_t[is_mixed] = pairs[:, 0], pairs[:, 1]
    male = rng.random(n_base) < config.male_share
    given = _draw_from_pools(rng, given_t, male, vocab.given_pools)
    family = _draw_family(rng, family_t, vocab)
    second = np.full(n_base, -1, dtype=np.int32)
    barrelled = is_mixed[rng.random(len(is_mixed)) < config.double_barrelled_rate]
    # Okafor-Smith: the other parent's surname, from the given-name side of the heritage.
    second[barrelled] = family[barrelled]
    family[barrelled] = _draw_family(rng, given_t[barrelled], vocab)
    first_day = start + rng.integers(0, int((end - start).astype(np.int64)) + 1, size=n_base).astype("timedelta64[D]")
    dob = first_day - _days(_ages(rng, n_base, config)) - rng.integers(0, 365, size=n_base).astype("timedelta64[D]")
    town, street, kind, house, flat = _new_homes(rng, n_base, places)
    relation = np.zeros(n_base, dtype=np.int8)
    related = np.full(n_base, -1, dtype=np.int64)

    # Strangers who share a very common full name.
    n_common = min(round(n_people * config.common_name_rate), n_base)
    common = rng.choice(n_base, size=n_common, replace=False)
    choice = rng.integers(0, len(names.COMMON_FULL_NAMES), size=n_common)
    given_index = {name: i for i, name in enumerate(vocab.given)}
    family_index = {name: i for i, name in enumerate(vocab.family)}
    for row, c in zip(common, choice, strict=True):
        g, f, sex, t = names.COMMON_FULL_NAMES[c]
        given[row], family[row], second[row] = given_index[g], family_index[f], -1
        male[row] = sex == "male"
        given_t[row] = family_t[row] = vocab.traditions.index(t)
    relation[common] = RELATIONS.index("common_name")

    # Relatives, each of a different base person where there are enough.
    n_rel = n_twin + n_sibling + n_parent
    replace = n_rel > n_base
    of_twin = rng.choice(n_base, size=n_twin, replace=replace)
    of_sibling = rng.choice(n_base, size=n_sibling, replace=replace)
    males = np.flatnonzero(male)
    of_parent = rng.choice(males, size=n_parent, replace=n_parent > len(males)) if len(males) else \
        rng.choice(n_base, size=n_parent)
    base_of = np.concatenate([of_twin, of_sibling, of_parent])
    kinds = np.concatenate([np.full(n_twin, RELATIONS.index("twin")), np.full(n_sibling, RELATIONS.index("sibling")),
                            np.full(n_parent, RELATIONS.index("parent_namesake"))]).astype(np.int8)
    r_male = male[base_of].copy()
    flip = rng.random(n_twin + n_sibling) < np.where(np.arange(n_twin + n_sibling) < n_twin, 1 / 3, 0.5)
    r_male[: n_twin + n_sibling] ^= flip
    r_given_t = given_t[base_of]
    r_given = _draw_from_pools(rng, r_given_t, r_male, vocab.given_pools)
    for _ in range(20):  # brothers and sisters have different given names, not two spellings of one
        base_given = given[base_of]
        same = np.flatnonzero([kind != RELATIONS.index("parent_namesake") and _same_given_name(a, b)
                               for a, b, kind in zip(vocab.given[r_given], vocab.given[base_given], kinds,
                                                     strict=True)])
        if not len(same):
            break
        r_given[same] = _draw_from_pools(rng, r_given_t[same], r_male[same], vocab.given_pools)
    parent = kinds == RELATIONS.index("parent_namesake")
    r_given[parent] = given[base_of[parent]]
    r_dob = dob[base_of].copy()
    sib = kinds == RELATIONS.index("sibling")
    gap = rng.integers(300, 6 * 365, size=int(sib.sum())) * rng.choice([-1, 1], size=int(sib.sum()))
    too_young = r_dob[sib] + gap.astype("timedelta64[D]") > end - _days(np.array(10.0))
    gap[too_young] = -np.abs(gap[too_young])  # a sibling old enough to be referred in the period
    r_dob[sib] = r_dob[sib] + gap.astype("timedelta64[D]")
    r_dob[parent] = r_dob[parent] - rng.integers(20 * 365, 40 * 365, size=int(parent.sum())).astype("timedelta64[D]")
    r_first = r_dob + _days(_ages(rng, n_rel, config)) + rng.integers(0, 365, size=n_rel).astype("timedelta64[D]")
    r_first[parent] = start + rng.integers(0, int((end - start).astype(np.int64)) + 1,
                                           size=int(parent.sum())).astype("timedelta64[D]")

    def join(a: np.ndarray, b: np.ndarray) -> np.ndarray:
        return np.concatenate([a, b])

    people = _People(
        given_tradition=join(given_t, r_given_t), family_tradition=join(family_t, family_t[base_of]),
        male=join(male, r_male), given=join(given, r_given), middle=np.full(n_people, -1, dtype=np.int32),
        family_root=join(family, family[base_of]), family_second=join(second, second[base_of]),
        kaur=np.zeros(n_people, dtype=bool), dob=join(dob, r_dob), town=join(town, town[base_of]),
        street=join(street, street[base_of]), kind=join(kind, kind[base_of]), house=join(house, house[base_of]),
        flat=join(flat, flat[base_of]), school_slot=np.zeros(n_people, dtype=np.int64),
        relation=join(relation, kinds), related=join(related, base_of), first_day=join(first_day, r_first),
    )
    slots = rng.integers(0, SCHOOLS_PER_TOWN, size=n_base)
    people.school_slot = join(slots, slots[base_of])

    # Second given names (a Somali second name is the father's name).
    somali = vocab.traditions.index("somali")
    has_middle = rng.random(n_people) < np.where(people.given_tradition == somali, 0.6, config.middle_name_rate)
    has_middle &= people.relation != RELATIONS.index("parent_namesake")
    rows = np.flatnonzero(has_middle)
    middle_male = people.male[rows] | (people.given_tradition[rows] == somali)
    middle = _draw_from_pools(rng, people.given_tradition[rows], middle_male, vocab.given_pools)
    keep = middle != people.given[rows]
    people.middle[rows[keep]] = middle[keep]

    # Sikh women are often recorded as Kaur (and always instead of Singh).
    sikh = vocab.traditions.index("sikh")
    women = np.flatnonzero(~people.male & (people.family_tradition == sikh))
    people.kaur[women] = (people.family_root[women] == vocab.singh) | (rng.random(len(women)) < 0.6)
    return people


def _family_surface(people: _People, vocab: _Vocab) -> np.ndarray:
    """Each person's family name as written: feminine forms, Kaur, double-barrelled."""
    feminine = vocab.feminine[people.family_tradition, people.family_root]
    ids = np.where(people.male, people.family_root, feminine)
    ids = np.where(people.kaur, vocab.kaur, ids)
    surface = vocab.family[ids]
    two = np.flatnonzero(people.family_second >= 0)
    if len(two):
        second = vocab.family[people.family_second[two]]
        surface[two] = [f"{a}-{b}" for a, b in zip(surface[two], second, strict=True)]
    return surface


_AVOID_TOKENS = frozenset(token for name in names.AVOID_FULL_NAMES for token in name.split(" "))


def _is_avoided(full_name: str) -> bool:
    tokens = full_name.lower().split(" ")
    avoid = names.AVOID_FULL_NAMES
    return (" ".join(tokens) in avoid or " ".join(tokens[::-1]) in avoid
            or (len(tokens) > 2 and (f"{tokens[0]} {tokens[-1]}" in avoid or f"{tokens[-1]} {tokens[0]}" in avoid)))


def _avoided_rows(given: np.ndarray, family: np.ndarray) -> np.ndarray:
    """Rows whose full name, in either order, is one of names.AVOID_FULL_NAMES."""
    tokens = pa.array(sorted(_AVOID_TOKENS), pa.string())
    family_in = pc.is_in(pc.utf8_lower(_text(family)), value_set=tokens)
    first = pc.list_element(pc.utf8_split_whitespace(pc.utf8_lower(_text(given))), 0)
    given_in = pc.is_in(first, value_set=tokens)
    maybe = np.flatnonzero(pc.and_(family_in, given_in).to_numpy(zero_copy_only=False))
    return maybe[[_is_avoided(f"{given[i]} {family[i]}") for i in maybe]] if len(maybe) else maybe


# --------------------------------------------------------------------------- records


def _spread_counts(rng: np.random.Generator, n_people: int, n_records: int, config: PopulationConfig) -> np.ndarray:
    counts = np.ones(n_people, dtype=np.int64)
    extra = n_records - n_people
    if extra <= 0:
        return counts
    weights = np.asarray(config.extra_referral_weights, dtype=np.float64)
    values = np.arange(1, len(weights) + 1)
    mean = float((values * weights).sum() / weights.sum())
    batch = rng.choice(values, size=int(extra / mean * 1.3) + 16, p=weights / weights.sum())
    total = np.cumsum(batch)
    take = batch[total <= extra]
    rest = extra - int(take.sum())
    if rest:
        take = np.append(take, rest)
    if len(take) <= n_people:
        counts[rng.choice(n_people, size=len(take), replace=False)] += take
    else:
        np.add.at(counts, rng.integers(0, n_people, size=extra), 1)
    return counts


def _iso(days: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(days.astype("datetime64[D]")), pa.string())


def _text(values: np.ndarray) -> pa.Array:
    return pa.array(values, pa.string())


def _lookup(vocabulary: np.ndarray, ids: np.ndarray) -> pa.Array:
    return _text(vocabulary).take(pa.array(ids))


def _join(*parts: pa.Array | str, sep: str = "") -> pa.Array:
    return pc.binary_join_element_wise(*parts, sep)


def _keys(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    return _join(prefix, pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), width, "0"))


def _hash_inward(town: np.ndarray, street: np.ndarray, kind: np.ndarray, house: np.ndarray, seed: int) -> np.ndarray:
    """Neighbours share a postcode: one per town, street and block of about 30 houses."""
    with np.errstate(over="ignore"):
        h = (town.astype(np.uint64) * np.uint64(1_000_003) + street.astype(np.uint64) * np.uint64(7919)
             + kind.astype(np.uint64) * np.uint64(131) + (house // 30).astype(np.uint64)
             + np.uint64(seed & 0xFFFF) * np.uint64(0x9E3779B9))
        h ^= h >> np.uint64(33)
        h *= np.uint64(0xFF51AFD7ED558CCD)
        h ^= h >> np.uint64(33)
    return (h % np.uint64(4000)).astype(np.int64)


class _Flags:
    """Nullable boolean error flags per record: -1 could not happen, 0 did not, 1 did."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.values: dict[str, np.ndarray] = {}

    def set(self, name: str, happened: np.ndarray, possible: np.ndarray | None = None) -> None:
        flag = happened.astype(np.int8)
        if possible is not None:
            flag[~possible] = -1
        self.values[name] = flag

    def array(self, name: str, order: np.ndarray) -> pa.Array:
        flag = self.values[name][order]
        return pa.array(flag == 1, mask=flag == -1)


def _replace(values: pa.Array, rows: np.ndarray, new: list[str] | str) -> pa.Array:
    """The values with those rows (ascending) replaced."""
    if not len(rows):
        return values
    mask = np.zeros(len(values), dtype=bool)
    mask[rows] = True
    replacements = [new] * len(rows) if isinstance(new, str) else new
    return pc.replace_with_mask(values, pa.array(mask), pa.array(replacements, pa.string()))


def _change(values: pa.Array, rows: np.ndarray, change: Callable[[str], str]) -> tuple[pa.Array, np.ndarray]:
    """Apply a string change to some rows (ascending) of an Arrow column; also which really changed."""
    did = np.zeros(len(values), dtype=bool)
    if not len(rows):
        return values, did
    before = values.take(pa.array(rows)).to_pylist()
    after = [change(v) for v in before]
    did[rows] = [a != b for a, b in zip(before, after, strict=True)]
    return _replace(values, rows, after), did


def _apply(values: np.ndarray, rows: np.ndarray, change: Callable[[str], str]) -> np.ndarray:
    """Apply a string change to the given rows; returns which of them really changed."""
    if not len(rows):
        return np.zeros(0, dtype=bool)
    before = values[rows]
    after = np.array([change(v) for v in before], dtype=object)
    values[rows] = after
    return before != after


def _generate(n_records: int, seed: int, duplicate_rate: float, config: PopulationConfig,
              with_truth: bool) -> Population:
    if n_records < 1:
        raise ValueError("n_records must be at least 1")
    if not 0.0 <= duplicate_rate < 1.0:
        raise ValueError("duplicate_rate must be at least 0 and less than 1")
    rng = np.random.default_rng(seed)
    rnd = random.Random(int(rng.integers(0, 2**63)))
    vocab, places = _vocab(), _places()
    start, end = np.datetime64(config.first_day, "D"), np.datetime64(config.last_day, "D")
    if end < start:
        raise ValueError("last_day must not be before first_day")
    progress = tqdm(total=8, desc="population", unit="step", disable=True if n_records < 200_000 else None)

    n_people = min(max(round(n_records * (1 - duplicate_rate)), 1), n_records)
    people = _make_people(rng, n_people, config, vocab, places, start, end)
    family_of_person = _family_surface(people, vocab)
    # Never produce a name that points at a real, widely reported person.
    people.middle[people.middle == people.given] = -1
    for _ in range(20):
        full_given = vocab.given[people.given].copy()
        with_middle = np.flatnonzero(people.middle >= 0)
        full_given[with_middle] = [f"{a} {b}" for a, b in zip(full_given[with_middle],
                                                              vocab.given[people.middle[with_middle]], strict=True)]
        bad = _avoided_rows(full_given, family_of_person)
        if not len(bad):
            break
        people.given[bad] = _draw_from_pools(rng, people.given_tradition[bad], people.male[bad], vocab.given_pools)
        people.middle[bad] = -1
    progress.update()

    # Aliases: a nickname, an English name, or another surname the person is known by.
    nick = nicknames()
    alias = np.full(n_people, "", dtype=object)
    english = np.isin(people.given_tradition, [vocab.traditions.index(t) for t in names.ENGLISH_ALIAS_TRADITIONS])
    alias_rows = np.flatnonzero(rng.random(n_people) < np.where(english, config.english_alias_rate, config.alias_rate))
    other_family = vocab.family[_draw_family(rng, people.family_tradition[alias_rows], vocab)]
    for row, other in zip(alias_rows, other_family, strict=True):
        given_name, family_name = vocab.given[people.given[row]], family_of_person[row]
        if english[row]:
            pool = names.ENGLISH_ALIASES["male" if people.male[row] else "female"]
            alias[row] = f"{rnd.choice(pool)} {family_name}"
        elif given_name in nick and rnd.random() < 0.5:
            alias[row] = f"{rnd.choice(nick[given_name])} {family_name}"
        elif other != family_name:
            alias[row] = f"{given_name} {other}"
    progress.update()

    # Records: each person's referrals in date order, with the moves between them.
    counts = _spread_counts(rng, n_people, n_records, config)
    person = np.repeat(np.arange(n_people), counts)
    starts = np.cumsum(counts) - counts
    seq = np.arange(n_records) - np.repeat(starts, counts)
    gaps = np.where(seq > 0, 7 + rng.exponential(config.mean_days_between_referrals, n_records), 0.0)
    span = float((end - start).astype(np.int64))
    total_gap = np.add.reduceat(gaps, starts)
    squeeze = np.minimum(1.0, 0.9 * span / np.maximum(total_gap, 1.0))
    gaps = np.round(gaps * np.repeat(squeeze, counts)).astype(np.int64)
    total_gap = np.add.reduceat(gaps, starts)
    latest_first = end - total_gap.astype("timedelta64[D]")
    first = people.first_day.copy()
    outside = np.flatnonzero((first < start) | (first > latest_first))  # relatives referred outside the period
    room = np.maximum((latest_first[outside] - start).astype(np.int64), 0)
    first[outside] = start + (rng.random(len(outside)) * (room + 1)).astype(np.int64).astype("timedelta64[D]")
    cumulative = np.cumsum(gaps) - np.repeat(np.cumsum(gaps)[starts] - gaps[starts], counts)
    referred = np.repeat(first, counts) + cumulative.astype("timedelta64[D]")

    moved = (seq > 0) & (rng.random(n_records) < config.move_rate)
    within = rng.random(n_records) < config.move_within_town_share
    new_town = np.where(within, people.town[person], -1)
    elsewhere = np.flatnonzero(~within)
    if len(elsewhere):
        same_area = rng.random(len(elsewhere)) < 0.5
        far = _new_homes(rng, len(elsewhere), places)[0]
        area = places.area_of_town[people.town[person[elsewhere]]]
        sizes = np.array([len(t) for t in places.towns_of_area])
        area_start = np.array([t[0] for t in places.towns_of_area])
        near = area_start[area] + (rng.random(len(elsewhere)) * sizes[area]).astype(np.int64)
        new_town[elsewhere] = np.where(same_area, near, far)
    m_town, m_street, m_kind, m_house, m_flat = _new_homes(rng, n_records, places, towns=new_town)
    last_move = np.maximum.accumulate(np.where(moved, np.arange(n_records), -1))
    at_home = last_move < np.repeat(starts, counts)
    source = np.where(at_home, 0, last_move)
    town = np.where(at_home, people.town[person], m_town[source])
    street = np.where(at_home, people.street[person], m_street[source])
    kind = np.where(at_home, people.kind[person], m_kind[source])
    house = np.where(at_home, people.house[person], m_house[source])
    flat = np.where(at_home, people.flat[person], m_flat[source])
    progress.update()

    flags = _Flags(n_records)
    flags.set("moved", moved, seq > 0)

    # Clean values.
    true_postcode = _join(_lookup(places.outward, town),
                          _lookup(places.inward, _hash_inward(town, street, kind, house, seed)), sep=" ")
    house_text = pc.cast(pa.array(house), pa.string())
    true_address = _join(_join(house_text, _lookup(places.street, street), _lookup(places.kind, kind), sep=" "),
                         _lookup(places.town, town), sep=", ")
    true_address = pc.if_else(pa.array(flat > 0),
                              _join("Flat ", pc.cast(pa.array(flat), pa.string()), ", ", true_address), true_address)
    dob = people.dob[person]
    age = ((referred - dob).astype(np.int64) / 365.25).astype(np.int64)
    school = np.full(n_records, "", dtype=object)
    pupil = (age >= 11) & (age <= 16)
    school[pupil] = places.school[town[pupil], people.school_slot[person[pupil]]]
    school[age <= 10] = places.primary[town[age <= 10]]
    student = (age >= 17) & (age <= 18)
    school[student] = places.college[town[student]]
    progress.update()

    # Names, with surname changes between referrals (a stepfamily, a mother's name).
    first_given = vocab.given[people.given[person]].copy()
    middle_id = people.middle[person]
    family = family_of_person[person].copy()
    other = np.where(rng.random(n_records) < config.alias_recorded_rate, alias[person], "")
    flags.set("alias_recorded", other != "", alias[person] != "")
    changers = np.flatnonzero((counts > 1) & (rng.random(n_people) < config.family_name_change_rate))
    changed = np.zeros(n_records, dtype=bool)
    if len(changers):
        new_family = vocab.family[_draw_family(rng, people.family_tradition[changers], vocab)]
        change_at = (rng.random(len(changers)) * (counts[changers] - 1)).astype(np.int64) + 1
        for p, new, at in zip(changers, new_family, change_at, strict=True):
            if new == family_of_person[p]:
                continue
            rows = np.arange(starts[p] + at, starts[p] + counts[p])
            changed[rows] = True
            family[rows] = new
            for r in rows:
                if rnd.random() < 0.5:
                    old = f"{first_given[r]} {family_of_person[p]}"
                    other[r] = f"{other[r]};{old}" if other[r] else old
    clean_family = family.copy()
    has_middle = middle_id >= 0
    true_given = first_given.copy()
    m = np.flatnonzero(has_middle)
    true_given[m] = [f"{a} {b}" for a, b in zip(true_given[m], vocab.given[middle_id[m]], strict=True)]

    # Given name: a nickname or another spelling, then a typo or just an initial.
    translit = transliterations()
    u = rng.random(n_records)
    can_nick = np.fromiter((n in nick for n in first_given), dtype=bool, count=n_records)
    can_translit = np.fromiter((n in translit for n in first_given), dtype=bool, count=n_records)
    use_nick = can_nick & (u < config.nickname_rate)
    use_translit = can_translit & (u >= config.nickname_rate) & (u < config.nickname_rate + config.transliteration_rate)
    rows = np.flatnonzero(use_nick)
    first_given[rows] = [rnd.choice(nick[n]) for n in first_given[rows]]
    rows = np.flatnonzero(use_translit)
    first_given[rows] = [rnd.choice(translit[n]) for n in first_given[rows]]
    flags.set("nickname_used", use_nick, can_nick)
    flags.set("given_transliterated", use_translit, can_translit)
    u = rng.random(n_records)
    rows = np.flatnonzero(u < config.given_typo_rate)
    did = np.zeros(n_records, dtype=bool)
    did[rows] = _apply(first_given, rows, lambda n: typo(n, rnd))
    flags.set("given_typo", did)
    initial = (u >= config.given_typo_rate) & (u < config.given_typo_rate + config.given_initial_rate)
    rows = np.flatnonzero(initial)
    first_given[rows] = [n[0] for n in first_given[rows]]
    flags.set("given_initial_only", initial)
    dropped = has_middle & (rng.random(n_records) < config.middle_name_dropped_rate)
    flags.set("middle_name_dropped", dropped, has_middle)
    given = first_given
    kept = np.flatnonzero(has_middle & ~dropped)
    given[kept] = [f"{a} {b}" for a, b in zip(given[kept], vocab.given[middle_id[kept]], strict=True)]
    progress.update()

    # Family name: surname parts or another spelling, then a typo.
    u = rng.random(n_records)
    can_parts = np.fromiter((bool(multi_part_variants(f)) for f in family), dtype=bool, count=n_records)
    can_translit = np.fromiter((f in translit for f in family), dtype=bool, count=n_records)
    use_parts = can_parts & (u < config.multi_part_variant_rate)
    use_translit = can_translit & ~use_parts & (u >= 1 - config.transliteration_rate)
    rows = np.flatnonzero(use_parts)
    family[rows] = [rnd.choice(multi_part_variants(f)) for f in family[rows]]
    rows = np.flatnonzero(use_translit)
    family[rows] = [rnd.choice(translit[f]) for f in family[rows]]
    flags.set("family_multi_part_varied", use_parts, can_parts)
    flags.set("family_transliterated", use_translit, can_translit & ~use_parts)
    rows = np.flatnonzero(rng.random(n_records) < config.family_typo_rate)
    did = np.zeros(n_records, dtype=bool)
    did[rows] = _apply(family, rows, lambda n: typo(n, rnd))
    flags.set("family_typo", did)

    # Never let an error spell out an avoided name: put such records back as they were.
    bad = _avoided_rows(given, family)
    if len(bad):
        given[bad] = true_given[bad]
        family[bad] = clean_family[bad]
        for name in ("nickname_used", "given_transliterated", "given_typo", "given_initial_only",
                     "family_multi_part_varied", "family_transliterated", "family_typo", "middle_name_dropped"):
            flags.values[name][bad] = np.minimum(flags.values[name][bad], 0)
        still = bad[_avoided_rows(given[bad], family[bad])]  # only a changed surname can do this
        family[still] = clean_family[still] = family_of_person[person[still]]
        changed[still] = False
    for i in np.flatnonzero(other != ""):
        if any(_is_avoided(part) for part in other[i].split(";")):
            other[i] = ""
            flags.values["alias_recorded"][i] = min(flags.values["alias_recorded"][i], 0)

    # Name order swapped, and capitals.
    swapped = rng.random(n_records) < config.name_swap_rate
    rows = np.flatnonzero(swapped)
    given[rows], family[rows] = family[rows].copy(), given[rows].copy()
    flags.set("name_order_swapped", swapped)
    u = rng.random(n_records)
    cased = u < config.case_variant_rate
    upper = np.flatnonzero(cased & (u < config.case_variant_rate * 0.7))
    lower = np.flatnonzero(cased & (u >= config.case_variant_rate * 0.7))
    family[upper] = [f.upper() for f in family[upper]]
    given[lower] = [g.lower() for g in given[lower]]
    family[lower] = [f.lower() for f in family[lower]]
    flags.set("name_case_changed", cased)
    progress.update()

    # Date of birth.
    true_dob = _iso(dob)
    day = (dob - dob.astype("datetime64[M]")).astype(np.int64) + 1
    month = dob.astype("datetime64[M]").astype(np.int64) % 12 + 1
    can_swap = (day <= 12) & (day != month)
    u = rng.random(n_records)
    edges = np.cumsum([config.dob_missing_rate, config.dob_year_only_rate, config.dob_year_month_rate,
                       config.dob_day_month_swap_rate, config.dob_digit_typo_rate])
    which = np.searchsorted(edges, u, side="right")  # 0 missing, 1 year, 2 year-month, 3 swap, 4 digit, 5 none
    swap = (which == 3) & can_swap
    dob_text = pc.if_else(pa.array(which == 1), pc.utf8_slice_codeunits(true_dob, 0, 4), true_dob)
    dob_text = pc.if_else(pa.array(which == 2), pc.utf8_slice_codeunits(true_dob, 0, 7), dob_text)
    dob_text = pc.if_else(pa.array(swap), _join(pc.utf8_slice_codeunits(true_dob, 0, 5),
                                                pc.utf8_slice_codeunits(true_dob, 8, 10), "-",
                                                pc.utf8_slice_codeunits(true_dob, 5, 7)), dob_text)
    dob_text = _replace(dob_text, np.flatnonzero(which == 0), "")
    dob_text, did = _change(dob_text, np.flatnonzero(which == 4), lambda d: _date_typo(d, rnd))
    for name, value in (("dob_missing", 0), ("dob_year_only", 1), ("dob_year_month", 2)):
        flags.set(name, which == value)
    flags.set("dob_day_month_swapped", swap, can_swap)
    flags.set("dob_digit_typo", did)

    # Sex.
    u = rng.random(n_records)
    sex = np.where(people.male[person], "male", "female").astype(object)
    missing = u < config.sex_missing_rate
    wrong = (u >= config.sex_missing_rate) & (u < config.sex_missing_rate + config.sex_wrong_rate)
    sex[wrong] = np.where(people.male[person[wrong]], "female", "male")
    sex[missing] = ""
    flags.set("sex_missing", missing)
    flags.set("sex_wrong", wrong)
    progress.update()

    # Postcode, address, school.
    u = rng.random(n_records)
    edges = np.cumsum([config.postcode_missing_rate, config.postcode_typo_rate, config.postcode_unspaced_rate])
    which = np.searchsorted(edges, u, side="right")
    postcode = pc.if_else(pa.array(which == 2), pc.replace_substring(true_postcode, " ", ""), true_postcode)
    postcode = _replace(postcode, np.flatnonzero(which == 0), "")
    postcode, did = _change(postcode, np.flatnonzero(which == 1), lambda p: _postcode_typo(p, rnd))
    flags.set("postcode_missing", which == 0)
    flags.set("postcode_typo", did)
    flags.set("postcode_unspaced", which == 2)

    u = rng.random(n_records)
    edges = np.cumsum([config.address_missing_rate, config.address_reformatted_rate, config.address_typo_rate])
    which = np.searchsorted(edges, u, side="right")
    address = _replace(true_address, np.flatnonzero(which == 0), "")
    address, reformatted = _change(address, np.flatnonzero(which == 1), lambda a: _reformat_address(a, rnd))
    address, did = _change(address, np.flatnonzero(which == 2), lambda a: _address_typo(a, rnd))
    flags.set("address_missing", which == 0)
    flags.set("address_reformatted", reformatted)
    flags.set("address_typo", did)

    has_school = school != ""
    u = rng.random(n_records)
    school_missing = has_school & (u < config.school_missing_rate)
    school_reformat = has_school & (u >= config.school_missing_rate) & (
        u < config.school_missing_rate + config.school_reformatted_rate)
    rows = np.flatnonzero(school_reformat)
    did = np.zeros(n_records, dtype=bool)
    did[rows] = _apply(school, rows, lambda s: _reformat_school(s, rnd))
    true_school_missing = school_missing.copy()
    school[school_missing] = ""
    flags.set("school_missing", true_school_missing, has_school)
    flags.set("school_reformatted", did, has_school)
    nhs_number, upn = _identifiers(np.random.default_rng([seed, 4]), person, n_people, has_school, config, flags)
    progress.update()

    # Records arrive in date order; identifiers say nothing about who is who.
    order = np.lexsort((rng.random(n_records), referred))
    width = max(7, len(str(n_records)))
    record_ids = _keys("R", np.arange(n_records), width)
    person_keys = _keys("P", rng.permutation(n_people), width)  # in no meaningful order
    take = pa.array(order)
    columns = {
        "record_id": record_ids,
        "person_key": person_keys.take(pa.array(person[order])),
        "given_names": _text(given[order]), "family_name": _text(family[order]), "other_names": _text(other[order]),
        "date_of_birth": dob_text.take(take), "sex": _text(sex[order]), "postcode": postcode.take(take),
        "address": address.take(take), "school": _text(school[order]),
        "nhs_number": _text(nhs_number[order]), "upn": _text(upn[order]), "referred_on": _iso(referred[order]),
    }
    records = pa.table([columns[name] for name in COLUMNS], schema=SCHEMA)
    truth = pa.table({"record_id": record_ids})
    if with_truth:
        related = people.related[person[order]]
        truth_columns: dict[str, pa.Array] = {
            "record_id": record_ids,
            "person_key": columns["person_key"],
            "relation": pa.array(np.array(RELATIONS, dtype=object)[people.relation[person[order]]], pa.string()),
            "related_person_key": person_keys.take(pa.array(np.maximum(related, 0), mask=related < 0)),
            "tradition": pa.array(np.array([
                t if gt == ft else f"{t}+{vocab.traditions[ft]}"
                for t, gt, ft in zip(np.array(vocab.traditions, dtype=object)[people.given_tradition[person[order]]],
                                     people.given_tradition[person[order]], people.family_tradition[person[order]],
                                     strict=True)], dtype=object), pa.string()),
            "true_given_names": pa.array(true_given[order], pa.string()),
            "true_family_name": pa.array(clean_family[order], pa.string()),
            "true_date_of_birth": true_dob.take(take),
            "true_sex": pa.array(np.where(people.male[person[order]], "male", "female"), pa.string()),
            "true_postcode": true_postcode.take(take),
            "true_address": true_address.take(take),
            "family_name_changed": pa.array(changed[order]),
        }
        for name in ERROR_TYPES:
            truth_columns[name] = flags.array(name, order)
        truth = pa.table(truth_columns)
    progress.update()
    progress.close()
    return Population(records=records, truth=truth)


def _synthetic_nhs_numbers(count: int) -> np.ndarray:
    """Valid NHS numbers (Modulus 11: the nine digits weighted 10 down to 2, the check digit
    11 minus the sum modulo 11, never 10) from the 999 range, which is kept for testing and never
    issued to a person; as many as there are (909,091), then ''."""
    bases = np.arange(999_000_000, min(1_000_000_000, 999_000_000 + count * 12 // 10 + 100), dtype=np.int64)
    digits = (bases[:, None] // 10 ** np.arange(8, -1, -1)) % 10
    check = (11 - (digits * np.arange(10, 1, -1)).sum(axis=1) % 11) % 11
    valid = check != 10
    numbers = (bases[valid] * 10 + check[valid])[:count].astype(str).astype(object)
    return np.concatenate([numbers, np.full(count - len(numbers), "", dtype=object)])


def _synthetic_upns(count: int) -> np.ndarray:
    """Well-formed Unique Pupil Numbers (check letter, a local authority number, then nine
    digits), distinct for each person; numbers only, attached to no one."""
    from stdnum.gb import upn

    authorities = [la for la in range(1000)  # the LA numbers stdnum accepts, through its public API
                   if upn.is_valid(upn.calc_check_digit(f"{la:03d}000000000") + f"{la:03d}000000000")]
    out = np.empty(count, dtype=object)
    for i in range(count):
        body = f"{authorities[i % len(authorities)]:03d}{i // len(authorities):09d}"
        out[i] = upn.calc_check_digit(body) + body
    return out


def _identifiers(rng: np.random.Generator, person: np.ndarray, n_people: int, has_school: np.ndarray,
                 config: PopulationConfig, flags: _Flags) -> tuple[np.ndarray, np.ndarray]:
    """Each record's NHS number and UPN as recorded ('' where not), drawn from their own random
    stream so that every other column is the same as without them."""
    n_records = len(person)
    order = rng.permutation(n_people)  # which synthetic number each person has
    nhs_of = _synthetic_nhs_numbers(n_people)[order]
    school_age = np.zeros(n_people, dtype=bool)
    school_age[person[has_school]] = True
    upn_of = np.full(n_people, "", dtype=object)
    pupils = np.flatnonzero(school_age)
    upn_of[pupils] = _synthetic_upns(len(pupils))[rng.permutation(len(pupils))]
    nhs_number = np.where(rng.random(n_records) < config.nhs_number_recorded_rate, nhs_of[person], "").astype(object)
    upn = np.where(has_school & (rng.random(n_records) < config.upn_recorded_rate), upn_of[person], "").astype(object)
    recorded = (nhs_number != "") | (upn != "")
    wrong = recorded & (rng.random(n_records) < config.identifier_wrong_rate)
    rows = np.flatnonzero(wrong & (nhs_number != ""))
    nhs_number[rows] = nhs_of[rng.integers(0, n_people, size=len(rows))]
    rows = np.flatnonzero(wrong & (upn != ""))
    upn[rows] = upn_of[pupils[rng.integers(0, len(pupils), size=len(rows))]]
    wrong &= (nhs_number != np.where(nhs_number != "", nhs_of[person], "")) | (upn != np.where(upn != "", upn_of[person], ""))
    flags.set("identifier_wrong", wrong, recorded)
    return nhs_number, upn


def _date_typo(iso: str, rnd: random.Random) -> str:
    """One digit of a full date mistyped, the result still a valid date."""
    for _ in range(20):
        # Days are mistyped most, then months, then the year's last digit; never the century.
        i = rnd.choices((2, 3, 5, 6, 8, 9), weights=(0.1, 0.2, 0.1, 0.2, 0.2, 0.2))[0]
        new = str(rnd.randrange(10))
        if new == iso[i]:
            continue
        candidate = iso[:i] + new + iso[i + 1:]
        try:
            np.datetime64(candidate, "D")
        except ValueError:
            continue
        year, month, day = int(candidate[:4]), int(candidate[5:7]), int(candidate[8:10])
        if 1 <= month <= 12 and 1 <= day <= 31 and 1930 <= year <= 2025:
            return candidate
    return iso


def _postcode_typo(postcode: str, rnd: random.Random) -> str:
    outward, inward = postcode.split(" ")
    spot = rnd.random()
    if spot < 0.35:
        district = int(outward[2:])
        district = district + 1 if district == 1 or rnd.random() < 0.5 else district - 1
        return f"{outward[:2]}{district} {inward}"
    if spot < 0.6:
        digit = rnd.choice([d for d in "0123456789" if d != inward[0]])
        return f"{outward} {digit}{inward[1:]}"
    i = rnd.choice((1, 2))
    letter = rnd.choice([c for c in names.INWARD_LETTERS if c != inward[i]])
    return f"{outward} {inward[:i]}{letter}{inward[i + 1:]}"


def _reformat_address(address: str, rnd: random.Random) -> str:
    options: list[Callable[[str], str]] = [str.lower, lambda a: a.rsplit(", ", 1)[0]]
    for kind, short in names.STREET_KIND_ABBREVIATIONS.items():
        if f" {kind}," in address:
            options.append(lambda a, k=kind, s=short: a.replace(f" {k},", f" {s},"))
    if address.startswith("Flat "):
        options.append(lambda a: a.split(", ", 1)[1])
        options.append(lambda a: a.replace("Flat ", "", 1).replace(", ", "/", 1))
    return rnd.choice(options)(address)


def _address_typo(address: str, rnd: random.Random) -> str:
    parts = address.split(" ")
    words = [i for i, p in enumerate(parts) if p.isalpha() and len(p) > 3]
    if not words:
        return address
    i = rnd.choice(words)
    parts[i] = typo(parts[i], rnd)
    return " ".join(parts)


def _reformat_school(school: str, rnd: random.Random) -> str:
    options: list[Callable[[str], str]] = [lambda s: s.split(",")[0]] if "," in school else []
    for long, short in ((" Academy", ""), (" High School", " High"), (" Community School", " School"),
                        ("St ", "Saint "), (" Church of England", " C of E"), (" Sixth Form College", " Sixth Form"),
                        (" College", " Coll"), (" Primary School", " Primary")):
        if long in school:
            options.append(lambda s, a=long, b=short: s.replace(a, b, 1))
    return rnd.choice(options)(school) if options else school


# --------------------------------------------------------------------------- public


def generate_population(n_records: int, *, seed: int = 0, duplicate_rate: float = DEFAULT_DUPLICATE_RATE,
                        config: PopulationConfig | None = None) -> pa.Table:
    """`n_records` synthetic referral records (a pyarrow Table in SCHEMA), the same for the same arguments.

    `duplicate_rate` is the share of records that are a repeat referral of someone already
    referred: n_records * (1 - duplicate_rate) distinct people, each referred once or more.
    """
    return _generate(n_records, seed, duplicate_rate, config or PopulationConfig(), with_truth=False).records


def generate_population_with_truth(n_records: int, *, seed: int = 0, duplicate_rate: float = DEFAULT_DUPLICATE_RATE,
                                   config: PopulationConfig | None = None) -> Population:
    """The same records as generate_population, with the truth behind each (see Population)."""
    return _generate(n_records, seed, duplicate_rate, config or PopulationConfig(), with_truth=True)


def true_pairs(records: pa.Table) -> set[tuple[str, str]]:
    """Every pair of records of the same person, as (smaller record_id, larger record_id)."""
    by_person: dict[str, list[str]] = {}
    for record_id, key in zip(records.column("record_id").to_pylist(), records.column("person_key").to_pylist(),
                              strict=True):
        by_person.setdefault(key, []).append(record_id)
    pairs: set[tuple[str, str]] = set()
    for ids in by_person.values():
        ids.sort()
        pairs.update((a, b) for i, a in enumerate(ids) for b in ids[i + 1:])
    return pairs
