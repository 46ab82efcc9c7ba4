"""Training the linkage model on the data itself, saving it and batch dedupe."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import replace

import pyarrow as pa
import pytest

from casetrail.people.linkage.dedupe import find_duplicates
from casetrail.people.linkage.index import score_normalised
from casetrail.people.linkage.model import (
    COMPARISONS,
    VETO,
    LinkageModel,
    count_term_frequencies,
    train_model,
)
from casetrail.people.linkage.records import Identity, normalise, normalise_table
from tests.unit.linkage_helpers import population, trained_model


def test_a_trained_model_saves_its_parameters_and_training_date(tmp_path):
    model = trained_model()
    path = model.save(tmp_path / "model.json")
    saved = json.loads(path.read_text())
    assert saved["record_count"] == 8000 and saved["trained_at"].startswith("20")
    assert saved["versions"]["splink"].startswith("5.") and saved["versions"]["duckdb"]
    levels = [lv for c in saved["splink_settings"]["comparisons"] for lv in c["comparison_levels"]]
    assert all("m_probability" in lv and "u_probability" in lv for lv in levels if not lv.get("is_null_level"))
    loaded = LinkageModel.load(path)
    assert loaded.weights == model.weights and loaded.trained_at == model.trained_at


def test_weights_reward_agreement_and_penalise_difference():
    weights = {c.name: {lv.label: lv.weight for lv in c.levels} for c in trained_model().weights.comparisons}
    for name in ("given_name", "family_name", "date_of_birth"):
        assert weights[name]["exact"] > 3 > weights[name]["different"]
        assert weights[name]["missing"] == 0.0
    assert [c.name for c in trained_model().weights.comparisons] == [c.name for c in COMPARISONS]


def test_unbounded_em_is_refused():
    with pytest.raises(ValueError, match="unbounded"):
        train_model(population(50), max_pairs=None)  # type: ignore[arg-type]


def test_a_model_file_from_elsewhere_is_a_clear_error(tmp_path):
    path = tmp_path / "other.json"
    path.write_text(json.dumps({"link_type": "dedupe_only"}))
    with pytest.raises(ValueError, match="not a Casetrail linkage model"):
        LinkageModel.load(path)


def test_batch_dedupe_groups_the_southport_referrals_for_review():
    table = population(3000, seed=31)
    extra = [
        Identity("s1", "Tobias", "Rutherford", date_of_birth="2006-08-07", postcode="LS6 2AB", sex="M"),
        Identity("s2", "Tobias", "Rutherfrod", date_of_birth="2006-08-07", sex="M"),
        Identity("s3", "Tobias", "Rutherfurd", date_of_birth="2006-08-07", postcode="LS6 2AB", sex="M"),
    ]
    from casetrail.people.linkage.records import identities_from_table

    result = find_duplicates(identities_from_table(table) + extra, trained_model())
    assert ["s1", "s2", "s3"] in result.groups()
    assert result.pairs.num_rows > 0 and result.clusters.num_rows == 3003


def test_batch_dedupe_finds_the_populations_duplicates():
    table = population(4000, seed=32)
    result = find_duplicates(table, trained_model())
    truth = dict(zip(table.column("record_id").to_pylist(), table.column("person_key").to_pylist(), strict=True))
    cluster = dict(zip(result.clusters.column("record_id").to_pylist(),
                       result.clusters.column("cluster_id").to_pylist(), strict=True))
    from collections import defaultdict
    from itertools import combinations

    def pairs(labels):
        groups = defaultdict(list)
        for record, label in labels.items():
            groups[label].append(record)
        return {tuple(sorted(p)) for g in groups.values() for p in combinations(g, 2)}

    true_pairs, found = pairs(truth), pairs(cluster)
    precision = len(true_pairs & found) / max(1, len(found))
    recall = len(true_pairs & found) / max(1, len(true_pairs))
    assert precision > 0.9 and recall > 0.8, (precision, recall)


def test_an_em_session_without_pairs_leaves_the_prior_alone():
    # No postcodes at all: the second EM session's rule finds no pairs. Splink 5.0 left the
    # prior at that session's blocking-adjusted value (about 1e-10, where 1e-4 is right),
    # which lost two thirds of FEBRL 2's true pairs.
    table = population(4000, seed=12)
    table = table.set_column(table.column_names.index("postcode"), "postcode",
                             pa.array([""] * table.num_rows))
    model = train_model(table, seed=0, max_pairs=2e5, u_max_pairs=3e5)
    assert model.training["em_rules_without_pairs"]
    keys = table.column("person_key").to_pylist()
    sizes = Counter(keys).values()
    true_rate = sum(k * (k - 1) / 2 for k in sizes) / (len(keys) * (len(keys) - 1) / 2)
    prior = model.settings["probability_two_random_records_match"]
    assert true_rate / 10 < prior < true_rate * 10, (prior, true_rate)
    # ... and the comparisons that failed session could not train are still in the model.
    assert [c.field for c in model.weights.comparisons] == [c.field for c in COMPARISONS]
    dob = {lv.label: lv.weight for lv in model.weights.comparisons[2].levels}
    assert dob["exact"] > 5


def test_without_vetoes_the_veto_levels_weigh_as_different():
    table = population(3000, seed=13)
    vetoed = train_model(table, seed=0, max_pairs=2e5, u_max_pairs=3e5)
    lifted = train_model(table, seed=0, max_pairs=2e5, u_max_pairs=3e5, vetoes=False)
    seen = 0
    for with_veto, without in zip(vetoed.weights.comparisons, lifted.weights.comparisons, strict=True):
        for a, b in zip(with_veto.levels, without.levels, strict=True):
            if a.m == VETO[0]:
                seen += 1
                assert a.weight <= -24
                assert b.weight == without.levels[-1].weight
    assert seen == 2  # twins, and another generation
    assert lifted.training["vetoes"] is False and vetoed.training["vetoes"] is True


def test_frequencies_saved_with_the_model_come_from_enough_training_records():
    data = normalise_table(population(3000, seed=14))
    assert count_term_frequencies(data) == {}  # fewer than TF_MIN_RECORDS: nothing is "common"
    counted = count_term_frequencies(data, min_count=2, min_records=0)["name_key"]
    keys = [k for k in data.column("name_key").to_pylist() if k]
    assert counted["total"] == len(keys)
    assert counted["counts"] == {k: n for k, n in Counter(keys).items() if n >= 2}
    assert all(isinstance(k, str) and len(k) == 16 for k in counted["counts"])  # digests, not names


def test_a_common_full_name_weighs_less_and_a_rare_one_no_more(tmp_path):
    model = trained_model()
    jane = normalise(Identity("a", "Jane", "Smith", date_of_birth="2001-02-03"))
    other = normalise(Identity("b", "Jane", "Smith", date_of_birth="2001-02-03"))
    plain = score_normalised(model, jane, other)
    level = next(lv for lv in model.weights.comparisons[0].levels if lv.tf == "name_key")
    common = replace(model, term_frequencies={"name_key": {"total": 1000, "min_count": 3,
                                                            "counts": {jane["name_key"]: 50}}})
    assert abs(score_normalised(common, jane, other) - (plain + math.log2(level.u) - math.log2(0.05))) < 1e-9
    rare = replace(model, term_frequencies={"name_key": {"total": 10**9, "min_count": 3,
                                                          "counts": {jane["name_key"]: 3}}})
    assert score_normalised(rare, jane, other) == plain  # never a bonus: the level's u is the least
    saved = LinkageModel.load(common.save(tmp_path / "m.json"))
    assert saved.term_frequency("name_key", jane["name_key"]) == 0.05


def test_one_school_in_one_district_weighs_what_it_adds_to_the_district():
    model = trained_model()
    school = {lv.label: lv for lv in model.weights.comparisons[4].levels}
    in_district, anywhere = school["exact, in the same postcode district"], school["exact"]
    assert 0 < in_district.weight < anywhere.weight
    data = normalise_table(population(8000, seed=11))
    known = [(r["pc_district"], r["school"]) for r in data.select(["pc_district", "school"]).to_pylist()
             if r["pc_district"] and r["school"]]
    pairs = lambda counts: sum(n * (n - 1) // 2 for n in counts.values())  # noqa: E731
    share = pairs(Counter(known)) / pairs(Counter(d for d, _ in known))
    assert abs(in_district.u - share) < 1e-12


def _blocked_by(rules: tuple[str, ...], left: Identity, right: Identity) -> bool:
    import duckdb

    table = normalise_table([left, right])
    con = duckdb.connect()
    con.register("t", table)
    return any(con.execute(f"SELECT count(*) FROM t l JOIN t r ON l.record_id < r.record_id AND ({rule})").fetchone()[0]
               for rule in rules)


def test_the_narrow_blocking_rules_still_find_people_who_moved_with_a_date_or_name_written_differently():
    from casetrail.people.linkage.model import BROAD_RULES_SQL, blocking_rules_for

    narrow = blocking_rules_for(10**6)
    assert not set(BROAD_RULES_SQL) & set(narrow)
    moved = dict(postcode="RV1 0AU", address="25 Quarry Avenue", sex="male")
    home = dict(postcode="NS2 0XS", address="16 Albert Drive", sex="male")
    cases = [
        # Day and month the other way round, and a move.
        (Identity("a", "Oliver", "Harley", date_of_birth="1994-06-01", **home),
         Identity("b", "Oliver", "Harley", date_of_birth="1994-01-06", **moved)),
        # Another spelling of the given name at the same address (not brothers: one date of birth).
        (Identity("c", "Kieran", "O'Brien", date_of_birth="1997-04-24", **home),
         Identity("d", "Ciaran", "Obrien", date_of_birth="1997-04-24", **home)),
        # Only the NHS number is the same.
        (Identity("e", "Amira", "Haddad", date_of_birth="2007-05-02", nhs_number="9990000018", **home),
         Identity("f", "Mira", "Clarke", date_of_birth="2007", nhs_number="9990000018", **moved)),
    ]
    for left, right in cases:
        assert _blocked_by(narrow, left, right), (left, right)
    strangers = (Identity("g", "Oliver", "Harley", date_of_birth="1994-06-01", **home),
                 Identity("h", "Oliver", "Harley", date_of_birth="1994-02-07", **moved))
    assert not _blocked_by(narrow, *strangers)  # a namesake elsewhere, born another day: not scored
