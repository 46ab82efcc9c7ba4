"""Odd paths never make the API fail: a Unicode digit where an id goes is a field error, and a
path no operation answers is a JSON 404 (pages keep their HTML one)."""

from __future__ import annotations

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
