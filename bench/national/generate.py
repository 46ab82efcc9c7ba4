"""Build a national-size Casetrail dataset in the database CASETRAIL_DATABASE_URL names.

    python -m bench.national.generate                 # 100,000 referrals, 1e6 identities, 1e7 audit entries
    python -m bench.national.generate --scale 0.01    # the same shape, a hundredth of the size

Ten years of referrals across every police force and its local authorities, each taken as far
along its journey as its dates allow (see journeys.py), a person index of `--identities`
synthetic people (casetrail/people/population.py) and `--events` entries in the event history
and the access log together (the workflow's own, then consultations of the cases by the staff
involved, as case pages write them). The database is migrated first and must hold no agency
or case yet.

Rows are written through the bulk path (docs/adr/0008-national-dataset-bulk-path.md):
`bulk_create` for ordinary tables, `casetrail.audit.bulk.append_chained` for the two hash
chains; the world of agencies and staff goes through the real services.
"""

from __future__ import annotations

import argparse
import heapq
import math
import os
import platform
import random
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from datetime import time as dtime
from typing import Any

from bench.machine import machine

REFERRALS = 100_000
IDENTITIES = 1_000_000
EVENTS = 10_000_000
FORCES = 43
AUTHORITIES_PER_FORCE = 4
YEARS = 10

# Ordinary tables in the order they are written (each only names tables before it), by the
# model's lower-case name as journeys.Rows keys them.
ORDER = ("referral", "case", "panelmeeting", "agendaitem", "informationrequest", "consent", "assessment",
         "supportaction", "tasking", "session", "decision", "review", "referrerconsultation", "message")


@dataclass
class Options:
    referrals: int = REFERRALS
    identities: int = IDENTITIES
    events: int = EVENTS
    seed: int = 0
    forces: int = FORCES
    authorities_per_force: int = AUTHORITIES_PER_FORCE
    today: date | None = None
    batch_size: int = 5000
    progress: bool = True
    plan_only: bool = False  # build the world and plan every journey, count the rows, write no more

    @classmethod
    def scaled(cls, scale: float, **given: Any) -> Options:
        """Every size times `scale` (the forces by its square root, so a small run still spans a few)."""
        if not 0 < scale <= 1:
            raise ValueError("--scale must be more than 0 and at most 1")
        values: dict[str, Any] = {
            "referrals": max(20, round(REFERRALS * scale)),
            "identities": max(40, round(IDENTITIES * scale)),
            "events": max(0, round(EVENTS * scale)),
            "forces": max(2, min(FORCES, round(FORCES * math.sqrt(scale)))),
        }
        values.update({k: v for k, v in given.items() if v is not None})
        return cls(**values)

    def problems(self) -> list[str]:
        found = []
        if self.referrals < 1:
            found.append("--referrals must be at least 1")
        if self.identities < self.referrals:
            found.append("--identities must be at least --referrals (each referral records one identity)")
        if self.events < 0:
            found.append("--events cannot be negative")
        if not 1 <= self.forces <= 200:
            found.append("--forces must be between 1 and 200")
        if not 1 <= self.authorities_per_force <= 20:
            found.append("--authorities-per-force must be between 1 and 20")
        if self.batch_size < 1:
            found.append("--batch-size must be at least 1")
        return found


@dataclass
class Summary:
    options: Options
    counts: dict[str, int] = field(default_factory=dict)
    stages: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    database_bytes: int | None = None
    first_day: date | None = None
    last_day: date | None = None

    @property
    def total_seconds(self) -> float:
        return sum(self.seconds.values())

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())


# ---------------------------------------------------------------- machine and versions




def versions() -> dict[str, str]:
    import django
    import numpy
    import pyarrow
    from django.db import connection

    found = {"python": platform.python_version(), "django": django.get_version(), "numpy": numpy.__version__,
             "pyarrow": pyarrow.__version__}
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SHOW server_version")
            found["postgresql"] = cursor.fetchone()[0]
            import psycopg

            found["psycopg"] = psycopg.__version__
        else:
            cursor.execute("SELECT sqlite_version()")
            found["sqlite"] = cursor.fetchone()[0]
    return found


def database_bytes() -> int | None:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT pg_database_size(current_database())")
            return int(cursor.fetchone()[0])
        if connection.vendor == "sqlite":
            cursor.execute("PRAGMA page_count")
            pages = cursor.fetchone()[0]
            cursor.execute("PRAGMA page_size")
            return int(pages) * int(cursor.fetchone()[0])
    return None


