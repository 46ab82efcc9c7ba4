"""The database going away under a running service, for real: a throwaway PostgreSQL cluster, the
demo loaded into it, gunicorn serving it; then PostgreSQL is stopped, requests are sent, and it
is started again while gunicorn keeps running.

    python -m bench.outage.run [--port 18231] [--workers 2] [--keep]

What it checks and prints (one line a request, then a summary):
- with the database up: /healthz 200, the API 200, a note written (201);
- with it stopped: /healthz 503 "unreachable", the API a JSON 503, a page (signing in) a GOV.UK
  503 page, the note's POST a 503; and afterwards no note from those requests in the database;
- after starting it again, with no restart of gunicorn: how long until /healthz, the API and a
  write answer 200 again, and how many requests failed once the database was back.

Needs the PostgreSQL server binaries (scripts/setup test installs them); uses scripts/test's
throwaway cluster (a unix socket in /tmp). Not part of the test suite: it starts processes and
waits on the clock (tests/integration/test_database_unavailable.py is the fast version).
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from tqdm import tqdm

ROOT = Path(__file__).resolve().parents[2]
PYTHON = sys.executable


def sh(script: str, env: dict[str, str] | None = None) -> str:
    """A bash snippet with scripts/test's PostgreSQL functions loaded; its stdout."""
    done = subprocess.run(["bash", "-c", f"source '{ROOT}/scripts/test'; {script}"], check=True,
                          capture_output=True, text=True, env=env or os.environ.copy(), cwd=ROOT)
    return done.stdout.strip()


def pg_ctl(pg_dir: str, action: str) -> None:
    extra = "-m fast" if action == "stop" else f"-l '{pg_dir}/server.log'"
    sh(f"as_pg \"$(pg_bindir)/pg_ctl\" -D '{pg_dir}/data' {extra} -w -t 60 {action} >/dev/null")


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run([PYTHON, "manage.py", *args], check=True, capture_output=True, text=True, env=env,
                          cwd=ROOT)
    return done.stdout


BROWSER = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
DEMO_PASSWORD = "casetrail-demo-2026"  # casetrail/demo/load.py


