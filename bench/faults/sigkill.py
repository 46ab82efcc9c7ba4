"""SIGKILL under load: is anything acknowledged ever lost, or anything left half-written?

    python -m bench.faults.sigkill --rounds 100 [--database-url postgres://...] [--seed 0]

Runs Casetrail as deployed (gunicorn, three workers, and `manage.py run_worker`) on a fresh file
database: a SQLite file by default, or a new database on the PostgreSQL server --database-url
names (dropped at the end unless --keep). Client threads stream writes through the API with
tokens: referrals (each with an Idempotency-Key, retried with the same key until answered),
gateway decisions (with the version last seen) and case notes. Each round waits a random moment,
then kills the web server, the worker or both with SIGKILL (the whole process group, mid-request,
mid-transaction or mid-send) and starts them again.

At the end, with every process stopped, it delivers what is left in the outbox (also the messages
a killed worker had claimed, once their claim has expired) and checks:

- every acknowledged write (a 2xx answer received) is in the database: the referral with its
  reference and case, the gateway decision, the note;
- a retried referral was recorded once (one referral per Idempotency-Key);
- nothing is half-written: every referral has its person, case, events (case.state,
  referral.submitted, case.opened) and its collection entry in the access log; every decision
  and note its event; every case's stage is its last case.state event's stage;
- both audit hash chains verify;
- the outbox sent each message exactly once: the email backend's own record of sends
  (bench/faults/mailbox.py) names each sent message once, and no unsent one.

Prints a summary with the machine, the database and library versions; exit 1 if a check failed.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from tqdm import tqdm

from bench.faults.harness import Server, Site, Worker, call, site_create
from bench.faults.world import gateway_body, referral_body
from bench.machine import machine


@dataclass
class Ledger:
    """What the clients were told, written by the client threads."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    referrals: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> answer body
    unanswered_referrals: set[str] = field(default_factory=set)  # keys never answered (given up)
    decisions: dict[int, int] = field(default_factory=dict)  # case id -> version the decision was made on
    notes: dict[str, int] = field(default_factory=dict)  # note text -> case id
    unknown: Counter[str] = field(default_factory=Counter)  # writes whose answer was lost
    refused: Counter[str] = field(default_factory=Counter)  # 4xx answers, by kind and status
    errors: list[str] = field(default_factory=list)  # 5xx answers
    retries: int = 0
    replayed: int = 0  # retried referrals answered 200 with the first referral


class Client(threading.Thread):
    """One API client writing as fast as the server lets it, until told to stop."""

    def __init__(self, index: int, server: Server, site: Site, ledger: Ledger, stop: threading.Event,
                 seed: int) -> None:
        super().__init__(name=f"client-{index}", daemon=True)
        self.index, self.server, self.site, self.ledger, self.stop = index, server, site, ledger, stop
        self.rnd = random.Random(seed * 1000 + index)
        self.today = date.today()
        self.mine: list[int] = []  # acknowledged cases at the gateway
        self.count = 0

    def token(self, who: str) -> str:
        return str(self.site.world["tokens"][who])

    def run(self) -> None:
        while not self.stop.is_set():
            choice = self.rnd.random()
            if choice < 0.45 or not self.mine:
                self.referral()
            elif choice < 0.75:
                self.decision()
            else:
                self.note()

    def _wait_for_server(self) -> None:
        time.sleep(0.05 + self.rnd.random() * 0.2)

    def referral(self) -> None:
        self.count += 1
        key = f"sigkill-{self.index}-{self.count:06d}"
        body = referral_body(self.site.world["council_id"], self.rnd, self.today)
        for attempt in range(200):  # a client retries with the same key until it has an answer
            answer = call(self.server.base, "post", "/referrals", self.token("referrer"), body, timeout=60,
                          **{"Idempotency-Key": key})
            if answer.status in (200, 201):
                with self.ledger.lock:
                    self.ledger.referrals[key] = answer.body
                    self.ledger.retries += attempt
                    self.ledger.replayed += answer.status == 200
                self.mine.append(int(answer.body["case_id"]))
                return
            if not self._settled(answer, "referral"):
                return
            if self.stop.is_set() and attempt > 50:
                break
            self._wait_for_server()
        with self.ledger.lock:
            self.ledger.unanswered_referrals.add(key)

    def _settled(self, answer: Any, kind: str) -> bool:
        """Record a definite refusal (False: stop trying) or note a lost answer (True: try again)."""
        if answer.status == 0:
            return True
        with self.ledger.lock:
            if answer.status >= 500:
                self.ledger.errors.append(f"{kind}: {answer.status} {str(answer.body)[:200]}")
            else:
                self.ledger.refused[f"{kind} {answer.status}"] += 1
        return False

    def decision(self) -> None:
        case_id = self.mine.pop(self.rnd.randrange(len(self.mine)))
        seen = call(self.server.base, "get", f"/cases/{case_id}", self.token("officer"), timeout=60)
        if seen.status != 200:
            if seen.status:
                self._settled(seen, "case read")
            self.mine.append(case_id)
            return
        version = int(seen.body["version"])
        answer = call(self.server.base, "post", f"/cases/{case_id}/gateway", self.token("officer"),
                      gateway_body(version, self.today), timeout=60)
        if answer.status == 200:
            with self.ledger.lock:
                self.ledger.decisions[case_id] = version
        elif answer.status == 0:
            with self.ledger.lock:
                self.ledger.unknown["gateway decision"] += 1
        else:
            self._settled(answer, "gateway decision")

    def note(self) -> None:
        case_id = self.rnd.choice(self.mine)
        text = f"Contact note {self.index}-{self.count}-{self.rnd.getrandbits(32):08x} after a call with the school."
        self.count += 1
        answer = call(self.server.base, "post", f"/cases/{case_id}/notes", self.token("officer"),
                      {"noted_on": self.today.isoformat(), "text": text}, timeout=60)
        if answer.status == 201:
            with self.ledger.lock:
                self.ledger.notes[text] = case_id
        elif answer.status == 0:
            with self.ledger.lock:
                self.ledger.unknown["note"] += 1
        else:
            self._settled(answer, "note")




