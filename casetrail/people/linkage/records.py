"""Identity records as recorded on a referral, and the normalised columns the linkage model compares.

`normalise` never raises on odd input. How bad input is handled:

- Names are folded to lower-case ASCII: accents are dropped (``Zoë`` -> ``zoe``), letters with
  no decomposition are spelt out (``ß`` -> ``ss``, ``ø`` -> ``o``), Cyrillic and Greek are
  transliterated, apostrophes vanish (``O'Brien`` -> ``obrien``) and every other character
  (digits, punctuation, emoji, control characters, scripts without a table here) separates
  words. A name that folds to nothing is *missing*: it neither agrees nor disagrees.
- Titles (Mr, Mrs, Dr...) are dropped from given names.
- Dates of birth may be ``YYYY-MM-DD``, ``YYYY-MM``, ``YYYY`` or day-first ``DD/MM/YYYY``
  (also with ``-`` or ``.``). A year outside 1900-2100 makes the whole date missing. A month
  over 12 with a day of 12 or less is read as day and month written the wrong way round; any
  other impossible month keeps only the year, and an impossible day (30 February) keeps the
  year and month.
- Postcodes are upper-cased with spaces and punctuation removed; a full UK postcode gives
  outward code, sector and area, an outward code alone gives those it can. Another country's
  postcode (3 to 10 letters and digits starting with a digit, such as Australia's ``2615``) is
  kept as it is, as both postcode and district, so it still agrees exactly or by one
  character. Anything else is missing.
- An NHS number or Unique Pupil Number is kept only when valid (its check digit or letter):
  a mistyped one is missing, so it neither agrees with someone else's nor counts against a
  match.
"""

from __future__ import annotations

import csv
import gc
import hashlib
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jellyfish

from casetrail.core.referrals import nhs_number_compact, nhs_number_errors, upn_compact, upn_errors

DATA_DIR = Path(__file__).resolve().parent.parent / "linkage_data"
MIN_YEAR, MAX_YEAR = 1900, 2100


@dataclass(frozen=True)
class Identity:
    """One person's identity attributes as recorded on one referral."""

    record_id: str
    given_names: str
    family_name: str
    other_names: tuple[str, ...] = ()
    date_of_birth: str = ""
    sex: str = ""
    postcode: str = ""
    address: str = ""
    school: str = ""
    nhs_number: str = ""
    upn: str = ""  # Unique Pupil Number


# The columns `normalise` produces, in order, with their Arrow type names ("list" = list of str).
COLUMNS: dict[str, str] = {
    "record_id": "str",
    "given": "str",  # first given name
    "given_ph": "str",  # its phonetic code
    "given_groups": "list",  # the name itself and its canonical forms (nicknames, transliterations)
    "given_all": "list",  # every given name, including middle names and those of aliases
    "family": "str",  # family name without spaces or hyphens
    "family_ph": "str",
    "family_parts": "list",  # parts of a multi-part family name, particles (al, van...) left out
    "family_first": "str",  # the first of those parts
    "family_all": "list",  # family name and the family names of aliases
    "name_key": "str",  # a digest of given and family name together (see full_name_key)
    "dob": "str",  # YYYY-MM-DD, only when complete
    "dob_digits": "str",  # YYYYMMDD, only when complete
    "dob_ym": "str",  # YYYY-MM when the month is known
    "dob_year": "int",
    "dob_month": "int",
    "dob_day": "int",
    "postcode": "str",  # "SW1A 1AA"
    "pc_sector": "str",  # "SW1A 1"
    "pc_district": "str",  # "SW1A"
    "sex": "str",  # "m", "f" or "x"
    "address": "str",  # first line of the address
    "school": "str",
    "nhs": "str",  # NHS number, 10 digits, only when valid (Modulus 11)
    "upn": "str",  # Unique Pupil Number, only when valid (check letter)
}

_TITLES = frozenset({"mr", "mrs", "miss", "ms", "mx", "dr", "prof", "sir", "master", "rev"})
_PARTICLES = frozenset(
    {"al", "el", "ul", "bin", "ibn", "bint", "ben", "van", "von", "der", "den", "de", "da", "di",
     "du", "la", "le", "del", "dos", "das", "st", "ter"}
)

