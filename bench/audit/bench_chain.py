"""How fast the audit chains are checked and signed at national size, on SQLite and PostgreSQL.

    python -m bench.audit.bench_chain [--entries 1000000 10000000] [--databases sqlite,postgresql]

For each size and database: a throwaway database (a SQLite file; a database in a throwaway
PostgreSQL cluster started like scripts/test does, or on the server of --pg-url), migrated, holding
N events written through the bulk path (casetrail.audit.bulk.append_chained); then the time of
`chain_verify` over the event chain (what `manage.py verify` runs, reading included) and of
`manage.py audit_digest` (verifies both chains, then signs their heads). Each database is measured
in its own process (Django reads its database from the environment at start). Built databases are
kept in CASETRAIL_BENCH_CACHE (/tmp/casetrail-bench) with --reuse; otherwise removed at the end.
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

from bench.machine import machine

ROOT = Path(__file__).resolve().parents[2]
CACHE = Path(os.environ.get("CASETRAIL_BENCH_CACHE", "/tmp/casetrail-bench")) / "audit"

KINDS = ("referral.recorded", "gateway.decided", "panel.discussed", "consent.recorded", "assessment.saved",
         "intervention.started", "review.recorded", "case.closed", "attachment.added", "case.transferred")
ROLES = ("referrer", "police_officer", "channel_coordinator", "panel_chair", "intervention_provider")




def event_rows(count: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """Synthetic events, ten years of a national programme: no person, only codes and numbers."""
    rng = random.Random(seed)
    start = datetime(2016, 4, 1, tzinfo=UTC)
    step = timedelta(seconds=10 * 365.25 * 86400 / max(count, 1))
    for n in range(count):
        moment = start + step * n + timedelta(microseconds=rng.randrange(1_000_000))
        case = rng.randrange(1, 100_001)
        kind = rng.choice(KINDS)
        yield {
            "kind": kind, "subject_type": "case", "subject_id": case, "actor_role": rng.choice(ROLES),
            "occurred_at": moment - timedelta(hours=rng.randrange(0, 72)), "recorded_at": moment,
            "summary": f"CT-{case:06d}: {kind.replace('.', ' ')}",
            "data": {"stage": rng.randrange(1, 12), "score": round(rng.random() * 10, 2), "ref": f"R{n}"},
        }


def server_cpu_seconds(connection: Any) -> float | None:
    """CPU time so far of the PostgreSQL backend serving this connection, when it runs on this
    machine (from /proc); None otherwise."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def calibration() -> dict[str, float]:
    """How fast this machine is right now (shared machines vary): microseconds for SHA-256 of one
    entry-sized document, and for a small pure-Python loop (sum(range(100)), ~0.8 on a quiet modern core)."""
    import hashlib
    import timeit

    document = b"x" * 420
    sha = min(timeit.repeat(lambda: hashlib.sha256(document).hexdigest(), number=20_000, repeat=3)) / 20_000
    loop = min(timeit.repeat(lambda: sum(range(100)), number=20_000, repeat=3)) / 20_000
    return {"sha256_420_bytes_us": round(sha * 1e6, 2), "sum_range_100_us": round(loop * 1e6, 2)}


# ---------------------------------------------------------------- one database, in its own process

def worker(options: argparse.Namespace) -> dict[str, Any]:
    import django

    os.environ["CASETRAIL_DATABASE_URL"] = options.url
    os.environ.setdefault("CASETRAIL_ENV", "development")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casetrail.settings")
    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from tqdm import tqdm

    from casetrail.audit.bulk import append_chained
    from casetrail.audit.models import Event
    from casetrail.audit.verification import chain_verify

    figures: dict[str, Any] = {"database": connection.vendor, "entries": options.entries}
    call_command("migrate", verbosity=0)
    have = Event.objects.count()
    if have != options.entries:
        if have:
            raise SystemExit(f"{options.url} holds {have} events, not {options.entries}: remove it first")
        started = time.perf_counter()
        with tqdm(total=options.entries, desc=f"building {connection.vendor}", unit=" entries", file=sys.stderr,
                  mininterval=2) as bar:
            append_chained(Event, event_rows(options.entries), batch_size=options.batch_size, progress=bar.update)
        figures["build_seconds"] = round(time.perf_counter() - started, 1)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE audit_event")
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT version()")
        else:
            cursor.execute("SELECT 'SQLite ' || sqlite_version()")
        figures["server"] = cursor.fetchone()[0].split(" on ")[0]
    figures["calibration"] = calibration()
    for _ in range(options.repeat):
        server = server_cpu_seconds(connection)
        started, cpu = time.perf_counter(), time.process_time()
        report = chain_verify(Event)
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
        assert report.intact and report.entries == options.entries, report
        figures.setdefault("verify_seconds", []).append(round(seconds, 2))
        figures.setdefault("verify_cpu_seconds", []).append(round(cpu, 2))
        if server is not None:
            figures.setdefault("verify_server_cpu_seconds", []).append(
                round((server_cpu_seconds(connection) or 0) - server, 2))
    if options.general:
        server = server_cpu_seconds(connection)
        started, cpu = time.perf_counter(), time.process_time()
        report = chain_verify(Event, fast_path=False)
        assert report.intact and report.entries == options.entries, report
        figures["general_verify_seconds"] = round(time.perf_counter() - started, 2)
        figures["general_verify_cpu_seconds"] = round(time.process_time() - cpu, 2)
        if server is not None:
            figures["general_verify_server_cpu_seconds"] = round((server_cpu_seconds(connection) or 0) - server, 2)
    best = min(figures["verify_seconds"])
    figures["verify_entries_per_second"] = round(options.entries / best)
    started = time.perf_counter()
    out = StringIO()
    call_command("audit_digest", "--no-progress", stdout=out, stderr=StringIO())
    figures["digest_seconds"] = round(time.perf_counter() - started, 2)
    figures["digest_lines"] = len(out.getvalue().splitlines())
    return figures