def request(base: str, method: str, path: str, *, token: str = "", body: Any = None,
            form: dict[str, str] | None = None, browser: bool = False) -> tuple[int, str, str, float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data, headers["Content-Type"] = json.dumps(body).encode(), "application/json"
    elif form is not None:
        data, headers["Content-Type"] = urllib.parse.urlencode(form).encode(), "application/x-www-form-urlencoded"
    started = time.monotonic()
    try:
        opener = BROWSER if browser else urllib.request.build_opener()
        with opener.open(urllib.request.Request(base + path, data=data, method=method, headers=headers),
                         timeout=30) as answer:
            status, kind, text = answer.status, answer.headers.get("Content-Type", ""), answer.read().decode()
    except urllib.error.HTTPError as answer:
        status, kind, text = answer.code, answer.headers.get("Content-Type", ""), answer.read().decode()
    return status, kind, text, (time.monotonic() - started) * 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--port", type=int, default=18231)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="leave the cluster's directory for inspection")
    options = parser.parse_args()

    from bench.machine import machine

    work = Path(tempfile.mkdtemp(prefix="casetrail-outage-"))
    out = sh("pg_start >/dev/null && echo \"$PG_DIR $PG_URL\"")
    pg_dir, pg_url = out.split(" ", 1)
    env = {**os.environ, "CASETRAIL_ENV": "development", "CASETRAIL_DATABASE_URL": pg_url,
           "CASETRAIL_VAR_DIR": str(work / "var"), "CASETRAIL_LOG_LEVEL": "WARNING",
           "CASETRAIL_ACCESS_LOG_LEVEL": "WARNING", "CASETRAIL_TASKS_IMMEDIATE": "1"}
    (work / "var").mkdir()
    server = None
    lines: list[str] = []
    failures: list[str] = []

    def check(label: str, ok: bool, answer: tuple[int, str, str, float]) -> None:
        status, kind, text, ms = answer
        lines.append(f"{'ok  ' if ok else 'FAIL'} {label}: {status} {kind.split(';')[0]} {ms:.0f} ms")
        if not ok:
            failures.append(f"{label}: {status} {text[:200]}")

    try:
        steps = tqdm(total=7, desc="outage", unit="step")
        manage(env, "migrate", "--no-input")
        steps.update()
        manage(env, "load_demo")
        # The key is the command's last line (the line before names only its prefix).
        token = manage(env, "issue_api_token", "--username", "police", "--name", "outage bench").strip().splitlines()[-1]
        steps.update()
        base = f"http://127.0.0.1:{options.port}"
        server = subprocess.Popen([str(Path(PYTHON).parent / "gunicorn"), "casetrail.wsgi", "--bind",
                                   f"127.0.0.1:{options.port}", "--workers", str(options.workers)],
                                  env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=open(work / "gunicorn.log", "w"))
        for _ in range(100):
            try:
                request(base, "GET", "/healthz")
                break
            except OSError:
                time.sleep(0.2)
        steps.update()

        cases = json.loads(request(base, "GET", "/api/v1/cases?open_only=true", token=token)[2])
        case_id = next(c["id"] for c in cases if c["stage"] not in ("closed",))
        note = {"noted_on": time.strftime("%Y-%m-%d"), "text": "Outage bench: a note written while the database is up."}

        def notes() -> int:
            return int(sh(f"as_pg \"$(pg_bindir)/psql\" -h '{pg_dir}/socket' -U postgres -d postgres -tAc "
                          f"'SELECT count(*) FROM cases_casenote WHERE case_id = {case_id}'"))

        # ---- up
        answer = request(base, "GET", "/healthz")
        check("up: GET /healthz", answer[0] == 200, answer)
        answer = request(base, "GET", "/api/v1/my-work", token=token)
        check("up: GET /api/v1/my-work", answer[0] == 200, answer)
        answer = request(base, "POST", f"/api/v1/cases/{case_id}/notes", token=token, body=note)
        check("up: POST a note", answer[0] == 201, answer)
        page = request(base, "GET", "/sign-in", browser=True)[2]
        csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
        answer = request(base, "POST", "/sign-in", browser=True,
                         form={"username": "police", "password": DEMO_PASSWORD, "csrfmiddlewaretoken": csrf})
        check("up: signing in (then to the second-factor page)", answer[0] == 200, answer)
        before = notes()
        steps.update()

        # ---- down
        pg_ctl(pg_dir, "stop")
        answer = request(base, "GET", "/healthz")
        check("down: GET /healthz is 503 unreachable", answer[0] == 503 and '"unreachable"' in answer[2], answer)
        answer = request(base, "GET", "/api/v1/my-work", token=token)
        check("down: GET /api/v1/my-work is a JSON 503", answer[0] == 503 and answer[1].startswith("application/json")
              and "Nothing was saved" in answer[2], answer)
        answer = request(base, "POST", f"/api/v1/cases/{case_id}/notes", token=token,
                         body={**note, "text": "Outage bench: this note must not be saved."})
        check("down: POST a note is a JSON 503", answer[0] == 503, answer)
        answer = request(base, "GET", "/my-work", browser=True)
        check("down: a page with a session is a GOV.UK 503 page", answer[0] == 503 and answer[1].startswith("text/html")
              and "govuk-error-summary" in answer[2] and "cannot reach its records" in answer[2], answer)
        steps.update()

        # ---- back, gunicorn untouched
        pg_ctl(pg_dir, "start")
        back = time.monotonic()
        failed_after_back = 0
        recovered: dict[str, float] = {}
        probes = {"healthz": ("GET", "/healthz", None), "api": ("GET", "/api/v1/my-work", None),
                  "write": ("POST", f"/api/v1/cases/{case_id}/notes", {**note, "text": "Outage bench: after."})}
        while len(recovered) < len(probes) and time.monotonic() - back < 60:
            for name, (method, path, body) in probes.items():
                if name in recovered:
                    continue
                answer = request(base, method, path, token=token if name != "healthz" else "", body=body)
                if answer[0] in (200, 201):
                    recovered[name] = (time.monotonic() - back) * 1000
                else:
                    failed_after_back += 1
        for name in probes:
            ok = name in recovered
            lines.append(f"{'ok  ' if ok else 'FAIL'} back: {name} answered 2xx "
                         f"{recovered[name]:.0f} ms after PostgreSQL was up" if ok else f"FAIL back: {name} never 2xx")
            if not ok:
                failures.append(f"back: {name}")
        after = notes()
        half_written = after - before - (1 if "write" in recovered else 0)
        lines.append(f"{'ok  ' if half_written == 0 else 'FAIL'} notes saved while the database was down: {half_written}")
        if half_written:
            failures.append("a note was saved while the database was down")
        steps.update()
        steps.close()
    finally:
        if server is not None:
            server.terminate()
            server.wait(10)
        if not options.keep:
            sh(f"PG_DIR='{pg_dir}'; pg_stop")
            shutil.rmtree(work, ignore_errors=True)

    import django
    import psycopg

    m = machine()
    postgres = re.search(r"\d+(\.\d+)+", sh('"$(pg_bindir)/postgres" --version')).group(0)  # type: ignore[union-attr]
    print(f"\nDatabase outage under gunicorn ({options.workers} sync workers), demo data (117 cases), PostgreSQL "
          f"{postgres}; {m['cores']} cores, {m['ram_gib']} GiB, {m['cpu']}; "
          f"Python {m['python']}, Django {django.__version__}, psycopg {psycopg.__version__}")
    print("\n".join(lines))
    print(f"\nrequests that failed after PostgreSQL was back: {failed_after_back}")
    print("FAILED: " + "; ".join(failures) if failures else "All checks passed.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
