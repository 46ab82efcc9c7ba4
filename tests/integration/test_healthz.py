"""/healthz reads one row and writes nothing, even with a signed-in person's session cookie (a
load balancer's check, or a person opening it); the pages keep saving the session on every
request, so idle sign-out is unchanged. The health check's failures are in
test_database_unavailable.py."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from casetrail.web import health

from .conftest import PASSWORD, World

WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE", "CREATE", "DROP", "ALTER", "SAVEPOINT", "BEGIN")


@pytest.fixture(autouse=True)
def _fresh_health() -> Iterator[None]:
    health.reset()
    yield
    health.reset()


def _statements(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"].lstrip().upper() for q in queries.captured_queries]


@pytest.mark.parametrize("signed_in", [False, True], ids=["no cookie", "session cookie"])
def test_the_health_check_reads_one_row_and_writes_nothing(world: World, signed_in: bool) -> None:
    client = Client()
    if signed_in:
        assert client.login(username="police", password=PASSWORD)
    with CaptureQueriesContext(connection) as first:
        assert client.get("/healthz").json()["status"] == "ok"
    # The first check in a process also reads the migration table; from then on, one query.
    with CaptureQueriesContext(connection) as later:
        answer = client.get("/healthz")
    assert answer.status_code == 200 and answer.json() == {"status": "ok", "database": connection.vendor}
    for statements in (_statements(first), _statements(later)):
        assert not [s for s in statements if s.startswith(WRITES)], statements
        assert not [s for s in statements if "DJANGO_SESSION" in s or "ACCOUNTS_USER" in s], statements
    assert len(later) == 1, _statements(later)
    assert len(first) <= 4, _statements(first)
    assert "Set-Cookie" not in answer.headers  # no session saved, no cookie renewed


def test_head_answers_too(db: Any) -> None:
    assert Client().head("/healthz").status_code == 200


def test_pages_still_save_the_session_on_every_request(world: World) -> None:
    client = Client()
    assert client.login(username="police", password=PASSWORD)
    with CaptureQueriesContext(connection) as queries:
        assert client.get("/my-work").status_code == 200
    assert [s for s in _statements(queries) if s.startswith("UPDATE") and "DJANGO_SESSION" in s]
    assert "sessionid" in client.get("/my-work").cookies
