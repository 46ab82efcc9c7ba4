"""What the access log costs a page: `python -m bench.load.access_log [--repeat 15]`.

For the case page and my-work (a police officer's, through Django's test client, production
settings, PostgreSQL as in bench/load/run.py): the time and queries of a request with the
access-log write as it is, and of the same request with `access_log` replaced by a no-op
(monkeypatched here only), alternating the two so that drift falls on both; the write's share of
the page's time. Then one `access_log` call alone, how many such writes a second all of Casetrail
can make with 1 to 8 writers at once (every write takes its turn on the chain's head row, see
casetrail/audit/models.py), and what /healthz costs: its queries, whether any writes, its time and
where the time goes.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.load.common import describe, versions
from bench.load.run import load_data, server_environment
from bench.machine import machine

WRITES = ("INSERT", "UPDATE", "DELETE")


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load.access_log", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=15, help="requests of each page each way (default 15)")
    parser.add_argument("--dataset", choices=["demo", "national"], default="demo")
    parser.add_argument("--database-url", default=os.environ.get("CASETRAIL_DATABASE_URL", ""))
    parser.add_argument("--not-durable", action="store_true", help="throwaway cluster without fsync")
    parser.add_argument("--writer-seconds", type=float, default=3.0,
                        help="seconds each concurrency level of the write-rate test runs (default 3)")
    parser.add_argument("--out", help="write the figures as JSON to this file")
    args = parser.parse_args(argv)
    if args.repeat < 1 or args.writer_seconds <= 0:
        parser.error("--repeat and --writer-seconds must be positive")
    if args.dataset == "national" and not args.database_url:
        parser.error("--dataset national needs --database-url")
    return args


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


class NoAccessLog:
    """Replaces every module's reference to casetrail.audit.services.access_log with a no-op."""

    def __enter__(self) -> NoAccessLog:
        from casetrail.audit import services

        self.original = services.access_log
        self.patched: list[Any] = []
        for module in list(sys.modules.values()):
            if getattr(module, "access_log", None) is self.original:
                module.access_log = _no_op  # type: ignore[attr-defined]
                self.patched.append(module)
        return self

    def __exit__(self, *exc: object) -> None:
        for module in self.patched:
            module.access_log = self.original


def _no_op(**kwargs: Any) -> None:
    return None


def _request(client: Any, path: str) -> tuple[float, int, int, int]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()  # else queries left in the log by an earlier request can hide this one's
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = client.get(path, secure=True)
        elapsed = time.perf_counter() - started
    writes = sum(1 for q in captured.captured_queries if q["sql"].lstrip().upper().startswith(WRITES))
    return elapsed, len(captured.captured_queries), writes, response.status_code


def page_cost(client: Any, path: str, repeat: int) -> dict[str, Any]:
    from casetrail.audit.models import AccessLogEntry

    for _ in range(2):  # warm the worker: templates, imports, connection
        client.get(path, secure=True)
    from django.test import override_settings

    runs: dict[str, list[tuple[float, int, int, int]]] = {"as_is": [], "no_op": [], "no_session_save": []}
    entries_before = AccessLogEntry.objects.count()
    for index in range(repeat):
        order = ("as_is", "no_op", "no_session_save")
        for way in order[index % 3:] + order[:index % 3]:
            if way == "no_op":
                with NoAccessLog():
                    runs[way].append(_request(client, path))
            elif way == "no_session_save":
                # For comparison only: the session is saved on every request (the idle timeout),
                # one more committed write per page view.
                with override_settings(SESSION_SAVE_EVERY_REQUEST=False):
                    runs[way].append(_request(client, path))
            else:
                runs[way].append(_request(client, path))
    # Both ways but the no-op write their entries.
    written = (AccessLogEntry.objects.count() - entries_before) / 2
    result: dict[str, Any] = {"path": path, "status": runs["as_is"][0][3],
                              "access_log_entries_per_request": round(written / repeat, 2)}
    for way, found in runs.items():
        times = [r[0] for r in found]
        result[way] = {"median_ms": _ms(statistics.median(times)), "min_ms": _ms(min(times)),
                       "queries": found[0][1], "writes": found[0][2]}
    result["session_save_ms"] = round(result["as_is"]["median_ms"] - result["no_session_save"]["median_ms"], 2)
    delta = result["as_is"]["median_ms"] - result["no_op"]["median_ms"]
    result["access_log_ms"] = round(delta, 2)
    result["access_log_share"] = round(delta / result["as_is"]["median_ms"], 4) if result["as_is"]["median_ms"] else None
    return result


