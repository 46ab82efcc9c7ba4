"""What people record about a case can be read back on the case page, by those who may read it.

Case notes, consultations with the referrer, consent capacity notes, hand-over answers, support
action completion notes, who the concern was discussed with, the written parts of a decision and
the job title of whoever decided were all recorded but shown on no page. Each is now on the case
page for those with the full view, and never for a referrer (status only) or a provider (their
tasking and the plan)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from casetrail import clock
from casetrail.cases import services
from casetrail.cases.models import Case
from casetrail.core import frameworks
from casetrail.referrals.services import referral_submit

from .conftest import PASSWORD, World, referral_input

DISCUSSED = "Mrs Adeyemi-Test, designated safeguarding lead"
REFERRER_SAID = "The teacher says the videos have become more frequent since half term."
CAPACITY = "Mother has parental responsibility; Sam understood what support means and agreed."
CONSULTED = "Asked the school for its view before the plan: it supports mentoring at lunchtime."
NOTE = "Mother phoned: Sam has stopped attending the gym club where the group met."
DONE_NOTE = "Place at the youth club confirmed; attends on Thursdays."
DECLINED = "Our team has no capacity until the new year; please ask the duty coordinator."
HANDOVER_WHY = "Moving to the Otherton area next month."

FULL_ONLY = [REFERRER_SAID, CAPACITY, CONSULTED, NOTE, DECLINED, HANDOVER_WHY, "panel_chair lead"]


def supported_case(world: World) -> Case:
    """A case in Channel support with every kind of text this test reads back, through the real services."""
    u, today = world.users, clock.today()
    referral, _ = referral_submit(user=u["referrer"], data=referral_input(world, discussed_with=DISCUSSED))
    case = referral.case
    services.gateway_decide(user=u["police"], case=case, expected_version=None, deconfliction_done=True,
                            database_checks_done=True, referrer_contacted_on=today,
                            referrer_contact_summary=REFERRER_SAID, outcome="refer_to_panel", signposted_to="",
                            rationale="Escalating behaviour with a clear ideological element.", decided_on=today)
    meeting = services.panel_meeting_create(user=u["coordinator"], meets_on=today, chair=u["chair"], location="Room 1")
    services.agenda_add(user=u["coordinator"], meeting=meeting, case=case)
    services.panel_decide(user=u["chair"], case=case, expected_version=None, adopt=True,
                          attendees=["Chair, LA", "Police officer, CTP"], dissent="", signposted_to="",
                          rationale="Vulnerabilities suitable for Channel support identified.", decided_on=today)
    services.consent_record(user=u["coordinator"], case=case, expected_version=None, given=True,
                            giver="parent_carer", giver_name="Ada Test", capacity_confirmed=True,
                            capacity_notes=CAPACITY, scope="Sharing with the provider and school", given_on=today)
    framework = frameworks.current_framework(today)
    first = framework.factors[0].code
    judgements: dict[str, dict[str, Any]] = {
        f.code: {"present": False, "evidence": "", "nature": None} for f in framework.factors}
    judgements[first] = {"present": True, "evidence": "Talks often of unfair treatment.", "nature": "underlying_cause"}
    assessment = services.assessment_start(user=u["coordinator"], case=case)
    assessment = services.assessment_save(user=u["coordinator"], assessment=assessment, expected_version=None,
                                          judgements=judgements, summary="One underlying cause.")
    services.assessment_submit(user=u["coordinator"], assessment=assessment, expected_version=None, assessed_on=today)
    services.tasking_commission(user=u["coordinator"], case=case, provider_user=u["provider"],
                                sessions_commissioned=2, purpose="Mentoring sessions", vulnerabilities=[first],
                                commissioned_on=today)
    services.referrer_consultation_record(user=u["coordinator"], case=case, consulted_on=today, method="meeting",
                                          summary=CONSULTED)
    services.case_note_record(user=u["coordinator"], case=case, noted_on=today, text=NOTE)
    action = services.support_action_add(user=u["coordinator"], case=case, description="Youth club place",
                                         vulnerabilities=[first], owner_user=u["coordinator"],
                                         due_on=today + timedelta(days=30))
    services.support_action_complete(user=u["coordinator"], action=action, status="done", completed_on=today,
                                     note=DONE_NOTE)
    other = services.support_action_add(user=u["coordinator"], case=case, description="Mentoring follow-up",
                                        vulnerabilities=[first], owner_user=u["coordinator"],
                                        due_on=today + timedelta(days=60))
    offer = services.handover_offer(user=u["coordinator"], case=case, target_type="support_action",
                                    target_id=other.pk, to_user=u["panel"], reason=HANDOVER_WHY)
    services.handover_respond(user=u["panel"], handover=offer, accept=False, note=DECLINED)
    case.refresh_from_db()
    return case


def page(client: Client, world: World, who: str, case: Case) -> str:
    client.logout()
    assert client.login(username=world.users[who].username, password=PASSWORD)
    response = client.get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def section(html: str, element_id: str) -> str:
    """The element with this id, up to the end of its list or table."""
    start = html.index(f'id="{element_id}"')
    ends = [i for i in (html.find("</ul>", start), html.find("</table>", start), html.find("</dd>", start)) if i > 0]
    return html[start:min(ends)]


@pytest.mark.parametrize("who", ["coordinator", "police"])
def test_the_full_view_shows_what_was_recorded_where_it_belongs(client: Client, world: World, who: str) -> None:
    case = supported_case(world)
    html = page(client, world, who, case)
    assert NOTE in section(html, "case-notes")
    assert CONSULTED in section(html, "consultations") and REFERRER_SAID in section(html, "consultations")
    assert DISCUSSED in section(html, "referral-discussed-with")
    assert f"Capacity: confirmed. {CAPACITY}" in html
    assert DONE_NOTE in section(html, "support-plan")
    handovers = section(html, "handovers")
    assert HANDOVER_WHY in handovers and f"Answer: {DECLINED}" in handovers and "Declined" in handovers
    decisions = section(html, "decisions")
    assert f"What the referrer said:</strong> {REFERRER_SAID}" in decisions
    assert "panel_chair lead, panel_chair" in decisions  # the chair's job title beside the adoption decision


def test_a_provider_sees_the_plan_but_never_notes_consultations_or_decisions(client: Client, world: World) -> None:
    case = supported_case(world)
    html = page(client, world, "provider", case)
    assert "Youth club place" in html and DONE_NOTE in html  # the plan, which the provider works to
    for text in FULL_ONLY:
        assert text not in html, text
    assert 'id="case-notes"' not in html and 'id="consultations"' not in html and 'id="decisions"' not in html
    # Who referred them, how to reach the referrer and what was discussed before are not a provider's business.
    referral = case.referral
    assert DISCUSSED not in html and referral.referrer_email not in html and referral.referrer_name not in html


def test_the_referrer_sees_the_status_only(client: Client, world: World) -> None:
    case = supported_case(world)
    html = page(client, world, "referrer", case)
    assert case.referral.reference in html
    for text in [*FULL_ONLY, DONE_NOTE, DISCUSSED]:
        assert text not in html, text


def test_a_signposting_decision_shows_where_to_and_who_replied(client: Client, world: World) -> None:
    u, today = world.users, clock.today()
    referral, _ = referral_submit(user=u["referrer"], data=referral_input(world))
    case = referral.case
    services.gateway_decide(user=u["police"], case=case, expected_version=None, deconfliction_done=True,
                            database_checks_done=True, referrer_contacted_on=None, referrer_contact_summary="",
                            outcome="signpost", signposted_to="Early help team, Testshire",
                            rationale="Needs family support, not Prevent.", decided_on=today)
    services.signposting_reply(user=u["police"], case=case, expected_version=None, accepted=True,
                               service_contact="Duty manager, early help", rationale="Accepted by early help.",
                               replied_on=today)
    decisions = section(page(client, world, "police", case), "decisions")
    assert "Signposted to:</strong> Early help team, Testshire" in decisions
    assert "Who at the service replied:</strong> Duty manager, early help" in decisions
    assert "What the referrer said" not in decisions  # nothing was recorded, so no empty line


def test_a_case_with_none_of_it_shows_no_empty_sections(client: Client, world: World) -> None:
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world, discussed_with=""))
    html = page(client, world, "police", referral.case)
    assert 'id="case-notes"' not in html and 'id="consultations"' not in html and 'id="handovers"' not in html
    assert "Not given" in section(html, "referral-discussed-with")
