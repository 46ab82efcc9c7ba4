"""Load test of the production server: `python -m bench.load.run [--users 16] [--duration 60]`.

1. A database: a throwaway PostgreSQL cluster (bench/load/pg.py), or the one named by
   --database-url / CASETRAIL_DATABASE_URL, which is used as it is (the national dataset made by
   `python -m bench.national.generate` is never reloaded).
2. `migrate`, then the data: `load_demo` for --dataset demo (skipped when users exist),
   nothing for --dataset national (which must already hold cases).
3. Signed-in sessions, API tokens and each simulated person's cases (bench/load/prep.py), and the
   number of queries of one request of each page (bench/load/queries.py).
4. gunicorn as README's "Running as a service" runs it, with production settings from the
   environment (CASETRAIL_ENV=production, a generated secret key), bound to 127.0.0.1, with the
   bench-only URLconf that adds the floor view (bench/load/settings.py).
5. Locust headless for --duration seconds (bench/load/locustfile.py), then a table per page and,
   with --out, the same figures as JSON.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.load.common import describe, versions
from bench.machine import machine

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.load.run", description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=16, help="simulated people at once (default 16)")
    parser.add_argument("--spawn-rate", type=float, default=4.0, help="people started a second (default 4)")
    parser.add_argument("--duration", type=int, default=60, help="seconds of load (default 60)")
    parser.add_argument("--dataset", choices=["demo", "national"], default="demo",
                        help="demo: load_demo into an empty database; national: a database already "
                             "filled by python -m bench.national.generate (needs --database-url)")
    parser.add_argument("--database-url", default=os.environ.get("CASETRAIL_DATABASE_URL", ""),
                        help="an existing PostgreSQL database (default CASETRAIL_DATABASE_URL; without "
                             "either a throwaway cluster is started and removed)")
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (default 3, as README)")
    parser.add_argument("--think", default="0.5,1.5",
                        help="each simulated person waits between these many seconds between requests")
    parser.add_argument("--not-durable", action="store_true",
                        help="throwaway cluster without fsync and synchronous commit (as scripts/test)")
    parser.add_argument("--out", help="write the figures as JSON to this file")
    parser.add_argument("--only", choices=["PoliceOfficer", "Coordinator", "Referrer", "ApiClient", "Probe"], action="append", default=[],
                        help="run only these kinds of simulated users (Probe alone: the floor's own "
                             "throughput on the same server)")
    args = parser.parse_args(argv)
    if args.dataset == "national" and not args.database_url:
        parser.error("--dataset national needs --database-url (or CASETRAIL_DATABASE_URL) of the generated database")
    if args.users < 1 or args.duration < 1 or args.spawn_rate <= 0 or args.workers < 1:
        parser.error("--users, --duration, --workers and --spawn-rate must be positive")
    try:
        low, high = (float(x) for x in args.think.split(","))
        if not 0 <= low <= high:
            raise ValueError
    except ValueError:
        parser.error("--think takes two numbers of seconds, low,high, e.g. 0.5,1.5")
    return args


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def server_environment(database_url: str, work: Path) -> dict[str, str]:
    """Production settings from the environment, as README documents them."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CASETRAIL_")}
    env.update({
        "CASETRAIL_ENV": "production",
        "CASETRAIL_SECRET_KEY": secrets.token_urlsafe(48),
        # testserver: the query counts go through Django's test client in this process.
        "CASETRAIL_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "CASETRAIL_DATABASE_URL": database_url,
        "CASETRAIL_VAR_DIR": str(work / "var"),
        "CASETRAIL_UPLOAD_DIR": str(work / "var" / "uploads"),
        "CASETRAIL_STATIC_ROOT": str(work / "static"),
        "CASETRAIL_BASE_URL": "https://127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "bench.load.settings",
        "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
    })
    # The demo's model file lives in the developer's var/; the shipped model is used otherwise.
    return env


