"""Every typed-in referral field longer than its column is refused with a clear error, through
the service and the API, and the core's limits match the columns (PostgreSQL would otherwise
fail with a database error where SQLite silently stores the lot)."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from casetrail.core.errors import InvalidInput
from casetrail.core.referrals import TEXT_LIMITS
from casetrail.referrals.models import Referral
from casetrail.referrals.services import referral_submit

from .conftest import World, referral_input


def test_the_core_limits_are_the_columns_limits() -> None:
    for name, (limit, _) in TEXT_LIMITS.items():
        assert Referral._meta.get_field(name).max_length == limit, name
    bounded = {f.name for f in Referral._meta.get_fields()
               if getattr(f, "max_length", None) and not getattr(f, "choices", None)}
    # Checked by format instead (a postcode, a date, the identifiers' check characters), or not typed in.
    formatted = {"reference", "date_of_birth", "postcode", "code_list_version", "nhs_number", "upn"}
    assert bounded - formatted == set(TEXT_LIMITS)


@pytest.mark.parametrize("name", sorted(TEXT_LIMITS))
def test_a_field_one_character_too_long_is_refused_and_nothing_is_stored(world: World, name: str) -> None:
    limit, label = TEXT_LIMITS[name]
    value = ("a" * (limit - len("@example.org") + 1) + "@example.org") if name == "referrer_email" else "a" * (limit + 1)
    with pytest.raises(InvalidInput) as refused:
        referral_submit(user=world.users["referrer"], data=referral_input(world, **{name: value}))
    assert refused.value.errors[name] == [f"{label} must be {limit} characters or fewer"]
    assert not Referral.objects.exists()
    at_limit = value[1:]
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world, **{name: at_limit}))
    assert getattr(referral, name) == at_limit


def test_the_api_answers_a_long_phone_number_with_a_field_error(world: World, client: Client) -> None:
    referral = referral_input(world)
    body = {"referrer_name": referral.referrer_name, "referrer_job_title": referral.referrer_job_title,
            "referrer_email": referral.referrer_email, "referrer_phone": "0" * 41,
            "referrer_organisation": referral.referrer_organisation, "referrer_sector": referral.referrer_sector,
            "given_names": "Sam", "family_name": "Okafor-Test", "date_of_birth": "2008-05-17", "sex": "male",
            "address": "1 Test Street", "postcode": "TE1 1ST", "local_authority_id": world.council.pk,
            "concern": referral.concern, "first_observed_on": referral.first_observed_on.isoformat(),
            "concern_types": list(referral.concern_types), "urgency": "routine", "person_aware": "no"}
    answer = client.post("/api/v1/referrals", data=json.dumps(body), content_type="application/json",
                         HTTP_AUTHORIZATION=f"Bearer {world.token('referrer')}")
    assert answer.status_code == 422, answer.content
    assert "40 characters" in answer.json()["errors"]["referrer_phone"][0]
    assert not Referral.objects.exists()