def versions() -> dict[str, str]:
    import sqlite3
    from importlib.metadata import version

    found = {"python": platform.python_version(), "sqlite": sqlite3.sqlite_version}
    for name in ("django", "gunicorn", "django-tasks-db", "psycopg"):
        try:
            found[name] = version(name)
        except Exception:  # noqa: BLE001 - a missing package is reported as such
            found[name] = "not installed"
    return found


def kill_rounds(rounds: int, server: Server, worker: Worker, rnd: random.Random, ledger: Ledger,
                max_delay: float) -> Counter[str]:
    """Each round: wait a random moment under load, SIGKILL the web server, the worker or both,
    start them again (the server is answering before the next round's wait begins)."""
    killed: Counter[str] = Counter()
    with tqdm(total=rounds, desc="SIGKILL rounds", unit=" kills", file=sys.stderr) as bar:
        for _ in range(rounds):
            time.sleep(rnd.uniform(0.2, max_delay))
            victim = rnd.choices(["web", "worker", "both"], weights=[5, 3, 2])[0]
            if victim in ("web", "both"):
                server.kill()
            if victim in ("worker", "both"):
                worker.kill()
            killed[victim] += 1
            time.sleep(rnd.uniform(0, 0.3))
            if not worker.running:
                worker.start()
            if not server.running:
                server.start()
            with ledger.lock:
                bar.set_postfix(acked=len(ledger.referrals) + len(ledger.decisions) + len(ledger.notes),
                                errors=len(ledger.errors))
            bar.update()
    return killed


def _drain_outbox() -> dict[str, int]:
    """Deliver what the processes left: what is due now, then (as if the claim time had passed)
    the messages a killed worker had claimed and never recorded as sent or failed."""
    from django.utils import timezone

    from casetrail.clock import frozen_at
    from casetrail.notifications.services import CLAIM, outbox_deliver

    now = outbox_deliver(limit=100_000)
    later = timezone.now() + CLAIM + timedelta(minutes=1)
    with frozen_at(later):
        expired = outbox_deliver(limit=100_000)
    return {"sent_at_the_end": now.sent, "sent_after_claims_expired": expired.sent,
            "failed_at_the_end": now.failed + expired.failed}


