"""The batch linkage on Splink's Spark backend (local mode) gives the DuckDB answer."""

from __future__ import annotations

import os

import pytest

from casetrail.people.linkage.dedupe import find_duplicates
from casetrail.people.linkage.spark import SparkUnavailable, find_duplicates_spark, spark_available
from tests.unit.linkage_helpers import population, trained_model

pytestmark = pytest.mark.spark


@pytest.mark.skipif(not spark_available() and not os.environ.get("CASETRAIL_REQUIRE_SPARK"),
                    reason="pyspark or Java missing (pip install 'casetrail[spark]')")
def test_a_small_linkage_on_spark_matches_duckdb():
    table = population(1500, seed=41)
    model = trained_model()
    on_spark = find_duplicates_spark(table, model)
    on_duckdb = find_duplicates(table, model)

    def scored(result):
        return {(a, b): w for a, b, w in zip(result.pairs.column("record_id_l").to_pylist(),
                                             result.pairs.column("record_id_r").to_pylist(),
                                             result.pairs.column("match_weight").to_pylist(), strict=True)}

    spark_pairs, duckdb_pairs = scored(on_spark), scored(on_duckdb)
    assert spark_pairs.keys() == duckdb_pairs.keys() and spark_pairs
    assert max(abs(spark_pairs[k] - duckdb_pairs[k]) for k in spark_pairs) < 1e-6
    assert sorted(on_spark.groups()) == sorted(on_duckdb.groups())


def test_without_pyspark_the_error_says_how_to_install(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_pyspark(name, *args, **kwargs):
        if name == "pyspark" or name.startswith("pyspark."):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_pyspark)
    with pytest.raises(SparkUnavailable, match="pip install"):
        find_duplicates_spark(population(10), trained_model())
