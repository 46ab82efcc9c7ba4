"""What every linkage benchmark reports with its figures: machine, versions, time and peak memory."""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from bench.machine import machine

CACHE = Path(os.environ.get("CASETRAIL_BENCH_CACHE", "/tmp/casetrail-bench"))
# DuckDB spills into ./.tmp unless told otherwise; keep it in the cache, out of the repository.
DUCKDB_TEMP = CACHE / "duckdb-tmp"
os.environ.setdefault("CASETRAIL_LINKAGE_TEMP", str(DUCKDB_TEMP))




def versions() -> dict[str, str]:
    import duckdb
    import pyarrow
    import splink

    return {"splink": splink.__version__, "duckdb": duckdb.__version__, "pyarrow": pyarrow.__version__}


def peak_rss_gib() -> float:
    """Peak resident memory of this process so far (DuckDB's native memory included)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


@contextmanager
def timed(figures: dict[str, Any], name: str):
    started = time.perf_counter()
    yield
    figures[name] = round(time.perf_counter() - started, 3)


def population(size: int, seed: int = 0) -> Any:
    """The synthetic population, cached on disk (generating a million takes a while)."""
    import pyarrow.parquet as pq

    from casetrail.people.population import generate_population

    path = CACHE / f"population_{size}_{seed}.parquet"
    if path.exists():
        return pq.read_table(path)
    table = generate_population(size, seed=seed)
    CACHE.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return table


def normalised(size: int, seed: int = 0) -> Any:
    import pyarrow.parquet as pq

    from casetrail.people.linkage.records import normalise_table

    path = CACHE / f"normalised_{size}_{seed}.parquet"
    if path.exists():
        return pq.read_table(path)
    table = normalise_table(population(size, seed))
    pq.write_table(table, path)
    return table


def model(size: int, seed: int = 0) -> Any:
    """The model trained on this population (by bench_training), training it if missing."""
    from casetrail.people.linkage.model import LinkageModel, train_model

    path = CACHE / f"model_{size}_{seed}.json"
    if path.exists():
        return LinkageModel.load(path)
    trained = train_model(normalised(size, seed), seed=seed)
    trained.save(path)
    return trained


def emit(name: str, size: int, figures: dict[str, Any], out: str | None) -> dict[str, Any]:
    result = {"bench": name, "size": size, "machine": machine(), "versions": versions(),
              "peak_rss_gib": round(peak_rss_gib(), 2), **figures}
    text = json.dumps(result, indent=1)
    print(text)
    if out:
        Path(out).write_text(text)
    return result


def args(argv: list[str] | None = None) -> Any:
    import argparse

    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", default=None, help="also write the figures here")
    return parser.parse_args(argv if argv is not None else sys.argv[1:])
