"""The same batch dedupe on Splink's Spark backend, for national-scale runs.

pyspark is optional (`pip install casetrail[spark]`) and needs Java 11+. `local_spark()` starts
Spark in local mode on this machine; on a cluster pass your own SparkSession. The model is the
one trained on DuckDB: its comparisons are rebuilt with Spark SQL and its m and u copied across
level by level, so both backends score a pair the same way.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from typing import Any

from casetrail.people.linkage.dedupe import CLUSTER_THRESHOLD, DedupeResult, Progress
from casetrail.people.linkage.model import (
    BLOCKING_RULES_SQL,
    LinkageModel,
    _as_normalised,
    _probability,
    register_term_frequencies,
    splink_settings,
)


class SparkUnavailable(RuntimeError):
    """pyspark or Java is missing."""


def spark_available() -> bool:
    try:
        import pyspark  # noqa: F401
    except ImportError:
        return False
    return bool(shutil.which("java") or os.environ.get("JAVA_HOME"))


def _require_pyspark() -> Any:
    try:
        import pyspark
    except ImportError as error:
        raise SparkUnavailable(
            "The Spark backend needs pyspark: pip install 'casetrail[spark]' (and Java 11 or later)."
        ) from error
    if not (shutil.which("java") or os.environ.get("JAVA_HOME")):
        raise SparkUnavailable("The Spark backend needs Java 11 or later on PATH or in JAVA_HOME.")
    return pyspark


def local_spark(*, cores: int | str = "*", memory: str = "2g", app_name: str = "casetrail-linkage") -> Any:
    """A local-mode SparkSession with Splink's similarity functions (its jar) on the classpath."""
    _require_pyspark()
    from pyspark.sql import SparkSession
    from splink.internals.spark.jar_location import similarity_jar_location

    scratch = tempfile.mkdtemp(prefix="casetrail-spark-")
    return (
        SparkSession.builder.master(f"local[{cores}]")
        .appName(app_name)
        .config("spark.driver.memory", memory)
        .config("spark.jars", similarity_jar_location())
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.default.parallelism", "8")
        .config("spark.local.dir", scratch)
        .config("spark.ui.enabled", "false")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.driver.bindAddress", "127.0.0.1")
        .config("spark.driver.host", "127.0.0.1")
        .getOrCreate()
    )


def spark_settings(model: LinkageModel) -> dict[str, Any]:
    """The model's settings with Spark SQL conditions and the trained m and u."""
    settings = splink_settings(dialect="spark").get_settings("spark").as_dict()
    trained = {c["output_column_name"]: c for c in model.settings["comparisons"]}
    for comparison in settings["comparisons"]:
        source = trained[comparison["output_column_name"]]["comparison_levels"]
        for level, learnt in zip(comparison["comparison_levels"], source, strict=True):
            for key in ("m_probability", "u_probability"):
                if key in learnt:
                    level[key] = learnt[key]
            if level.get("tf_adjustment_column"):  # see LinkageModel.prediction_settings
                level["tf_minimum_u_value"] = _probability(learnt.get("u_probability"))
    settings["probability_two_random_records_match"] = model.settings["probability_two_random_records_match"]
    return settings


def find_duplicates_spark(
    table: Any,
    model: LinkageModel,
    *,
    spark: Any = None,
    threshold: float = 0.5,
    cluster_threshold: float = CLUSTER_THRESHOLD,
    progress: Progress | None = None,
) -> DedupeResult:
    """`dedupe.find_duplicates` on Spark. Starts a local session when `spark` is None."""
    _require_pyspark()
    import logging

    import pyarrow as pa
    from splink import Linker, SparkAPI

    report = progress or (lambda stage, done: None)
    timings: dict[str, float] = {}
    started = time.perf_counter()
    report("normalise", 0.0)
    data = _as_normalised(table, progress)
    timings["normalise_s"] = time.perf_counter() - started

    logging.getLogger("py4j").setLevel(logging.WARNING)
    session = spark or local_spark()
    session.sparkContext.setLogLevel("ERROR")
    checkpoints = tempfile.mkdtemp(prefix="casetrail-spark-ckpt-")
    session.sparkContext.setCheckpointDir(checkpoints)
    step = time.perf_counter()
    report("predict", 0.2)
    db_api = SparkAPI(spark_session=session, break_lineage_method="parquet")
    frame = session.createDataFrame(data)
    sdf = db_api.register(frame, table_name="casetrail_people")
    settings = spark_settings(model)
    settings["blocking_rules_to_generate_predictions"] = [
        {"blocking_rule": sql, "sql_dialect": "spark"} for sql in BLOCKING_RULES_SQL
    ]
    linker = Linker(sdf, settings, log_level=logging.WARNING)
    register_term_frequencies(linker, db_api, model,
                              convert=lambda table: session.createDataFrame(
                                  table.to_pylist(), schema=f"{table.column_names[0]} string, "
                                                            f"{table.column_names[1]} double"))
    predictions = linker.inference.predict(threshold_match_probability=threshold, warning_mode="never")
    timings["predict_s"] = time.perf_counter() - step

    step = time.perf_counter()
    report("cluster", 0.7)
    clustered = linker.clustering.cluster_pairwise_predictions_at_threshold(
        predictions, threshold_match_probability=cluster_threshold
    )
    pairs_df = predictions.as_spark_dataframe().selectExpr(
        "CAST(record_id_l AS STRING) AS record_id_l", "CAST(record_id_r AS STRING) AS record_id_r",
        "match_weight", "match_probability",
    ).orderBy("match_weight", ascending=False)
    clusters_df = clustered.as_spark_dataframe().selectExpr(
        "CAST(record_id AS STRING) AS record_id", "CAST(cluster_id AS STRING) AS cluster_id"
    )
    pairs = pa.Table.from_pylist([row.asDict() for row in pairs_df.collect()],
                                 schema=pa.schema([("record_id_l", pa.string()), ("record_id_r", pa.string()),
                                                   ("match_weight", pa.float64()),
                                                   ("match_probability", pa.float64())]))
    clusters = pa.Table.from_pylist([row.asDict() for row in clusters_df.collect()],
                                    schema=pa.schema([("record_id", pa.string()), ("cluster_id", pa.string())]))
    timings["cluster_s"] = time.perf_counter() - step
    timings["total_s"] = time.perf_counter() - started
    shutil.rmtree(checkpoints, ignore_errors=True)
    if spark is None:
        session.stop()
    report("done", 1.0)
    return DedupeResult(pairs=pairs, clusters=clusters, record_count=int(data.num_rows), timings=timings)
