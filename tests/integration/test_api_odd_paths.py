"""Odd paths never make the API fail: a Unicode digit where an id goes is a field error, a body that
is not JSON a 400 (after any refusal), a method a path does not take a JSON 405, and a
path no operation answers is a JSON 404 (pages keep their HTML one)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from casetrail.cases.models import HandOver

from .conftest import World


@pytest.mark.parametrize("path", ["/api/v1/cases/\u00b3/handovers", "/api/v1/cases/\u0663/notes",
                                  "/api/v1/taskings/\u00b2/end", "/api/v1/handovers/\u0661/respond"])
def test_a_unicode_digit_as_an_id_is_a_field_error_not_a_server_error(world: World, client: Client,
                                                                       path: str) -> None:
    answer = client.post(path, {}, content_type="application/json",
                         headers={"Authorization": f"Bearer {world.token('police')}"})
    assert answer.status_code == 422, answer.content
    errors = answer.json()["errors"]
    assert any(name.endswith("_id") for name in errors), errors
    assert not HandOver.objects.exists()


def test_an_unknown_api_path_answers_json_and_a_page_answers_html(world: World, client: Client) -> None:
    auth = {"Authorization": f"Bearer {world.token('police')}"}
    unknown = client.get("/api/v1/no-such-operation", headers=auth)
    assert unknown.status_code == 404 and unknown["Content-Type"] == "application/json"
    assert "openapi.json" in unknown.json()["detail"]
    page = client.get("/no-such-page")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_a_body_that_is_not_json_is_a_400_but_a_refusal_comes_first(world: World) -> None:
    from .conftest import case_in_support

    case = case_in_support(world)
    client = Client()
    broken = b'{"noted_on": "2026-'

    def post(name: str) -> Any:
        return client.post(f"/api/v1/cases/{case.pk}/notes", broken, content_type="application/json",
                           headers={"Authorization": f"Bearer {world.token(name)}"})

    allowed = post("police")
    assert allowed.status_code == 400 and allowed.json() == {"detail": "The request body is not valid JSON."}
    assert post("other_coordinator").status_code == 404  # another council's caller: the case is not there
    assert post("provider").status_code in (403, 404)  # may not add notes


def test_a_method_an_api_path_does_not_take_is_a_json_405(world: World, client: Client) -> None:
    answer = client.delete("/api/v1/cases", headers={"Authorization": f"Bearer {world.token('police')}"})
    assert answer.status_code == 405 and answer["Content-Type"] == "application/json"
    assert "GET" in answer["Allow"] and "DELETE" in answer.json()["detail"]
