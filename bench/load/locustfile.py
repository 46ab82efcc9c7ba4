"""The Locust users of `python -m bench.load.run`: police officers, Channel coordinators and
referrers with prepared signed-in sessions (bench/load/prep.py), API clients with bearer tokens,
and a probe of the floor view and the health check under the same load.

The plan (sessions, cases, search terms, tokens) is the JSON file named by CASETRAIL_LOAD_PLAN.

The server runs with production settings, which expect TLS at a proxy in front: every request
says so (X-Forwarded-Proto: https) and, like a browser on the https page, sends a same-origin
Referer, which Django's CSRF check asks of secure requests. Cookies are kept per simulated
person by hand, since the server marks them Secure and an http client would not send them back.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
from typing import Any

from locust import HttpUser, between, events, task

from bench.load.referral import START, answers

PLAN: dict[str, list[dict[str, Any]]] = {}
_NEXT: dict[str, itertools.count] = {}
CSRF_FIELD = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
KEY_FIELD = re.compile(r'name="key" value="([^"]+)"')
THINK = tuple(float(x) for x in os.environ.get("CASETRAIL_LOAD_THINK", "0.5,1.5").split(","))


@events.init.add_listener
def _load_plan(environment: Any, **kwargs: Any) -> None:
    path = os.environ.get("CASETRAIL_LOAD_PLAN")
    if path:
        PLAN.update(json.loads(open(path, encoding="utf-8").read()))  # noqa: SIM115


def _persona(kind: str) -> dict[str, Any]:
    people = PLAN.get(kind) or []
    if not people:
        raise RuntimeError(f"The load plan has no {kind} sessions (CASETRAIL_LOAD_PLAN)")
    counter = _NEXT.setdefault(kind, itertools.count())
    return people[next(counter) % len(people)]


class Browser(HttpUser):
    """A person using pages in a browser, signed in through a prepared session."""

    abstract = True
    kind = ""
    wait_time = between(*THINK)

    def on_start(self) -> None:
        self.persona = _persona(self.kind)
        self.jar: dict[str, str] = {"sessionid": self.persona["session_key"]}
        self.rng = random.Random(id(self))
        self.origin = "https://" + self.host.split("://", 1)[-1].rstrip("/")

    def send(self, method: str, path: str, name: str, expect: tuple[int, ...] = (200,),
             data: dict[str, Any] | None = None) -> Any:
        headers = {"X-Forwarded-Proto": "https", "Referer": self.origin + path}
        with self.client.request(method, path, name=name, data=data, headers=headers, cookies=self.jar,
                                 allow_redirects=False, catch_response=True) as response:
            self.jar.update(response.cookies.get_dict())
            self.client.cookies.clear()
            if response.status_code in expect:
                response.success()
            else:
                where = response.headers.get("Location", "")
                response.failure(f"{method} {path}: {response.status_code} {where}".strip())
            return response

    def my_case(self) -> int | None:
        cases = self.persona["case_ids"]
        return self.rng.choice(cases) if cases else None


class Staff(Browser):
    abstract = True

    @task(4)
    def my_work(self) -> None:
        self.send("GET", "/my-work", "my-work")

    @task(6)
    def case_page(self) -> None:
        case = self.my_case()
        if case is not None:
            self.send("GET", f"/cases/{case}/", "case page")

    @task(2)
    def case_list(self) -> None:
        self.send("GET", "/cases/", "case list")

    @task(2)
    def search(self) -> None:
        terms = self.persona["searches"]
        if terms:
            self.send("GET", f"/search?q={self.rng.choice(terms)}", "search")


class PoliceOfficer(Staff):
    kind = "police_officer"
    weight = 4


class Coordinator(Staff):
    kind = "channel_coordinator"
    weight = 4


class Referrer(Browser):
    """Sends a referral through every page of the real form, with its CSRF token."""

    kind = "referrer"
    weight = 2

    def token(self, response: Any) -> str:
        found = CSRF_FIELD.search(response.text or "")
        return found.group(1) if found else ""

    @task(1)
    def my_referrals(self) -> None:
        self.send("GET", "/my-referrals", "my referrals")

    @task(2)
    def refer(self) -> None:
        start = self.send("GET", START, "referral: start")
        if start.status_code != 200:
            return
        for page, data in answers(self.rng, self.persona.get("local_authority_id")):
            form = self.send("GET", START + page, f"referral: {page}")
            if form.status_code != 200:
                return
            sent = self.send("POST", START + page, f"referral: {page} (send)", expect=(302,),
                             data={**data, "csrfmiddlewaretoken": self.token(form)})
            if sent.status_code != 302:
                return
        check = self.send("GET", START + "check", "referral: check")
        key = KEY_FIELD.search(check.text or "")
        if check.status_code != 200 or key is None:
            return
        sent = self.send("POST", START + "check", "referral: submit", expect=(302,),
                         data={"key": key.group(1), "csrfmiddlewaretoken": self.token(check)})
        where = sent.headers.get("Location", "")
        if sent.status_code == 302 and "/confirmation/" in where:
            self.send("GET", where, "referral: confirmation")


class ApiClient(HttpUser):
    """Another system reading cases through the API with a bearer token."""

    weight = 2
    wait_time = between(*THINK)

    def on_start(self) -> None:
        self.persona = _persona("api")
        self.rng = random.Random(id(self))
        self.headers = {"Authorization": f"Bearer {self.persona['api_token']}", "X-Forwarded-Proto": "https"}

    def get(self, path: str, name: str) -> None:
        with self.client.get(path, name=name, headers=self.headers, allow_redirects=False,
                             catch_response=True) as response:
            if response.status_code == 200:
                response.success()
            else:
                response.failure(f"GET {path}: {response.status_code}")

    @task(1)
    def case_list(self) -> None:
        self.get("/api/v1/cases", "api: case list")

    @task(3)
    def case(self) -> None:
        cases = self.persona["case_ids"]
        if cases:
            self.get(f"/api/v1/cases/{self.rng.choice(cases)}", "api: case")


class Probe(HttpUser):
    """The floor view and the health check, asked under the same load as the pages."""

    fixed_count = 1  # always one, however few users
    wait_time = between(*THINK)
    headers = {"X-Forwarded-Proto": "https"}

    @task(3)
    def floor(self) -> None:
        self.client.get("/bench/floor", name="floor", headers=self.headers)

    @task(1)
    def healthz(self) -> None:
        self.client.get("/healthz", name="healthz", headers=self.headers)
