"""Every earlier referral of the same person, however the name was written (the Southport pattern)."""

from __future__ import annotations

import json
from datetime import date, datetime, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from casetrail.audit.models import AccessLogEntry
from casetrail.cases import selectors, services
from casetrail.cases.models import Case, Decision
from casetrail.clock import frozen_at
from casetrail.core.dates import PartialDate
from casetrail.core.errors import InvalidInput
from casetrail.people.matching import forget_index
from casetrail.referrals.services import referral_submit

from .conftest import PASSWORD, World, referral_input

START = date.today() - timedelta(days=400)
BOY = dict(given_names="Axel", family_name="Rudakowski", date_of_birth=PartialDate(2006, 8, 7),
           postcode="TE4 9QA", address="14 Larch Close, Testbridge", school_or_workplace="Testbridge High School")


@pytest.fixture(autouse=True)
def _fresh_index() -> Any:
    forget_index()
    yield
    forget_index()


def _at(day: date) -> Any:
    return frozen_at(timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=10)))


def _refer(world: World, day: date, key: str, **identity: Any) -> Case:
    with _at(day):
        data = referral_input(world, first_observed_on=day - timedelta(days=3), **{**BOY, **identity})
        referral, _ = referral_submit(user=world.users["referrer"], data=data, idempotency_key=key)
    return referral.case


def _close_at_gateway(world: World, case: Case, day: date) -> None:
    with _at(day):
        services.gateway_decide(user=world.users["police"], case=case, expected_version=None,
                                deconfliction_done=True, database_checks_done=True, referrer_contacted_on=None,
                                referrer_contact_summary="", outcome="no_further_action", signposted_to="",
                                rationale="No vulnerability to radicalisation found in the checks made.",
                                decided_on=day, nfa_reasons=["no_vulnerability"])


def test_three_referrals_of_one_boy_with_a_misspelt_surname_are_one_person_at_the_third_gateway(
        world: World, client: Client) -> None:
    first = _refer(world, START, "one")
    _close_at_gateway(world, first, START + timedelta(days=5))
    # Months later, twice, with the surname misspelt and the date of birth only partly known.
    second = _refer(world, START + timedelta(days=150), "two", family_name="Rudakowsky")
    third = _refer(world, START + timedelta(days=260), "three", family_name="Rudakovski",
                   date_of_birth=PartialDate(2006, 8))
    assert len({first.person_id, second.person_id, third.person_id}) == 3  # recorded as three people at intake

    police = world.users["police"]
    # Kept on the case when the referral arrived, as found, for the officer to resolve.
    records = selectors.case_earlier_records(user=police, case=second)
    assert records and records[0].person.pk == first.person_id and records[0].status == "open"
    assert records[0].match.probability > 0.9
    family = {e["field"]: e for e in records[0].match.evidence}
    assert any(not e["agrees"] or "exact" not in e["level"] for name, e in family.items() if "amily" in name)
    services.case_link_person(user=police, case=second, person=first.person,
                              rationale="Same date of birth, address and school; surname misspelt.")

    # At the third gateway the officer sees one earlier person with both earlier referrals.
    client.login(username="police", password=PASSWORD)
    page = client.get(f"/cases/{third.pk}/").content.decode()
    assert "Possible earlier records of this person" in page
    assert first.person.reference in page
    records = selectors.case_earlier_records(user=police, case=third)
    assert [r.person.pk for r in records] == [first.person_id]
    assert {c.pk for c in records[0].visible_cases} == {first.pk, second.pk}
    services.case_link_person(user=police, case=third, person=first.person,
                              rationale="Same boy again: date of birth month, address and school agree.")
    third.refresh_from_db()
    assert third.person_id == first.person_id
    assert third.person.referrals.count() == 3
    page = client.get(f"/cases/{third.pk}/").content.decode()
    assert "Earlier referrals of this person" in page
    assert first.reference in page and second.reference in page
    assert AccessLogEntry.objects.filter(operation="combination", person=first.person).count() == 2


def test_a_different_person_is_not_suggested_and_a_rejection_is_recorded(world: World) -> None:
    boy = _refer(world, START, "one")
    twin = _refer(world, START + timedelta(days=30), "twin", given_names="Oskar")  # twin: same dob and address
    stranger = _refer(world, START + timedelta(days=40), "stranger", given_names="Priya", family_name="Natarajan",
                      date_of_birth=PartialDate(1990, 2, 1), postcode="ZZ9 9ZZ", address="1 Elsewhere Road",
                      school_or_workplace="", sex="female")
    police = world.users["police"]
    assert all(m.person.pk != boy.person_id for m in selectors.case_matches(user=police, case=stranger))
    suggested = selectors.case_matches(user=police, case=twin)
    # A twin shares surname, date of birth, address and school: the brother is put to the officer
    # (a person decides), and the officer records why it is not the same person.
    assert suggested and suggested[0].person.pk == boy.person_id and suggested[0].rejected is None
    with pytest.raises(InvalidInput):
        services.match_reject(user=police, case=twin, person=boy.person, rationale="no")
    assert not Decision.objects.filter(case=twin, type="match_rejected").exists()
    services.match_reject(user=police, case=twin, person=boy.person,
                          rationale="Twin brother: different first name, confirmed with the school.")
    again = selectors.case_matches(user=police, case=twin)
    assert again[0].person.pk == boy.person_id and again[0].rejected is not None
    assert Decision.objects.filter(case=twin, type="match_rejected").count() == 1