def write_alone(user: Any, case: Any, repeat: int = 200) -> dict[str, Any]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from casetrail.audit.services import access_log

    times = []
    reset_queries()  # else queries left in the log by an earlier request can hide this one's
    with CaptureQueriesContext(connection) as captured:
        access_log(user=user, operation="consultation", subject=case, case=case, person=case.person)
    for _ in range(repeat):
        started = time.perf_counter()
        access_log(user=user, operation="consultation", subject=case, case=case, person=case.person)
        times.append(time.perf_counter() - started)
    return {"median_ms": _ms(statistics.median(times)), "p95_ms": _ms(sorted(times)[int(len(times) * 0.95)]),
            "queries": len(captured.captured_queries),
            "statements": [q["sql"][:120] for q in captured.captured_queries]}


def write_rate(user_id: int, case_id: int, seconds: float, writers: int) -> dict[str, Any]:
    """Access-log writes a second with this many writers at once, each on its own connection."""
    from django.db import connection

    from casetrail.accounts.models import User
    from casetrail.audit.services import access_log
    from casetrail.cases.models import Case

    counts = [0] * writers
    latencies: list[list[float]] = [[] for _ in range(writers)]
    start = threading.Barrier(writers + 1)

    def writer(index: int) -> None:
        user = User.objects.get(pk=user_id)
        case = Case.objects.select_related("person").get(pk=case_id)
        start.wait()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            began = time.perf_counter()
            access_log(user=user, operation="consultation", subject=case, case=case, person=case.person)
            latencies[index].append(time.perf_counter() - began)
            counts[index] += 1
        connection.close()

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    every = sorted(x for found in latencies for x in found)
    return {"writers": writers, "writes_per_s": round(sum(counts) / elapsed, 1),
            "median_ms": _ms(statistics.median(every)), "p99_ms": _ms(every[int(len(every) * 0.99)])}


def commit_rate(seconds: float, writers: int) -> dict[str, Any]:
    """The same, for a one-row INSERT into a scratch table with no chain: what the disk's commits
    alone allow, beside which the access log's rate shows the cost of taking turns."""
    from django.db import connection

    counts = [0] * writers
    start = threading.Barrier(writers + 1)

    def writer(index: int) -> None:
        start.wait()
        deadline = time.monotonic() + seconds
        with connection.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute("INSERT INTO bench_commit (at) VALUES (now())")
                counts[index] += 1
        connection.close()

    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS bench_commit (id bigserial PRIMARY KEY, at timestamptz)")
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(writers)]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.monotonic()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_commit")
    return {"writers": writers, "commits_per_s": round(sum(counts) / elapsed, 1)}


