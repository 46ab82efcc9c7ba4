"""Shared by the linkage tests: a small synthetic population and a model trained on it once."""

from __future__ import annotations

import random
from functools import lru_cache
from pathlib import Path
from typing import Any

_GIVEN = ("james", "oliver", "harry", "jack", "george", "noah", "leo", "amelia", "olivia", "isla",
          "ava", "mia", "lily", "sophia", "emily", "grace", "fatima", "aisha", "zainab", "maryam",
          "omar", "hassan", "ibrahim", "yusuf", "adam", "daniel", "samuel", "lucas", "ethan", "ella",
          "chloe", "ruby", "freya", "poppy", "robert", "william", "elizabeth", "katherine",
          "alexander", "muhammad", "piotr", "kamil", "wiktoria", "seamus", "orla", "priya", "arjun")
_FAMILY = ("smith", "jones", "taylor", "brown", "williams", "wilson", "johnson", "davies",
           "robinson", "wright", "thompson", "evans", "walker", "white", "roberts", "green", "hall",
           "patel", "khan", "ahmed", "hussain", "begum", "rahman", "singh", "kaur", "shah", "o'brien",
           "murphy", "kelly", "nowak", "kowalczyk", "okafor", "adeyemi", "mensah", "nguyen", "chen",
           "garcia", "rossi", "muller", "smith-jones", "al-hassan", "da silva", "mcdonald", "fitzgerald")
_AREAS = ("LS", "M", "B", "L", "SW", "E", "N", "CF", "G", "BD", "HX")


def _invented(rng: random.Random) -> str:
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    return "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(rng.randint(2, 4)))


def _typo(text: str, rng: random.Random) -> str:
    if len(text) < 4:
        return text
    i = rng.randrange(1, len(text) - 1)
    op = rng.random()
    if op < 0.3:
        return text[:i] + text[i + 1:]
    if op < 0.6:
        return text[:i] + rng.choice("aeioulnrst") + text[i + 1:]
    if op < 0.8:
        return text[:i] + text[i + 1] + text[i] + text[i + 2:]
    return text[:i] + text[i] + text[i:]


def toy_population(n: int, *, seed: int = 0) -> Any:
    """A pyarrow Table in population.py's columns: people, some referred more than once with
    their identity written differently. person_key is the truth."""
    import pyarrow as pa

    rng = random.Random(seed)
    family_pool = list(_FAMILY) + [_invented(rng) for _ in range(max(50, n // 4))]
    given_pool = list(_GIVEN) + [_invented(rng) for _ in range(max(20, n // 20))]
    rows: list[dict[str, str]] = []
    person = 0
    while len(rows) < n:
        person += 1
        given = rng.choice(given_pool)
        family = rng.choice(family_pool)
        year, month, day = rng.randint(1995, 2014), rng.randint(1, 12), rng.randint(1, 28)
        postcode = f"{rng.choice(_AREAS)}{rng.randint(1, 30)} {rng.randint(1, 9)}{rng.choice('ABDEFGHJ')}{rng.choice('ABDEFGHJ')}"
        address = f"{rng.randint(1, 200)} {rng.choice(family_pool).title()} Road"
        school = f"{rng.choice(family_pool).title()} Academy"
        sex = rng.choice("MF")
        copies = 1 + (rng.random() < 0.3) + (rng.random() < 0.1)
        for copy in range(copies):
            g, f, dob, pc, addr, sch = given, family, f"{year:04d}-{month:02d}-{day:02d}", postcode, address, school
            if copy:
                if rng.random() < 0.3:
                    f = _typo(f, rng)
                if rng.random() < 0.15:
                    g = _typo(g, rng)
                if rng.random() < 0.03:
                    g, f = f, g
                r = rng.random()
                if r < 0.05 and day <= 12:
                    dob = f"{year:04d}-{day:02d}-{month:02d}"
                elif r < 0.1:
                    dob = f"{year:04d}"
                elif r < 0.15:
                    dob = ""
                if rng.random() < 0.4:
                    pc = ""
                if rng.random() < 0.4:
                    addr = ""
                if rng.random() < 0.5:
                    sch = ""
            rows.append({
                "record_id": f"r{len(rows)}", "person_key": f"p{person}", "given_names": g.title(),
                "family_name": f.title(), "other_names": "", "date_of_birth": dob, "sex": sex,
                "postcode": pc, "address": addr, "school": sch, "referred_on": "2025-01-01",
            })
    return pa.Table.from_pylist(rows[:n])


def population(n: int, *, seed: int = 0) -> Any:
    """The project's synthetic population when present, else the toy one above."""
    try:
        from casetrail.people.population import generate_population
    except ImportError:
        return toy_population(n, seed=seed)
    return generate_population(n, seed=seed)


@lru_cache(maxsize=1)
def trained_model() -> Any:
    """A model trained on a small population (seconds), shared by the tests in one process."""
    from casetrail.people.linkage.model import train_model

    return train_model(population(8000, seed=11), seed=0, max_pairs=2e5, u_max_pairs=3e5)


def shipped_model() -> Any:
    """The default model Casetrail ships, else a freshly trained small one."""
    from casetrail.people.linkage.model import LinkageModel

    path = Path(__file__).resolve().parents[2] / "casetrail" / "people" / "linkage_data" / "default_model.json"
    return LinkageModel.load(path) if path.exists() else trained_model()
