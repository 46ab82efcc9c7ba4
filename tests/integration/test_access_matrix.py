"""Every route x every role x case A's ids (their own involvement) and case B's (another force's
case): allowed or refused exactly as tests/integration/access_matrix.py says, and a refused
request, even an empty POST, changes nothing and never answers 422 first.

A route with no line in the matrix, or a line with no route, fails
test_every_route_and_operation_has_exactly_one_matrix_line, naming it.
"""

# ruff: noqa: F811  (the `matrix` fixture is imported from access_world and taken as an argument)
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db.models import Sum
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from casetrail.api.router import api as ninja_api
from casetrail.audit.models import Event
from casetrail.cases.models import (
    Case,
    Decision,
    HandOver,
    InformationRequest,
    Session,
    SupportAction,
)

from .access_matrix import ADMIN_PREFIX, API, EVERYONE, FRAMEWORK_ROUTES, PAGES, Entry
from .access_world import ROLES, MatrixWorld, Side, matrix  # noqa: F401  (the module fixture)

OPENAPI_FILE = Path(settings.BASE_DIR) / "docs" / "openapi.json"


# ---------------------------------------------------------------- what routes exist


def url_patterns(patterns: list[Any] | None = None, prefix: str = "") -> Iterator[str]:
    for p in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(p, URLResolver):
            yield from url_patterns(p.url_patterns, prefix + str(p.pattern))
        elif isinstance(p, URLPattern):
            yield prefix + str(p.pattern)


def page_routes() -> set[str]:
    return {r for r in url_patterns() if not r.startswith(("api/v1/", ADMIN_PREFIX))}


def api_operations() -> set[str]:
    """Every operation in the live schema and in the committed docs/openapi.json."""
    schemas = [ninja_api.get_openapi_schema(path_prefix="/api/v1"), json.loads(OPENAPI_FILE.read_text())]
    return {f"{method.upper()} {path}" for schema in schemas for path, ops in schema["paths"].items()
            for method in ops}


def test_every_route_and_operation_has_exactly_one_matrix_line() -> None:
    lines = [e.route for e in PAGES + API]
    twice = sorted({r for r in lines if lines.count(r) > 1})
    pages, operations = page_routes(), api_operations()
    problems = [f"route without a matrix line in tests/integration/access_matrix.py: {r}"
                for r in sorted(pages - {e.route for e in PAGES})]
    problems += [f"API operation without a matrix line in tests/integration/access_matrix.py: {r}"
                 for r in sorted(operations - {e.route for e in API})]
    problems += [f"matrix line for a page route that does not exist: {r}" for r in
                 sorted({e.route for e in PAGES} - pages)]
    problems += [f"matrix line for an API operation that does not exist: {r}" for r in
                 sorted({e.route for e in API} - operations)]
    problems += [f"route with two matrix lines: {r}" for r in twice]
    # The API's URL patterns must all be operations in the schema (or the framework's own pages).
    schema_paths = {re.sub(r"\{(\w+)\}", r"<\1>", r.split(" ", 1)[1][1:]) for r in operations}
    problems += [f"API URL pattern missing from the OpenAPI schema: {r}" for r in sorted(url_patterns())
                 if r.startswith("api/v1/") and r not in schema_paths and r not in FRAMEWORK_ROUTES]
    assert not problems, "\n".join(problems)


# ---------------------------------------------------------------- asking


def fill(route: str, entry: Entry, side: Side, matrix: MatrixWorld) -> str:
    """The route with each parameter replaced by the side's object of that kind."""
    ids = side.ids()
    ids["pair_id"] = matrix.duplicate.pk
    ids["organisation_id"] = matrix.world.provider_org.pk
    ids["break_glass_id"] = matrix.break_glass.pk
    if "run_id" in route:
        ids["run_id"] = _replay_run(matrix).pk

    def value(name: str) -> str:
        if name == "reference":
            name = ("referral_reference" if "confirmation" in entry.route else "sar_reference"
                    if "subject-access-requests/" in entry.route.split("{")[0].split("<")[0]
                    else "person_reference")
        return str(ids[name])

    route = re.sub(r"<(?:\w+:)?(\w+)>", lambda m: value(m.group(1)), route)
    return re.sub(r"\{(\w+)\}", lambda m: value(m.group(1)), route)


def _replay_run(matrix: MatrixWorld) -> Any:
    """A finished replay run (its report made elsewhere), for the replay pages' lines."""
    from django.utils import timezone

    from casetrail.replay.models import ReplayRun

    return ReplayRun.objects.filter(file_name="matrix.yaml").first() or ReplayRun.objects.create(
        uploaded_by=matrix.user("oversight"), uploaded_at=timezone.now(), file_name="matrix.yaml", source="",
        status=ReplayRun.Status.DONE, report_html="<h1>A replay</h1>", report_pdf=b"%PDF-1.4\n")


