"""How many database queries one request of each page of the load test makes: one request each
through Django's test client, inside the bench process, against the same database and settings
as the server, with a freshly prepared session of the first person of each role."""

from __future__ import annotations

import random
import re
import time
from typing import Any

from bench.load.prep import sign_in_session
from bench.load.referral import START, answers

KEY_FIELD = re.compile(r'name="key" value="([^"]+)"')


def _client(username: str | None = None) -> Any:
    from django.conf import settings
    from django.test import Client

    from casetrail.accounts.models import User

    client = Client()
    if username:
        client.cookies[settings.SESSION_COOKIE_NAME] = sign_in_session(User.objects.get(username=username))
    return client


def _count(client: Any, method: str, path: str, **kwargs: Any) -> tuple[int, Any, float]:
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    reset_queries()  # else queries left in the log by an earlier request can hide this one's
    with CaptureQueriesContext(connection) as captured:
        started = time.perf_counter()
        response = getattr(client, method)(path, secure=True, **kwargs)
        elapsed = time.perf_counter() - started
    return len(captured.captured_queries), response, round(elapsed * 1000, 1)


def page_queries(plan: dict[str, list[dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    """{request name: {"queries": n, "status": code, "ms": time}} for each page the load test asks for."""
    counts: dict[str, dict[str, Any]] = {}

    def record(name: str, result: tuple[int, Any, float]) -> Any:
        queries, response, ms = result
        counts[name] = {"queries": queries, "status": response.status_code, "ms": ms}
        return response

    police = plan["police_officer"][0]
    staff = _client(police["username"])
    record("my-work", _count(staff, "get", "/my-work"))
    if police["case_ids"]:
        record("case page", _count(staff, "get", f"/cases/{police['case_ids'][0]}/"))
    record("case list", _count(staff, "get", "/cases/"))
    if police["searches"]:
        record("search", _count(staff, "get", f"/search?q={police['searches'][0]}"))
    coordinator = plan["channel_coordinator"][0]
    staff = _client(coordinator["username"])
    record("my-work (coordinator)", _count(staff, "get", "/my-work"))
    if coordinator["case_ids"]:
        record("case page (coordinator)", _count(staff, "get", f"/cases/{coordinator['case_ids'][0]}/"))

    referrer = plan["referrer"][0]
    browser = _client(referrer["username"])
    record("my referrals", _count(browser, "get", "/my-referrals"))
    record("referral: start", _count(browser, "get", START))
    for page, data in answers(random.Random(0), referrer.get("local_authority_id")):
        record(f"referral: {page}", _count(browser, "get", START + page))
        record(f"referral: {page} (send)", _count(browser, "post", START + page, data=data))
    check = record("referral: check", _count(browser, "get", START + "check"))
    key = KEY_FIELD.search(check.content.decode())
    if key:
        sent = record("referral: submit", _count(browser, "post", START + "check", data={"key": key.group(1)}))
        if sent.status_code == 302:
            record("referral: confirmation", _count(browser, "get", sent["Location"]))

    api = plan["api"][0]
    client = _client()
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {api['api_token']}"}
    record("api: case list", _count(client, "get", "/api/v1/cases", **bearer))
    if api["case_ids"]:
        record("api: case", _count(client, "get", f"/api/v1/cases/{api['case_ids'][0]}", **bearer))
    record("floor", _count(client, "get", "/bench/floor"))
    record("healthz", _count(client, "get", "/healthz"))
    return counts
