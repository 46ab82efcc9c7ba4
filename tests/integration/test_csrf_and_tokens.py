"""Forms posted without a CSRF token, and API writes with a tampered or expired token, are
refused and change nothing. (Reads with bad tokens: tests/integration/test_api_tokens.py.)"""

# ruff: noqa: F811  (the `matrix` fixture is imported from access_world and taken as an argument)
from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from casetrail.accounts.models import ApiToken
from casetrail.audit.models import Event
from casetrail.cases.models import Case

from .access_world import MatrixWorld, matrix  # noqa: F401  (the module fixture)

NOTE = {"note": "Spoke to the school; attendance is improving this term.", "occurred_on": ""}


def _state() -> tuple[int, int]:
    return Event.objects.count(), sum(Case.objects.values_list("version", flat=True))


# One of each kind of form: sign-in, the referral form, a step on a case, a register, the panel,
# break glass, a tasking's sessions and the auditors' queue; each by someone allowed to post it.
FORMS = [
    (None, "/sign-in", {"username": "police", "password": "x"}),
    ("referrer", "/referrals/new/about-you", {"referrer_name": "Rita Referrer"}),
    ("police", "/cases/{case}/note", NOTE),
    ("coordinator", "/providers/new", {"name": "Safe Steps CIC", "status": "approved"}),
    ("coordinator", "/panel-meetings/", {"location": "Room 2"}),
    ("police", "/break-glass", {"reference": "{reference}", "reason": "Checking a call about this person."}),
    ("provider", "/taskings/{tasking}", {"form": "acknowledge"}),
    ("oversight", "/audit/break-glass", {"grant": "{grant}", "note": "Reason checked with the officer."}),
]


@pytest.mark.parametrize("who, path, data", FORMS, ids=[f[1] for f in FORMS])
def test_a_form_posted_without_a_csrf_token_is_refused_and_changes_nothing(
        matrix: MatrixWorld, db: None, who: str | None, path: str, data: dict[str, str]) -> None:
    values = {"case": matrix.own.case.pk, "tasking": matrix.own.tasking.pk, "grant": matrix.break_glass.pk,
              "reference": matrix.other.case.reference}
    client = Client(enforce_csrf_checks=True)
    if who is not None:
        client.force_login(matrix.user(who))
    before = _state()
    response = client.post(path.format(**values), {k: v.format(**values) for k, v in data.items()})
    assert response.status_code == 403, response.content[:500]
    assert _state() == before


def _note(token: str, case_id: int) -> int:
    response = Client().post(f"/api/v1/cases/{case_id}/notes", data=json.dumps(NOTE),
                             content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    return response.status_code


def test_a_write_with_a_tampered_token_is_refused_and_changes_nothing(matrix: MatrixWorld, db: None) -> None:
    token, case_id = matrix.tokens["police"], matrix.own.case.pk
    before = _state()
    for tampered in (token[:-1] + ("A" if token[-1] != "A" else "B"), token + "x", token[:-4], token.upper()):
        assert _note(tampered, case_id) == 401
    assert _state() == before


def test_a_write_with_an_expired_token_is_refused_and_changes_nothing(matrix: MatrixWorld, db: None) -> None:
    token, case_id = matrix.tokens["police"], matrix.own.case.pk
    assert _note(token, 999999) == 404  # the token itself works
    ApiToken.objects.filter(user=matrix.user("police")).update(expires_at=timezone.now() - timedelta(seconds=1))
    before = _state()
    assert _note(token, case_id) == 401
    assert _state() == before


def test_a_refused_token_gets_the_same_answer_whether_or_not_the_case_exists(matrix: MatrixWorld,
                                                                              db: None) -> None:
    answers = {Client().post(f"/api/v1/cases/{case_id}/notes", data="{}", content_type="application/json",
                             HTTP_AUTHORIZATION="Bearer ct_guessed").content
               for case_id in (matrix.own.case.pk, matrix.other.case.pk, 999999)}
    assert len(answers) == 1
