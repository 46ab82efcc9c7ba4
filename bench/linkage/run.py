"""Every linkage benchmark with one command: `python -m bench.linkage.run [--size 1000000]`.

Each bench runs in its own process so that its peak memory is its own; the figures are printed
as JSON, then summarised in one table (paste it into bench/README.md).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

from tqdm import tqdm

from bench.linkage import common
from bench.machine import machine

STEPS = (
    ("training", ["bench.linkage.bench_training"]),
    ("training (Splink default)", ["bench.linkage.bench_training", "--baseline"]),
    ("dedupe", ["bench.linkage.bench_dedupe"]),
    ("dedupe (Splink default)", ["bench.linkage.bench_dedupe", "--baseline"]),
    ("intake", ["bench.linkage.bench_intake"]),
    ("accuracy on FEBRL", ["bench.linkage.bench_accuracy"]),
)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", default=None, help="comma-separated step names")
    options = parser.parse_args(argv)
    results: dict[str, dict] = {}
    out = Path(tempfile.mkdtemp(prefix="casetrail-bench-"))
    steps = [s for s in STEPS if not options.only or s[0] in options.only.split(",")]
    for name, command in tqdm(steps, desc="linkage benchmarks", unit="bench"):
        target = out / f"{len(results)}.json"
        args = [sys.executable, "-m", *command, "--size", str(options.size), "--seed", str(options.seed),
                "--json", str(target)]
        completed = subprocess.run(args, stdout=subprocess.DEVNULL, check=False)
        if completed.returncode or not target.exists():
            results[name] = {"error": f"exit {completed.returncode}"}
            continue
        results[name] = json.loads(target.read_text())
    print(summary(options.size, results))
    (out / "all.json").write_text(json.dumps(results, indent=1))
    print(f"figures: {out / 'all.json'}")
    return 0


def _f(value: object, digits: int = 4) -> str:
    return f"{value:.{digits}f}" if isinstance(value, float) else str(value)


def summary(size: int, results: dict[str, dict]) -> str:
    m, v = machine(), common.versions()
    lines = [f"Linkage benchmarks at {size:,} records; {m['cores']} cores, {m['ram_gib']} GiB, {m['cpu']}; "
             f"Python {m['python']}, Splink {v['splink']}, DuckDB {v['duckdb']}, pyarrow {v['pyarrow']}",
             "", "| measure | Casetrail | Splink default | target |", "|---|---|---|---|"]
    t, tb = results.get("training", {}), results.get("training (Splink default)", {})
    d, db = results.get("dedupe", {}), results.get("dedupe (Splink default)", {})
    i = results.get("intake", {})
    lines.append(f"| training time (s) | {t.get('train_s')} (+{t.get('normalise_s')} normalising) | "
                 f"{tb.get('splink_default_train_s')} | < 120 |")
    lines.append(f"| training peak memory (GiB) | {t.get('peak_rss_gib')} | {tb.get('peak_rss_gib')} | < 4 |")
    lines.append(f"| full dedupe time (s) | {d.get('dedupe_s')} | {db.get('splink_default_dedupe_s')} | < 30 |")
    lines.append(f"| dedupe peak memory (GiB) | {d.get('peak_rss_gib')} | {db.get('peak_rss_gib')} | |")
    cp, cpb = d.get("cluster_pairwise", {}), db.get("cluster_pairwise", {})
    lines.append(f"| dedupe F1 (clusters at {d.get('cluster_threshold')}, the default; Splink default at "
                 f"{db.get('cluster_threshold', 0.9)}) | {_f(cp.get('f1'))} | {_f(cpb.get('f1'))} | >= 0.97 |")
    for threshold, scores in d.get("cluster_pairwise_at", {}).items():
        lines.append(f"| dedupe F1 (clusters at {threshold}) | {_f(scores.get('f1'))} | | |")
    bf, bfb = d.get("pairs_best_f1", {}), db.get("pairs_best_f1", {})
    lines.append(f"| pairwise best F1 | {_f(bf.get('f1'))} | {_f(bfb.get('f1'))} | |")
    rp, rpb = d.get("pairs_recall_at_precision_0.98", {}), db.get("pairs_recall_at_precision_0.98", {})
    lines.append(f"| pairwise recall at precision >= 0.98 | {_f(rp.get('recall'))} | {_f(rpb.get('recall'))} | >= 0.99 |")
    lat, sp = i.get("latency_ms", {}), i.get("splink_predict_between_ms", {})
    lines.append(f"| intake median latency (ms) | {lat.get('median')} | {sp.get('median')} (predict_between) | < 5 |")
    lines.append(f"| intake p99 latency (ms) | {lat.get('p99')} | | < 20 |")
    lines.append(f"| intake index build (s) / peak memory (GiB) | {i.get('build_s')} / {i.get('peak_rss_gib')} | | |")
    ia = i.get("intake_at_0.5", {})
    lines.append(f"| intake decisions right (top candidate at p >= 0.5) | {_f(ia.get('accuracy'))} | | |")
    for name, figures in results.items():
        if "error" in figures:
            lines.append(f"| {name} | failed: {figures['error']} | | |")
    accuracy = results.get("accuracy on FEBRL", {})
    if any(k.startswith("febrl") for k in accuracy):
        lines += ["", "FEBRL (fixed sizes, without the ID column), pairwise best F1 / recall at precision >= 0.98:",
                  "", "| dataset | Casetrail | Casetrail without vetoes | Splink default |", "|---|---|---|---|"]
        for n in (1, 2, 3, 4):
            f = accuracy.get(f"febrl{n}")
            if not isinstance(f, dict):
                lines.append(f"| FEBRL {n} | {f} | | |")
                continue
            cells = [f"{_f(f[k]['pairs_best_f1']['f1'], 3)} / {_f(f[k]['pairs_recall_at_precision_0.98']['recall'], 3)}"
                     for k in ("casetrail", "casetrail_without_vetoes", "splink_default")]
            lines.append(f"| FEBRL {n} ({f['records']:,} records) | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
