"""Linkage accuracy measures on tiny hand-made examples whose answers are worked out by hand."""

from __future__ import annotations

import pandas as pd
import pyarrow as pa
import pytest

from bench.linkage.metrics import (
    best_threshold,
    cluster_scores,
    clusters_from_pairs,
    intake_accuracy,
    labels,
    pairwise_scores,
    threshold_sweep,
)

# Person A was referred three times (Southport), B twice, C once: 3 + 1 = 4 true pairs.
TRUTH = pa.table({"record_id": ["A1", "A2", "A3", "B1", "B2", "C1"],
                  "person_key": ["a", "a", "a", "b", "b", "c"]})
PREDICTIONS = [
    ("A1", "A2", 0.9),
    ("A2", "A1", 0.95),  # the same pair the other way round: counted once, at 0.95
    ("A2", "A3", 0.8),
    ("A1", "C1", 0.7),   # wrong
    ("B1", "B2", 0.4),
    ("C1", "C1", 1.0),   # a record with itself: ignored
]


def test_pairs_at_a_threshold_count_every_pair_of_one_persons_records() -> None:
    scores = pairwise_scores(PREDICTIONS, TRUTH, threshold=0.5)
    assert (scores.true_positives, scores.false_positives, scores.false_negatives) == (2, 1, 2)
    assert scores.precision == pytest.approx(2 / 3)
    assert scores.recall == pytest.approx(1 / 2)
    assert scores.f1 == pytest.approx(4 / 7)


def test_a_pair_at_exactly_the_threshold_is_a_match() -> None:
    assert pairwise_scores(PREDICTIONS, TRUTH, threshold=0.4).true_positives == 3


def test_truth_given_as_linked_pairs_still_counts_all_pairs_within_a_person() -> None:
    # Only a chain A1-A2-A3 is listed; A1-A3 is a true pair all the same.
    chain = {("A1", "A2"), ("A2", "A3"), ("B1", "B2")}
    scores = pairwise_scores(PREDICTIONS, labels(chain, record_ids=["C1", "D1"]), threshold=0.5)
    assert scores.true_pairs == 4
    assert (scores.true_positives, scores.false_positives) == (2, 1)
    with pytest.raises(ValueError, match="not in the truth"):
        pairwise_scores(PREDICTIONS, chain)  # C1 is in no true pair, so it must be named


def test_truth_as_a_mapping_a_dataframe_or_a_table_agrees() -> None:
    mapping = dict(zip(TRUTH.column("record_id").to_pylist(), TRUTH.column("person_key").to_pylist(), strict=True))
    expected = pairwise_scores(PREDICTIONS, TRUTH, threshold=0.5)
    assert pairwise_scores(PREDICTIONS, mapping, threshold=0.5) == expected
    assert pairwise_scores(PREDICTIONS, TRUTH.to_pandas(), threshold=0.5) == expected


def test_splink_output_columns_are_understood() -> None:
    splink = pd.DataFrame(PREDICTIONS, columns=["unique_id_l", "unique_id_r", "match_probability"])
    assert pairwise_scores(splink, TRUTH, threshold=0.5) == pairwise_scores(PREDICTIONS, TRUTH, threshold=0.5)
    ours = pa.table({"record_id_l": ["A1"], "record_id_r": ["A3"], "match_probability": [0.6]})
    assert pairwise_scores(ours, TRUTH, threshold=0.5).true_positives == 1


def test_pairs_without_probabilities_are_all_matches() -> None:
    scores = pairwise_scores([("A1", "A2"), ("B1", "C1")], TRUTH)
    assert (scores.true_positives, scores.false_positives, scores.false_negatives) == (1, 1, 3)


def test_nothing_predicted_is_precise_but_recalls_nothing() -> None:
    scores = pairwise_scores([], TRUTH)
    assert (scores.precision, scores.recall, scores.f1) == (1.0, 0.0, 0.0)


def test_an_unknown_record_is_an_error() -> None:
    with pytest.raises(ValueError, match="not in the truth"):
        pairwise_scores([("A1", "Z9", 0.9)], TRUTH)


def test_the_sweep_scores_each_threshold() -> None:
    sweep = threshold_sweep(PREDICTIONS, TRUTH, [0.3, 0.75, 0.99])
    assert [(s.true_positives, s.false_positives) for s in sweep] == [(3, 1), (2, 0), (0, 0)]


