"""A person's NHS number and Unique Pupil Number, where the referrer knows them: through the service,
the API and the referral form into the database (compact), and back out on the case page, the
subject access answer, corrections and the duplicate review; bad input is refused field by field
and changes nothing.

Every number is made up: NHS numbers start 999 (never issued to a patient); UPNs carry
python-stdnum's check letter."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from casetrail import clock
from casetrail.audit.models import AccessLogEntry, Event
from casetrail.cases.models import Case
from casetrail.core.errors import InvalidInput
from casetrail.core.referrals import NHS_NUMBER_MESSAGES, UPN_MESSAGES
from casetrail.people.models import DuplicateCandidate, Person
from casetrail.people.services import duplicates_record
from casetrail.referrals.models import Referral
from casetrail.referrals.services import referral_submit
from casetrail.rights import selectors as rights_selectors
from casetrail.rights import services as rights
from casetrail.rights.models import Rectification

from .conftest import PASSWORD, World, case_in_support, referral_input

NHS_TYPED, NHS_STORED, NHS_SHOWN = "999-234-5675", "9992345675", "999 234 5675"
UPN_TYPED, UPN_STORED = "t801 0000 12 001", "T801000012001"
NHS_OTHER = "999 111 2227"  # another valid made-up number
NHS_MISTYPED = "999 234 5676"  # the check digit is wrong
UPN_UNKNOWN_AUTHORITY = "T000000012001"


def counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in (Referral, Case, Person, Event, AccessLogEntry)}


# ---------------------------------------------------------------- the service


def test_the_service_stores_the_identifiers_compact(world: World) -> None:
    referral, created = referral_submit(user=world.users["referrer"],
                                        data=referral_input(world, nhs_number=NHS_TYPED, upn=UPN_TYPED))
    assert created
    referral.refresh_from_db()
    assert (referral.nhs_number, referral.upn) == (NHS_STORED, UPN_STORED)
    assert referral.nhs_number_spaced == NHS_SHOWN


def test_a_referral_without_identifiers_stores_them_empty(world: World) -> None:
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world))
    referral.refresh_from_db()
    assert (referral.nhs_number, referral.upn, referral.nhs_number_spaced) == ("", "", "")


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"nhs_number": NHS_MISTYPED}, {"nhs_number": [NHS_NUMBER_MESSAGES["checksum"]]}),
    ({"nhs_number": "999 234 567"}, {"nhs_number": [NHS_NUMBER_MESSAGES["length"]]}),
    ({"nhs_number": "999 234 567O"}, {"nhs_number": [NHS_NUMBER_MESSAGES["format"]]}),
    ({"upn": UPN_UNKNOWN_AUTHORITY}, {"upn": [UPN_MESSAGES["authority"]]}),
    ({"upn": "A801000012001"}, {"upn": [UPN_MESSAGES["checksum"]]}),
    ({"upn": "T80100001200"}, {"upn": [UPN_MESSAGES["length"]]}),
    ({"nhs_number": NHS_MISTYPED, "upn": "T8010000120A1"},
     {"nhs_number": [NHS_NUMBER_MESSAGES["checksum"]], "upn": [UPN_MESSAGES["format"]]}),
])
def test_a_bad_identifier_is_refused_by_name_and_nothing_is_written(world: World, overrides: dict[str, str],
                                                                     expected: dict[str, list[str]]) -> None:
    before = counts()
    with pytest.raises(InvalidInput) as refused:
        referral_submit(user=world.users["referrer"], data=referral_input(world, **overrides))
    assert refused.value.errors == expected
    assert counts() == before


# ---------------------------------------------------------------- the API


def api_body(world: World, **overrides: Any) -> dict[str, Any]:
    data = referral_input(world)
    body = {"referrer_name": data.referrer_name, "referrer_job_title": data.referrer_job_title,
            "referrer_email": data.referrer_email, "referrer_organisation": data.referrer_organisation,
            "referrer_sector": data.referrer_sector, "given_names": "Sam", "family_name": "Okafor-Test",
            "date_of_birth": "2010-05-17", "sex": "male", "local_authority_id": world.council.pk,
            "concern": data.concern, "first_observed_on": data.first_observed_on.isoformat(),
            "concern_types": list(data.concern_types)}
    body.update(overrides)
    return body


def post(client: Client, world: World, body: dict[str, Any]) -> Any:
    return client.post("/api/v1/referrals", data=json.dumps(body), content_type="application/json",
                       HTTP_AUTHORIZATION=f"Bearer {world.token('referrer')}")


def test_the_api_takes_the_identifiers_and_stores_them_compact(world: World, client: Client) -> None:
    answer = post(client, world, api_body(world, nhs_number=NHS_TYPED, upn=UPN_TYPED))
    assert answer.status_code == 201, answer.content
    referral = Referral.objects.get(reference=answer.json()["reference"])
    assert (referral.nhs_number, referral.upn) == (NHS_STORED, UPN_STORED)


def test_the_api_does_without_them(world: World, client: Client) -> None:
    answer = post(client, world, api_body(world))
    assert answer.status_code == 201, answer.content
    assert Referral.objects.get().nhs_number == "" and Referral.objects.get().upn == ""


@pytest.mark.parametrize(("overrides", "field", "says"), [
    ({"nhs_number": NHS_MISTYPED}, "nhs_number", NHS_NUMBER_MESSAGES["checksum"]),
    ({"nhs_number": "12345"}, "nhs_number", NHS_NUMBER_MESSAGES["length"]),
    ({"upn": UPN_UNKNOWN_AUTHORITY}, "upn", UPN_MESSAGES["authority"]),
    ({"upn": "B801000012001"}, "upn", UPN_MESSAGES["checksum"]),
    ({"nhs_number": "9" * 41}, "nhs_number", "40 characters"),  # refused before the service
    ({"upn": 13}, "upn", "string"),
])
def test_the_api_answers_a_bad_identifier_with_a_field_error_and_writes_nothing(
        world: World, client: Client, overrides: dict[str, Any], field: str, says: str) -> None:
    token = world.token("referrer")
    before = counts()
    answer = client.post("/api/v1/referrals", data=json.dumps(api_body(world, **overrides)),
                         content_type="application/json", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 422, answer.content
    errors = answer.json()["errors"]
    assert list(errors) == [field]
    assert says in errors[field][0]
    assert counts() == before


def test_the_published_openapi_describes_the_identifiers() -> None:
    from django.conf import settings

    schema = json.loads((settings.BASE_DIR / "docs" / "openapi.json").read_text())
    properties = schema["components"]["schemas"]["ReferralIn"]["properties"]
    assert {"nhs_number", "upn"} <= set(properties)
    assert "check digit" in properties["nhs_number"]["description"]
    assert "check letter" in properties["upn"]["description"]


# ---------------------------------------------------------------- the referral form

START = "/referrals/new/"


def person_page(world: World, **overrides: str) -> dict[str, str]:
    values = {"given_names": "Leo", "family_name": "Marsh-Test", "date_of_birth_year": "2012", "sex": "male",
              "postcode": "te1 1st", "school_or_workplace": "Testshire Academy",
              "local_authority": str(world.council.pk)}
    values.update(overrides)
    return values


def walk(client: Client, world: World, **person: str) -> None:
    about = {"referrer_name": "Rita Referrer", "referrer_job_title": "Head of year",
             "referrer_email": "rita@example.org", "referrer_organisation": "Testshire Academy",
             "referrer_sector": "education"}
    observed = clock.today()
    concern = {"concern": "Shared violent extremist videos with younger pupils at lunch, twice this week.",
               "first_observed_on_day": str(observed.day), "first_observed_on_month": str(observed.month),
               "first_observed_on_year": str(observed.year), "concern_types": ["extreme_right_wing"]}
    for page, data in [("about-you", about), ("person", person_page(world, **person)), ("concern", concern),
                       ("urgency", {"urgency": "routine", "person_aware": "no"}), ("attachments", {})]:
        response = client.post(START + page, data)
        assert response.status_code == 302, (page, response.content.decode()[:2000])


@pytest.fixture
def referrer(client: Client, world: World, settings: Any, tmp_path: Any) -> Client:
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "var" / "uploads"
    assert client.login(username="referrer", password=PASSWORD)
    return client


def test_the_person_page_asks_for_both_optionally_as_gov_uk_inputs(referrer: Client, world: World) -> None:
    referrer.post(START + "about-you", {"referrer_name": "Rita Referrer", "referrer_job_title": "Head of year",
                                        "referrer_email": "rita@example.org",
                                        "referrer_organisation": "Testshire Academy", "referrer_sector": "education"})
    page = referrer.get(START + "person").content.decode()
    assert "What is their NHS number? (optional)" in " ".join(page.split())
    assert "What is their Unique Pupil Number (UPN)? (optional)" in " ".join(page.split())
    nhs_input = page[page.index('name="nhs_number"') - 300:page.index('name="nhs_number"') + 300]
    assert 'inputmode="numeric"' in nhs_input and 'spellcheck="false"' in nhs_input
    assert 'aria-describedby="id_nhs_number-hint"' in nhs_input and "govuk-input--width-10" in nhs_input
    upn_input = page[page.index('name="upn"') - 300:page.index('name="upn"') + 300]
    assert 'spellcheck="false"' in upn_input and 'aria-describedby="id_upn-hint"' in upn_input
    # The hints say where to find them and that they can be left out; the examples are made up.
    assert "Leave this blank if you do not know it" in page and "999 111 2227" in page
    assert "pupil records" in page and "letters from the NHS" in page


def test_a_mistyped_identifier_is_shown_on_the_person_page_and_not_kept(referrer: Client, world: World) -> None:
    walk(referrer, world)
    answer = referrer.post(START + "person?change=1",
                           person_page(world, nhs_number=NHS_MISTYPED, upn=UPN_UNKNOWN_AUTHORITY))
    assert answer.status_code == 400
    content = answer.content.decode()
    summary = content[content.index("govuk-error-summary"):content.index("</ul>", content.index("govuk-error-summary"))]
    assert f'href="#id_nhs_number">{NHS_NUMBER_MESSAGES["checksum"]}' in summary
    assert "#id_upn" in summary and "local authority" in summary
    assert 'class="govuk-input govuk-input--width-10 govuk-input--error"' in content
    # What was kept is what was answered before, and nothing was sent.
    assert referrer.session["referral_draft"]["pages"]["person"]["nhs_number"] == ""
    assert not Referral.objects.exists()


def test_check_your_answers_shows_them_with_change_links_and_sending_stores_them(referrer: Client,
                                                                                  world: World) -> None:
    walk(referrer, world, nhs_number=NHS_TYPED, upn=UPN_TYPED)
    check = referrer.get(START + "check").content.decode()
    assert NHS_SHOWN in check and UPN_STORED in check
    assert "person?change=1#id_nhs_number" in check and "person?change=1#id_upn" in check
    change = referrer.get(START + "person?change=1").content.decode()
    assert f'value="{NHS_STORED}"' in change and f'value="{UPN_STORED}"' in change
    sent = referrer.post(START + "check", {"key": referrer.session["referral_draft"]["key"]})
    assert sent.status_code == 302
    referral = Referral.objects.get()
    assert (referral.nhs_number, referral.upn) == (NHS_STORED, UPN_STORED)


def test_a_form_without_them_says_not_given_and_stores_nothing(referrer: Client, world: World) -> None:
    walk(referrer, world)
    check = referrer.get(START + "check").content.decode()
    rows = check[check.index(">NHS number<"):check.index(">Local authority area<")]
    assert rows.count("Not given") >= 2
    referrer.post(START + "check", {"key": referrer.session["referral_draft"]["key"]})
    assert (Referral.objects.get().nhs_number, Referral.objects.get().upn) == ("", "")


def test_a_draft_saved_before_the_questions_existed_still_sends(referrer: Client, world: World) -> None:
    walk(referrer, world)
    session = referrer.session
    for name in ("nhs_number", "upn"):
        del session["referral_draft"]["pages"]["person"][name]
    session.save()
    assert "Not given" in referrer.get(START + "check").content.decode()
    sent = referrer.post(START + "check", {"key": referrer.session["referral_draft"]["key"]})
    assert sent.status_code == 302 and Referral.objects.get().nhs_number == ""


# ---------------------------------------------------------------- back out: pages, answers, corrections


def signed_in(name: str) -> Client:
    client = Client()
    assert client.login(username=name, password=PASSWORD)
    return client


def correct(world: World, case: Case, field: str, value: str, **overrides: Any) -> Rectification:
    values: dict[str, Any] = dict(
        user=world.users["police"], person=case.person, target=f"referral:{case.referral.pk}:{field}",
        requested_by="The person's mother, in writing", requested_value=value, outcome="accepted",
        corrected_value=value, rationale="A letter from the GP surgery was seen at the meeting.",
        decided_on=clock.today())
    values.update(overrides)
    return rights.rectification_decide(**values)


# The full view is shown here to a panel member and oversight: the police's and coordinators' case
# pages also ask the linkage engine for matches, which these tests do not need.
def test_the_case_page_shows_them_to_the_panel_but_not_to_the_provider(world: World) -> None:
    case = case_in_support(world)
    correct(world, case, "nhs_number", NHS_TYPED)
    correct(world, case, "upn", UPN_TYPED)
    panel = signed_in("panel").get(f"/cases/{case.pk}/").content.decode()
    assert f'id="referral-nhs-number">{NHS_SHOWN}<' in panel and f'id="referral-upn">{UPN_STORED}<' in panel
    provider = signed_in("provider").get(f"/cases/{case.pk}/")
    assert provider.status_code == 200 and case.referral.family_name in provider.content.decode()
    assert NHS_SHOWN not in provider.content.decode() and UPN_STORED not in provider.content.decode()
    assert "NHS number" not in provider.content.decode()


def test_the_case_page_says_when_they_were_not_given(world: World) -> None:
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world))
    page = signed_in("oversight").get(f"/cases/{referral.case.pk}/").content.decode()
    assert 'id="referral-nhs-number">Not given<' in page and 'id="referral-upn">Not given<' in page


def test_a_correction_stores_the_number_compact_and_keeps_the_old_one(world: World) -> None:
    referral, _ = referral_submit(user=world.users["referrer"],
                                  data=referral_input(world, nhs_number=NHS_TYPED, upn=UPN_TYPED))
    decision = correct(world, referral.case, "nhs_number", "999-111-2227")
    referral.refresh_from_db()
    assert referral.nhs_number == "9991112227"
    assert (decision.recorded_value, decision.corrected_value) == (NHS_STORED, "9991112227")
    assert decision.field_label == f"NHS number on referral {referral.reference}"
    # "That is not my pupil number": corrected to none.
    correct(world, referral.case, "upn", "")
    referral.refresh_from_db()
    assert referral.upn == ""


@pytest.mark.parametrize(("field", "value", "says"), [
    ("nhs_number", NHS_MISTYPED, NHS_NUMBER_MESSAGES["checksum"]),
    ("nhs_number", NHS_SHOWN, "The corrected value is the same as the recorded one"),
    ("upn", "T80100001200", UPN_MESSAGES["length"]),
])
def test_a_bad_correction_of_an_identifier_changes_nothing(world: World, field: str, value: str, says: str) -> None:
    referral, _ = referral_submit(user=world.users["referrer"],
                                  data=referral_input(world, nhs_number=NHS_TYPED, upn=UPN_TYPED))
    with pytest.raises(InvalidInput) as refused:
        correct(world, referral.case, field, value)
    assert refused.value.errors == {"corrected_value": [says]}
    referral.refresh_from_db()
    assert (referral.nhs_number, referral.upn) == (NHS_STORED, UPN_STORED)
    assert not Rectification.objects.exists()


def test_the_subject_access_answer_includes_them(world: World) -> None:
    referral, _ = referral_submit(user=world.users["referrer"],
                                  data=referral_input(world, nhs_number=NHS_TYPED, upn=UPN_TYPED))
    data = rights_selectors.subject_data_gather(person=referral.person)
    items = {item.key: (item.label, item.value) for section in data.sections for record in section.records
             for item in record.items}
    assert items[f"referral:{referral.pk}:nhs_number"] == ("NHS number", NHS_SHOWN)
    assert items[f"referral:{referral.pk}:upn"] == ("Unique Pupil Number", UPN_STORED)


def test_the_duplicate_review_shows_each_sides_identifiers(world: World) -> None:
    first, _ = referral_submit(user=world.users["referrer"],
                               data=referral_input(world, nhs_number=NHS_TYPED, upn=UPN_TYPED))
    second, _ = referral_submit(user=world.users["referrer"], data=referral_input(world, family_name="Okafur-Test"))
    duplicates_record(pairs=[{"person_a": first.person_id, "person_b": second.person_id,
                              "match_probability": 0.9, "evidence": []}])
    pair = DuplicateCandidate.objects.get()
    page = signed_in("admin").get(f"/people/duplicates/{pair.pk}").content.decode()
    assert f"NHS number {NHS_SHOWN}" in page and f"UPN {UPN_STORED}" in page
    assert page.count("NHS number") == 1  # the second referral had none