# ---------------------------------------------------------------- the build


class _Clock:
    def __init__(self, summary: Summary) -> None:
        self.summary = summary

    def phase(self, name: str) -> Any:
        clock = self

        class _Phase:
            def __enter__(self) -> None:
                self.started = time.perf_counter()

            def __exit__(self, *exc: Any) -> None:
                clock.summary.seconds[name] = round(time.perf_counter() - self.started, 2)

        return _Phase()


def build(options: Options) -> Summary:
    """Write the whole dataset into the default database (already migrated, holding no case)."""
    from django.db import connection

    from casetrail.accounts.models import Agency
    from casetrail.cases.models import Case
    from casetrail.core.errors import InvalidInput

    problems = options.problems()
    if problems:
        raise InvalidInput({"": problems})
    if Case.objects.exists() or Agency.objects.exists():
        raise InvalidInput.single("", "The database already holds agencies or cases: build the national dataset "
                                      "into a new, empty database")
    summary = Summary(options=options)
    clock = _Clock(summary)
    today = options.today or date.today()
    last_day = today - timedelta(days=1)
    first_day = date(today.year - YEARS, today.month, min(today.day, 28))
    summary.first_day, summary.last_day = first_day, last_day

    with clock.phase("world"):
        world = _world(options, first_day)
    with clock.phase("people"):
        persons, referral_records = _people(options, first_day, last_day)
    with clock.phase("journeys (planning)"):
        planner = _plan(options, world, referral_records, first_day, last_day)
    if options.plan_only:
        summary.counts.update({"person": options.identities, **{t: len(planner.rows.tables.get(t, [])) for t in ORDER},
                               "event (workflow)": len(planner.rows.events),
                               "accesslogentry (workflow)": len(planner.rows.access)})
        summary.stages = dict(sorted(planner.stage_counts.items()))
        return summary
    with clock.phase("person index (write)"):
        summary.counts.update(_write_people(options, persons))
    del persons
    with clock.phase("case records (write)"):
        summary.counts.update(_write_tables(options, planner))
    with clock.phase("event history (chain)"):
        summary.counts["event"] = _write_events(options, planner)
    with clock.phase("access log (chain)"):
        summary.counts["accesslogentry"] = _write_access(options, planner, world, summary.counts["event"])
    from casetrail.accounts.models import User

    summary.counts["agency"] = Agency.objects.count()
    summary.counts["user"] = User.objects.count()
    summary.stages = dict(sorted(planner.stage_counts.items()))
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    summary.database_bytes = database_bytes()
    return summary


def _world(options: Options, first_day: date) -> Any:
    from casetrail.clock import frozen_at

    from .journeys import LONDON
    from .world import build_world, world_start

    start = datetime.combine(world_start(first_day), dtime(9, 0), tzinfo=LONDON)
    with frozen_at(start):
        return build_world(forces=options.forces, authorities_per_force=options.authorities_per_force,
                           referrals=options.referrals, start=world_start(first_day), progress=options.progress)