class Caller:
    """A signed-in page client or an API token for each role, made once per test."""

    def __init__(self, matrix: MatrixWorld):
        self.matrix = matrix
        self.clients: dict[str, Client] = {}

    def page_client(self, role: str) -> Client:
        if role not in self.clients:
            client = Client()
            if role != "anonymous":
                client.force_login(self.matrix.user(role))
            self.clients[role] = client
        return self.clients[role]

    def page(self, role: str, method: str, url: str, body: dict[str, str]) -> Any:
        client = self.page_client(role)
        if method == "GET":
            return client.get(url)
        response = client.post(url, body)
        if url.rstrip("/").endswith("sign-out"):
            self.clients.pop(role)  # signed out now: sign in again for the next request
        return response

    def api(self, role: str, method: str, url: str) -> Any:
        headers = {} if role == "anonymous" else {"HTTP_AUTHORIZATION": f"Bearer {self.matrix.tokens[role]}"}
        if method == "GET":
            return Client().get(url, **headers)
        return Client().generic(method, url, data="{}", content_type="application/json", **headers)


def page_verdict(response: Any, role: str) -> str:
    status, location = response.status_code, response.get("Location", "")
    if status in (403, 404):
        return "deny"
    if status == 302 and location.startswith(settings.LOGIN_URL if settings.LOGIN_URL.startswith("/") else "/sign-in"):
        return "deny" if role == "anonymous" else f"odd: sent to sign in ({location})"
    if status in (200, 400) or (status == 302 and "/confirm-identity" not in location):
        return "allow"
    return f"odd: {status} {location}"


def api_verdict(response: Any) -> str:
    status = response.status_code
    if status in (401, 403, 404):
        return "deny"
    if status in (200, 201, 409, 422):
        return "allow"
    return f"odd: {status}"


def state() -> tuple[Any, ...]:
    """Enough of the database to see that a request changed something."""
    return (Event.objects.count(), Case.objects.aggregate(v=Sum("version"))["v"], Decision.objects.count(),
            HandOver.objects.filter(status="offered").count(), Session.objects.count(),
            SupportAction.objects.filter(status="open").count(),
            InformationRequest.objects.filter(replied_on__isnull=True).count())


def expected(entry: Entry, role: str, side: str, method: str) -> str:
    return "allow" if role in entry.allowed(side, method) else "deny"


def ask_all(entry: Entry, matrix: MatrixWorld, *, api: bool) -> list[str]:
    """Ask the route as every role with each side's ids; the mismatches, one line each."""
    caller = Caller(matrix)
    sides = [("own", matrix.own), ("other", matrix.other)] if entry.has_object else [("own", matrix.own)]
    methods = ([entry.route.split(" ", 1)[0]] if api else
               [m for m, wanted in (("GET", entry.get), ("POST", entry.post)) if wanted])
    route = entry.route.split(" ", 1)[1] if api else "/" + entry.route
    problems = []
    for side_name, side in sides:
        url = fill(route, entry, side, matrix)
        body = {k: fill(v, entry, side, matrix) for k, v in entry.body.items()}
        for role in sorted(EVERYONE):
            for method in methods:
                want = expected(entry, role, side_name, method)
                before = state()
                if api:
                    response = caller.api(role, method, url)
                    got = api_verdict(response)
                else:
                    response = caller.page(role, method, url, body)
                    got = page_verdict(response, role)
                    if entry.route == "sign-out" and response.status_code == 302:
                        got = "allow"  # signed out, and so sent to sign in
                changed = state() != before
                label = f"{method} {url} as {role} with case {'A' if side_name == 'own' else 'B'}'s ids"
                if got != want:
                    problems.append(f"{label}: expected {want}, got {got} ({response.status_code})")
                if changed and not entry.route.endswith("sign-out"):
                    problems.append(f"{label}: the request changed the database ({before} -> {state()})")
                if api and want == "deny" and response.status_code == 422:
                    problems.append(f"{label}: refused with 422, which answers for the object")
    return problems


@pytest.mark.parametrize("entry", PAGES, ids=[e.route or "/" for e in PAGES])
def test_page_lets_in_exactly_its_matrix_roles(entry: Entry, matrix: MatrixWorld, db: None) -> None:
    problems = ask_all(entry, matrix, api=False)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("entry", API, ids=[e.route for e in API])
def test_api_operation_lets_in_exactly_its_matrix_roles(entry: Entry, matrix: MatrixWorld, db: None) -> None:
    problems = ask_all(entry, matrix, api=True)
    assert not problems, "\n".join(problems)


def test_the_django_admin_lets_no_role_in(matrix: MatrixWorld, db: None) -> None:
    """No role's account is staff, so every admin route sends each of them to the admin's sign-in."""
    caller = Caller(matrix)
    samples = {re.sub(r"<(?:\w+:)?\w+>", "1", r).replace("^", "").replace("$", "") for r in url_patterns()
               if r.startswith(ADMIN_PREFIX) and "(?P" not in r and "login" not in r and "logout" not in r}
    problems = []
    for path in sorted(samples):
        for role in (*ROLES, "anonymous"):
            response = caller.page(role, "GET", "/" + path, {})
            status, location = response.status_code, response.get("Location", "")
            if not (status in (302, 404) and (status == 404 or "/admin/login/" in location)):
                problems.append(f"GET /{path} as {role}: {status} {location}")
    assert not problems, "\n".join(problems)