def test_the_best_threshold_maximises_f1_or_recall_at_a_precision() -> None:
    best = best_threshold(PREDICTIONS, TRUTH)
    assert best.threshold == 0.4 and best.f1 == pytest.approx(0.75)
    precise = best_threshold(PREDICTIONS, TRUTH, min_precision=1.0)
    assert precise.threshold == 0.8 and precise.recall == pytest.approx(0.5)
    impossible = best_threshold([("A1", "C1", 0.9)], TRUTH, min_precision=0.5)
    assert impossible.predicted == 0


def test_clusters_from_pairs_join_everything_connected() -> None:
    clusters = clusters_from_pairs(PREDICTIONS, threshold=0.5, record_ids=TRUTH.column("record_id").to_pylist())
    assert clusters == {"A1": "A1", "A2": "A1", "A3": "A1", "C1": "A1", "B1": "B1", "B2": "B2"}


def test_cluster_scores_on_a_split_person() -> None:
    # A is split in two, B is found whole, C alone.
    scores = cluster_scores({"A1": "x", "A2": "x", "A3": "y", "B1": "z", "B2": "z", "C1": "w"}, TRUTH)
    assert (scores.records, scores.true_identities, scores.predicted_clusters) == (6, 3, 4)
    assert (scores.pairwise.true_positives, scores.pairwise.false_positives,
            scores.pairwise.false_negatives) == (2, 0, 2)
    assert scores.bcubed_precision == pytest.approx(1.0)
    assert scores.bcubed_recall == pytest.approx(7 / 9)
    assert scores.exact_identities == pytest.approx(0.5)
    assert (scores.split_identities, scores.merged_clusters) == (1, 0)
    assert scores.adjusted_rand_index == pytest.approx(22 / 37)


def test_cluster_scores_on_a_merge_and_missing_records() -> None:
    # C wrongly joins B; A's records are not listed, so each is a cluster of its own.
    table = pa.table({"record_id": ["B1", "B2", "C1"], "cluster_id": ["k", "k", "k"]})
    scores = cluster_scores(table, TRUTH)
    assert scores.predicted_clusters == 4
    assert (scores.pairwise.true_positives, scores.pairwise.false_positives) == (1, 2)
    assert (scores.split_identities, scores.merged_clusters) == (1, 1)
    assert scores.exact_identities == 0.0


def test_perfect_clusters_score_one() -> None:
    perfect = {"A1": "a", "A2": "a", "A3": "a", "B1": "b", "B2": "b", "C1": "c"}
    scores = cluster_scores(perfect, TRUTH)
    assert (scores.pairwise.f1, scores.bcubed_f1, scores.exact_identities, scores.adjusted_rand_index) == (
        1.0, 1.0, 1.0, 1.0)


INTAKE_TRUTH = {"q1": {"A1"}, "q2": set(), "q3": {"B1", "B2"}, "q4": set(), "q5": {"C1"}}
INTAKE_PREDICTIONS = {
    "q1": [("A1", 0.9), ("B1", 0.95)],  # the top candidate is somebody else
    "q2": [],                           # rightly a new person
    "q3": [("B2", 0.8)],                # right
    "q4": [("A2", 0.6)],                # a new person matched to someone
    # q5 missing: no candidates, so 'new person', though C was known (the Southport failure)
}


def test_intake_accuracy_counts_each_kind_of_decision() -> None:
    scores = intake_accuracy(INTAKE_PREDICTIONS, INTAKE_TRUTH)
    assert (scores.matched_right, scores.new_right, scores.wrong_person, scores.false_match, scores.missed) == (
        1, 1, 1, 1, 1)
    assert scores.accuracy == pytest.approx(2 / 5)


def test_intake_threshold_withholds_weak_candidates() -> None:
    scores = intake_accuracy(INTAKE_PREDICTIONS, INTAKE_TRUTH, threshold=0.7)
    assert (scores.new_right, scores.false_match) == (2, 0)
    assert scores.accuracy == pytest.approx(3 / 5)
    strict = intake_accuracy(INTAKE_PREDICTIONS, INTAKE_TRUTH, threshold=0.92)
    assert (strict.wrong_person, strict.matched_right, strict.missed) == (1, 0, 2)


def test_intake_candidates_in_rank_order_take_the_first() -> None:
    scores = intake_accuracy({"q1": ["A1", "B1"], "q3": ["A1"]}, {"q1": {"A1"}, "q3": {"B1"}})
    assert (scores.matched_right, scores.wrong_person) == (1, 1)
    with pytest.raises(ValueError, match="probabilities"):
        intake_accuracy({"q1": ["A1"]}, {"q1": {"A1"}}, threshold=0.5)


def test_intake_predictions_for_unknown_queries_are_an_error() -> None:
    with pytest.raises(ValueError, match="not in the truth"):
        intake_accuracy({"zz": []}, INTAKE_TRUTH)