_CYRILLIC = dict(zip(
    "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґў",
    ["a", "b", "v", "g", "d", "e", "e", "zh", "z", "i", "y", "k", "l", "m", "n", "o", "p", "r",
     "s", "t", "u", "f", "kh", "ts", "ch", "sh", "shch", "", "y", "", "e", "yu", "ya", "i", "yi",
     "ye", "g", "u"],
    strict=True,
))
_GREEK = dict(zip(
    "αβγδεζηθικλμνξοπρστυφχψωάέήίόύώς",
    ["a", "v", "g", "d", "e", "z", "i", "th", "i", "k", "l", "m", "n", "x", "o", "p", "r", "s",
     "t", "y", "f", "ch", "ps", "o", "a", "e", "i", "i", "o", "y", "o", "s"],
    strict=True,
))
_SPECIAL = {"ß": "ss", "æ": "ae", "œ": "oe", "ø": "o", "ł": "l", "đ": "d", "ð": "d", "þ": "th",
            "ı": "i", "ħ": "h", "ŋ": "ng", "ſ": "s"}
_FOLD = str.maketrans({**_CYRILLIC, **_GREEK, **_SPECIAL, "'": "", "’": "", "‘": "", "`": ""})
_NOT_LETTER = re.compile(r"[^a-z]+")
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=200_000)
def fold(text: str) -> str:
    """Lower-case ASCII letters and single spaces; everything else separates words."""
    return _NOT_LETTER.sub(" ", _ascii(text).lower().replace("'", "").replace("`", "")).strip()


def _ascii(text: str) -> str:
    """Text folded to ASCII: compatibility forms, accents, other alphabets (see module docstring)."""
    if text.isascii():
        return text
    text = unicodedata.normalize("NFKC", text).lower().translate(_FOLD)
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


@lru_cache(maxsize=200_000)
def phonetic(token: str) -> str | None:
    """Metaphone code of a folded name (spaces removed); None for nothing."""
    if not token:
        return None
    try:
        return jellyfish.metaphone(token) or None
    except Exception:  # jellyfish rejects nothing we produce, but intake must never crash
        return None


def _load_pairs(name: str) -> list[tuple[str, str]]:
    path = DATA_DIR / name
    if not path.exists():
        return []
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle)
        next(rows, None)
        return [(row[0], row[1]) for row in rows if len(row) >= 2]


# Used only when linkage_data/ lacks the CSV tables, so the module works on its own.
_FALLBACK_NICKNAMES = [
    ("alexander", "alex"), ("alexander", "sasha"), ("william", "bill"), ("william", "will"),
    ("robert", "bob"), ("robert", "rob"), ("robert", "bobby"), ("elizabeth", "liz"),
    ("elizabeth", "beth"), ("margaret", "maggie"), ("thomas", "tom"), ("james", "jim"),
    ("daniel", "dan"), ("joseph", "joe"), ("katherine", "kate"), ("michael", "mike"),
]
_FALLBACK_TRANSLITERATIONS = [
    ("muhammad", v) for v in ("muhammad", "mohammed", "mohammad", "mohamed", "muhammed", "mohamad")
] + [("alexander", v) for v in ("alexander", "aleksandr", "alexandr", "aleksander")]


@lru_cache(maxsize=1)
def _name_groups() -> dict[str, frozenset[str]]:
    """For each known name, the canonical forms it shares with its variants."""
    nicknames = _load_pairs("nicknames.csv") or _FALLBACK_NICKNAMES
    translits = _load_pairs("transliterations.csv") or _FALLBACK_TRANSLITERATIONS
    formal: dict[str, set[str]] = {}
    for name, variant in nicknames:
        name, variant = fold(name).replace(" ", ""), fold(variant).replace(" ", "")
        if name and variant:
            formal.setdefault(variant, set()).add(name)
            formal.setdefault(name, set()).add(name)
    groups_of: dict[str, set[str]] = {}
    for group_id, variant in translits:
        variant = fold(variant).replace(" ", "")
        if variant:
            groups_of.setdefault(variant, set()).add(f"~{group_id.strip().lower()}")
    result: dict[str, frozenset[str]] = {}
    for name in set(formal) | set(groups_of):
        base = {name} | formal.get(name, set())
        keys = set(base)
        for b in base:
            keys |= groups_of.get(b, set())
        result[name] = frozenset(keys)
    return result


def name_groups(token: str) -> list[str]:
    """The name and its canonical forms: two names sharing one are variants of each other."""
    if not token:
        return []
    return sorted(_name_groups().get(token, (token,)))


@lru_cache(maxsize=200_000)
def _given(text: str) -> tuple[str, ...]:
    tokens = fold(text).split()
    while tokens and tokens[0] in _TITLES:
        tokens = tokens[1:]
    return tuple(tokens)


