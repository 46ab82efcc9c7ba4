"""Many clients at once against a real server: gunicorn with three workers on a file database
(a SQLite file, or a new PostgreSQL database when the suite runs there), never the test
database. Referrals submitted together all succeed with their own references; clients stepping
one case together never lose an update: exactly one of the writes made against the same version
wins, the others are told it changed (409), and the audit chains verify afterwards."""

from __future__ import annotations

import os
import random
import sqlite3
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from bench.faults.harness import Answer, Server, Site, call, site_create
from bench.faults.world import gateway_body, referral_body

from .conftest import World

TODAY = date.today()


def _server_url() -> str | None:
    url = os.environ.get("CASETRAIL_DATABASE_URL", "")
    return url if url.startswith("postgres") else None


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    made = site_create(tmp_path_factory.mktemp("concurrent"), _server_url())
    try:
        yield made
    finally:
        made.drop()


@pytest.fixture(scope="module")
def server(site: Site) -> Iterator[Server]:
    running = Server(site, workers=3)
    running.start()
    try:
        yield running
    finally:
        running.stop()


def together(count: int, one: Callable[[int], Answer]) -> list[Answer]:
    """Run `one` in `count` threads released at the same moment."""
    gate = threading.Barrier(count)

    def run(index: int) -> Answer:
        gate.wait()
        return one(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def _submit(server: Server, site: Site, seed: int) -> Answer:
    body = referral_body(site.world["council_id"], random.Random(seed), TODAY)
    return call(server.base, "post", "/referrals", site.world["tokens"]["referrer"], body,
                **{"Idempotency-Key": f"concurrent-{seed:04d}"})


def test_64_referrals_submitted_at_once_all_succeed_with_distinct_references(server: Server, site: Site) -> None:
    answers = together(64, lambda i: _submit(server, site, 1000 + i))

    assert Counter(a.status for a in answers) == {201: 64}, [a.body for a in answers if a.status != 201][:3]
    assert len({a.body["reference"] for a in answers}) == 64
    assert len({a.body["case_reference"] for a in answers}) == 64
    assert len({a.body["case_id"] for a in answers}) == 64


def _case(server: Server, site: Site, case_id: int) -> dict[str, Any]:
    answer = call(server.base, "get", f"/cases/{case_id}", site.world["tokens"]["officer"])
    assert answer.status == 200, answer.body
    return answer.body  # type: ignore[no-any-return]


def test_competing_steps_on_one_case_one_wins_the_others_are_told_and_the_chains_verify(
        server: Server, site: Site) -> None:
    officer = site.world["tokens"]["officer"]
    for round_ in range(3):
        made = _submit(server, site, 2000 + round_)
        assert made.status == 201, made.body
        case_id = made.body["case_id"]
        seen = _case(server, site, case_id)

        # Eight officers decide the gateway from the same page at once.
        def decide(index: int, case_id: int = case_id, version: int = seen["version"]) -> Answer:
            return call(server.base, "post", f"/cases/{case_id}/gateway", officer, gateway_body(version, TODAY))

        decisions = together(8, decide)
        assert sorted(a.status for a in decisions) == [200] + [409] * 7, [a.body for a in decisions]
        for refused in (a for a in decisions if a.status == 409):
            assert "Someone else changed this case" in refused.body["detail"]
        decided = _case(server, site, case_id)
        assert decided["stage"] == "panel"
        assert decided["version"] == seen["version"] + 1  # one decision applied, once
        assert [d["type"] for d in decided["decisions"]].count("gateway") == 1

        # Then eight notes at once, which name no version: every one is kept, none overwrites another.
        def note(index: int, case_id: int = case_id) -> Answer:
            return call(server.base, "post", f"/cases/{case_id}/notes", officer,
                        {"noted_on": TODAY.isoformat(), "text": f"Note {index} written beside seven others."})

        assert [a.status for a in together(8, note)] == [201] * 8
        assert _case(server, site, case_id)["version"] == decided["version"] + 8

    verified = site.manage("verify", check=False)
    assert verified.returncode == 0, verified.stdout + verified.stderr


def test_the_server_ran_on_the_database_the_suite_asked_for_and_sqlite_in_wal_mode(server: Server, site: Site) -> None:
    from casetrail.env import database_from_url

    if _server_url():
        assert site.database_url.startswith("postgres")
        return
    # Every connection of the embedded default waits for the lock rather than failing at once,
    # and takes it when its transaction begins (no upgrade from reader to writer to deadlock on).
    options = database_from_url(site.database_url, Path(".")).as_django()["OPTIONS"]
    assert options["timeout"] >= 20  # type: ignore[index]
    assert options["transaction_mode"] == "IMMEDIATE"  # type: ignore[index]
    # WAL (readers never wait for the writer) is recorded in the file the server wrote.
    with sqlite3.connect(site.database_url.removeprefix("sqlite:///")) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_on_the_page_the_second_of_two_officers_deciding_from_the_same_form_sees_the_error_and_nothing_changes(
        world: World) -> None:
    from django.test import Client

    from casetrail.cases.models import Case, Decision
    from casetrail.referrals.services import referral_submit

    from .conftest import PASSWORD, referral_input

    case = referral_submit(user=world.users["referrer"], data=referral_input(world))[0].case
    first, second = Client(), Client()
    first.login(username="police", password=PASSWORD)
    second.login(username="police2", password=PASSWORD)
    page = f"/cases/{case.pk}/gateway"
    for client in (first, second):  # both open the form on the same version
        assert f'name="expected_version" value="{case.version}"' in client.get(page).content.decode()

    def decide(client: Client, outcome: str) -> Any:
        return client.post(page, {
            "expected_version": case.version, "deconfliction_done": "on", "database_checks_done": "on",
            "outcome": outcome, "signposted_to": "Testshire early help team",
            "rationale": "Checks done; the decision follows from what the school described.",
            "decided_on_day": TODAY.day, "decided_on_month": TODAY.month, "decided_on_year": TODAY.year})

    assert decide(first, "refer_to_panel").status_code == 302
    stale = decide(second, "signpost")
    assert stale.status_code == 400
    text = stale.content.decode()
    assert "govuk-error-summary" in text and "Someone else changed this case after you opened the page" in text
    after = Case.objects.get(pk=case.pk)
    assert (after.stage, after.version) == ("panel", case.version + 1)
    assert list(Decision.objects.filter(case=case, type="gateway").values_list("outcome", flat=True)) == [
        "refer_to_panel"]
