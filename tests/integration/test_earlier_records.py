"""Possible earlier records: found when a referral is recorded, kept as found, resolved only by a
recorded decision, and blocking the gateway until then (DESIGN.md principle 11)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from casetrail import clock
from casetrail.audit.models import AccessLogEntry, Event
from casetrail.cases import safeguards, selectors, services
from casetrail.cases.earlier_records import (
    possible_matches_find,
    possible_matches_refresh,
    unresolved,
)
from casetrail.cases.models import Case, Decision, PossibleMatch
from casetrail.core.dates import PartialDate
from casetrail.core.errors import AccessDenied, InvalidInput, TransitionNotAllowed
from casetrail.referrals.services import referral_submit

from .conftest import PASSWORD, World, referral_input
from .test_api_journey import referral_body

# Each test starts from an empty person index (the autouse fixture), on a frozen clock (_at).
from .test_person_matching import _at, _fresh_index  # noqa: F401

START = date.today() - timedelta(days=400)
BOY = dict(given_names="Axel", family_name="Rudakowski", date_of_birth=PartialDate(2006, 8, 7), sex="male",
           postcode="TE4 9QA", address="14 Larch Close, Testbridge", school_or_workplace="Testbridge High School")
WHY = "Checked with the school: a different date of birth and family."




def refer(world: World, day: date, key: str, user: str = "referrer", **identity: Any) -> Case:
    with _at(day):
        data = referral_input(world, first_observed_on=day - timedelta(days=3), **{**BOY, **identity})
        referral, _ = referral_submit(user=world.users[user], data=data, idempotency_key=key)
    return Case.objects.get(pk=referral.case.pk)


def close_at_gateway(world: World, case: Case, day: date, officer: str = "police") -> Decision:
    with _at(day):
        return services.gateway_decide(
            user=world.users[officer], case=case, expected_version=None, deconfliction_done=True,
            database_checks_done=True, referrer_contacted_on=None, referrer_contact_summary="",
            outcome="no_further_action", signposted_to="",
            rationale="No vulnerability to radicalisation found in the checks made.", decided_on=day,
            nfa_reasons=["no_vulnerability"])


def second_review(world: World, case: Case, day: date, officer: str = "police2") -> None:
    with _at(day):
        services.gateway_second_review_record(user=world.users[officer], case=case, agree=True, reviewed_on=day,
                                              rationale="Read all three referrals; agree nothing more is needed.")


def link(world: World, case: Case, earlier: Case, day: date) -> None:
    with _at(day):
        services.case_link_person(user=world.users["police"], case=case, person=earlier.person,
                                  rationale="Same date of birth, address and school; surname misspelt.")


def southport_like(world: World) -> tuple[Case, Case, Case]:
    """Three referrals of one boy in about eighteen months, his surname written three ways."""
    first = refer(world, START, "one")
    second = refer(world, START + timedelta(days=150), "two", family_name="Rudakowsky")
    third = refer(world, START + timedelta(days=400), "three", family_name="Rudakovski",
                  date_of_birth=PartialDate(2006, 8))
    return first, second, third


# ---------------------------------------------------------------- found and kept at intake


def test_a_referral_keeps_every_strong_earlier_match_as_found_at_intake(world: World) -> None:
    first = refer(world, START, "one")
    second = refer(world, START + timedelta(days=150), "two", family_name="Rudakowsky")
    stranger = refer(world, START + timedelta(days=160), "stranger", given_names="Priya", family_name="Natarajan",
                     date_of_birth=PartialDate(1990, 2, 1), postcode="ZZ9 9ZZ", address="1 Elsewhere Road",
                     school_or_workplace="", sex="female")
    assert not first.possible_matches.exists() and not stranger.possible_matches.exists()
    [match] = second.possible_matches.all()
    assert match.person_id == first.person_id and match.matched_referral_id == first.referral_id
    assert match.probability >= 0.5 and match.model_version and match.evidence
    assert {"field", "level", "agrees", "weight"} <= set(match.evidence[0])
    assert timezone.localdate(match.found_at) == START + timedelta(days=150)
    found = Event.objects.get(kind="referral.possible_match_found", case=second)
    assert found.data["person"] == first.person_id
    # A person decides: nothing links the two records by itself.
    assert second.person_id != first.person_id


def test_a_twin_below_the_threshold_is_not_a_possible_earlier_record(world: World) -> None:
    refer(world, START, "one")
    twin = refer(world, START + timedelta(days=30), "twin", given_names="Oskar")
    assert not twin.possible_matches.exists()


def test_looking_again_adds_new_records_and_never_rewrites_what_was_shown(world: World, settings: Any) -> None:
    first = refer(world, START, "one")
    twin = refer(world, START + timedelta(days=30), "twin", given_names="Oskar")
    second = refer(world, START + timedelta(days=150), "two", family_name="Rudakowsky")
    [kept] = second.possible_matches.all()
    before = (kept.probability, kept.model_version, kept.evidence, kept.found_at)
    # A lower threshold (as a deployment might set) finds the twin's weaker match; the earlier
    # finding is left exactly as it was shown, and nothing is kept twice.
    settings.CASETRAIL_SAFEGUARD_POLICY = {"possible_match_percent": 1}
    with _at(START + timedelta(days=170)):
        assert possible_matches_refresh() >= 1
        assert possible_matches_find(case=second) == []  # idempotent
    kept.refresh_from_db()
    assert (kept.probability, kept.model_version, kept.evidence, kept.found_at) == before
    assert twin.possible_matches.filter(person=first.person).exists()
    assert timezone.localdate(twin.possible_matches.get(person=first.person).found_at) == START + timedelta(days=170)
    # Only earlier people: the first referral gets no record of the later ones.
    assert not first.possible_matches.exists()
    with pytest.raises(PermissionError):
        kept.save()


# ---------------------------------------------------------------- the gate


def test_no_gateway_decision_of_any_outcome_while_an_earlier_record_is_unresolved(world: World) -> None:
    first = refer(world, START, "one")
    second = refer(world, START + timedelta(days=150), "two", family_name="Rudakowsky")
    day = START + timedelta(days=152)
    for outcome in ("no_further_action", "signpost", "police_led", "refer_to_panel"):
        with _at(day), pytest.raises(TransitionNotAllowed) as refused:
            services.gateway_decide(user=world.users["police"], case=second, expected_version=None,
                                    deconfliction_done=True, database_checks_done=True, referrer_contacted_on=None,
                                    referrer_contact_summary="", outcome=outcome, signposted_to="Early help",
                                    rationale="Decided on the checks made, with reasons.", decided_on=day,
                                    nfa_reasons=["no_vulnerability"])
        codes = [u.code for u in refused.value.unmet]
        assert "gateway.unresolved_match" in codes, outcome
        assert first.person.reference in refused.value.unmet[codes.index("gateway.unresolved_match")].message
    second.refresh_from_db()
    assert second.stage == "gateway" and not second.decisions.filter(type="gateway").exists()
    link(world, second, first, day)
    close_at_gateway(world, second, day)
    second.refresh_from_db()
    assert second.stage == "closed"


def matching_misses(monkeypatch: pytest.MonkeyPatch) -> None:
    """Matching finds nothing (an older model, say) until the test undoes this."""
    import casetrail.people.matching

    monkeypatch.setattr(casetrail.people.matching, "match_identity", lambda *a, **k: [])


def test_a_police_led_closure_waits_for_the_earlier_records_too(world: World,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    first = refer(world, START, "one")
    day = START + timedelta(days=10)
    # A referral whose earlier record is found only after the gateway (a newer model, say).
    with monkeypatch.context() as patch:
        matching_misses(patch)
        case = refer(world, START + timedelta(days=5), "two", family_name="Rudakowsky")
    assert not case.possible_matches.exists()
    with _at(day), pytest.raises(TransitionNotAllowed):
        services.gateway_decide(user=world.users["police"], case=case, expected_version=None,
                                deconfliction_done=True, database_checks_done=True, referrer_contacted_on=None,
                                referrer_contact_summary="", outcome="police_led", signposted_to="",
                                rationale="Live police interest; handled by the CT unit.", decided_on=day)
    # Looked for again before the decision, refused because of it, and kept all the same.
    assert case.possible_matches.exists()
    case.refresh_from_db()
    assert case.stage == "gateway"
    with _at(day):
        services.case_link_person(user=world.users["police"], case=case, person=first.person,
                                  rationale="Same boy: date of birth, address and school agree.")
        services.gateway_decide(user=world.users["police"], case=case, expected_version=None,
                                deconfliction_done=True, database_checks_done=True, referrer_contacted_on=None,
                                referrer_contact_summary="", outcome="police_led", signposted_to="",
                                rationale="Live police interest; handled by the CT unit.", decided_on=day)
    # Another earlier record, found later (a newer index): the closure waits for it too.
    other = refer(world, START - timedelta(days=30), "other", given_names="Axl", family_name="Rudakowskii")
    PossibleMatch.objects.create(case=case, person=other.person, matched_referral=other.referral, probability=0.8,
                                 match_weight=3.0, model_version="test", evidence=[], found_at=clock.now())
    with _at(day), pytest.raises(TransitionNotAllowed) as refused:
        services.police_led_decide(user=world.users["police"], case=case, expected_version=None, outcome="close",
                                   rationale="Police activity concluded; nothing further.", decided_on=day)
    # Unresolved, and the third referral of the person now: the repeat rule holds here too.
    assert [u.code for u in refused.value.unmet] == ["gateway.unresolved_match", "gateway.repeat_needs_second_review"]


# ---------------------------------------------------------------- the repeat rule counts what nobody linked


def test_the_third_referral_nobody_linked_still_needs_a_second_officer_to_close(world: World) -> None:
    first, second, third = southport_like(world)
    close_at_gateway(world, first, START + timedelta(days=3))
    link(world, second, first, START + timedelta(days=151))
    close_at_gateway(world, second, START + timedelta(days=152))
    # The third: nobody links it. Its possible earlier record alone counts, and blocks.
    day = START + timedelta(days=402)
    record = safeguards.case_record(Case.objects.get(pk=third.pk))
    assert len(record.repeat_referral_days()) == 2
    with pytest.raises(TransitionNotAllowed) as refused:
        close_at_gateway(world, third, day)
    assert {u.code for u in refused.value.unmet} == {"gateway.unresolved_match", "gateway.repeat_needs_second_review"}
    # Rejecting the match would hide the two earlier referrals: one officer cannot do that alone.
    with _at(day), pytest.raises(TransitionNotAllowed) as refused:
        services.match_reject(user=world.users["police"], case=third, person=first.person, rationale=WHY)
    assert [u.code for u in refused.value.unmet] == ["person.unlink_needs_second_review"]
    assert not third.decisions.filter(type="match_rejected").exists()
    # Linking resolves it; closing still needs the second officer's review.
    link(world, third, first, day)
    with pytest.raises(TransitionNotAllowed) as refused:
        close_at_gateway(world, third, day)
    assert [u.code for u in refused.value.unmet] == ["gateway.repeat_needs_second_review"]
    second_review(world, third, day)
    close_at_gateway(world, third, day)
    assert Case.objects.get(pk=third.pk).stage == "closed"


def test_undoing_a_link_below_the_threshold_needs_a_second_officer_as_closing_would(
        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    # Matching missed every one of them (an older model, say): the officers link by hand.
    matching_misses(monkeypatch)
    first, second, third = southport_like(world)
    link(world, second, first, START + timedelta(days=151))
    day = START + timedelta(days=402)
    link(world, third, first, day)
    with pytest.raises(TransitionNotAllowed):
        close_at_gateway(world, third, day)  # referral 3 of 3: a second review is needed
    with _at(day), pytest.raises(TransitionNotAllowed) as refused:
        services.person_link_undo(user=world.users["police"], case=third, rationale=WHY)
    assert [u.code for u in refused.value.unmet] == ["person.unlink_needs_second_review"]
    third.refresh_from_db()
    assert third.person_id == first.person_id  # nothing was undone
    second_review(world, third, day)
    with _at(day):
        services.person_link_undo(user=world.users["police"], case=third, rationale=WHY)
    assert Case.objects.get(pk=third.pk).person_id != first.person_id


def test_undoing_a_link_reopens_the_earlier_record_it_resolved(world: World) -> None:
    first = refer(world, START, "one")
    second = refer(world, START + timedelta(days=150), "two", family_name="Rudakowsky")
    link(world, second, first, START + timedelta(days=151))
    assert unresolved(second) == []
    with _at(START + timedelta(days=152)):
        services.person_link_undo(user=world.users["police"], case=second, rationale=WHY)
    assert [m.person_id for m in unresolved(second)] == [first.person_id]
    with pytest.raises(TransitionNotAllowed):
        close_at_gateway(world, second, START + timedelta(days=152))


# ---------------------------------------------------------------- who is told


def test_the_owner_is_told_at_once_and_the_duty_owner_after_the_interval(world: World) -> None:
    refer(world, START, "one")
    second = refer(world, START + timedelta(days=150), "two", family_name="Rudakowsky")
    with _at(START + timedelta(days=150)):
        offer = services.handover_offer(user=world.users["police"], case=second, target_type="case",
                                        target_id=second.pk, to_user=world.users["police2"],
                                        reason="Police2 takes the gateway work for this school.")
        services.handover_respond(user=world.users["police2"], handover=offer, accept=True, note="")
    second.refresh_from_db()
    on_day = [f for f in safeguards.case_findings(second, as_of=START + timedelta(days=150))
              if f.rule == "referral.unresolved_match"]
    assert len(on_day) == 1 and on_day[0].since == START + timedelta(days=150)
    assert on_day[0].notify == (world.users["police2"].pk,) and on_day[0].escalated_to == ()
    late = [f for f in safeguards.case_findings(second, as_of=START + timedelta(days=154))
            if f.rule == "referral.unresolved_match"]
    assert late[0].escalated_to == (world.police.duty_owner_id,) and late[0].severity == "escalated"
    assert [f for f in safeguards.case_findings(second, as_of=START + timedelta(days=149))
            if f.rule == "referral.unresolved_match"] == []


def test_my_work_lists_unresolved_earlier_records_oldest_first(world: World, client: Client) -> None:
    first = refer(world, START, "one")
    second = refer(world, START + timedelta(days=150), "two", family_name="Rudakowsky")
    third = refer(world, START + timedelta(days=200), "three", family_name="Rudakovski")
    listed = selectors.unresolved_earlier_records(user=world.users["police"])
    assert [case.pk for case, _ in listed][:2] == [second.pk, third.pk]
    assert all(m.person_id == first.person_id or m.case_id == third.pk for _, m in listed)
    client.login(username="police", password=PASSWORD)
    page = client.get("/my-work").content.decode()
    assert "Possible earlier records to resolve" in page
    assert page.index(second.reference, page.index("earlier-records")) < page.index(third.reference,
                                                                                    page.index("earlier-records"))
    assert selectors.unresolved_earlier_records(user=world.users["provider"]) == []
    assert selectors.unresolved_earlier_records(user=world.users["referrer"]) == []
    client.login(username="referrer", password=PASSWORD)
    assert "Possible earlier records to resolve" not in client.get("/my-work").content.decode()
    link(world, second, first, START + timedelta(days=201))
    assert second.pk not in [case.pk for case, _ in selectors.unresolved_earlier_records(user=world.users["police"])]


def test_the_gateway_page_names_what_blocks_it_and_links_to_each(world: World, client: Client) -> None:
    first = refer(world, START, "one")
    second = refer(world, START + timedelta(days=150), "two", family_name="Rudakowsky")
    client.login(username="police", password=PASSWORD)
    page = client.get(f"/cases/{second.pk}/gateway").content.decode()
    assert 'id="blocked-by-matches"' in page and "disabled" in page
    assert '<p class="govuk-body govuk-!-margin-bottom-0" id="blocked-button-note">Blocked until' in page
    assert f'href="#earlier-{first.person.reference}"' in page and f'id="earlier-{first.person.reference}"' in page
    case_page = client.get(f"/cases/{second.pk}/").content.decode()
    assert "Gateway assessment: blocked" in case_page and f"#earlier-{first.person.reference}" in case_page
    link(world, second, first, START + timedelta(days=151))
    page = client.get(f"/cases/{second.pk}/gateway").content.decode()
    assert 'id="blocked-by-matches"' not in page and "Same person" in page


# ---------------------------------------------------------------- bad input and refusals


def test_resolving_needs_reasons_and_the_right_role_and_changes_nothing_otherwise(world: World) -> None:
    first = refer(world, START, "one")
    second = refer(world, START + timedelta(days=150), "two", family_name="Rudakowsky")
    with pytest.raises(InvalidInput) as bad:
        services.match_reject(user=world.users["police"], case=second, person=first.person, rationale="no")
    assert "rationale" in bad.value.errors
    for who in ("provider", "referrer", "oversight", "chair", "admin"):
        with pytest.raises(AccessDenied):
            services.match_reject(user=world.users[who], case=second, person=first.person, rationale=WHY)
        with pytest.raises(AccessDenied):
            services.case_link_person(user=world.users[who], case=second, person=first.person, rationale=WHY)
    assert not second.decisions.exists() and [m.person_id for m in unresolved(second)] == [first.person_id]
    services.match_reject(user=world.users["police"], case=second, person=first.person, rationale=WHY)
    with pytest.raises(InvalidInput) as twice:
        services.match_reject(user=world.users["police"], case=second, person=first.person, rationale=WHY)
    assert twice.value.errors["person"] == ["That person has already been judged not the same person"]
    assert unresolved(second) == []


# ---------------------------------------------------------------- the API


def test_intake_through_the_api_answers_with_the_earlier_records_to_those_who_may_link(
        world: World, client: Client) -> None:
    first = refer(world, START, "one")
    payload = referral_body(world, **{**BOY, "family_name": "Rudakowsky", "date_of_birth": "2006-08-07"})
    police = client.post("/api/v1/referrals", payload, content_type="application/json",
                         headers={"Authorization": f"Bearer {world.token('police')}"}).json()
    assert [r["person_reference"] for r in police["possible_earlier_records"]] == [first.person.reference]
    record = police["possible_earlier_records"][0]
    assert record["status"] == "open" and record["match_probability"] >= 0.5 and record["evidence"]
    assert [c["case_reference"] for c in record["cases"]] == [first.reference]
    referrer = client.post("/api/v1/referrals", {**payload, "given_names": "Axell"}, content_type="application/json",
                           headers={"Authorization": f"Bearer {world.token('referrer')}"}).json()
    assert referrer["possible_earlier_records"] == []
    listed = client.get(f"/api/v1/cases/{police['case_id']}/earlier-records",
                        headers={"Authorization": f"Bearer {world.token('police')}"})
    assert listed.status_code == 200 and listed.json()[0]["person_reference"] == first.person.reference


def test_the_match_api_is_not_an_oracle(world: World, client: Client) -> None:
    refer(world, START, "one")
    body = {"given_names": "Axel", "family_name": "Rudakowsky", "date_of_birth": "2006-08-07",
            "postcode": "TE4 9QA", "nhs_number": "", "purpose": "Checking before a new referral from a school"}
    for who in ("provider", "referrer", "oversight", "chair"):
        refused = client.post("/api/v1/people/match", body, content_type="application/json",
                              headers={"Authorization": f"Bearer {world.token(who)}"})
        assert refused.status_code == 403, who
        assert "Rudakowski" not in refused.content.decode() and "P-" not in refused.content.decode()
    no_purpose = client.post("/api/v1/people/match", {**body, "purpose": ""}, content_type="application/json",
                             headers={"Authorization": f"Bearer {world.token('police')}"})
    assert no_purpose.status_code == 422 and "purpose" in no_purpose.json()["errors"]
    before = AccessLogEntry.objects.count()
    police = client.post("/api/v1/people/match", body, content_type="application/json",
                         headers={"Authorization": f"Bearer {world.token('police')}"})
    assert police.status_code == 200 and police.json()["matches"]
    entry = AccessLogEntry.objects.order_by("-pk").first()
    assert AccessLogEntry.objects.count() == before + 1 and entry is not None
    assert entry.justification == "Identity match: Checking before a new referral from a school"
    # The other council's coordinator may link people, but sees no case of this boy: told nothing.
    other = client.post("/api/v1/people/match", body, content_type="application/json",
                        headers={"Authorization": f"Bearer {world.token('other_coordinator')}"})
    assert other.status_code == 200 and other.json() == {"matches": []}
    last = AccessLogEntry.objects.order_by("-pk").first()
    assert last is not None and last.justification.endswith("(no person shown)") and last.person is None