def healthz_cost(client: Any, signed_in: Any, repeat: int = 50) -> dict[str, Any]:
    from django.db import connection, reset_queries
    from django.db.migrations.executor import MigrationExecutor
    from django.test.utils import CaptureQueriesContext

    # Asked with a signed-in session's cookie (a browser, not a load balancer), the session is
    # saved like on every request.
    _, queries, writes, _ = _request(signed_in, "/healthz")
    with_cookie = {"queries": queries, "writes": writes}

    reset_queries()  # else queries left in the log by an earlier request can hide this one's
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/healthz", secure=True)
    statements = [q["sql"][:160] for q in captured.captured_queries]
    times = [_request(client, "/healthz")[0] for _ in range(repeat)]

    def median_of(run: Any) -> float:
        found = []
        for _ in range(repeat):
            started = time.perf_counter()
            run()
            found.append(time.perf_counter() - started)
        return _ms(statistics.median(found))

    def select_one() -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")

    def plan() -> None:
        executor = MigrationExecutor(connection)
        executor.migration_plan(executor.loader.graph.leaf_nodes())

    return {"status": response.status_code, "queries": len(statements),
            "with_session_cookie": with_cookie,
            "writes": sum(1 for s in statements if s.lstrip().upper().startswith(WRITES)),
            "statements": statements, "median_ms": _ms(statistics.median(times)),
            "select_1_ms": median_of(select_one), "migration_plan_ms": median_of(plan),
            "session_cookie_set": "sessionid" in response.cookies}


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    cluster = None
    work = Path(tempfile.mkdtemp(prefix="casetrail-access-log."))
    try:
        url = args.database_url
        if not url:
            from bench.load.pg import Cluster

            cluster = Cluster(durable=not args.not_durable)
            url = cluster.start()
        env = server_environment(url, work)
        # The request log lines would bury the figures; logging costs the same both ways.
        env["CASETRAIL_LOG_LEVEL"] = "WARNING"
        print(f"Preparing the {args.dataset} dataset...", flush=True)
        load_data(env, args.dataset)
        os.environ.update(env)
        import django

        django.setup()
        import random

        from django.conf import settings
        from django.db import connection
        from django.test import Client

        from bench.load.prep import _users, _work_of, dataset_size, sign_in_session
        from casetrail.cases.models import Case

        officer = _users("police_officer")[0]
        cases, _ = _work_of(officer, random.Random(0))
        if not cases:
            raise RuntimeError(f"{officer.username} sees no case to open")
        client = Client()
        client.cookies[settings.SESSION_COOKIE_NAME] = sign_in_session(officer)
        pages = {}
        for name, path in [("case page", f"/cases/{cases[0]}/"), ("my-work", "/my-work")]:
            print(f"Timing {name} ({args.repeat} requests each way)...", flush=True)
            pages[name] = page_cost(client, path, args.repeat)
        case = Case.objects.select_related("person").get(pk=cases[0])
        alone = write_alone(officer, case)
        print("Access-log writes a second with 1, 2, 4 and 8 writers at once...", flush=True)
        rates = [write_rate(officer.pk, case.pk, args.writer_seconds, n) for n in (1, 2, 4, 8)]
        if connection.vendor == "postgresql":
            for rate in rates:
                rate["plain_commits_per_s"] = commit_rate(args.writer_seconds, rate["writers"])["commits_per_s"]
        health = healthz_cost(Client(), client)
        figures = {
            "bench": "access_log", "dataset_name": args.dataset, "dataset": dataset_size(),
            "machine": machine(), "versions": versions(),
            "postgresql": cluster.version() if cluster else "given by URL",
            "durable": (not args.not_durable) if cluster else None,
            "pages": pages, "write_alone": alone, "write_rate": rates, "healthz": health,
        }
        print()
        print(describe(figures))
        print(f"PostgreSQL: {figures['postgresql']}" + ("" if cluster is None else
                                                       f" ({'durable' if figures['durable'] else 'fsync off'})"))
        print("\nMedian (and fastest) of the requests each way; the machine's other work adds noise to both.")
        print(f"{'page':<10} {'with log ms':>16} {'no-op ms':>16} {'log ms':>7} {'share':>6} "
              f"{'queries':>8} {'no-op q':>8} {'entries/req':>11} {'no session save ms':>18}")
        for name, found in pages.items():
            share = f"{found['access_log_share'] * 100:.1f}%" if found["access_log_share"] is not None else "-"
            with_log = f"{found['as_is']['median_ms']:.1f} ({found['as_is']['min_ms']:.0f})"
            without = f"{found['no_op']['median_ms']:.1f} ({found['no_op']['min_ms']:.0f})"
            print(f"{name:<10} {with_log:>16} {without:>16} "
                  f"{found['access_log_ms']:>7.1f} {share:>6} {found['as_is']['queries']:>8} "
                  f"{found['no_op']['queries']:>8} {found['access_log_entries_per_request']:>11} "
                  f"{found['no_session_save']['median_ms']:>12.1f} ({found['no_session_save']['min_ms']:.0f})")
        print(f"\nOne access_log() call: median {alone['median_ms']} ms, p95 {alone['p95_ms']} ms, "
              f"{alone['queries']} queries:")
        for statement in alone["statements"]:
            print(f"  {statement}")
        print("\nAccess-log writes a second, all writers together (one chain head, taken in turn):")
        for rate in rates:
            plain = (f"; plain one-row commits {rate['plain_commits_per_s']:.1f}/s"
                     if "plain_commits_per_s" in rate else "")
            print(f"  {rate['writers']} writer(s): {rate['writes_per_s']:>7.1f}/s, median {rate['median_ms']} ms, "
                  f"p99 {rate['p99_ms']} ms{plain}")
        print(f"\n/healthz: {health['status']}, median {health['median_ms']} ms, {health['queries']} queries, "
              f"{health['writes']} writes; SELECT 1 {health['select_1_ms']} ms, migration plan "
              f"{health['migration_plan_ms']} ms; with a signed-in session's cookie "
              f"{health['with_session_cookie']['queries']} queries, {health['with_session_cookie']['writes']} writes")
        for statement in health["statements"]:
            print(f"  {statement}")
        if args.out:
            Path(args.out).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
            print(f"Figures written to {args.out}")
        return 0
    finally:
        try:
            from django.db import connections

            connections.close_all()
        except Exception:  # noqa: BLE001 - Django may not be set up yet
            pass
        if cluster is not None:
            cluster.stop()
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