def check(ledger: Ledger, mail_log: Path) -> tuple[list[str], dict[str, Any]]:
    """Every check named in the module's docstring; returns (problems, figures)."""
    from django.db.models import Count

    from casetrail.audit.models import AccessLogEntry, Event
    from casetrail.audit.verification import chain_verify
    from casetrail.cases.models import Case, CaseNote, Decision
    from casetrail.notifications.models import Message
    from casetrail.referrals.models import IdempotencyRecord, Referral

    problems: list[str] = []

    def problem(text: str) -> None:
        if len(problems) < 200:
            problems.append(text)

    # Acknowledged writes are all there.
    by_key = {r.key: r for r in IdempotencyRecord.objects.select_related("referral__case")}
    for key, body in ledger.referrals.items():
        record = by_key.get(key)
        if record is None:
            problem(f"acknowledged referral {body['reference']} (key {key}) is missing")
        elif (record.referral.reference != body["reference"] or record.referral.case.pk != body["case_id"]
              or record.referral.case.reference != body["case_reference"]):
            problem(f"referral for key {key} is {record.referral.reference}, the client was told {body['reference']}")
    decided = set(Decision.objects.filter(type="gateway").values_list("case_id", flat=True))
    for case_id in ledger.decisions:
        if case_id not in decided:
            problem(f"acknowledged gateway decision on case {case_id} is missing")
    noted = set(CaseNote.objects.values_list("text", flat=True))
    for text, case_id in ledger.notes.items():
        if text not in noted:
            problem(f"acknowledged note on case {case_id} is missing")
    for case_id, count in (Decision.objects.filter(type="gateway").values("case_id").annotate(n=Count("id"))
                           .filter(n__gt=1).values_list("case_id", "n")):
        problem(f"case {case_id} has {count} gateway decisions")

    # One referral per key; nothing half-written.
    referrals = Referral.objects.count()
    keyed = IdempotencyRecord.objects.count()
    if referrals != keyed:
        problem(f"{referrals} referrals but {keyed} idempotency keys (every referral here was sent with one)")
    events: dict[int, Counter[str]] = {}
    last_state: dict[int, str] = {}
    for case_id, kind, data in Event.objects.filter(case__isnull=False).order_by("seq").values_list(
            "case_id", "kind", "data"):
        events.setdefault(case_id, Counter())[kind] += 1
        if kind == "case.state":
            last_state[case_id] = data.get("stage", "")
    collected = set(AccessLogEntry.objects.filter(operation="collection", object_type="referral")
                    .values_list("object_id", flat=True))
    altered = Counter(AccessLogEntry.objects.filter(operation="alteration").values_list("case_id", flat=True))
    cases = {c.pk: c for c in Case.objects.select_related("referral", "person")}
    for referral in Referral.objects.select_related("case", "person"):
        case = getattr(referral, "case", None)
        if case is None or referral.person_id is None:
            problem(f"referral {referral.reference} has no case or no person")
            continue
        have = events.get(case.pk, Counter())
        for kind in ("case.state", "referral.submitted", "case.opened"):
            if not have[kind]:
                problem(f"case {case.reference} has no {kind} event")
        if str(referral.pk) not in collected:
            problem(f"referral {referral.reference} has no collection entry in the access log")
    for case in cases.values():
        if last_state.get(case.pk) != case.stage:
            problem(f"case {case.reference} is at {case.stage} but its last case.state event says "
                    f"{last_state.get(case.pk)}")
        have = events.get(case.pk, Counter())
        gateway = Decision.objects.filter(case=case, type="gateway").count()
        notes = CaseNote.objects.filter(case=case).count()
        if have["gateway.decided"] != gateway:
            problem(f"case {case.reference}: {gateway} gateway decisions, {have['gateway.decided']} events")
        if have["note.recorded"] != notes:
            problem(f"case {case.reference}: {notes} notes, {have['note.recorded']} events")
        if altered[case.pk] < gateway + notes:
            problem(f"case {case.reference}: {gateway + notes} changes, {altered[case.pk]} alteration entries")

    # Both chains verify.
    chains = {}
    for model in (Event, AccessLogEntry):
        report = chain_verify(model)
        chains[model.chain] = report.entries
        if not report.intact:
            problem(f"the {model.chain} chain is broken: {report.problem}")

    # Each message sent exactly once, by the backend's own record.
    sends: Counter[int] = Counter()
    if mail_log.exists():
        for line in mail_log.read_text().splitlines():
            found = re.search(r"casetrail-(\d+)", json.loads(line)["message_id"])
            if found:
                sends[int(found.group(1))] += 1
    messages = Counter()
    for pk, status in Message.objects.values_list("pk", "status"):
        messages[status] += 1
        if status == Message.Status.SENT and sends[pk] != 1:
            problem(f"message {pk} is recorded as sent and the backend sent it {sends[pk]} times")
        if status != Message.Status.SENT and sends[pk]:
            problem(f"message {pk} is recorded as {status} but the backend sent it {sends[pk]} times")
    outcome_messages = Message.objects.filter(kind="referrer_outcome").count()
    if outcome_messages != len(decided):
        problem(f"{len(decided)} gateway decisions but {outcome_messages} messages telling the referrer")

    found_delivered = sum(1 for data in Event.objects.filter(kind="notification.sent").values_list("data", flat=True)
                          if data.get("found_delivered"))
    figures = {"referrals": referrals, "cases": len(cases), "gateway_decisions": len(decided),
               "notes": len(noted), "events": chains.get("events", 0), "access_log_entries": chains.get("access_log", 0),
               "messages": dict(messages), "backend_sends": sum(sends.values()),
               "sent_messages_found_already_delivered_after_a_kill": found_delivered}
    return problems, figures


