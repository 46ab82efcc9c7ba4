"""Intake: one incoming identity against everyone already in the index. The candidate index
(build time, memory, latency per query, accuracy) beside Splink's own one-record path,
`predict_between`, on the same index and model."""

from __future__ import annotations

import statistics
import time

from tqdm import tqdm

from bench.linkage import common
from bench.linkage.datasets import intake_split
from bench.linkage.metrics import intake_accuracy


def run(size: int, seed: int = 0, out: str | None = None, *, queries: int = 2000, splink_queries: int = 20) -> dict:
    from casetrail.people.linkage.index import CandidateIndex
    from casetrail.people.linkage.model import linker_for
    from casetrail.people.linkage.records import identities_from_table, normalise, normalise_table

    records = common.population(size, seed)
    model = common.model(size, seed)
    split = intake_split(records, n_queries=queries, seed=seed)
    del records
    figures: dict = {"queries": queries}
    with common.timed(figures, "normalise_index_s"):
        data = normalise_table(split.index)
    with common.timed(figures, "build_s"):
        index = CandidateIndex.from_normalised_table(data, model)
    figures["index_records"] = len(index)
    figures["build_peak_rss_gib"] = round(common.peak_rss_gib(), 2)

    identities = identities_from_table(split.queries)
    latencies, answers = [], {}
    for identity in tqdm(identities, desc="intake", unit="query"):
        started = time.perf_counter()
        found = index.candidates(identity, limit=10, min_probability=0.01)
        latencies.append(time.perf_counter() - started)
        answers[identity.record_id] = [(c.record_id, c.match_probability) for c in found]
    latencies.sort()
    figures["latency_ms"] = {"median": round(statistics.median(latencies) * 1e3, 3),
                             "p99": round(latencies[int(len(latencies) * 0.99) - 1] * 1e3, 3),
                             "max": round(latencies[-1] * 1e3, 3)}
    for threshold in (0.5, 0.9):
        figures[f"intake_at_{threshold}"] = intake_accuracy(answers, split.truth, threshold=threshold).as_dict()

    # Splink's one-record path on the same index: predict_between(index, one record).
    import pyarrow as pa

    linker = linker_for(model, data)
    db_api = linker._db_api
    left = linker._input_tables_dict[next(iter(linker._input_tables_dict))]
    splink_latencies = []
    for i, identity in enumerate(tqdm(identities[:splink_queries], desc="splink predict_between", unit="query")):
        one = pa.Table.from_pylist([normalise(identity)], schema=data.schema)
        right = db_api.register(one, table_name=f"q{i}")
        started = time.perf_counter()
        linker.inference.predict_between(left, right, warning_mode="never").as_pyarrow_table()
        splink_latencies.append(time.perf_counter() - started)
    figures["splink_predict_between_ms"] = {"median": round(statistics.median(splink_latencies) * 1e3, 1),
                                            "max": round(max(splink_latencies) * 1e3, 1),
                                            "queries": len(splink_latencies)}
    return common.emit("intake", size, figures, out)


if __name__ == "__main__":
    options = common.args()
    run(options.size, options.seed, options.json)
