"""Full batch dedupe of the population (predict + clustering on DuckDB), with accuracy against
the truth, beside Splink's default approach on the same data."""

from __future__ import annotations

from bench.linkage import common
from bench.linkage.metrics import (
    best_threshold,
    cluster_scores,
    clusters_from_pairs,
    pairwise_scores,
)
from casetrail.people.linkage.dedupe import CLUSTER_THRESHOLD


def run(size: int, seed: int = 0, out: str | None = None, *, cluster_threshold: float = CLUSTER_THRESHOLD) -> dict:
    from casetrail.people.linkage.dedupe import find_duplicates

    records = common.population(size, seed)
    truth = records.select(["record_id", "person_key"])
    data = common.normalised(size, seed)
    model = common.model(size, seed)
    del records
    figures: dict = {}
    with common.timed(figures, "dedupe_s"):
        result = find_duplicates(data, model, threshold=0.01, cluster_threshold=cluster_threshold)
    figures["dedupe_timings"] = {k: round(v, 2) for k, v in result.timings.items()}
    figures["dedupe_peak_rss_gib"] = round(common.peak_rss_gib(), 2)
    figures["scored_pairs"] = result.pairs.num_rows
    clusters = cluster_scores(result.clusters, truth)
    figures["cluster_threshold"] = cluster_threshold
    figures["cluster_pairwise"] = clusters.pairwise.as_dict()
    figures["cluster_bcubed_f1"] = round(clusters.bcubed_f1, 4)
    # The same single-link clustering of the scored pairs at other thresholds (why find_duplicates
    # clusters at 0.6).
    figures["cluster_pairwise_at"] = {
        str(t): cluster_scores(clusters_from_pairs(result.pairs, threshold=t), truth).pairwise.as_dict()
        for t in (0.5, 0.7, 0.9, 0.97)
    }
    figures["pairs_at_0.5"] = pairwise_scores(result.pairs, truth, threshold=0.5).as_dict()
    figures["pairs_best_f1"] = best_threshold(result.pairs, truth).as_dict()
    figures["pairs_recall_at_precision_0.98"] = best_threshold(result.pairs, truth, min_precision=0.98).as_dict()
    return common.emit("dedupe", size, figures, out)


def run_baseline(size: int, seed: int = 0, out: str | None = None, *, cluster_threshold: float = 0.9) -> dict:
    import json
    import logging
    import time

    import duckdb
    from splink import DuckDBAPI, Linker

    from bench.linkage import baseline

    records = common.population(size, seed)
    truth = records.select(["record_id", "person_key"])
    data = common.normalised(size, seed)
    settings = json.loads((common.CACHE / f"baseline_{size}_{seed}.json").read_text())
    con = duckdb.connect()
    con.execute(f"SET temp_directory = '{common.DUCKDB_TEMP}'")
    con.execute("SET memory_limit = '4GB'")
    figures: dict = {}
    started = time.perf_counter()
    linker = Linker(DuckDBAPI(con).register(baseline.columns(data), table_name="baseline_people"), settings,
                    log_level=logging.WARNING)
    predictions = linker.inference.predict(threshold_match_probability=0.01, warning_mode="never")
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(predictions, cluster_threshold)
    pairs = predictions.as_pyarrow_table().select(["record_id_l", "record_id_r", "match_probability"])
    clusters = clustered.as_pyarrow_table().select(["record_id", "cluster_id"])
    figures["splink_default_dedupe_s"] = round(time.perf_counter() - started, 3)
    figures["cluster_threshold"] = cluster_threshold
    figures["dedupe_peak_rss_gib"] = round(common.peak_rss_gib(), 2)
    scores = cluster_scores(clusters, truth)
    figures["cluster_pairwise"] = scores.pairwise.as_dict()
    figures["pairs_best_f1"] = best_threshold(pairs, truth).as_dict()
    figures["pairs_recall_at_precision_0.98"] = best_threshold(pairs, truth, min_precision=0.98).as_dict()
    return common.emit("dedupe_splink_default", size, figures, out)


if __name__ == "__main__":
    import sys

    options = common.args([a for a in sys.argv[1:] if a != "--baseline"])
    (run_baseline if "--baseline" in sys.argv else run)(options.size, options.seed, options.json)
