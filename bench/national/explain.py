"""The query plans of every list and dashboard page, for the busiest user of each role.

    python -m bench.national.explain [--out plans.json] [--compare before.json] [--sql]

Signs in (in-process, through the Django test client, second factor off) as the busiest user of
each role in the database CASETRAIL_DATABASE_URL names (a national dataset, see generate.py),
opens each page that lists or counts (my work, my referrals, the case list, search, a person's
history, panel meetings, possible duplicates, the audit log and unusual access, and one case page),
captures every SELECT the page ran (django.test.utils.CaptureQueriesContext), then runs each
again under EXPLAIN ANALYZE (PostgreSQL; on SQLite, EXPLAIN QUERY PLAN and a timed run). Prints
each query's time, the indexes it used and any sequential scan of a large table, and flags each
query over 50 ms. Pages write what they always write (an access-log entry for a look at personal
data, a session) inside one transaction that is rolled back at the end, so the database is left as
it was found; only SELECTs are explained.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

SLOW_MS = 50.0
LARGE_TABLE_ROWS = 10_000


@dataclass
class Plan:
    page: str
    role: str
    number: int
    sql: str
    ms: float
    indexes: list[str] = field(default_factory=list)
    seq_scans: list[str] = field(default_factory=list)  # large tables read whole
    plan: str = ""

    @property
    def slow(self) -> bool:
        return self.ms > SLOW_MS

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.sql)


def fingerprint(sql: str) -> str:
    """The statement without its literals, to match a query before and after a change."""
    text = re.sub(r"'(?:[^']|'')*'", "?", sql)
    text = re.sub(r"\b\d+(\.\d+)?\b", "?", text)
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------- who and what


def busy_users() -> dict[str, Any]:
    """The busiest user of each role: the most open cases owned (police, coordinators), the
    most cases in the panel's area (chair, panel member), the most taskings (provider), the most
    referrals (referrer); the first oversight officer and administrator."""
    from django.db.models import Count, Q

    from casetrail.accounts.models import User
    from casetrail.cases.models import Case, Tasking
    from casetrail.core.lifecycle import Stage
    from casetrail.referrals.models import Referral

    chosen: dict[str, Any] = {}

    def most(role: str, ids: list[Any]) -> None:
        for pk in ids:
            user = User.objects.filter(pk=pk, roles__contains=[role]).first() if _json_contains() else \
                next((u for u in User.objects.filter(pk=pk) if role in u.roles), None)
            if user is not None:
                chosen[role] = user
                return

    owners = (Case.objects.exclude(stage=Stage.CLOSED).values("owner_user").annotate(n=Count("id"))
              .order_by("-n").values_list("owner_user", flat=True)[:200])
    owners = list(owners)
    most("police_officer", owners)
    most("channel_coordinator", owners)
    areas = list(Case.objects.filter(Q(stage__in=[Stage.PANEL, Stage.AWAITING_CONSENT, Stage.SUPPORT, Stage.EXITED]))
                 .values("local_authority").annotate(n=Count("id")).order_by("-n")
                 .values_list("local_authority", flat=True)[:20])
    for area in areas:
        chair = next((u for u in User.objects.filter(agency_id=area) if "panel_chair" in u.roles), None)
        if chair is not None and "panel_chair" not in chosen:
            chosen["panel_chair"] = chair
        member = User.objects.filter(panel_authority_id=area).first()
        if member is not None and "panel_member" not in chosen:
            chosen["panel_member"] = member
    most("intervention_provider", list(Tasking.objects.values("provider_user").annotate(n=Count("id"))
                                       .order_by("-n").values_list("provider_user", flat=True)[:20]))
    most("referrer", list(Referral.objects.values("submitted_by").annotate(n=Count("id")).order_by("-n")
                          .values_list("submitted_by", flat=True)[:50]))
    for role in ("oversight", "administrator"):
        user = next((u for u in User.objects.order_by("pk") if role in u.roles), None)
        if user is not None:
            chosen[role] = user
    return chosen


def _json_contains() -> bool:
    from django.db import connection

    return connection.vendor == "postgresql"


def pages(users: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(page, url, user) for every page explained."""
    from casetrail.cases.access import visible_cases
    from casetrail.cases.models import Case
    from casetrail.clock import today
    from casetrail.core.lifecycle import Stage
    from casetrail.people.models import Person

    day = today()
    start = day - timedelta(days=30)
    span = (f"start_day={start.day}&start_month={start.month}&start_year={start.year}"
            f"&end_day={day.day}&end_month={day.month}&end_year={day.year}")
    busy_case = Case.objects.filter(owner_user=users.get("police_officer")).exclude(stage=Stage.CLOSED) \
        .order_by("-opened_at").first()
    person = busy_case.person if busy_case else Person.objects.filter(cases__isnull=False).first()
    for role, user in users.items():
        # The person of the newest case the user may see: their search and their person page.
        mine = visible_cases(user).select_related("person").order_by("-opened_at").first()
        yield "my-work", "/my-work", user
        yield "my-referrals", "/my-referrals", user
        if role in ("police_officer", "channel_coordinator", "panel_chair", "panel_member", "intervention_provider",
                    "oversight"):
            yield "case list", "/cases/", user
            yield "case list (one stage)", "/cases/?stage=support", user
            if mine is not None:
                yield "search", f"/search?q={mine.person.family_name}", user
                yield "person history", f"/people/{mine.person.reference}", user
        if role in ("channel_coordinator", "panel_chair", "panel_member"):
            yield "panel meetings", "/panel-meetings/", user
        if role in ("police_officer", "administrator"):
            yield "possible duplicates", "/people/duplicates", user
        if role in ("oversight", "administrator"):
            yield "audit log (30 days)", f"/audit/log?{span}", user
            if person is not None:
                yield "audit log (a person)", f"/audit/log?{span}&person={person.reference}", user
            officer = users.get("police_officer")
            if officer is not None:
                yield "audit log (a user)", f"/audit/log?{span}&username={officer.username}", user
            yield "unusual access", "/audit/unusual", user
    for role in ("police_officer", "channel_coordinator"):
        user = users.get(role)
        case = Case.objects.filter(owner_user=user).exclude(stage=Stage.CLOSED).order_by("-opened_at").first() \
            if user else None
        if case is not None:
            yield "case page", f"/cases/{case.pk}/", user


