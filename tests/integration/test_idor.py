"""Guessing ids (IDOR): on every route that names an object, someone involved in case A who asks
for case B's objects, or for case A with one of B's sub-objects, is refused exactly as if the
object did not exist: same status, same body."""

# ruff: noqa: F811  (the `matrix` fixture is imported from access_world and taken as an argument)
from __future__ import annotations

import re
from typing import Any

import pytest

from .access_matrix import API, PAGES, Entry
from .access_world import MatrixWorld, Side, matrix  # noqa: F401  (the module fixture)
from .test_access_matrix import Caller, fill

MISSING = {"case_id": 999999, "attachment_id": 999999, "assessment_id": 999999, "meeting_id": 999999,
           "request_id": 999999, "tasking_id": 999999, "action_id": 999999, "handover_id": 999999,
           "person_reference": "P-2020-999999", "referral_reference": "R-2020-999999",
           "sar_reference": "SAR-2020-9999"}
OBJECT_ENTRIES = [e for e in PAGES + API if e.has_object]


class Missing(Side):
    """A side whose every id names nothing."""

    def __init__(self, real: Side, keep: set[str] | None = None):
        self.real, self.keep = real, keep or set()

    def ids(self) -> dict[str, Any]:
        ids = self.real.ids()
        return {k: (v if k in self.keep or k not in MISSING else MISSING[k]) for k, v in ids.items()}


class Mixed(Side):
    """Case A's own id with every other id taken from case B."""

    def __init__(self, own: Side, other: Side):
        self.own, self.other = own, other

    def ids(self) -> dict[str, Any]:
        return {**self.other.ids(), "case_id": self.own.case.pk}


def normalised(response: Any) -> str:
    """The body without what differs on every request (CSP nonces, CSRF tokens, request ids)."""
    body = response.content.decode(errors="replace")
    body = re.sub(r'nonce="[^"]*"', 'nonce=""', body)
    body = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", body)
    return re.sub(r"\d{6,}|SAR-\d{4}-\d{4}|[A-Z]{1,3}-\d{4}-\d{4,6}", "<id>", body)


def ask(caller: Caller, entry: Entry, role: str, side: Side, matrix: MatrixWorld) -> Any:
    is_api = entry.route.startswith(("GET /", "POST /", "PATCH /"))
    method = entry.route.split(" ", 1)[0] if is_api else "GET" if entry.get else "POST"
    route = entry.route.split(" ", 1)[1] if is_api else "/" + entry.route
    url = fill(route, entry, side, matrix)
    if is_api:
        return caller.api(role, method, url)
    return caller.page(role, method, url, {k: fill(v, entry, side, matrix) for k, v in entry.body.items()})


@pytest.mark.parametrize("entry", OBJECT_ENTRIES, ids=[e.route for e in OBJECT_ENTRIES])
def test_another_case_s_ids_are_refused_as_if_they_did_not_exist(entry: Entry, matrix: MatrixWorld,
                                                                   db: None) -> None:
    caller = Caller(matrix)
    insiders = sorted(entry.own - entry.other - {"anonymous"})  # involved in A, not in B
    problems = []
    for role in insiders:
        theirs = ask(caller, entry, role, matrix.other, matrix)
        absent = ask(caller, entry, role, Missing(matrix.other), matrix)
        if theirs.status_code not in (403, 404) or (theirs.status_code, normalised(theirs)) != (
                absent.status_code, normalised(absent)):
            problems.append(f"{entry.route} as {role}: case B's ids gave {theirs.status_code}, "
                            f"ids that do not exist gave {absent.status_code}"
                            + ("" if theirs.status_code != absent.status_code else " (bodies differ)"))
    assert not problems, "\n".join(problems)


MIXED = [e for e in OBJECT_ENTRIES if "case_id" in e.route and re.search(r"(attachment|assessment)_id", e.route)]


@pytest.mark.parametrize("entry", MIXED, ids=[e.route for e in MIXED])
def test_case_a_with_case_b_s_sub_object_is_refused_as_if_it_did_not_exist(entry: Entry, matrix: MatrixWorld,
                                                                           db: None) -> None:
    caller = Caller(matrix)
    problems = []
    for role in sorted(entry.own - {"anonymous"}):
        mixed = ask(caller, entry, role, Mixed(matrix.own, matrix.other), matrix)
        absent = ask(caller, entry, role, Missing(matrix.own, keep={"case_id", "dimension_code"}), matrix)
        if mixed.status_code != 404 or normalised(mixed) != normalised(absent):
            problems.append(f"{entry.route} as {role}: case A with B's sub-object gave {mixed.status_code}, "
                            f"with a sub-object that does not exist {absent.status_code}")
    assert not problems, "\n".join(problems)