def _engine() -> str:
    from django.db import connection

    if connection.vendor == "postgresql":
        version = connection.pg_version
        text = f"PostgreSQL {version // 10000}.{version % 10000}"
        connection.close()  # before the database is dropped
        return text
    with connection.cursor() as cursor:
        mode = cursor.execute("PRAGMA journal_mode").fetchone()[0]
    return f"SQLite {versions()['sqlite']} (journal mode {mode})"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=100, help="How many kills (default 100)")
    parser.add_argument("--database-url", default="",
                        help="A PostgreSQL server to make the run's database on (default: a SQLite file)")
    parser.add_argument("--clients", type=int, default=4, help="Client threads writing at once (default 4)")
    parser.add_argument("--max-delay", type=float, default=2.5,
                        help="Longest wait, in seconds, before each kill (default 2.5; each is random from 0.2)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=None, help="Where the run's files go (default: a temp dir)")
    parser.add_argument("--keep", action="store_true", help="Keep the database and the run's files")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.clients < 1 or args.max_delay < 0.2:
        parser.error("--rounds and --clients must be at least 1 and --max-delay at least 0.2")
    if args.database_url and not args.database_url.startswith(("postgres://", "postgresql://")):
        parser.error("--database-url must be a postgres:// URL (SQLite is the default)")

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="casetrail-sigkill-"))
    mail_log = workdir / "sent-mail.jsonl"
    started = time.monotonic()
    print(f"Setting up a fresh {'PostgreSQL' if args.database_url else 'SQLite'} database in {workdir} ...",
          file=sys.stderr)
    site = site_create(workdir, args.database_url or None, mail_log=mail_log)
    rnd = random.Random(args.seed)
    ledger = Ledger()
    stop = threading.Event()
    server, worker = Server(site, workers=3), Worker(site, interval=0.2)
    problems: list[str] = []
    try:
        worker.start()
        server.start()
        clients = [Client(i, server, site, ledger, stop, args.seed) for i in range(args.clients)]
        for client in clients:
            client.start()
        load_started = time.monotonic()
        killed = kill_rounds(args.rounds, server, worker, rnd, ledger, args.max_delay)
        stop.set()
        for client in clients:
            client.join(timeout=120)
        load_seconds = time.monotonic() - load_started
        time.sleep(1)  # let the worker send what the last writes queued
        server.stop()
        worker.stop()

        os.environ.update(site.env)
        import django

        django.setup()
        drained = _drain_outbox()
        problems, figures = check(ledger, mail_log)
        engine = _engine()
    finally:
        stop.set()
        server.kill()
        worker.kill()
        if not args.keep:
            site.drop()

    acked = len(ledger.referrals) + len(ledger.decisions) + len(ledger.notes)
    shown = " ".join(sys.argv[1:] if argv is None else argv)
    if args.database_url:
        shown = shown.replace(args.database_url, "<server>")
    lines = [
        f"SIGKILL fault run (python -m bench.faults.sigkill {shown})",
        f"machine: {machine()}",
        f"versions: {versions()}",
        f"database: {engine}; web: gunicorn, 3 workers; task worker: run_worker --interval 0.2",
        f"load: {args.clients} client threads, {load_seconds:.0f} s; kills: {dict(killed)} "
        f"(random waits 0.2 to {args.max_delay} s, seed {args.seed})",
        f"acknowledged writes: {acked} ({len(ledger.referrals)} referrals, {len(ledger.decisions)} gateway "
        f"decisions, {len(ledger.notes)} notes); {acked / max(load_seconds, 1):.1f} a second",
        f"answers lost to a kill: {dict(ledger.unknown)} (not retried: no idempotency key); referral retries "
        f"{ledger.retries}, of which answered with the first referral {ledger.replayed}; given up "
        f"{len(ledger.unanswered_referrals)}",
        f"refusals (4xx): {dict(ledger.refused)}; server errors (5xx): {len(ledger.errors)}",
        f"in the database: {figures}",
        f"outbox at the end: {drained}",
    ]
    for error in ledger.errors[:10]:
        lines.append(f"  5xx: {error}")
    problems = problems + [f"server error: {e}" for e in ledger.errors[:20]]
    if problems:
        lines.append(f"FAILED: {len(problems)} problems")
        lines.extend(f"  - {p}" for p in problems)
    else:
        lines.append("OK: every acknowledged write is present, nothing is half-written, both audit chains "
                     "verify, and every message was sent exactly once")
    lines.append(f"took {time.monotonic() - started:.0f} s")
    print("\n".join(lines))
    if not args.keep and args.workdir is None:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