def _people(options: Options, first_day: date, last_day: date) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The identities (casetrail.people.population, every one a different person) and when each
    was first recorded: the first `referrals` of them by a referral, in date order; the rest spread
    over the ten years. Person ids follow the order they were recorded in, as the service gives them."""
    import numpy as np

    from casetrail.people.population import generate_population

    from .journeys import at_work

    table = generate_population(options.identities, seed=options.seed, duplicate_rate=0.0)
    columns = {name: table.column(name).to_pylist() for name in
               ("given_names", "family_name", "other_names", "date_of_birth", "sex", "postcode", "address",
                "school", "nhs_number", "upn")}
    rng = np.random.default_rng(options.seed)
    start = datetime.combine(first_day, dtime(0), tzinfo=UTC).timestamp()
    end = datetime.combine(last_day, dtime(17), tzinfo=UTC).timestamp()
    moments = rng.uniform(start, end, options.identities)
    # A referral arrives in the working day; its person is recorded at that moment.
    for i in range(options.referrals):
        day = datetime.fromtimestamp(float(moments[i]), tz=UTC).date()
        moments[i] = at_work(day, random.Random(f"{options.seed}:submitted:{i}")).timestamp()
    moments[: options.referrals] = np.sort(moments[: options.referrals])
    order = np.argsort(moments, kind="stable")
    person_id = np.empty(options.identities, dtype=np.int64)
    person_id[order] = np.arange(1, options.identities + 1)
    persons = {"columns": columns, "moments": moments, "order": order}
    referral_records = []
    for i in range(options.referrals):
        referral_records.append({**{name: values[i] for name, values in columns.items()},
                                 "person_id": int(person_id[i]), "moment": float(moments[i])})
    return persons, referral_records


def _plan(options: Options, world: Any, records: list[dict[str, Any]], first_day: date, last_day: date) -> Any:
    from tqdm import tqdm

    from .journeys import AreaRef, Ids, Planner, StaffRef

    refs = {user.pk: StaffRef.of(user) for user in world.users}
    areas = []
    for area in world.areas:
        officers = [refs[u.pk] for u in world.officers[area.force.pk]]
        areas.append(AreaRef(
            authority_id=area.authority.pk, authority_name=area.authority.name, force_id=area.force.pk,
            force_name=area.force.name, force_duty_owner=refs[area.force.duty_owner_id], officers=officers,
            coordinators=[refs[u.pk] for u in area.coordinators], chair=refs[area.chair.pk],
            panel_member=refs[area.panel_member.pk], referrers={k: refs[u.pk] for k, u in area.referrers.items()},
            health_id=area.health.pk, health_name=area.health.name, health_owner=refs[area.health.duty_owner_id]))
    from casetrail.providers.models import ProviderWorker

    providers = [(refs[w.user_id], list(w.organisation.specialisms))
                 for w in ProviderWorker.objects.select_related("organisation").order_by("pk")]
    planner = Planner(areas=areas, providers=providers, ids=Ids(), first_day=first_day, last_day=last_day,
                      seed=options.seed)
    planner.meetings()
    # Some areas are far busier than others, as in life.
    weights_rng = random.Random(f"{options.seed}:areas")
    weights = [weights_rng.lognormvariate(0, 0.7) for _ in areas]
    area_rng = random.Random(f"{options.seed}:area-choice")
    chosen = area_rng.choices(range(len(areas)), weights=weights, k=len(records))
    for i, record in enumerate(tqdm(records, desc="Journeys (planning)", unit="referral",
                                    disable=not options.progress)):
        rng = random.Random(f"{options.seed}:journey:{i}")
        submitted = datetime.fromtimestamp(record["moment"], tz=UTC)
        case = planner.referral(i, record, submitted, areas[chosen[i]], rng)
        planner.journey(case)
        planner.finish(case)
    return planner


def _write_people(options: Options, persons: dict[str, Any]) -> dict[str, int]:
    """people.services.person_create (with person_index for other names): the Person rows in id
    order and the search keys of each."""
    from collections import defaultdict

    from django.db import transaction
    from tqdm import tqdm

    from casetrail.core.dates import PartialDate
    from casetrail.people.keys import keys_for
    from casetrail.people.models import Person, SearchKey

    from .journeys import LONDON

    columns, moments, order = persons["columns"], persons["moments"], persons["order"]
    yearly: dict[int, int] = defaultdict(int)
    batch: list[Person] = []
    keys: list[SearchKey] = []
    n_persons = n_keys = 0

    def flush() -> None:
        with transaction.atomic():
            Person.objects.bulk_create(batch, batch_size=options.batch_size)
            SearchKey.objects.bulk_create(keys, batch_size=options.batch_size)
        batch.clear()
        keys.clear()

    for pk, index in enumerate(tqdm(order.tolist(), desc="Person index (write)", unit="person",
                                    disable=not options.progress), start=1):
        created = datetime.fromtimestamp(float(moments[index]), tz=UTC)
        year = created.astimezone(LONDON).year
        yearly[year] += 1
        given, family = columns["given_names"][index].strip(), columns["family_name"][index].strip()
        born = columns["date_of_birth"][index]
        birth = PartialDate.from_iso(born) if born else None
        batch.append(Person(id=pk, reference=f"P-{year}-{yearly[year]:06d}", given_names=given, family_name=family,
                            date_of_birth=born, sex=columns["sex"][index], created_at=created))
        found = keys_for([given, family], birth)
        other = columns["other_names"][index].strip()
        if other:
            found |= keys_for([other], None)
        keys.extend(SearchKey(person_id=pk, kind=kind, value=value) for kind, value in sorted(found))
        n_persons += 1
        n_keys += len(found)
        if len(batch) >= options.batch_size:
            flush()
    if batch:
        flush()
    return {"person": n_persons, "searchkey": n_keys}


def _model(table: str) -> Any:
    from django.apps import apps

    app = {"referral": "referrals", "message": "notifications"}.get(table, "cases")
    return apps.get_model(app, table)


def _write_tables(options: Options, planner: Any) -> dict[str, int]:
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from tqdm import tqdm

    from casetrail.people.models import Person

    counts: dict[str, int] = {}
    total = sum(len(planner.rows.tables.get(t, [])) for t in ORDER)
    bar = tqdm(total=total, desc="Case records (write)", unit="row", disable=not options.progress)
    models = [Person]
    for table in ORDER:
        rows = planner.rows.tables.get(table, [])
        rows.sort(key=lambda row: row["id"])
        model = _model(table)
        models.append(model)
        for start in range(0, len(rows), options.batch_size):
            chunk = rows[start:start + options.batch_size]
            with transaction.atomic():
                model.objects.bulk_create([model(**row) for row in chunk], batch_size=options.batch_size)
            bar.update(len(chunk))
        counts[table] = len(rows)
    bar.close()
    # Explicit ids leave PostgreSQL's sequences behind: the next id the services take follows ours.
    statements = connection.ops.sequence_reset_sql(no_style(), models)
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)
    return counts


def _write_events(options: Options, planner: Any) -> int:
    from tqdm import tqdm

    from casetrail.audit.bulk import append_chained
    from casetrail.audit.models import Event

    events = planner.rows.events
    events.sort(key=lambda item: (item[0], item[1]))
    bar = tqdm(total=len(events), desc="Event history (chain)", unit="event", disable=not options.progress)
    written = append_chained(Event, (row for _, _, row in events), batch_size=options.batch_size,
                             progress=bar.update)
    bar.close()
    return written + _count_before(Event, written)


def _count_before(model: Any, written: int) -> int:
    """Entries the world's services wrote one at a time before the bulk ones."""
    return model.objects.count() - written


