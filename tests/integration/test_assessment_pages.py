"""The assessment pages: start, judge each dimension, draft and resume, check the summary, submit."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from django.test import Client

from casetrail.cases.models import Assessment, Case
from casetrail.cases.services import gateway_decide
from casetrail.core import frameworks
from casetrail.referrals.services import referral_submit
from tests.integration.conftest import PASSWORD, World, referral_input

EVIDENCE = "Told the school counsellor he feels alone; confirmed by his head of year."


@pytest.fixture
def case(world: World) -> Case:
    """A case the gateway has referred to the Channel panel, owned by the coordinator."""
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world))
    case = referral.case
    gateway_decide(user=world.users["police"], case=case, expected_version=case.version, deconfliction_done=True,
                   database_checks_done=True, referrer_contacted_on=None, referrer_contact_summary="",
                   outcome="refer_to_panel", signposted_to="",
                   rationale="Escalating behaviour with a clear ideological element.", decided_on=date.today())
    case.refresh_from_db()
    assert case.stage == "panel"
    return case


def signed_in(client: Client, world: World, name: str) -> Client:
    assert client.login(username=world.users[name].username, password=PASSWORD)
    return client


def framework() -> frameworks.Framework:
    return frameworks.current_framework(date.today())


def answers(dimension: frameworks.Dimension, version: int, action: str = "continue",
            present: dict[str, tuple[str, str]] | None = None) -> dict[str, Any]:
    """Every factor of a dimension judged not present, except those given as code -> (evidence, nature)."""
    data: dict[str, Any] = {"expected_version": version, "action": action}
    for factor in dimension.factors:
        if present and factor.code in present:
            evidence, nature = present[factor.code]
            data.update({f"{factor.code}-present": "present", f"{factor.code}-evidence": evidence,
                         f"{factor.code}-nature": nature})
        else:
            data[f"{factor.code}-present"] = "absent"
    return data


def start(client: Client, case: Case) -> Assessment:
    response = client.post(f"/cases/{case.pk}/assessment/start", {"framework_ref": framework().ref})
    assessment = Assessment.objects.get(case=case)
    first = framework().dimensions[0].code
    assert response.status_code == 302
    assert response["Location"] == f"/cases/{case.pk}/assessment/{assessment.pk}/{first}"
    return assessment


def page(case: Case, assessment: Assessment, rest: str) -> str:
    return f"/cases/{case.pk}/assessment/{assessment.pk}/{rest}"


def test_the_start_page_shows_the_framework_in_use_today(client: Client, world: World, case: Case) -> None:
    response = signed_in(client, world, "coordinator").get(f"/cases/{case.pk}/assessment/start")
    assert response.status_code == 200
    content = response.content.decode()
    assert framework().label in content
    assert "superseded" in content  # the older framework is offered, and flagged
    assert "Start assessment" in content


def test_a_full_assessment_from_start_to_submission(client: Client, world: World, case: Case) -> None:
    signed_in(client, world, "coordinator")
    assessment = start(client, case)
    fw = framework()
    first, second, third = fw.dimensions
    s01, ie05 = first.factors[0], second.factors[4]

    response = client.get(page(case, assessment, first.code))
    content = response.content.decode()
    assert "Dimension 1 of 3" in content
    assert s01.title in content and s01.evidence_prompts[0] in content
    assert f'name="{s01.code}-present"' in content and "Not yet judged" in content

    response = client.post(page(case, assessment, first.code),
                           answers(first, 1, present={s01.code: (EVIDENCE, "underlying_cause")}))
    assert response["Location"] == page(case, assessment, second.code)
    assessment.refresh_from_db()
    response = client.post(page(case, assessment, second.code), answers(
        second, assessment.version, present={ie05.code: ("Shared videos praising violence in class.",
                                                         "presenting_behaviour")}))
    assert response["Location"] == page(case, assessment, third.code)
    assessment.refresh_from_db()
    response = client.post(page(case, assessment, third.code), answers(third, assessment.version))
    assert response["Location"] == page(case, assessment, "summary")

    summary = client.get(page(case, assessment, "summary")).content.decode()
    assert EVIDENCE in summary
    vulnerabilities = summary[summary.index('id="vulnerabilities"'):]
    assert vulnerabilities.index(s01.title) < vulnerabilities.index("Presenting behaviours")
    assert vulnerabilities.index("Presenting behaviours") < vulnerabilities.index(ie05.title)
    assert f'href="{page(case, assessment, first.code)}#factor-{s01.code}"' in summary

    assessment.refresh_from_db()
    today = date.today()
    response = client.post(page(case, assessment, "summary"), {
        "action": "submit", "expected_version": assessment.version,
        "summary": "Isolated young man with emerging extreme right-wing views; no stated intent.",
        "assessed_on_day": today.day, "assessed_on_month": today.month, "assessed_on_year": today.year})
    assert response.status_code == 302, response.content.decode()
    assert response["Location"] == f"/cases/{case.pk}/"
    assessment.refresh_from_db()
    assert assessment.status == "submitted" and assessment.assessed_on == today

    case_page = client.get(f"/cases/{case.pk}/").content.decode()
    assert "Assessment" in case_page and s01.title in case_page

    detail = client.get(page(case, assessment, "")[:-1]).content.decode()
    assert fw.name in detail and EVIDENCE in detail and "Change" not in detail
    # A submitted assessment can no longer be edited: its pages lead to the record.
    assert client.get(page(case, assessment, first.code))["Location"] == page(case, assessment, "")[:-1]


def test_a_draft_keeps_its_answers_and_start_resumes_it(client: Client, world: World, case: Case) -> None:
    signed_in(client, world, "coordinator")
    assessment = start(client, case)
    first = framework().dimensions[0]
    s01 = first.factors[0]
    data = answers(first, 1, action="draft", present={s01.code: (EVIDENCE, "underlying_cause")})
    data[f"{first.factors[1].code}-present"] = "not_judged"
    response = client.post(page(case, assessment, first.code), data)
    assert response["Location"] == f"/cases/{case.pk}/"

    # Starting again goes back to the draft, at the dimension still unfinished.
    response = client.get(f"/cases/{case.pk}/assessment/start")
    assert response["Location"] == page(case, assessment, first.code)
    content = client.get(page(case, assessment, first.code)).content.decode()
    assert EVIDENCE in content
    assert f'name="{s01.code}-present" type="radio" value="present" checked' in content
    assert f'name="{s01.code}-nature" type="radio" value="underlying_cause" checked' in content
    assert f"{len(first.factors) - 1} of {len(first.factors)} factors judged" in content


def test_a_present_factor_without_evidence_saves_nothing_on_the_page(client: Client, world: World,
                                                                       case: Case) -> None:
    signed_in(client, world, "coordinator")
    assessment = start(client, case)
    first = framework().dimensions[0]
    s01 = first.factors[0]
    response = client.post(page(case, assessment, first.code),
                           answers(first, 1, present={s01.code: ("", "underlying_cause")}))
    assert response.status_code == 400
    content = response.content.decode()
    assert "There is a problem" in content
    assert f'href="#id_{s01.code}-evidence"' in content
    assert f"Give the evidence for &#x27;{s01.title}&#x27;" in content
    assessment.refresh_from_db()
    assert assessment.judgements == {} and assessment.version == 1


def test_submitting_with_factors_unjudged_lists_them(client: Client, world: World, case: Case) -> None:
    signed_in(client, world, "coordinator")
    assessment = start(client, case)
    fw = framework()
    response = client.post(page(case, assessment, "summary"), {
        "action": "submit", "expected_version": 1, "summary": "Too early to say much about it at all.",
        "assessed_on_day": "", "assessed_on_month": "", "assessed_on_year": ""})
    assert response.status_code == 400
    content = response.content.decode()
    assert "Enter date of the assessment" in content
    last = fw.dimensions[-1].factors[-1]
    assert f'href="{page(case, assessment, fw.dimensions[-1].code)}#id_{last.code}-present"' in content
    assessment.refresh_from_db()
    assert assessment.status == "draft"


def test_saving_the_summary_alone_does_not_need_a_date(client: Client, world: World, case: Case) -> None:
    signed_in(client, world, "coordinator")
    assessment = start(client, case)
    response = client.post(page(case, assessment, "summary"), {
        "action": "save", "expected_version": 1, "summary": "<b>First thoughts</b> before the panel."})
    assert response.status_code == 302
    assessment.refresh_from_db()
    assert assessment.summary == "<b>First thoughts</b> before the panel."
    content = client.get(page(case, assessment, "summary")).content.decode()
    assert "&lt;b&gt;First thoughts&lt;/b&gt;" in content and "<b>First" not in content


def test_a_stale_form_is_refused(client: Client, world: World, case: Case) -> None:
    signed_in(client, world, "coordinator")
    assessment = start(client, case)
    first = framework().dimensions[0]
    assert client.post(page(case, assessment, first.code), answers(first, 1)).status_code == 302
    response = client.post(page(case, assessment, first.code), answers(first, 1))
    assert response.status_code == 400


def test_a_police_officer_cannot_assess(client: Client, world: World, case: Case) -> None:
    signed_in(client, world, "coordinator")
    assessment = start(client, case)
    client.logout()
    signed_in(client, world, "police")
    assert client.get(f"/cases/{case.pk}/assessment/start").status_code == 403
    assert client.post(f"/cases/{case.pk}/assessment/start", {}).status_code == 403
    assert client.get(page(case, assessment, framework().dimensions[0].code)).status_code == 403
    assert client.get(page(case, assessment, "summary")).status_code == 403
    # Seeing the case is enough to read the assessment.
    assert client.get(page(case, assessment, "")[:-1]).status_code == 200
