"""Schemathesis against the committed docs/openapi.json, with real ids and real tokens.

Every operation is called with the ids of case A of the access world (tests/integration/access_world.py)
and the API token of a role the access matrix lets in, so generated requests reach the handler's
logic instead of stopping at a 404 or 403. Each operation gets a bounded number of generated
requests (CASETRAIL_SCHEMA_EXAMPLES, default 10, half that for invalid input and for generated ids),
derandomised so a run is the same every time; each request runs in a savepoint that is rolled back,
so each one meets the world as it was built. Raise CASETRAIL_SCHEMA_EXAMPLES for a deeper run.

Checks on every answer: never a 5xx; the status code is one the schema documents; the content type
and body match the schema; invalid input is refused (4xx). An operation whose every answer with
real ids was a 404 fails the test, since then the ids did not reach the logic. A path or method no
operation answers under /api/ is a JSON 404 or 405.
"""

# ruff: noqa: F811  (the `matrix` fixture is imported from access_world and taken as an argument)
from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest
import schemathesis
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import HealthCheck, Phase
from hypothesis import strategies as st
from schemathesis import GenerationMode, checks

from casetrail import clock

from .access_matrix import API
from .access_world import MatrixWorld, matrix  # noqa: F401  (the module fixture)

OPENAPI_FILE = Path(settings.BASE_DIR) / "docs" / "openapi.json"
EXAMPLES = int(os.environ.get("CASETRAIL_SCHEMA_EXAMPLES", "10"))
CHECKS = [checks.not_a_server_error, checks.status_code_conformance, checks.content_type_conformance,
          checks.response_schema_conformance]
NEGATIVE_CHECKS = [*CHECKS, checks.negative_data_rejection]

# Which allowed role calls an operation, in this order of preference (the first the matrix allows).
PREFERENCE = ("police", "coordinator", "chair", "panel", "provider", "referrer", "oversight", "admin")
# Where a role other than the first allowed one reaches more of the logic.
CALLER = {
    "POST /api/v1/information-requests/{request_id}/reply": "panel",  # the agency asked
    "POST /api/v1/handovers/{handover_id}/respond": "chair",  # offered to the chair
}


def _application() -> Any:
    """Django's WSGI handler, minus its closing of the connection at each request's start and end:
    the test's transaction (and the access world's) lives on that connection."""
    return WSGIHandler()


SCHEMA = schemathesis.openapi.from_path(OPENAPI_FILE)
# Unknown query parameters and headers are ignored, as HTTP APIs do, so they are not sent as
# "invalid" input; the token is always a valid one (tests/integration/test_api_tokens.py tries bad ones).
SCHEMA.config.generation.update(allow_extra_parameters=False, with_security_parameters=False)
OPERATIONS = {f"{op.method.upper()} {op.path}": op for op in (r.ok() for r in SCHEMA.get_all_operations())}


@pytest.fixture(scope="module")
def application() -> Iterator[Any]:
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        yield _application()
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def _caller(route: str) -> str:
    if route in CALLER:
        return CALLER[route]
    entry = next(e for e in API if e.route == route)
    return next(role for role in PREFERENCE if role in entry.own)


TEXT = "A synthetic explanation, long enough for every rule about reasons (schemathesis)."
TEXT_FIELDS = frozenset({"rationale", "reason", "note", "notes", "summary", "text", "report", "question", "reply",
                         "purpose", "description", "concern", "recipient", "requested_by", "service_contact",
                         "giver_name", "scope", "source", "location", "referrer_contact_summary"})


def _sensible(matrix: MatrixWorld, body: Any) -> Any:
    """The generated body with the values the services check replaced by plausible ones (today's date,
    a long enough reason, two attendees, ids that exist), so that some requests get past the field
    rules to the rules of the journey and, now and then, to a write and its answer."""
    if not isinstance(body, dict):
        return body
    today = clock.today().isoformat()
    users, world = matrix.world.users, matrix.world
    ids = {"case_id": matrix.own.case.pk, "target_id": matrix.own.case.pk, "to_user_id": users["chair"].pk,
           "owner_user_id": users["coordinator"].pk, "provider_user_id": users["provider"].pk,
           "chair_id": users["chair"].pk, "to_agency_id": world.nhs.pk, "local_authority_id": world.council.pk}
    body = dict(body)
    for name in list(body):
        if name.endswith("_on"):
            body[name] = today
        elif name in TEXT_FIELDS and isinstance(body[name], str):
            body[name] = TEXT
        elif name == "attendees":
            body[name] = ["Chair, Testshire County Council", "Police officer, Testshire Police CTP"]
        elif name in ids:
            body[name] = ids[name]
        elif name == "expected_version":
            body[name] = None
    return body