def manage(env: dict[str, str], *command: str) -> None:
    """A management command; its output is shown only when it fails."""
    done = subprocess.run([PYTHON, "manage.py", *command], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        print(done.stdout[-3000:], done.stderr[-3000:], file=sys.stderr)
        raise RuntimeError(f"manage.py {' '.join(command)} failed (exit {done.returncode})")


def load_data(env: dict[str, str], dataset: str) -> None:
    manage(env, "migrate", "--noinput", "--verbosity", "0")
    if dataset == "demo":
        manage(env, "load_demo", "--verbosity", "0")  # skipped when the database has users
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")


def prepare(env: dict[str, str], dataset: str, sessions: int, plan_file: Path) -> dict[str, Any]:
    """Migrate, load, and write the plan; returns the dataset size and the query counts."""
    load_data(env, dataset)
    script = (
        "import json, sys, django; django.setup()\n"
        "from bench.load.prep import build_plan, dataset_size\n"
        "from bench.load.queries import page_queries\n"
        "size = dataset_size()\n"
        # What the task worker does once a day passes: each open case's findings computed and kept.
        "from casetrail import clock\n"
        "from casetrail.cases.safeguards import notify_candidates\n"
        "from casetrail.cases.stored_findings import refresh\n"
        "size['findings_computed_before'] = refresh(notify_candidates(clock.today()))\n"
        "if not size['cases']: sys.exit('The database holds no cases: load a dataset first.')\n"
        f"plan = build_plan(sessions_per_role={sessions})\n"
        f"open({str(plan_file)!r}, 'w').write(json.dumps(plan))\n"
        "print(json.dumps({'dataset': size, 'queries': page_queries(plan)}))\n"
    )
    done = subprocess.run([PYTHON, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        print(done.stdout[-3000:], done.stderr[-3000:], file=sys.stderr)
        raise RuntimeError(f"Preparing the sessions and query counts failed (exit {done.returncode})")
    return json.loads(done.stdout.strip().splitlines()[-1])


def wait_until_up(url: str, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"gunicorn stopped at start-up (exit {server.returncode}); see its log")
        try:
            request = urllib.request.Request(url + "/healthz", headers={"X-Forwarded-Proto": "https"})
            with urllib.request.urlopen(request, timeout=5) as answer:  # noqa: S310 - our own server
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise RuntimeError("gunicorn did not answer /healthz within a minute")


def warm_up(url: str, plan: dict[str, Any], workers: int) -> None:
    """Each gunicorn worker builds the person-matching index on its first case page (once per
    process, as in production after a restart): ask for case pages from as many threads at once
    as there are workers, a few rounds, so that what is measured is the steady state."""
    import http.client
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlparse

    officer = plan["police_officer"][0]
    if not officer["case_ids"]:
        return
    address = urlparse(url)

    def one(_: int) -> int:
        connection = http.client.HTTPConnection(address.hostname, address.port, timeout=300)
        connection.request("GET", f"/cases/{officer['case_ids'][0]}/", headers={
            "X-Forwarded-Proto": "https", "Cookie": f"sessionid={officer['session_key']}"})
        return connection.getresponse().status

    with ThreadPoolExecutor(max_workers=workers * 2) as pool:
        for _round in range(3):
            list(pool.map(one, range(workers * 2)))


def _cpu_seconds(pid: int) -> float:
    import psutil

    try:
        root = psutil.Process(pid)
        # The root's children_* times cover its children that have ended (a database connection
        # closed after CONN_MAX_AGE); the live ones are added one by one.
        times = root.cpu_times()
        total = times.user + times.system + times.children_user + times.children_system
        for process in root.children(recursive=True):
            times = process.cpu_times()
            total += times.user + times.system
        return total
    except psutil.Error:
        return 0.0


def read_stats(prefix: Path) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    rows = []
    with open(f"{prefix}_stats.csv", encoding="utf-8") as table:
        for row in csv.DictReader(table):
            rows.append({
                "name": row["Name"], "method": row["Type"], "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]), "rps": round(float(row["Requests/s"]), 2),
                "median_ms": _number(row["50%"]), "p95_ms": _number(row["95%"]), "p99_ms": _number(row["99%"]),
                "mean_ms": round(float(row["Average Response Time"]), 1), "max_ms": _number(row["Max Response Time"]),
            })
    failures = []
    failures_file = Path(f"{prefix}_failures.csv")
    if failures_file.exists():
        with open(failures_file, encoding="utf-8") as table:
            failures = [{"name": r["Name"], "error": r["Error"], "occurrences": r["Occurrences"]}
                        for r in csv.DictReader(table)]
    return rows, failures


def page_name(method: str, path: str) -> str | None:
    """The Locust request name of a path in the server's request log."""
    if path.startswith("/referrals/new/"):
        page = path[len("/referrals/new/"):]
        if not page:
            return "referral: start"
        if page.startswith("confirmation/"):
            return "referral: confirmation"
        if page == "check":
            return "referral: submit" if method == "POST" else "referral: check"
        return f"referral: {page} (send)" if method == "POST" else f"referral: {page}"
    for pattern, name in PATHS:
        if pattern.fullmatch(path):
            return name
    return None


PATHS = [(re.compile(p), n) for p, n in [
    (r"/my-work", "my-work"), (r"/cases/\d+/", "case page"), (r"/cases/", "case list"), (r"/search", "search"),
    (r"/my-referrals", "my referrals"), (r"/api/v1/cases", "api: case list"), (r"/api/v1/cases/\d+", "api: case"),
    (r"/healthz", "healthz"), (r"/bench/floor", "floor")]]


def server_times(log: Path) -> dict[str, float]:
    """Median time each page spent inside Django (the request log's duration_ms), which leaves
    out the wait for a free gunicorn worker that the client's latency includes."""
    found: dict[str, list[float]] = {}
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.startswith("{"):
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if "duration_ms" not in entry or "path" not in entry:
            continue
        name = page_name(entry.get("method", ""), entry["path"])
        if name:
            found.setdefault(name, []).append(float(entry["duration_ms"]))
    every = [x for values in found.values() for x in values]
    medians = {name: round(statistics.median(values), 1) for name, values in found.items()}
    if every:
        medians["Aggregated"] = round(statistics.median(every), 1)
    return medians


def _number(text: str) -> float | None:
    try:
        return float(text)
    except ValueError:
        return None


ORDER = ["my-work", "case page", "case list", "search", "my referrals", "referral: start",
         "referral: about-you", "referral: about-you (send)", "referral: person", "referral: person (send)",
         "referral: concern", "referral: concern (send)", "referral: urgency", "referral: urgency (send)",
         "referral: attachments", "referral: attachments (send)", "referral: check", "referral: submit",
         "referral: confirmation", "api: case list", "api: case", "healthz", "floor", "Aggregated"]


def table(figures: dict[str, Any]) -> str:
    queries = figures["queries"]
    floor = next((r for r in figures["pages"] if r["name"] == "floor"), None)
    head = (f"{'page':<30} {'requests':>8} {'fail':>5} {'req/s':>7} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} "
            f"{'p50/floor':>9} {'in Django':>9} {'queries':>8} {'alone ms':>8}")
    lines = [head, "-" * len(head)]
    rank = {name: i for i, name in enumerate(ORDER)}
    for row in sorted(figures["pages"], key=lambda r: rank.get(r["name"], len(ORDER) - 1)):
        ratio = ""
        if floor and floor["median_ms"] and row["median_ms"] is not None and row["name"] != "Aggregated":
            ratio = f"{row['median_ms'] / floor['median_ms']:.1f}x"
        q = queries.get(row["name"], {}).get("queries", "")
        alone = queries.get(row["name"], {}).get("ms", "")
        inside = row.get("server_median_ms")
        lines.append(f"{row['name']:<30} {row['requests']:>8} {row['failures']:>5} {row['rps']:>7.2f} "
                     f"{_ms(row['median_ms'])} {_ms(row['p95_ms'])} {_ms(row['p99_ms'])} {ratio:>9} "
                     f"{inside if inside is not None else '-'!s:>9} {q!s:>8} {alone!s:>8}")
    lines.append("p50/p95/p99: as Locust saw them, waiting for a free worker included; in Django: median "
                 "inside Django from the request log; queries and alone ms: one request through the test "
                 "client before the load")
    extra = {k: v for k, v in queries.items() if k not in {r["name"] for r in figures["pages"]}}
    if extra:
        lines.append("One request of pages not asked for under load or asked as another role: "
                     + ", ".join(f"{k} {v['queries']} queries {v.get('ms', '')} ms" for k, v in extra.items()))
    return "\n".join(lines)


def _ms(value: float | None) -> str:
    return f"{value:>7.0f}" if value is not None else f"{'-':>7}"


def main(argv: list[str] | None = None) -> int:
    args = parse(argv)
    cluster = None
    work = Path(tempfile.mkdtemp(prefix="casetrail-load."))
    server = None
    try:
        database_url = args.database_url
        if not database_url:
            from bench.load.pg import Cluster

            cluster = Cluster(durable=not args.not_durable)
            database_url = cluster.start()
            print(f"Started a throwaway PostgreSQL cluster ({cluster.version()}), "
                  f"{'durable' if cluster.durable else 'fsync off'}", flush=True)
        elif not database_url.startswith(("postgres://", "postgresql://")):
            print("warning: the load test is meant for PostgreSQL; SQLite serialises every write", file=sys.stderr)
        env = server_environment(database_url, work)
        plan_file = work / "plan.json"
        print(f"Preparing the {args.dataset} dataset, sessions and query counts...", flush=True)
        prepared = prepare(env, args.dataset, max(args.users, 1), plan_file)

        port = _free_port()
        url = f"http://127.0.0.1:{port}"
        server_log = work / "gunicorn.log"
        with open(server_log, "wb") as log:
            server = subprocess.Popen(
                [PYTHON, "-m", "gunicorn", "casetrail.wsgi", "--bind", f"127.0.0.1:{port}",
                 "--workers", str(args.workers),
                 # Its own control socket, not the shared default under ~/.gunicorn.
                 "--control-socket", str(work / "gunicorn.ctl")],
                cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        wait_until_up(url, server)
        warm_up(url, json.loads(plan_file.read_text()), args.workers)
        print(f"gunicorn ({args.workers} workers) at {url}; Locust: {args.users} users, "
              f"{args.spawn_rate}/s, {args.duration} s", flush=True)

        load_before = round(os.getloadavg()[0], 2)
        cpu_before = _cpu_seconds(server.pid)
        database = cluster.postmaster() if cluster else None
        db_before = _cpu_seconds(database) if database else 0.0
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        prefix = work / "locust"
        locust_env = {**env, "CASETRAIL_LOAD_PLAN": str(plan_file), "CASETRAIL_LOAD_THINK": args.think}
        started = time.monotonic()
        locust = subprocess.run(
            [PYTHON, "-m", "locust", "-f", str(ROOT / "bench" / "load" / "locustfile.py"), "--headless",
             "--users", str(args.users), "--spawn-rate", str(args.spawn_rate), "--run-time", f"{args.duration}s",
             "--host", url, "--csv", str(prefix), "--only-summary", "--stop-timeout", "10",
             "--loglevel", "WARNING", *args.only], cwd=ROOT, env=locust_env, capture_output=True, text=True)
        elapsed = time.monotonic() - started
        server_cpu = _cpu_seconds(server.pid) - cpu_before
        db_cpu = (_cpu_seconds(database) - db_before) if database else None
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        locust_cpu = (children.ru_utime + children.ru_stime) - (children_before.ru_utime + children_before.ru_stime)
        if not Path(f"{prefix}_stats.csv").exists():
            print(locust.stdout[-3000:], locust.stderr[-3000:], file=sys.stderr)
            raise RuntimeError(f"Locust wrote no statistics (exit {locust.returncode})")
        pages, failures = read_stats(prefix)
        in_server = server_times(server_log)
        for row in pages:
            row["server_median_ms"] = in_server.get(row["name"])
        figures: dict[str, Any] = {
            "bench": "load", "dataset_name": args.dataset, "dataset": prepared["dataset"],
            "machine": machine(), "versions": versions(),
            "postgresql": cluster.version() if cluster else "given by URL",
            "durable": (not args.not_durable) if cluster else None,
            "settings": {"users": args.users, "spawn_rate": args.spawn_rate, "duration_s": args.duration,
                         "workers": args.workers, "think_s": args.think},
            "cpu_seconds": {"server": round(server_cpu, 1), "database": round(db_cpu, 1) if db_cpu is not None else None,
                            "locust": round(locust_cpu, 1)},
            "load_average_1m_before": load_before, "elapsed_s": round(elapsed, 1),
            "pages": pages, "failures": failures, "queries": prepared["queries"],
        }
        print()
        print(describe(figures))
        print(f"PostgreSQL: {figures['postgresql']}; load average before the run {load_before}")
        cpu = figures["cpu_seconds"]
        print(f"CPU over {elapsed:.0f} s: gunicorn {cpu['server']} s, PostgreSQL {cpu['database']} s, "
              f"Locust {cpu['locust']} s (of {os.cpu_count() * elapsed:.0f} core-seconds)")
        print(table(figures))
        for failure in failures:
            print(f"failure: {failure['name']}: {failure['error']} x{failure['occurrences']}")
        if locust.stderr and "CPU usage above" in locust.stderr:
            print("warning: Locust reported high CPU usage; the load generator may be the limit", file=sys.stderr)
        if args.out:
            Path(args.out).write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
            print(f"Figures written to {args.out}")
        return 0
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if cluster is not None:
            cluster.stop()
        if os.environ.get("CASETRAIL_LOAD_KEEP"):
            print(f"Kept {work}")
        else:
            import shutil

            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