@lru_cache(maxsize=200_000)
def _family(text: str) -> tuple[str, tuple[str, ...]]:
    """The family name without spaces, and its meaningful parts."""
    tokens = fold(text).split()
    parts = tuple(t for t in tokens if t not in _PARTICLES) or tuple(tokens)
    return "".join(tokens), parts


_DATE_ISO = re.compile(r"^\s*(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?\s*$")
_DATE_UK = re.compile(r"^\s*(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})\s*$")
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


@lru_cache(maxsize=100_000)
def parse_date(text: str) -> tuple[int | None, int | None, int | None]:
    """(year, month, day) with unknown or impossible parts as None; see the module docstring."""
    match = _DATE_ISO.match(text or "")
    if match:
        year_s, month_s, day_s = match.groups()
    else:
        match = _DATE_UK.match(text or "")
        if not match:
            return None, None, None
        day_s, month_s, year_s = match.groups()
    year = int(year_s)
    if not MIN_YEAR <= year <= MAX_YEAR:
        return None, None, None
    month = int(month_s) if month_s else None
    day = int(day_s) if day_s else None
    if month is not None and not 1 <= month <= 12:
        if day is not None and 1 <= day <= 12 and month <= 31:
            month, day = day, month
        else:
            return year, None, None
    if month is None:
        return year, None, None
    if day is not None:
        limit = 28 if month == 2 and not _leap(year) else _DAYS[month - 1]
        if not 1 <= day <= limit:
            day = None
    return year, month, day


_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})$")
_OUTWARD = re.compile(r"^[A-Z]{1,2}[0-9][A-Z0-9]?$")
_NOT_UPPER_ALNUM = re.compile(r"[^A-Z0-9]")
# Not a UK postcode but a postcode all the same: a digit first, 3 to 10 letters and digits.
_OTHER_POSTCODE = re.compile(r"^[0-9][A-Z0-9]{2,9}$")


@lru_cache(maxsize=200_000)
def parse_postcode(text: str) -> tuple[str | None, str | None, str | None]:
    """(postcode, sector, district) of a UK postcode; None where it cannot tell."""
    compact = _NOT_UPPER_ALNUM.sub("", _ascii(text).upper())
    match = _POSTCODE.match(compact)
    if match:
        outward, inward = match.groups()
        return f"{outward} {inward}", f"{outward} {inward[0]}", outward
    if _OUTWARD.match(compact):
        return None, None, compact
    if _OTHER_POSTCODE.match(compact):  # another country's (Australia's 2615): compared as it is
        return compact, None, compact
    return None, None, None


@lru_cache(maxsize=200_000)
def fold_address(text: str) -> str:
    """The house and street of an address (a flat or unit line is skipped), folded like a name
    but keeping house numbers."""
    parts = [_NOT_ALNUM.sub(" ", _ascii(p).lower().replace("'", "")).strip() for p in text.split(",")]
    parts = [p for p in parts if p]
    for part in parts:
        if part.split()[0] not in _UNIT_WORDS:
            return part
    return parts[0] if parts else ""


_UNIT_WORDS = frozenset({"flat", "apartment", "apt", "unit", "room", "floor", "basement"})


_SEXES = {"m": "m", "male": "m", "man": "m", "boy": "m", "f": "f", "female": "f", "woman": "f",
          "girl": "f", "x": "x", "other": "x", "non binary": "x", "nonbinary": "x", "intersex": "x"}


def _none(value: str) -> str | None:
    return value or None


def full_name_key(given: str | None, family: str | None) -> str | None:
    """A short digest of the first given name and the family name, both normalised: what the
    model counts to tell a common full name from a rare one (see model.TF_MIN_COUNT). A model
    file keeps these digests, never the names, and only for names many records share."""
    if not given or not family:
        return None
    return hashlib.blake2b(f"{given} {family}".encode(), digest_size=8).hexdigest()


