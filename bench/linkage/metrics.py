"""Accuracy of person linkage against known true identities: pairs, clusters and intake decisions.

Truth is who each record really is. It can be given as records with `record_id` and
`person_key` (a pyarrow Table or pandas DataFrame), as a mapping record_id -> person_key,
or as the true pairs (every record in no pair is a person of its own: name such records
with `labels(pairs, record_ids=...)` and pass the result as the truth). True pairs are always counted as every pair of records of
the same person, however the truth was given: three referrals of one boy are three pairs.

Predicted pairs are a table with (record_id_l, record_id_r) or Splink's (unique_id_l,
unique_id_r) and match_probability, or an iterable of (id, id, probability) or (id, id).
A pair counts once whichever way round and however often it appears (its highest
probability); a record paired with itself is ignored; a pair is predicted a match when its
probability is at least the threshold.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

Truth = Any  # pa.Table | pandas.DataFrame | Mapping[str, str] | Iterable[tuple[str, str]]
Predictions = Any  # pa.Table | pandas.DataFrame | Iterable[tuple[str, str, float] | tuple[str, str]]


# --------------------------------------------------------------------------- truth


@dataclass(frozen=True)
class Labels:
    """Every record's id and an integer identity label (records of one person share it)."""

    ids: pa.Array
    label: np.ndarray

    def codes(self, record_ids: pa.Array | pa.ChunkedArray) -> np.ndarray:
        """Positions of the given record ids in `ids`; an unknown id is an error."""
        found = pc.index_in(record_ids, value_set=self.ids)
        if found.null_count:
            missing = pc.filter(record_ids, pc.is_null(found)).to_pylist()[:5]
            raise ValueError(f"Record ids not in the truth: {missing}")
        return np.asarray(found.to_numpy(zero_copy_only=False), dtype=np.int64)

    @property
    def true_pair_count(self) -> int:
        sizes = np.bincount(self.label)
        return int((sizes * (sizes - 1) // 2).sum())


def labels(truth: Truth, *, record_ids: Iterable[str] | None = None) -> Labels:
    """The truth as identity labels (see the module's docstring for the forms it takes)."""
    if hasattr(truth, "column_names") or hasattr(truth, "columns"):
        table = truth if isinstance(truth, pa.Table) else pa.Table.from_pandas(truth, preserve_index=False)
        ids = table.column("record_id").combine_chunks().cast(pa.string())
        keys = table.column("person_key").combine_chunks().cast(pa.string())
    elif isinstance(truth, Mapping):
        ids = pa.array(list(truth.keys()), pa.string())
        keys = pa.array([str(v) for v in truth.values()], pa.string())
    else:
        return _labels_from_pairs(truth, record_ids)
    if pc.count_distinct(ids).as_py() != len(ids):
        raise ValueError("record_id must be unique in the truth")
    label = np.asarray(pc.dictionary_encode(keys).indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    return Labels(ids=ids, label=label)


def _labels_from_pairs(pairs: Iterable[tuple[str, str]], record_ids: Iterable[str] | None) -> Labels:
    index: dict[str, int] = {}
    for record_id in record_ids or ():
        index.setdefault(record_id, len(index))
    edges = [(index.setdefault(a, len(index)), index.setdefault(b, len(index))) for a, b in pairs]
    parent = _components(len(index), edges)
    return Labels(ids=pa.array(list(index), pa.string()), label=np.unique(parent, return_inverse=True)[1])


def _components(n: int, edges: Iterable[tuple[int, int]]) -> np.ndarray:
    """Connected components by union-find: each node's root."""
    parent = list(range(n))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in edges:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([root(x) for x in range(n)], dtype=np.int64)


# --------------------------------------------------------------------------- pairs


@dataclass(frozen=True)
class PairScores:
    threshold: float
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def predicted(self) -> int:
        return self.true_positives + self.false_positives

    @property
    def true_pairs(self) -> int:
        return self.true_positives + self.false_negatives

    @property
    def precision(self) -> float:
        # Nothing predicted is perfectly precise (and recall then says what was missed).
        return self.true_positives / self.predicted if self.predicted else 1.0

    @property
    def recall(self) -> float:
        return self.true_positives / self.true_pairs if self.true_pairs else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0

    def as_dict(self) -> dict[str, float | int]:
        return {"threshold": self.threshold, "precision": self.precision, "recall": self.recall, "f1": self.f1,
                "true_positives": self.true_positives, "false_positives": self.false_positives,
                "false_negatives": self.false_negatives}


@dataclass(frozen=True)
class _Scored:
    probability: np.ndarray  # one per distinct predicted pair, highest first
    correct: np.ndarray      # the pair is of the same person
    true_pairs: int


def _pair_columns(predictions: Predictions) -> tuple[pa.Array, pa.Array, np.ndarray]:
    if hasattr(predictions, "column_names") or hasattr(predictions, "columns"):
        table = predictions if isinstance(predictions, pa.Table) else pa.Table.from_pandas(
            predictions, preserve_index=False)
        names = table.column_names
        left = "record_id_l" if "record_id_l" in names else "unique_id_l"
        right = "record_id_r" if "record_id_r" in names else "unique_id_r"
        probability = (np.asarray(table.column("match_probability").to_numpy(), dtype=np.float64)
                       if "match_probability" in names else np.ones(table.num_rows))
        return (table.column(left).combine_chunks().cast(pa.string()),
                table.column(right).combine_chunks().cast(pa.string()), probability)
    rows = list(predictions)
    return (pa.array([str(r[0]) for r in rows], pa.string()), pa.array([str(r[1]) for r in rows], pa.string()),
            np.array([float(r[2]) if len(r) > 2 else 1.0 for r in rows], dtype=np.float64))


def _score(predictions: Predictions, truth: Truth | Labels) -> _Scored:
    known = truth if isinstance(truth, Labels) else labels(truth)
    left, right, probability = _pair_columns(predictions)
    a, b = known.codes(left), known.codes(right)
    keep = a != b
    a, b, probability = a[keep], b[keep], probability[keep]
    low, high = np.minimum(a, b), np.maximum(a, b)
    key = low * len(known.ids) + high
    order = np.lexsort((-probability, key))  # each pair once, at its highest probability
    key, probability, low, high = key[order], probability[order], low[order], high[order]
    first = np.ones(len(key), dtype=bool)
    first[1:] = key[1:] != key[:-1]
    probability, low, high = probability[first], low[first], high[first]
    by_probability = np.argsort(-probability, kind="stable")
    correct = known.label[low] == known.label[high]
    return _Scored(probability=probability[by_probability], correct=correct[by_probability],
                   true_pairs=known.true_pair_count)


def _at(scored: _Scored, threshold: float) -> PairScores:
    # probability is descending: the matches are a prefix.
    predicted = int(np.searchsorted(-scored.probability, -threshold, side="right"))
    tp = int(scored.correct[:predicted].sum())
    return PairScores(threshold=threshold, true_positives=tp, false_positives=predicted - tp,
                      false_negatives=scored.true_pairs - tp)


def pairwise_scores(predictions: Predictions, truth: Truth, *, threshold: float = 0.5) -> PairScores:
    """Precision, recall and F1 of the pairs predicted at `threshold` against all true pairs."""
    return _at(_score(predictions, truth), threshold)


def threshold_sweep(predictions: Predictions, truth: Truth, thresholds: Sequence[float]) -> list[PairScores]:
    """pairwise_scores at each threshold, scoring the predictions once."""
    scored = _score(predictions, truth)
    return [_at(scored, t) for t in thresholds]


def best_threshold(predictions: Predictions, truth: Truth, *, min_precision: float | None = None) -> PairScores:
    """The threshold with the highest F1 or, given `min_precision`, the highest recall at
    that precision or better (ties go to the higher threshold)."""
    scored = _score(predictions, truth)
    if not len(scored.probability):
        return PairScores(threshold=1.0, true_positives=0, false_positives=0, false_negatives=scored.true_pairs)
    tp = np.cumsum(scored.correct)
    fp = np.cumsum(~scored.correct)
    # Only the last pair of each run of equal probabilities is a threshold one can choose.
    ends = np.ones(len(tp), dtype=bool)
    ends[:-1] = scored.probability[:-1] != scored.probability[1:]
    tp, fp, thresholds = tp[ends], fp[ends], scored.probability[ends]
    precision = tp / (tp + fp)
    recall = tp / scored.true_pairs if scored.true_pairs else np.ones(len(tp))
    if min_precision is None:
        goal = np.where(precision + recall > 0, 2 * precision * recall / np.maximum(precision + recall, 1e-300), 0.0)
    else:
        goal = np.where(precision >= min_precision, recall, -1.0)
        if goal.max() < 0:
            return PairScores(threshold=float(scored.probability[0]) + 1e-12, true_positives=0, false_positives=0,
                              false_negatives=scored.true_pairs)
    best = int(np.flatnonzero(goal == goal.max())[0])
    return _at(scored, float(thresholds[best]))


# --------------------------------------------------------------------------- clusters


@dataclass(frozen=True)
class ClusterScores:
    records: int
    true_identities: int
    predicted_clusters: int
    pairwise: PairScores        # the pairs the clusters imply (every two records in one cluster)
    bcubed_precision: float
    bcubed_recall: float
    exact_identities: float     # share of people with 2+ records whose records form exactly one cluster
    split_identities: int       # people whose records are in more than one cluster
    merged_clusters: int        # clusters holding more than one person
    adjusted_rand_index: float

    @property
    def bcubed_f1(self) -> float:
        p, r = self.bcubed_precision, self.bcubed_recall
        return 2 * p * r / (p + r) if p + r else 0.0


def clusters_from_pairs(predictions: Predictions, *, threshold: float,
                        record_ids: Iterable[str] | None = None) -> dict[str, str]:
    """Clusters as the connected components of the pairs at or above `threshold`: record_id ->
    cluster id (the cluster's smallest record id). Records in `record_ids` but in no pair are
    clusters of their own."""
    left, right, probability = _pair_columns(predictions)
    keep = probability >= threshold
    index: dict[str, int] = {}
    for record_id in record_ids or ():
        index.setdefault(record_id, len(index))
    edges = [(index.setdefault(a, len(index)), index.setdefault(b, len(index)))
             for a, b in zip(np.array(left.to_pylist(), dtype=object)[keep],
                             np.array(right.to_pylist(), dtype=object)[keep], strict=True)]
    ids = list(index)
    root = _components(len(ids), edges)
    smallest: dict[int, str] = {}
    for record_id, r in zip(ids, root, strict=True):
        if r not in smallest or record_id < smallest[r]:
            smallest[r] = record_id
    return {record_id: smallest[r] for record_id, r in zip(ids, root, strict=True)}


def _choose2(x: np.ndarray) -> np.ndarray:
    return x * (x - 1) // 2


def cluster_scores(clusters: Mapping[str, str] | Any, truth: Truth) -> ClusterScores:
    """Predicted clusters (record_id -> cluster id, or a table with record_id and cluster_id)
    against the truth. A record of the truth missing from `clusters` is a cluster of its own."""
    known = labels(truth)
    if hasattr(clusters, "column_names") or hasattr(clusters, "columns"):
        table = clusters if isinstance(clusters, pa.Table) else pa.Table.from_pandas(clusters, preserve_index=False)
        id_column = "record_id" if "record_id" in table.column_names else "unique_id"
        cluster_ids = table.column(id_column).combine_chunks().cast(pa.string())
        cluster_of = table.column("cluster_id").combine_chunks().cast(pa.string())
    else:
        cluster_ids = pa.array(list(clusters.keys()), pa.string())
        cluster_of = pa.array([str(c) for c in clusters.values()], pa.string())
    n = len(known.ids)
    predicted = np.arange(n, dtype=np.int64) + n  # singletons unless placed in a cluster
    codes = known.codes(cluster_ids)
    predicted[codes] = np.asarray(pc.dictionary_encode(cluster_of).indices.to_numpy(zero_copy_only=False))
    predicted = np.unique(predicted, return_inverse=True)[1]
    true = known.label

    cells, cell_size = np.unique(predicted * n + true, return_counts=True)
    cell_predicted, cell_true = cells // n, cells % n
    predicted_size = np.bincount(predicted)
    true_size = np.bincount(true)
    same_cluster_pairs = int(_choose2(cell_size).sum())
    predicted_pairs = int(_choose2(predicted_size).sum())
    true_pairs = int(_choose2(true_size).sum())
    pairwise = PairScores(threshold=float("nan"), true_positives=same_cluster_pairs,
                          false_positives=predicted_pairs - same_cluster_pairs,
                          false_negatives=true_pairs - same_cluster_pairs)
    bcubed_precision = float((cell_size ** 2 / predicted_size[cell_predicted]).sum() / n)
    bcubed_recall = float((cell_size ** 2 / true_size[cell_true]).sum() / n)
    exact = (cell_size == predicted_size[cell_predicted]) & (cell_size == true_size[cell_true])
    multi = true_size[cell_true] >= 2
    people_with_repeats = int((true_size >= 2).sum())
    clusters_per_person = np.bincount(cell_true, minlength=len(true_size))
    people_per_cluster = np.bincount(cell_predicted, minlength=len(predicted_size))
    total = _choose2(np.array(n))
    expected = predicted_pairs * true_pairs / total if total else 0.0
    top = (predicted_pairs + true_pairs) / 2
    ari = float((same_cluster_pairs - expected) / (top - expected)) if top != expected else 1.0
    return ClusterScores(
        records=n, true_identities=len(true_size), predicted_clusters=len(predicted_size), pairwise=pairwise,
        bcubed_precision=bcubed_precision, bcubed_recall=bcubed_recall,
        exact_identities=float((exact & multi).sum() / people_with_repeats) if people_with_repeats else 1.0,
        split_identities=int((clusters_per_person > 1).sum()), merged_clusters=int((people_per_cluster > 1).sum()),
        adjusted_rand_index=ari,
    )


# --------------------------------------------------------------------------- intake


@dataclass(frozen=True)
class IntakeScores:
    """One incoming record at a time: is the top candidate right, or is 'new person' right?"""

    queries: int
    matched_right: int   # someone already known, and the top candidate is one of their records
    new_right: int       # a new person, and no candidate was offered
    wrong_person: int    # someone already known, and the top candidate is somebody else
    missed: int          # someone already known, and no candidate was offered (the Southport failure)
    false_match: int     # a new person, and a candidate was offered

    @property
    def correct(self) -> int:
        return self.matched_right + self.new_right

    @property
    def accuracy(self) -> float:
        return self.correct / self.queries if self.queries else 1.0

    def as_dict(self) -> dict[str, float | int]:
        return {"queries": self.queries, "accuracy": self.accuracy, "matched_right": self.matched_right,
                "new_right": self.new_right, "wrong_person": self.wrong_person, "missed": self.missed,
                "false_match": self.false_match}


Candidate = str | tuple[str, float]


def intake_accuracy(predictions: Mapping[str, Sequence[Candidate]], truth: Mapping[str, Collection[str]], *,
                    threshold: float | None = None) -> IntakeScores:
    """How often the intake decision for each query is right.

    `predictions` maps each query's record_id to its candidates from the index: record ids
    in rank order, or (record_id, probability) pairs (the most probable is the top one).
    With `threshold`, candidates below it are not offered. No candidates means 'new person'; a
    query missing from `predictions` has none. `truth` maps every query's record_id to the
    record_ids of the same person in the index (empty: a new person), as
    bench.linkage.datasets.intake_split gives it.
    """
    unknown = set(predictions) - set(truth)
    if unknown:
        raise ValueError(f"Predictions for queries not in the truth: {sorted(unknown)[:5]}")
    counts = dict.fromkeys(("matched_right", "new_right", "wrong_person", "missed", "false_match"), 0)
    for query, same_person in truth.items():
        top = _top(predictions.get(query, ()), threshold)
        if same_person:
            outcome = "missed" if top is None else ("matched_right" if top in same_person else "wrong_person")
        else:
            outcome = "new_right" if top is None else "false_match"
        counts[outcome] += 1
    return IntakeScores(queries=len(truth), **counts)


def _top(candidates: Sequence[Candidate], threshold: float | None) -> str | None:
    if not candidates:
        return None
    if isinstance(candidates[0], str):
        if threshold is not None:
            raise ValueError("A threshold needs candidates with probabilities")
        return candidates[0]
    best: tuple[float, str] | None = None
    for record_id, probability in candidates:  # type: ignore[misc]
        if threshold is not None and probability < threshold:
            continue
        if best is None or probability > best[0]:  # ties go to the earlier candidate
            best = (probability, record_id)
    return None if best is None else best[1]
