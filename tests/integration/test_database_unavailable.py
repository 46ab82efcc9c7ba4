"""The database going away: every page answers a GOV.UK 503 saying the records cannot be reached
and nothing was saved, the API a JSON 503, /healthz a 503 naming what failed; a write that fails
midway leaves nothing behind; and once the database is back the same request succeeds, with no
restart.

The failure is simulated with Django's execute_wrapper: every query (or only some) raises the
error the database driver would, "unable to open database file" for an unreachable database and
"database or disk is full" for a full disk. bench/db_outage.sh does it for real, stopping and
starting a PostgreSQL server under a running application.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import DatabaseError, IntegrityError, OperationalError, connection
from django.test import Client

from casetrail import clock
from casetrail.audit.models import Event
from casetrail.cases.models import Case, CaseNote
from casetrail.web import errors, health

from .conftest import PASSWORD, World, case_in_support

UNREACHABLE = OperationalError("unable to open database file")
DISK_FULL = OperationalError("database or disk is full")


@contextmanager
def failing(error: Exception, when: Callable[[str], bool] = lambda sql: True) -> Iterator[None]:
    """Every query for which `when(sql)` holds raises `error`, as the driver would."""
    def wrapper(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if when(sql):
            raise error
        return execute(sql, params, many, context)

    with connection.execute_wrapper(wrapper):
        yield


@pytest.fixture(autouse=True)
def _fresh_health() -> Iterator[None]:
    health.reset()
    yield
    health.reset()


@pytest.fixture
def signed_in(world: World) -> Client:
    client = Client(raise_request_exception=False)  # answer as a server would, not re-raise
    assert client.login(username="police", password=PASSWORD)
    return client


def _note_request(client: Client, token: str, case: Case) -> Any:
    return client.post(f"/api/v1/cases/{case.pk}/notes",
                       {"noted_on": clock.today().isoformat(), "text": "Spoke to the school; no change."},
                       content_type="application/json", headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("error", [UNREACHABLE, DISK_FULL], ids=["unreachable", "disk full"])
def test_a_page_is_a_govuk_503_saying_nothing_was_saved(signed_in: Client, error: Exception) -> None:
    with failing(error):
        answer = signed_in.get("/my-work")
    assert answer.status_code == 503
    assert answer["Content-Type"].startswith("text/html")
    assert answer["Retry-After"] == str(errors.RETRY_AFTER_SECONDS)
    page = answer.content.decode()
    assert 'class="govuk-error-summary"' in page
    assert "cannot reach its records" in page and "Nothing you sent has been saved" in page
    assert "Try again" in page
    assert signed_in.get("/my-work").status_code == 200  # the database is back: no restart


@pytest.mark.parametrize(("error", "failure"), [(UNREACHABLE, "unreachable"), (DISK_FULL, "read-only or disk full")])
def test_the_api_is_a_json_503_with_a_detail(world: World, error: Exception, failure: str) -> None:
    client = Client(raise_request_exception=False)
    token = world.token("police")
    with failing(error):
        answer = client.get("/api/v1/my-work", headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 503
    assert answer["Content-Type"] == "application/json"
    detail = answer.json()["detail"]
    assert failure in detail and "Nothing was saved" in detail
    assert client.get("/api/v1/my-work", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_a_write_that_fails_midway_leaves_nothing_behind_and_succeeds_once_the_disk_has_room(
        world: World) -> None:
    case = case_in_support(world)
    client, token = Client(raise_request_exception=False), world.token("police")
    version, notes, events = case.version, CaseNote.objects.count(), Event.objects.count()
    # The note and the case's new version are written; the event after them finds the disk full.
    with failing(DISK_FULL, when=lambda sql: sql.lstrip().upper().startswith("INSERT INTO \"AUDIT_EVENT\"")):
        answer = _note_request(client, token, case)
    assert answer.status_code == 503, answer.content
    case.refresh_from_db()
    assert (case.version, CaseNote.objects.count(), Event.objects.count()) == (version, notes, events)
    # The health check says so for a while, though it writes nothing itself.
    assert Client().get("/healthz").json() == {"status": "unhealthy", "database": "read-only or disk full"}
    health.reset()
    again = _note_request(client, token, case)
    assert again.status_code == 201, again.content
    assert CaseNote.objects.count() == notes + 1 and Event.objects.count() > events


def test_a_referral_whose_connection_breaks_midway_leaves_no_referral_case_or_person(world: World) -> None:
    """Submitting a referral writes a person, a referral, a case and their events in one transaction."""
    from casetrail.people.models import Person
    from casetrail.referrals.models import Referral
    from casetrail.referrals.services import referral_submit

    from .conftest import referral_input

    before = (Person.objects.count(), Referral.objects.count(), Case.objects.count(), Event.objects.count())
    with failing(UNREACHABLE, when=lambda sql: "INSERT" in sql.upper() and "AUDIT_EVENT" in sql.upper()), \
            pytest.raises(OperationalError):
        referral_submit(user=world.users["referrer"], data=referral_input(world))
    assert (Person.objects.count(), Referral.objects.count(), Case.objects.count(), Event.objects.count()) == before


def test_the_health_check_names_what_failed(client: Client, db: Any) -> None:
    assert client.get("/healthz").status_code == 200
    with failing(UNREACHABLE):
        answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "unhealthy", "database": "unreachable"}
    assert client.get("/healthz").json()["status"] == "ok"


def test_the_health_check_says_migrations_are_pending(client: Client, db: Any, monkeypatch: Any) -> None:
    from django.db.migrations.executor import MigrationExecutor

    monkeypatch.setattr(MigrationExecutor, "migration_plan", lambda self, targets: [("a migration", False)])
    answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "unhealthy", "database": "migrations pending"}


def test_the_health_check_says_a_database_that_takes_no_writes_is_read_only(
        client: Client, db: Any, monkeypatch: Any) -> None:
    if connection.vendor == "sqlite":  # a file (or its folder) that cannot be written, or no room left
        monkeypatch.setattr(health, "_sqlite_refuses_writes", lambda: True)
        answer = client.get("/healthz")
    else:  # PostgreSQL: a standby, or default_transaction_read_only set
        def read_only(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            return execute("SELECT 'on'" if "transaction_read_only" in sql else sql, params, many, context)

        with connection.execute_wrapper(read_only):
            answer = client.get("/healthz")
    assert answer.status_code == 503
    assert answer.json() == {"status": "unhealthy", "database": "read-only or disk full"}


@pytest.mark.parametrize(("error", "expected"), [
    (UNREACHABLE, "unreachable"),
    (OperationalError("server closed the connection unexpectedly"), "unreachable"),
    (DISK_FULL, "read-only or disk full"),
    (OperationalError("attempt to write a readonly database"), "read-only or disk full"),
    (DatabaseError("could not extend file \"base/16384/16385\": No space left on device"), "read-only or disk full"),
    (OperationalError("database is locked"), "busy"),
    (OperationalError("deadlock detected"), "busy"),
    (IntegrityError("UNIQUE constraint failed: cases_case.reference"), None),  # a bug, still a 500
    (ValueError("not a database error"), None),
])
def test_which_errors_mean_the_database_is_unavailable(error: Exception, expected: str | None) -> None:
    assert errors.database_failure(error) == expected


def test_any_other_error_is_still_a_500(signed_in: Client) -> None:
    with failing(IntegrityError("UNIQUE constraint failed"), when=lambda sql: "cases_case" in sql.lower()):
        answer = signed_in.get("/my-work")
    assert answer.status_code == 500


def test_settings_let_django_reconnect_after_a_failure() -> None:
    """Django opens a new connection when the old one failed: with CONN_MAX_AGE above 0 it must
    check a kept connection before each request (CONN_HEALTH_CHECKS), or a request after the
    database came back would meet the dead connection once."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database.get("CONN_MAX_AGE", 0):
        assert database.get("CONN_HEALTH_CHECKS") is True