def _write_access(options: Options, planner: Any, world: Any, events_written: int) -> int:
    from tqdm import tqdm

    from casetrail.audit.bulk import append_chained
    from casetrail.audit.models import AccessLogEntry

    workflow = planner.rows.access
    workflow.sort(key=lambda item: (item[0], item[1]))
    consultations = max(0, options.events - events_written - len(workflow))
    bar = tqdm(total=len(workflow) + consultations, desc="Access log (chain)", unit="entry",
               disable=not options.progress)
    users = {u.pk: u for u in world.users}
    merged = heapq.merge(((t, row) for t, _, row in workflow),
                         _consultations(planner, users, consultations, options.seed), key=lambda item: item[0])
    written = append_chained(AccessLogEntry, (row for _, row in merged), batch_size=options.batch_size,
                             progress=bar.update)
    bar.close()
    return written


def _consultations(planner: Any, users: dict[int, Any], total: int, seed: int) -> Iterator[tuple[datetime, dict]]:
    """cases.selectors.case_get: each look at a case page by someone involved, a consultation in the
    access log. Spread month by month over the cases open then (and for a month after closing), in
    proportion to how long each was open that month; in time order."""
    import numpy as np

    if total <= 0 or not planner.case_windows:
        return
    windows = planner.case_windows
    opened = np.array([w[2].timestamp() for w in windows])
    ended = np.array([w[3].timestamp() for w in windows])
    rng = np.random.default_rng(seed + 7)
    first = planner.first_day
    months = []
    month = date(first.year, first.month, 1)
    while month <= planner.last_day:
        nxt = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
        months.append((datetime.combine(month, dtime(0), tzinfo=UTC).timestamp(),
                       datetime.combine(nxt, dtime(0), tzinfo=UTC).timestamp()))
        month = nxt
    overlap = [np.clip(np.minimum(ended, hi) - np.maximum(opened, lo), 0, None) for lo, hi in months]
    volume = np.array([o.sum() for o in overlap])
    shares = rng.multinomial(total, volume / volume.sum())
    roles = {pk: (u.roles_display[:120], u.agency_id) for pk, u in users.items()}
    for (lo, hi), weight, n in zip(months, overlap, shares, strict=True):
        if n == 0:
            continue
        picked = rng.choice(len(windows), size=int(n), p=weight / weight.sum())
        start = np.maximum(opened[picked], lo)
        stop = np.minimum(ended[picked], hi)
        moments = start + rng.random(int(n)) * (stop - start)
        for at, index, who in sorted(zip(moments.tolist(), picked.tolist(), rng.random(int(n)).tolist(), strict=True)):
            case_pk, person_pk, _, _, viewers = windows[index]
            user = viewers[int(who * len(viewers))]
            role, agency = roles[user]
            moment = datetime.fromtimestamp(at, tz=UTC)
            yield moment, {"user_id": user, "role": role, "agency_id": agency, "operation": "consultation",
                           "object_type": "case", "object_id": str(case_pk), "case_id": case_pk,
                           "person_id": person_pk, "at": moment, "channel": "web", "justification": "",
                           "recipient": "", "request_id": ""}