def normalise(identity: Identity) -> dict[str, Any]:
    """The columns the model compares, for one identity (see COLUMNS); never raises."""
    given_tokens = _given(_text(identity.given_names))
    family, family_parts = _family(_text(identity.family_name))
    given = given_tokens[0] if given_tokens else ""
    given_all = set(given_tokens)
    family_all = {family} if family else set()
    for alias in identity.other_names if isinstance(identity.other_names, tuple | list) else ():
        tokens = _given(_text(alias))
        if len(tokens) == 1:  # a lone alias could be either name
            given_all.add(tokens[0])
            family_all.add(tokens[0])
        elif tokens:
            given_all.add(tokens[0])
            family_all.add("".join(tokens[1:]))
            family_all.add(tokens[-1])
    year, month, day = parse_date(_text(identity.date_of_birth))
    postcode, sector, district = parse_postcode(_text(identity.postcode))
    address = fold_address(_text(identity.address))
    school = fold(_text(identity.school))
    full = year is not None and month is not None and day is not None
    return {
        "record_id": str(identity.record_id),
        "given": _none(given),
        "given_ph": phonetic(given),
        "given_groups": name_groups(given) or None,
        "given_all": sorted(given_all) or None,
        "family": _none(family),
        "family_ph": phonetic(family),
        "family_parts": list(family_parts) or None,
        "family_first": family_parts[0] if family_parts else None,
        "family_all": sorted(family_all) or None,
        "name_key": full_name_key(given, family),
        "dob": f"{year:04d}-{month:02d}-{day:02d}" if full else None,
        "dob_digits": f"{year:04d}{month:02d}{day:02d}" if full else None,
        "dob_ym": f"{year:04d}-{month:02d}" if year is not None and month is not None else None,
        "dob_year": year,
        "dob_month": month,
        "dob_day": day,
        "postcode": postcode,
        "pc_sector": sector,
        "pc_district": district,
        "sex": _SEXES.get(fold(_text(identity.sex))),
        "address": _none(address),
        "school": _none(school),
        "nhs": _identifier(_text(identity.nhs_number), nhs_number_compact, nhs_number_errors),
        "upn": _identifier(_text(identity.upn), upn_compact, upn_errors),
    }


def _identifier(value: str, compact: Callable[[str], str], errors: Callable[[str], list[str]]) -> str | None:
    """The identifier in its compact form, or None when it is missing or fails the referral
    form's rule (casetrail.core.referrals): a mistyped number must not agree with anyone else's,
    nor count against the record."""
    number = compact(value)
    return number if number and not errors(value) else None


def _text(value: object) -> str:
    """Any recorded value as text; None and non-strings become text or nothing."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else str(value)
    return text[:500]  # nothing real is longer; bounds the work done on junk


def identities_from_table(table: Any) -> list[Identity]:
    """Identities from a pyarrow Table (or anything with `to_pylist`) of population columns."""
    rows = table.to_pylist() if hasattr(table, "to_pylist") else list(table)
    return [identity_from_row(row) for row in rows]


def identity_from_row(row: dict[str, Any]) -> Identity:
    other = row.get("other_names") or ()
    if isinstance(other, str):
        other = tuple(a.strip() for a in other.split(";") if a.strip())
    return Identity(
        record_id=str(row["record_id"]),
        given_names=row.get("given_names") or "",
        family_name=row.get("family_name") or "",
        other_names=tuple(other),
        date_of_birth=row.get("date_of_birth") or "",
        sex=row.get("sex") or "",
        postcode=row.get("postcode") or "",
        address=row.get("address") or "",
        school=row.get("school") or "",
        nhs_number=row.get("nhs_number") or "",
        upn=row.get("upn") or "",
    )


def normalise_table(table: Any, *, progress: Any = None) -> Any:
    """A pyarrow Table of normalised columns from a population table or iterable of Identity."""
    import pyarrow as pa

    if hasattr(table, "column_names"):
        names = table.column_names
        cols = {n: table.column(n).to_pylist() for n in names}
        count = table.num_rows

        def rows():
            for i in range(count):
                yield identity_from_row({n: cols[n][i] for n in names})
        source = rows()
    else:
        source = iter(table)
    out: dict[str, list[Any]] = {c: [] for c in COLUMNS}
    appenders = [(out[c].append, c) for c in COLUMNS]
    # Millions of small lists would have the cyclic garbage collector rescan everything made so
    # far, again and again (a million records took minutes); nothing made here forms a cycle.
    collecting = gc.isenabled()
    gc.disable()
    try:
        for i, identity in enumerate(source):
            record = normalise(identity)
            for append, c in appenders:
                append(record[c])
            if progress is not None and i % 10_000 == 0:
                progress(i)
    finally:
        if collecting:
            gc.enable()
    types = {"str": pa.string(), "int": pa.int64(), "list": pa.list_(pa.string())}
    return pa.table({c: pa.array(out[c], type=types[t]) for c, t in COLUMNS.items()})
