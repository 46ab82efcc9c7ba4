"""Reviewing the possible duplicate people the batch linkage run finds."""

from __future__ import annotations

import pytest
from django.test import Client

from casetrail.audit.models import AccessLogEntry
from casetrail.cases.models import Decision
from casetrail.core.errors import AccessDenied, InvalidInput
from casetrail.people.models import DuplicateCandidate
from casetrail.people.services import duplicate_dismiss, duplicate_link, duplicates_record
from casetrail.referrals.services import referral_submit

from .conftest import PASSWORD, World, referral_input

EVIDENCE = [{"field": "Family name", "level": "phonetic match", "agrees": True, "weight": 6.2}]
REASON = "Same date of birth and school; the school confirmed the spelling."


@pytest.fixture
def pair(world: World) -> DuplicateCandidate:
    first, _ = referral_submit(user=world.users["referrer"], data=referral_input(world), idempotency_key="a")
    second, _ = referral_submit(user=world.users["referrer"], data=referral_input(world, family_name="Okafor-Tset"),
                                idempotency_key="b")
    assert first.person_id != second.person_id
    assert duplicates_record(pairs=[{"person_a": second.person_id, "person_b": first.person_id,
                                     "match_probability": 0.97, "evidence": EVIDENCE}]) == 1
    # Recording the same pair again adds nothing.
    assert duplicates_record(pairs=[{"person_a": first.person_id, "person_b": second.person_id,
                                     "match_probability": 0.98, "evidence": EVIDENCE}]) == 0
    found = DuplicateCandidate.objects.get()
    assert found.match_probability == 0.98 and found.person_a_id < found.person_b_id
    return found


def test_an_administrator_records_different_people_with_a_reason(world: World, pair: DuplicateCandidate) -> None:
    with pytest.raises(InvalidInput) as short:
        duplicate_dismiss(user=world.users["admin"], candidate=pair, reason="no")
    assert "reason" in short.value.errors
    duplicate_dismiss(user=world.users["admin"], candidate=pair, reason="Twins: different first names, same school.")
    pair.refresh_from_db()
    assert pair.status == "dismissed" and pair.reviewed_by == world.users["admin"]
    with pytest.raises(InvalidInput):
        duplicate_dismiss(user=world.users["admin"], candidate=pair, reason="Twins: different first names again.")


def test_linking_needs_someone_who_may_link_every_case_and_moves_all_referrals(world: World,
                                                                               pair: DuplicateCandidate) -> None:
    with pytest.raises(AccessDenied):
        duplicate_link(user=world.users["admin"], candidate=pair, reason=REASON)
    pair.refresh_from_db()
    assert pair.status == "open" and not Decision.objects.filter(type="person_link").exists()
    with pytest.raises(AccessDenied):
        duplicate_link(user=world.users["coordinator"], candidate=pair, reason=REASON)  # not its role's to review
    duplicate_link(user=world.users["police"], candidate=pair, reason=REASON)
    pair.refresh_from_db()
    assert pair.status == "linked"
    assert pair.person_b.referrals.count() == 0 and pair.person_a.referrals.count() == 2
    assert Decision.objects.filter(type="person_link").count() == 1
    assert AccessLogEntry.objects.filter(operation="combination").count() == 1


def test_the_review_pages_refuse_others_and_show_errors(world: World, pair: DuplicateCandidate,
                                                        client: Client) -> None:
    client.login(username="coordinator", password=PASSWORD)
    assert client.get("/people/duplicates").status_code == 403
    client.login(username="admin", password=PASSWORD)
    listing = client.get("/people/duplicates").content.decode()
    assert pair.person_a.reference in listing and "0.980" in listing
    bad = client.post(f"/people/duplicates/{pair.pk}", {"same": "no", "reason": ""})
    assert bad.status_code == 400 and "There is a problem" in bad.content.decode()
    refused = client.post(f"/people/duplicates/{pair.pk}", {"same": "yes", "reason": REASON})
    assert refused.status_code == 400 and "police Prevent officer" in refused.content.decode()
    done = client.post(f"/people/duplicates/{pair.pk}", {"same": "no", "reason": "Different dates of birth, checked."})
    assert done.status_code == 302
    pair.refresh_from_db()
    assert pair.status == "dismissed"
    assert AccessLogEntry.objects.filter(operation="consultation", person=pair.person_a).exists()
