"""The load test's moving parts still work, so the bench does not rot unnoticed (no timings here):
the floor view exists only in the bench URLconf, a prepared session is signed in with a verified
second factor, the plan gives every role a session and the API clients working tokens, and the
query count walks the real referral form to a confirmation."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.test import Client
from django.urls import Resolver404, resolve

from bench.load.prep import build_plan, sign_in_session
from bench.load.queries import page_queries
from casetrail.referrals.models import Referral
from casetrail.referrals.services import referral_submit
from tests.integration.conftest import World, referral_input

pytestmark = pytest.mark.second_factor


@pytest.fixture
def bench_urls(settings: Any) -> None:
    settings.ROOT_URLCONF = "bench.load.urls"


def test_the_floor_view_is_in_the_bench_urlconf_only(db: Any, client: Client, bench_urls: None,
                                                      django_assert_num_queries: Any) -> None:
    with django_assert_num_queries(0):
        response = client.get("/bench/floor")
    assert response.status_code == 200 and response.content == b"ok"
    with pytest.raises(Resolver404):
        resolve("/bench/floor", urlconf="casetrail.urls")


def test_a_prepared_session_opens_my_work_where_a_password_only_session_is_sent_to_the_code(
        world: World, bench_urls: None) -> None:
    officer = world.users["police"]
    password_only = Client()
    password_only.force_login(officer)
    assert password_only.get("/my-work").status_code == 302  # owes the second factor

    prepared = Client()
    prepared.cookies[django_settings.SESSION_COOKIE_NAME] = sign_in_session(officer)
    response = prepared.get("/my-work")
    assert response.status_code == 200
    assert response.wsgi_request.user == officer and response.wsgi_request.user.is_verified()


def test_the_plan_gives_each_role_sessions_and_the_api_clients_tokens(world: World, bench_urls: None,
                                                                      settings: Any) -> None:
    plan = build_plan(sessions_per_role=2)
    assert set(plan) == {"police_officer", "channel_coordinator", "referrer", "api"}
    assert all(len(people) == 2 for people in plan.values())
    for role in ("police_officer", "channel_coordinator", "referrer"):
        for person in plan[role]:
            client = Client()
            client.cookies[settings.SESSION_COOKIE_NAME] = person["session_key"]
            page = "/my-referrals" if role == "referrer" else "/my-work"
            assert client.get(page).status_code == 200, (role, page)
    answer = Client().get("/api/v1/cases", HTTP_AUTHORIZATION=f"Bearer {plan['api'][0]['api_token']}")
    assert answer.status_code == 200


def test_counting_queries_walks_every_page_and_sends_a_referral(world: World, bench_urls: None,
                                                               settings: Any, tmp_path: Any) -> None:
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "var" / "uploads"
    referral_submit(user=world.users["referrer"], data=referral_input(world))  # a case for the police
    plan = build_plan(sessions_per_role=1)
    assert plan["police_officer"][0]["case_ids"] and plan["police_officer"][0]["searches"]
    counts = page_queries(plan)
    assert counts["referral: submit"]["status"] == 302
    assert counts["referral: confirmation"]["status"] == 200
    assert Referral.objects.count() == 2
    assert counts["floor"]["queries"] == 0 and counts["floor"]["status"] == 200
    for name in ("my-work", "case page", "case list", "search", "api: case", "my referrals", "api: case list", "healthz"):
        assert counts[name]["status"] == 200 and counts[name]["queries"] > 0, name


def test_the_request_log_is_read_back_under_the_locust_names(tmp_path: Any) -> None:
    from bench.load.run import server_times

    log = tmp_path / "gunicorn.log"
    log.write_text("\n".join([
        "[2026-12-07 23:14:56 +0000] [1] [INFO] Starting gunicorn",
        '{"message": "request", "method": "GET", "path": "/cases/12/", "duration_ms": 40.0}',
        '{"message": "request", "method": "GET", "path": "/cases/13/", "duration_ms": 60.0}',
        '{"message": "request", "method": "GET", "path": "/cases/", "duration_ms": 9.0}',
        '{"message": "request", "method": "POST", "path": "/referrals/new/person", "duration_ms": 5.0}',
        '{"message": "request", "method": "POST", "path": "/referrals/new/check", "duration_ms": 70.0}',
        '{"message": "request", "method": "GET", "path": "/api/v1/cases/7", "duration_ms": 3.0}',
        '{"message": "request", "method": "GET", "path": "/bench/floor", "duration_ms": 0.1}',
    ]))
    times = server_times(log)
    assert times["case page"] == 50.0 and times["case list"] == 9.0 and times["floor"] == 0.1
    assert times["referral: person (send)"] == 5.0 and times["referral: submit"] == 70.0
    assert times["api: case"] == 3.0