# ---------------------------------------------------------------- the run

def pg_cluster() -> tuple[str, str]:
    """A throwaway cluster, started by scripts/test's own pg_start: (its directory, its URL)."""
    script = f"source {ROOT / 'scripts' / 'test'} && pg_start >&2 && echo \"$PG_DIR\" && echo \"$PG_URL\""
    lines = subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True).stdout.split()
    return lines[0], lines[1]


def pg_cluster_stop(directory: str) -> None:
    subprocess.run(["bash", "-c", f"source {ROOT / 'scripts' / 'test'} && PG_DIR={directory} && pg_stop"], check=False)


def pg_database(server_url: str, name: str, *, fresh: bool) -> str:
    from urllib.parse import urlsplit, urlunsplit

    import psycopg

    parts = urlsplit(server_url)
    conninfo = urlunsplit(parts._replace(scheme="postgresql"))
    with psycopg.connect(conninfo, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and fresh:
            conn.execute(f'DROP DATABASE "{name}"')
        if not exists or fresh:
            conn.execute(f'CREATE DATABASE "{name}"')
    return urlunsplit(parts._replace(path=f"/{name}"))


def versions() -> dict[str, str]:
    import django
    import psycopg

    return {"django": django.get_version(), "psycopg": psycopg.__version__, "sqlite (python)": sqlite3.sqlite_version}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--entries", type=int, nargs="+", default=[1_000_000])
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--pg-url", default=os.environ.get("CASETRAIL_BENCH_PG_URL"),
                        help="a PostgreSQL server to create the bench databases on (default: a throwaway cluster)")
    parser.add_argument("--reuse", action="store_true", help="keep built databases in the cache and reuse them")
    parser.add_argument("--repeat", type=int, default=2, help="verification runs (the best is reported)")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--general", action="store_true",
                        help="also time verification the general way only (without the fast path), for comparison")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--json", help=argparse.SUPPRESS)
    options = parser.parse_args(argv)
    if options.worker:
        options.entries = options.entries[0]
        Path(options.json).write_text(json.dumps(worker(options)))
        return 0

    databases = [name.strip() for name in options.databases.split(",") if name.strip()]
    CACHE.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="casetrail-bench-audit-"))
    cluster = None
    results = []
    try:
        server = options.pg_url
        if "postgresql" in databases and not server:
            cluster, server = pg_cluster()
        key = base64.b64encode(os.urandom(32)).decode()
        for entries in options.entries:
            for database in databases:
                if database == "sqlite":
                    path = (CACHE if options.reuse else scratch) / f"chain-{entries}.sqlite3"
                    url = f"sqlite:///{path}"
                else:
                    url = pg_database(server, f"casetrail_bench_chain_{entries}", fresh=not options.reuse)
                target = scratch / f"{database}-{entries}.json"
                env = {**os.environ, "CASETRAIL_VAR_DIR": str(scratch / "var"), "CASETRAIL_ENV": "development",
                       "CASETRAIL_AUDIT_SIGNING_KEY": key}
                command = [sys.executable, "-m", "bench.audit.bench_chain", "--worker", "--url", url,
                           "--entries", str(entries), "--json", str(target), "--repeat", str(options.repeat),
                           "--batch-size", str(options.batch_size), *(["--general"] if options.general else [])]
                completed = subprocess.run(command, cwd=ROOT, env=env, check=False)
                if completed.returncode or not target.exists():
                    results.append({"database": database, "entries": entries, "error": f"exit {completed.returncode}"})
                else:
                    results.append(json.loads(target.read_text()))
                print(json.dumps(results[-1]), flush=True)
    finally:
        if cluster:
            pg_cluster_stop(cluster)
        shutil.rmtree(scratch, ignore_errors=True)
    print(summary(results))
    return 0


def summary(results: list[dict[str, Any]]) -> str:
    m = machine()
    lines = [f"Audit chain benchmark; {m['cores']} cores, {m['ram_gib']} GiB, {m['cpu']}; Python {m['python']}, "
             + ", ".join(f"{name} {version}" for name, version in versions().items()),
             "", "| database | entries | build (s) | verify (s, best) | entries/s | verify CPU of this process (s) "
             "| audit_digest (s) | calibration: sha256 of 420 B / sum(range(100)), µs |",
             "|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "error" in r:
            lines.append(f"| {r['database']} | {r['entries']:,} | {r['error']} | | | | | |")
            continue
        lines.append(f"| {r['server']} | {r['entries']:,} | {r.get('build_seconds', 'cached')} | "
                     f"{min(r['verify_seconds'])} | {r['verify_entries_per_second']:,} | "
                     f"{min(r['verify_cpu_seconds'])}"
                     + (f" (+{min(r['verify_server_cpu_seconds'])} server)" if r.get("verify_server_cpu_seconds") else "")
                     + f" | {r['digest_seconds']} | "
                     f"{r['calibration']['sha256_420_bytes_us']} / {r['calibration']['sum_range_100_us']} |")
    for r in results:
        if "general_verify_seconds" in r:
            lines.append(f"{r['server']}, {r['entries']:,} entries, general path only: {r['general_verify_seconds']} s "
                         f"({r['general_verify_cpu_seconds']} s CPU of this process"
                         + (f", {r['general_verify_server_cpu_seconds']} s of the server's"
                            if "general_verify_server_cpu_seconds" in r else "") + ")")
    lines.append("targets: verify >= 1,000,000 entries/s; audit_digest of 10,000,000 entries < 60 s")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