# ---------------------------------------------------------------- explaining


def capture(url: str, user: Any) -> tuple[int, list[str]]:
    """Open the page as the user; the status and every SELECT it ran, in order, once each."""
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    seen: dict[str, None] = {}
    for query in queries.captured_queries:
        sql = query["sql"]
        if sql.lstrip().upper().startswith("SELECT") and "django_session" not in sql:
            seen.setdefault(sql, None)
    return response.status_code, list(seen)


def table_rows() -> dict[str, int]:
    from django.apps import apps
    from django.db import connection

    counts = {}
    with connection.cursor() as cursor:
        for model in apps.get_models():
            table = model._meta.db_table
            if connection.vendor == "postgresql":
                cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE relname = %s", [table])
                row = cursor.fetchone()
                counts[table] = int(row[0]) if row else 0
            else:
                cursor.execute(f'SELECT COUNT(*) FROM "{table}"')
                counts[table] = int(cursor.fetchone()[0])
    return counts


def explain(sql: str, rows: dict[str, int]) -> tuple[float, list[str], list[str], str]:
    """(milliseconds, indexes used, large tables scanned whole, the plan as text)."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            plan: Any = None
            for _ in range(2):  # the second run is the one reported: the cache is warm, as in use
                cursor.execute("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql)
                plan = cursor.fetchone()[0]
            top = plan[0] if isinstance(plan, list) else json.loads(plan)[0]
            indexes: list[str] = []
            scans: list[str] = []
            _walk(top["Plan"], indexes, scans, rows)
            cursor.execute("EXPLAIN " + sql)
            text = "\n".join(r[0] for r in cursor.fetchall())
            return float(top["Execution Time"]), indexes, scans, text
        cursor.execute("EXPLAIN QUERY PLAN " + sql)
        details = [r[-1] for r in cursor.fetchall()]
        started = 0.0
        for _ in range(2):
            started = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
        ms = (time.perf_counter() - started) * 1000
        indexes, scans = [], []
        for detail in details:
            match = re.search(r"USING (?:COVERING )?INDEX (\S+)", detail)
            if match:
                indexes.append(match.group(1))
            scan = re.match(r"SCAN (\S+)", detail)
            if scan and "INDEX" not in detail:
                table = scan.group(1)
                if rows.get(table, 0) >= LARGE_TABLE_ROWS:
                    scans.append(table)
        return ms, sorted(set(indexes)), sorted(set(scans)), "\n".join(details)


def _walk(node: dict[str, Any], indexes: list[str], scans: list[str], rows: dict[str, int]) -> None:
    kind = node.get("Node Type", "")
    if "Index Name" in node and node["Index Name"] not in indexes:
        indexes.append(node["Index Name"])
    if kind == "Seq Scan":
        table = node.get("Relation Name", "")
        if rows.get(table, 0) >= LARGE_TABLE_ROWS and table not in scans:
            scans.append(table)
    for child in node.get("Plans", []):
        _walk(child, indexes, scans, rows)


@dataclass
class Visit:
    page: str
    role: str
    url: str
    status: int
    selects: int
    ms: float


def run(show_sql: bool = False, every: bool = False) -> tuple[list[Visit], list[Plan]]:
    """Explain every page's SELECTs; print each page, and each query that is slow or scans a large
    table whole (`every`: each query; `show_sql`: each statement and plan too)."""
    from django.test.utils import override_settings

    from bench.machine import machine

    from .generate import versions

    print(f"machine: {machine()}")
    print(f"versions: {versions()}")
    rows = table_rows()
    big = {t: n for t, n in rows.items() if n >= LARGE_TABLE_ROWS}
    print("large tables: " + ", ".join(f"{t} {n:,}" for t, n in sorted(big.items(), key=lambda x: -x[1])))
    plans: list[Plan] = []
    visits: list[Visit] = []
    with override_settings(ALLOWED_HOSTS=["*"], CASETRAIL_REQUIRE_SECOND_FACTOR=False, DEBUG=False):
        users = busy_users()
        print("users: " + ", ".join(f"{role} {u.username}" for role, u in users.items()))
        for page, url, user in pages(users):
            role = next(iter(user.roles), "")
            started = time.perf_counter()
            status, selects = capture(url, user)
            page_ms = (time.perf_counter() - started) * 1000
            visits.append(Visit(page=page, role=role, url=url, status=status, selects=len(selects),
                                ms=round(page_ms, 1)))
            print(f"\n== {page} as {role} ({user.username}): {url} -> {status}, {len(selects)} SELECTs, "
                  f"page {page_ms:,.0f} ms")
            page_plans = []
            for number, sql in enumerate(selects, start=1):
                ms, indexes, scans, text = explain(sql, rows)
                plan = Plan(page=page, role=role, number=number, sql=sql, ms=round(ms, 2), indexes=indexes,
                            seq_scans=scans, plan=text)
                plans.append(plan)
                page_plans.append(plan)
                flag = " SLOW" if plan.slow else ""
                scan = f" SEQ SCAN of {', '.join(scans)}" if scans else ""
                used = ", ".join(indexes) or "no index"
                if every or show_sql or plan.slow or scans:
                    print(f"  {number:>3} {ms:>9.1f} ms{flag}{scan}  [{used}]  {_short(sql)}")
                if show_sql or plan.slow or scans:
                    print("      " + sql[:2000])
                    print("      " + text.replace("\n", "\n      "))
            if page_plans:
                worst = max(page_plans, key=lambda p: p.ms)
                print(f"  queries {sum(p.ms for p in page_plans):,.1f} ms in all; slowest #{worst.number} "
                      f"{worst.ms:,.1f} ms")
    slow = [p for p in plans if p.slow]
    scanning = [p for p in plans if p.seq_scans]
    print(f"\n{len(plans)} queries on {len({(p.page, p.role) for p in plans})} pages; {len(slow)} over {SLOW_MS:.0f} ms; "
          f"{len(scanning)} with a sequential scan of a large table")
    for p in sorted(slow, key=lambda p: -p.ms):
        print(f"  SLOW {p.ms:>9.1f} ms  {p.page} ({p.role}) #{p.number}: {_short(p.sql)}")
    return visits, plans


def _short(sql: str, width: int = 110) -> str:
    text = re.sub(r"\s+", " ", sql)
    match = re.search(r"\bFROM\s+(\S+)", text)
    where = text[text.find(" WHERE ") + 7:] if " WHERE " in text else ""
    return f"FROM {match.group(1) if match else '?'} WHERE {where}"[:width]


def compare(before: list[dict[str, Any]], after: list[Plan]) -> None:
    """Each query's time before and after (matched by page, role and the statement without literals)."""
    earlier = {(b["page"], b["role"], fingerprint(b["sql"])): b for b in before}
    print("\nbefore -> after (ms)")
    for p in after:
        b = earlier.get((p.page, p.role, p.fingerprint))
        if b is None:
            continue
        if b["ms"] > SLOW_MS or p.ms > SLOW_MS or b.get("seq_scans") != p.seq_scans:
            print(f"  {b['ms']:>9.1f} -> {p.ms:>9.1f}  {p.page} ({p.role}) #{p.number}: {_short(p.sql, 90)}")
    print(f"  total of the matched queries: {sum(earlier[k]['ms'] for k in earlier if k in {(p.page, p.role, p.fingerprint) for p in after}):,.0f} ms "
          f"-> {sum(p.ms for p in after if (p.page, p.role, p.fingerprint) in earlier):,.0f} ms")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.national.explain", description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", help="write every plan to this JSON file")
    parser.add_argument("--compare", help="a JSON file from an earlier run: print the times before and after")
    parser.add_argument("--every", action="store_true", help="print every query, not only the flagged ones")
    parser.add_argument("--sql", action="store_true", help="print every statement and plan, not only flagged ones")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casetrail.settings")
    import django

    django.setup()
    from django.db import transaction

    with transaction.atomic():
        _, plans = run(show_sql=args.sql, every=args.every)
        transaction.set_rollback(True)  # the pages' own writes (access log, sessions) are not kept
    if args.out:
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump([asdict(p) for p in plans], handle, indent=1, default=str)
        print(f"plans written to {args.out}")
    if args.compare:
        with open(args.compare, encoding="utf-8") as handle:
            compare(json.load(handle), plans)
    return 0


if __name__ == "__main__":
    sys.exit(main())
