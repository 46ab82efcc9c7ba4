"""Batch search of the whole person index for records that are likely the same person, for an
administrator to review: Splink's predict over the model's blocking rules, then clustering."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from casetrail.people.linkage.model import LinkageModel, _as_normalised, _duckdb_api, linker_for

Progress = Callable[[str, float], None]

# Records join one cluster (single link) through pairs at or above this probability. At 0.6 the
# synthetic population's cluster F1 is 0.993 at 100,000 records and 0.987 at a million (0.5 to
# 0.7 all within 0.001); at 0.9 clusters miss the pairs a common full name now weighs below it
# (0.974 at a million): bench/README.md.
CLUSTER_THRESHOLD = 0.6


@dataclass
class DedupeResult:
    """Scored pairs and the clusters they form; both are pyarrow Tables."""

    pairs: Any  # record_id_l, record_id_r, match_weight, match_probability
    clusters: Any  # record_id, cluster_id (every record; a lone record is its own cluster)
    record_count: int
    timings: dict[str, float] = field(default_factory=dict)

    def groups(self, *, min_size: int = 2) -> list[list[str]]:
        """Clusters of at least `min_size` records, largest first: what the administrator reviews."""
        members: dict[str, list[str]] = {}
        for record_id, cluster_id in zip(
            self.clusters.column("record_id").to_pylist(), self.clusters.column("cluster_id").to_pylist(),
            strict=True,
        ):
            members.setdefault(cluster_id, []).append(record_id)
        found = [sorted(ids) for ids in members.values() if len(ids) >= min_size]
        return sorted(found, key=lambda ids: (-len(ids), ids[0]))


def find_duplicates(
    table: Any,
    model: LinkageModel,
    *,
    threshold: float = 0.5,
    cluster_threshold: float = CLUSTER_THRESHOLD,
    memory_limit: str | None = "4GB",
    threads: int | None = None,
    progress: Progress | None = None,
) -> DedupeResult:
    """Score every blocked pair at or above `threshold` and cluster those at or above
    `cluster_threshold`. `table` is a population table, a normalised table or Identities."""
    report = progress or (lambda stage, done: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    report("normalise", 0.0)
    data = _as_normalised(table, progress)
    timings["normalise_s"] = time.perf_counter() - started

    step = time.perf_counter()
    report("predict", 0.2)
    linker = linker_for(model, data, db_api=_duckdb_api(memory_limit=memory_limit, threads=threads))
    predictions = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
    timings["predict_s"] = time.perf_counter() - step

    step = time.perf_counter()
    report("cluster", 0.7)
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=cluster_threshold
    )
    con = linker._db_api.duckdb_con
    clusters = con.sql(
        f"SELECT CAST(record_id AS VARCHAR) AS record_id, CAST(cluster_id AS VARCHAR) AS cluster_id "
        f"FROM {clustered.physical_name}"
    ).to_arrow_table()
    pairs = con.sql(
        f"SELECT CAST(record_id_l AS VARCHAR) AS record_id_l, CAST(record_id_r AS VARCHAR) AS record_id_r, "
        f"match_weight, match_probability FROM {predictions.physical_name} ORDER BY match_weight DESC"
    ).to_arrow_table()
    timings["cluster_s"] = time.perf_counter() - step
    timings["total_s"] = time.perf_counter() - started
    report("done", 1.0)
    return DedupeResult(pairs=pairs, clusters=clusters, record_count=int(data.num_rows), timings=timings)