# ---------------------------------------------------------------- the command


def report(summary: Summary) -> str:
    lines = []
    o = summary.options
    lines.append("National dataset built")
    lines.append(f"  machine: {machine()}")
    lines.append(f"  versions: {versions()}")
    lines.append(f"  asked: {o.referrals:,} referrals, {o.identities:,} identities, {o.events:,} audit entries, "
                 f"{o.forces} forces x {o.authorities_per_force} local authorities, seed {o.seed}")
    lines.append(f"  dates: {summary.first_day} to {summary.last_day}")
    lines.append("  rows written:")
    for name, n in summary.counts.items():
        lines.append(f"    {name:<22}{n:>12,}")
    lines.append(f"    {'total':<22}{summary.total_rows:>12,}")
    lines.append("  cases by stage: " + ", ".join(f"{k} {v:,}" for k, v in summary.stages.items()))
    lines.append("  time:")
    for name, seconds in summary.seconds.items():
        lines.append(f"    {name:<28}{seconds:>10.1f} s")
    total = summary.total_seconds
    lines.append(f"    {'total':<28}{total:>10.1f} s  ({summary.total_rows / max(total, 1e-9):,.0f} rows/s)")
    chain = summary.counts.get("event", 0) + summary.counts.get("accesslogentry", 0)
    chain_seconds = summary.seconds.get("event history (chain)", 0) + summary.seconds.get("access log (chain)", 0)
    if chain_seconds:
        lines.append(f"  audit chains: {chain:,} entries at {chain / chain_seconds:,.0f} entries/s")
    if summary.database_bytes is not None:
        lines.append(f"  database size: {summary.database_bytes / 2**30:.2f} GiB")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.national.generate", description=__doc__.split("\n\n")[0])
    parser.add_argument("--referrals", type=int, help=f"referrals over ten years (default {REFERRALS:,})")
    parser.add_argument("--identities", type=int, help=f"people in the person index (default {IDENTITIES:,})")
    parser.add_argument("--events", type=int, help=f"event history and access log entries together "
                                                   f"(default {EVENTS:,})")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--scale", type=float, default=1.0, help="a fraction of every default size, for quick runs")
    parser.add_argument("--forces", type=int, help=f"police forces (default {FORCES}, fewer when scaled down)")
    parser.add_argument("--authorities-per-force", type=int, default=AUTHORITIES_PER_FORCE)
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--plan-only", action="store_true",
                        help="build the world and plan every journey, print the counts, write nothing else")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casetrail.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from casetrail.core.errors import InvalidInput

    try:
        options = Options.scaled(args.scale, referrals=args.referrals, identities=args.identities, events=args.events,
                                 seed=args.seed, forces=args.forces, authorities_per_force=args.authorities_per_force,
                                 batch_size=args.batch_size, progress=not args.no_progress,
                                 plan_only=args.plan_only)
    except ValueError as problem:
        print(f"error: {problem}", file=sys.stderr)
        return 2
    problems = options.problems()
    if problems:
        for problem in problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    print(f"machine: {machine()}", flush=True)
    call_command("migrate", verbosity=0)
    try:
        summary = build(options)
    except InvalidInput as problem:
        for messages in problem.errors.values():
            for message in messages:
                print(f"error: {message}", file=sys.stderr)
        return 2
    print(report(summary))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