def test_the_gateway_page_shows_the_possible_earlier_records_beside_the_decision(world: World, client: Client) -> None:
    first = _refer(world, START, "one")
    second = _refer(world, START + timedelta(days=150), "two", family_name="Rudakowsky")
    client.login(username="police", password=PASSWORD)
    page = client.get(f"/cases/{second.pk}/gateway").content.decode()
    assert "Gateway assessment" in page and "Possible earlier records of this person" in page
    assert first.person.reference in page and "Evidence as found, field by field" in page
    # Someone who may not link people sees the form's page without them.
    client.login(username="referrer", password=PASSWORD)
    assert client.get(f"/cases/{second.pk}/gateway").status_code in (403, 404)


def test_a_wrong_link_can_be_undone_restoring_both_histories(world: World) -> None:
    first = _refer(world, START, "one")
    second = _refer(world, START + timedelta(days=30), "two", given_names="Oskar")
    police = world.users["police"]
    original = second.person
    services.case_link_person(user=police, case=second, person=first.person,
                              rationale="Looked like the same boy at first sight.")
    assert first.person.referrals.count() == 2
    with pytest.raises(InvalidInput):
        services.person_link_undo(user=police, case=first, rationale="Nothing to undo on this case.")
    before = AccessLogEntry.objects.filter(operation="alteration").count()
    services.person_link_undo(user=police, case=second, rationale="Twin brother, confirmed by the school.")
    # One change, one alteration in the access log (it was written twice).
    assert AccessLogEntry.objects.filter(operation="alteration").count() == before + 1
    second.refresh_from_db()
    original.refresh_from_db()
    assert second.person_id == original.pk and original.merged_into_id is None
    assert first.person.referrals.count() == 1 and original.referrals.count() == 1
    assert Decision.objects.get(case=second, type="person_unlink").supersedes.type == "person_link"


def _match(client: Client, token: str, body: dict[str, Any]) -> Any:
    body = {"purpose": "Identity check before recording a referral", **body}
    return client.post("/api/v1/people/match", data=json.dumps(body), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {token}")


def test_the_match_endpoint_answers_odd_identities_and_refuses_empty_ones(world: World, client: Client) -> None:
    _refer(world, START, "one")
    token = world.token("police")
    found = _match(client, token, {"given_names": "Axel", "family_name": "Rudakovsky", "date_of_birth": "2006-08-07",
                                   "postcode": "TE4 9QA"})
    assert found.status_code == 200
    top = found.json()["matches"][0]
    assert top["match_probability"] > 0.9 and top["cases"] and top["evidence"]
    for odd in [{"family_name": "Rudakowski"}, {"given_names": "Ä̷x̸e̵l", "family_name": "☃ Rudakowski"},
                {"date_of_birth": "2006"}, {"given_names": "A", "family_name": "R", "postcode": "not a postcode"}]:
        answer = _match(client, token, odd)
        assert answer.status_code == 200, (odd, answer.content)
    empty = _match(client, token, {"given_names": "  ", "family_name": ""})
    assert empty.status_code == 422
    absurd = _match(client, token, {"family_name": "Rudakowski", "date_of_birth": "2006-13-45"})
    assert absurd.status_code == 422 and "date_of_birth" in absurd.json()["errors"]
    referrer = _match(client, world.token("referrer"), {"family_name": "Rudakowski"})
    assert referrer.status_code == 403


def test_every_process_drops_an_identity_corrected_by_rectification(world: World) -> None:
    """An index built before a correction (in this or any other web process) is rebuilt: the
    corrected surname is found exactly, and the misspelling no longer suggests the person."""
    from casetrail.people.linkage.records import Identity
    from casetrail.people.matching import match_identity
    from casetrail.rights.services import rectification_decide

    first = _refer(world, START, "one", family_name="Rudakowsky")
    misspelt = Identity(record_id="q", given_names="Axel", family_name="Rudakowsky", date_of_birth="2006-08-07")
    assert match_identity(misspelt)[0].record_id == str(first.pk)  # the index is built now
    rectification_decide(user=world.users["police"], person=first.person,
                         target=f"referral:{first.pk}:family_name", requested_by="The young person's mother",
                         requested_value="Rudakowski", outcome="accepted", corrected_value="Rudakowski",
                         rationale="Birth certificate seen: the surname was misspelt by the referrer.",
                         decided_on=START + timedelta(days=3))
    corrected = Identity(record_id="q", given_names="Axel", family_name="Rudakowski", date_of_birth="2006-08-07")
    top = match_identity(corrected)[0]
    family = next(e for e in top.evidence if e.field == "Family name")
    assert top.record_id == str(first.pk) and family.agrees and family.level.startswith("exact")


def test_an_nhs_number_on_the_referral_finds_the_person_after_a_change_of_name(world: World, client: Client) -> None:
    """The number recorded on a referral goes into the person index: a later identity with another
    surname and address is put to the officer on the strength of it, and a mistyped number is
    refused with a clear error, not matched."""
    first = _refer(world, START, "one", nhs_number="999 111 2227")
    assert first.referral.nhs_number == "9991112227"
    token = world.token("police")
    renamed = {"given_names": "Axel", "family_name": "Okonkwo", "date_of_birth": "2006-08-07",
               "postcode": "LS6 2AB"}
    without = _match(client, token, renamed).json()["matches"]
    assert all(m["person_reference"] != first.person.reference for m in without)
    found = _match(client, token, {**renamed, "nhs_number": "9991112227"})
    assert found.status_code == 200
    top = found.json()["matches"][0]
    assert top["person_reference"] == first.person.reference and top["match_probability"] > 0.3
    evidence = next(e for e in top["evidence"] if e["field"] == "NHS number or UPN")
    assert evidence["level"] == "same NHS number" and evidence["agrees"] is True
    mistyped = _match(client, token, {**renamed, "nhs_number": "999 111 2228"})
    assert mistyped.status_code == 422 and "nhs_number" in mistyped.json()["errors"]
    assert _match(client, token, {**renamed, "upn": "T80100001200"}).json()["errors"]["upn"]
