"""Search keys for names and birth dates that survive common misspellings."""

from __future__ import annotations

import re
import unicodedata

import jellyfish

from casetrail.core.dates import PartialDate


def normalise(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"[^a-z ]+", " ", ascii_only.lower()).strip()


def name_tokens(*names: str) -> list[str]:
    tokens: list[str] = []
    for name in names:
        tokens.extend(t for t in normalise(name).split() if len(t) > 1)
    return tokens


def keys_for(names: list[str], birth: PartialDate | None) -> set[tuple[str, str]]:
    keys: set[tuple[str, str]] = set()
    for token in name_tokens(*names):
        keys.add(("name", token[:64]))
        keys.add(("phonetic", jellyfish.metaphone(token)[:64]))
    if birth is not None:
        keys.add(("year", str(birth.year)))
        keys.add(("dob", birth.to_iso()))
    return keys