def _path_parameters(matrix: MatrixWorld, operation: Any) -> dict[str, Any]:
    ids = matrix.own.ids()
    names = {p.name for p in operation.path_parameters}
    values: dict[str, Any] = {}
    for name in names:
        if name == "reference":
            values[name] = ids["person_reference"] if operation.path.startswith("/api/v1/people/") \
                else ids["sar_reference"]
        else:
            values[name] = ids[name]
    return values


# Three kinds of run per operation: valid input with real ids (and, for about half the requests,
# plausible values where the services check them: see _sensible); invalid input with real ids,
# where there is something beyond the path to make invalid (GET /search's one string cannot be);
# and valid input with generated ids, mostly absent ones, which must be a 404 or a 422, never a 500.
NO_INVALID_INPUT = frozenset({"GET /api/v1/search"})
RUNS = [pytest.param(route, kind, id=f"{route} {kind}") for route in sorted(OPERATIONS)
        for kind in ("valid", "invalid", "any ids")
        if kind == "valid"
        or (kind == "invalid" and (OPERATIONS[route].body or OPERATIONS[route].query) and route not in NO_INVALID_INPUT)
        or (kind == "any ids" and OPERATIONS[route].path_parameters)]


@pytest.mark.parametrize(("route", "kind"), RUNS)
def test_operation_answers_as_its_schema_says(matrix: MatrixWorld, application: Any, db: Any, route: str,
                                             kind: str) -> None:
    operation = OPERATIONS[route]
    role = _caller(route)
    token = matrix.tokens[role]
    statuses: Counter[int] = Counter()
    mode = GenerationMode.NEGATIVE if kind == "invalid" else GenerationMode.POSITIVE
    real_ids = kind != "any ids"
    strategy = operation.as_strategy(generation_mode=mode,
                                     path_parameters=_path_parameters(matrix, operation) if real_ids else None)

    @hypothesis.settings(max_examples=EXAMPLES if kind == "valid" else max(EXAMPLES // 2, 1), derandomize=True,
                         database=None, deadline=None, phases=[Phase.explicit, Phase.generate],
                         suppress_health_check=list(HealthCheck), print_blob=False)
    @hypothesis.given(case=strategy, sensible=st.booleans())
    def run(case: Any, sensible: bool) -> None:
        if sensible:
            case.body = _sensible(matrix, case.body)
            if route == "POST /api/v1/referrals":
                case.headers = {**(case.headers or {}), "Idempotency-Key": "schemathesis-0001"}
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}
        with transaction.atomic():  # each request meets the world as built
            try:
                response = case.call(app=application)
                statuses[response.status_code] += 1
                case.validate_response(response, checks=NEGATIVE_CHECKS if kind == "invalid" else CHECKS)
            finally:
                transaction.set_rollback(True)

    run()
    if real_ids:
        assert set(statuses) - {404}, f"{route} as {role}: every answer was a 404, {dict(statuses)}"
    print(f"{route} {kind} as {role}: {dict(sorted(statuses.items()))}")


@pytest.mark.parametrize("method", ["get", "post", "put", "patch", "delete"])
@pytest.mark.parametrize("path", ["/api/v1/no-such-operation", "/api/v1/cases/1/no-such-step", "/api/v2/cases",
                                  "/api/v1/cases/1/gateway", "/api/v1/cases"])
def test_a_path_or_method_no_operation_answers_is_a_json_error(matrix: MatrixWorld, client: Any, db: Any,
                                                              method: str, path: str) -> None:
    answer = getattr(client, method)(path, headers={"Authorization": f"Bearer {matrix.tokens['police']}"})
    if (method, path) in {("post", "/api/v1/cases/1/gateway"), ("get", "/api/v1/cases")}:
        return  # operations: they answer for themselves, above
    assert answer.status_code in (404, 405), (answer.status_code, answer.content)
    assert answer["Content-Type"].startswith("application/json"), answer["Content-Type"]
    assert answer.json()["detail"]
