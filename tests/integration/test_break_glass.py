"""Break-glass access: a stated reason, a limited time, read only, told to the owner and audited."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from casetrail.accounts.services import agency_create
from casetrail.audit.models import AccessLogEntry, Event
from casetrail.cases import services
from casetrail.cases.access import view_of, visible_cases
from casetrail.cases.models import BreakGlassGrant, Case
from casetrail.clock import frozen_at
from casetrail.core.errors import AccessDenied, InvalidInput
from casetrail.core.policy import View
from casetrail.notifications.models import Message
from casetrail.referrals.services import referral_submit

from .conftest import PASSWORD, World, _user, referral_input

REASON = "Urgent: the person is reported missing in our area tonight and may be at risk."


@pytest.fixture
def outsider(world: World) -> object:
    """A police officer of another force, with no involvement in the world's cases."""
    other_force = agency_create(name="Farshire Police CTP", kind="police")
    return _user("farofficer", other_force, "police_officer")


@pytest.fixture
def case(world: World) -> Case:
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world))
    return referral.case


def test_an_outsider_reads_for_a_limited_time_and_the_owner_is_told(world: World, outsider: object,
                                                                    case: Case) -> None:
    assert view_of(outsider, case) is View.NONE  # type: ignore[arg-type]
    grant = services.break_glass_grant(user=outsider, reference=case.reference.lower(), reason=REASON,  # type: ignore[arg-type]
                                       hours=1)
    assert view_of(outsider, case) is View.FULL  # type: ignore[arg-type]
    assert case in visible_cases(outsider)  # type: ignore[arg-type]
    told = Message.objects.get(kind="break_glass")
    assert told.recipient == case.owner_user and told.case == case
    assert Event.objects.filter(case=case, kind="access.break_glass").exists()
    assert AccessLogEntry.objects.filter(user=outsider, case=case, justification__contains="Break glass").exists()
    later = timezone.localtime(grant.expires_at) + timedelta(minutes=1)
    with frozen_at(later):
        assert view_of(outsider, case) is View.NONE  # type: ignore[arg-type]
        assert case not in visible_cases(outsider)  # type: ignore[arg-type]


def test_break_glass_is_read_only(world: World, outsider: object, case: Case) -> None:
    services.break_glass_grant(user=outsider, reference=case.reference, reason=REASON, hours=1)  # type: ignore[arg-type]
    with pytest.raises(AccessDenied):
        services.gateway_decide(user=outsider, case=case, expected_version=None,  # type: ignore[arg-type]
                                deconfliction_done=True, database_checks_done=True, referrer_contacted_on=None,
                                referrer_contact_summary="", outcome="refer_to_panel", signposted_to="",
                                rationale="Trying to act through break glass.", decided_on=timezone.localdate())
    assert Case.objects.get(pk=case.pk).stage == "gateway"


def test_bad_requests_are_refused_and_grant_nothing(world: World, outsider: object, case: Case) -> None:
    with pytest.raises(InvalidInput) as bad:
        services.break_glass_grant(user=outsider, reference="CT-1999-99999", reason="short", hours=99)  # type: ignore[arg-type]
    assert set(bad.value.errors) == {"reference", "reason", "hours"}
    with pytest.raises(InvalidInput) as already:
        services.break_glass_grant(user=world.users["police"], reference=case.reference, reason=REASON, hours=1)
    assert "already see" in already.value.errors["reference"][0]
    with pytest.raises(AccessDenied):
        services.break_glass_grant(user=world.users["provider"], reference=case.reference, reason=REASON, hours=1)
    assert not BreakGlassGrant.objects.exists()


def test_the_auditors_queue_records_a_review(world: World, outsider: object, case: Case, client: Client) -> None:
    late = timezone.make_aware(datetime.combine(timezone.localdate(), datetime.min.time()).replace(hour=23))
    with frozen_at(late):
        grant = services.break_glass_grant(user=outsider, reference=case.reference, reason=REASON, hours=1)  # type: ignore[arg-type]
    client.login(username="police", password=PASSWORD)
    assert client.get("/audit/break-glass").status_code == 403
    client.login(username="oversight", password=PASSWORD)
    page = client.get("/audit/break-glass").content.decode()
    assert REASON in page and "Out of hours" in page
    bad = client.post("/audit/break-glass", {"grant": grant.pk, "note": "ok"})
    assert bad.status_code == 400 and "There is a problem" in bad.content.decode()
    done = client.post("/audit/break-glass", {"grant": grant.pk, "note": "Justified: missing-person report."})
    assert done.status_code == 302
    grant.refresh_from_db()
    assert grant.reviewed_by == world.users["oversight"]


def test_the_pages_show_the_reader_and_the_owner_what_happened(world: World, outsider: object, case: Case,
                                                               client: Client) -> None:
    client.login(username="farofficer", password=PASSWORD)
    assert client.get(f"/cases/{case.pk}/").status_code == 404
    form = client.post("/break-glass", {"reference": case.reference, "reason": "", "hours": "1"})
    assert form.status_code == 400 and "There is a problem" in form.content.decode()
    go = client.post("/break-glass", {"reference": case.reference, "reason": REASON, "hours": "1"})
    assert go.status_code == 302
    reading = client.get(go["Location"]).content.decode()
    assert "through break-glass access" in reading and "What you can do" not in reading
    client.login(username=case.owner_user.username, password=PASSWORD)
    assert "Your cases read through break-glass access" in client.get("/my-work").content.decode()
    assert "Read by people outside the case" in client.get(f"/cases/{case.pk}/").content.decode()
