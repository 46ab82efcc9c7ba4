"""Retention reviews and disposal through the real services: a review is a recorded decision,
holds stop disposal, bad input changes nothing, and a disposal erases the case's personal data
(database and upload directory), leaves a tombstone, and both audit chains still verify."""

from __future__ import annotations

from datetime import date, timedelta
from io import StringIO
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from casetrail import clock
from casetrail.audit.models import AccessLogEntry, Event, erase_payloads
from casetrail.cases import services as case_services
from casetrail.cases.models import Case, Decision
from casetrail.core.dates import PartialDate
from casetrail.core.errors import AccessDenied, InvalidInput, StaleState, TransitionNotAllowed
from casetrail.core.retention import add_years
from casetrail.people.models import Person, SearchKey
from casetrail.referrals.attachments import UploadedFile
from casetrail.referrals.models import Attachment
from casetrail.referrals.services import referral_submit
from casetrail.retention.models import RetentionReview, Tombstone
from casetrail.retention.selectors import retention_queue
from casetrail.retention.services import case_dispose, retention_review_record

from .conftest import World, referral_input

MARK = "Zorblax"  # in every free-text field of the case; no other record holds it
NHS_NUMBER, UPN = "9997654323", "E909000012001"  # made up, with valid check characters; only on that referral
REASON = "Reviewed against the retention schedule; nothing requires the record to be kept."


def later(days: int) -> Any:
    """Run as if it were `days` from now."""
    return clock.frozen_at(timezone.now() + timedelta(days=days))


def police_led_case(world: World, *, mark: str = MARK, person: Person | None = None,
                    attachment: bytes | None = None) -> Case:
    """A referral that went police-led and was closed today, with the mark in its free text."""
    police, today = world.users["police"], clock.today()
    own = mark == MARK
    data = referral_input(world, given_names=f"{mark}ina", family_name=f"{mark}son", other_names=f"{mark} Alias",
                          date_of_birth=PartialDate(2008, 5, 17) if own else PartialDate(1996, 11, 3),
                          referrer_name=f"Rita {mark}", address=f"7 {mark} Lane",
                          postcode="ZX9 9ZX" if own else "YW8 8WY",
                          school_or_workplace=f"{mark} Academy", discussed_with=f"Head {mark}",
                          # The birth date, postcode and identifiers are the default person's own:
                          # another person with them would be a possible earlier record of that one.
                          nhs_number=NHS_NUMBER if own else "", upn=UPN if own else "",
                          concern=f"{mark} has told classmates that violence is justified and shares videos.")
    files = [UploadedFile("notes.txt", f"{mark} notes from the teacher.".encode())] if attachment is None else []
    referral, _ = referral_submit(user=world.users["referrer"], data=data, attachments=files)
    case = referral.case
    if person is not None:
        case_services.case_link_person(user=police, case=case, person=person,
                                       rationale=f"Same person as before: {mark} spelling confirmed by school.")
    case_services.gateway_decide(user=police, case=case, expected_version=None, deconfliction_done=True,
                                 database_checks_done=True, referrer_contacted_on=today,
                                 referrer_contact_summary=f"{mark}'s teacher said it is getting worse.",
                                 outcome="police_led", signposted_to="",
                                 rationale=f"{mark} needs police-led management for now.", decided_on=today)
    case_services.case_note_record(user=police, case=case, noted_on=today, text=f"Called {mark}'s parent.")
    case_services.break_glass_grant(user=world.users["other_coordinator"], reference=case.reference,
                                    reason=f"{mark} has turned up at our office asking for help today.", hours=1)
    hold = case_services.retention_hold_place(user=police, case=case, reason_kind="review",
                                              reason=f"{mark} is named in a learning review.", placed_on=today)
    case_services.retention_hold_lift(user=police, hold=hold, reason=f"The review of {mark} has been published.",
                                      lifted_on=today)
    case_services.police_led_decide(user=police, case=case, expected_version=None, outcome="close",
                                    rationale=f"{mark} engaged well; nothing more is needed.", decided_on=today)
    case.refresh_from_db()
    return case


def database_text() -> str:
    """Every row of every table, as text (both SQLite and PostgreSQL)."""
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            chunks.extend(repr(row) for row in cursor.fetchall())
    return "\n".join(chunks)


def verify() -> str:
    out = StringIO()
    call_command("verify", "--no-progress", stdout=out, stderr=StringIO())
    return out.getvalue()


SIX_YEARS = (add_years(date.today(), 6) - date.today()).days


# ---------------------------------------------------------------- the disposal the issue asks for


def _answered_request_with_a_correction(world: World, case: Case) -> None:
    """The person asked for their data and had the referral's address corrected; the request was
    answered (so its hold was lifted) long before the case fell due for disposal."""
    from casetrail.rights import services as rights

    police, today = world.users["police"], clock.today()
    request = rights.subject_access_request_open(user=police, person=case.person, requested_by=f"{MARK}'s mother",
                                                 received_on=today)
    rights.rectification_decide(user=police, person=case.person, target=f"referral:{case.referral.pk}:address",
                                requested_by=f"{MARK}'s mother", requested_value=f"9 {MARK} Close",
                                outcome="accepted", corrected_value=f"9 {MARK} Close",
                                rationale=f"Tenancy agreement seen: {MARK} moved in the spring.", decided_on=today,
                                request=request)
    rights.subject_access_request_complete(user=police, request=request, completed_on=today,
                                           note=f"Sent to {MARK}'s mother by recorded delivery.")


def test_disposal_erases_the_data_leaves_a_tombstone_and_the_chains_still_verify(
        world: World, django_capture_on_commit_callbacks: Any) -> None:
    case = police_led_case(world)
    _answered_request_with_a_correction(world, case)
    upload_dir = Path(settings.MEDIA_ROOT)
    stored = [upload_dir / a.stored_name for a in Attachment.objects.filter(referral=case.referral)]
    assert stored and all(path.exists() for path in stored)
    before = database_text()
    assert before.count(MARK) > 10  # the fixture really put it everywhere, audit log included
    assert any(MARK in (e.justification or "") for e in AccessLogEntry.objects.filter(case=case))
    person = case.person

    police = world.users["police"]
    with later(SIX_YEARS + 1):
        retention_review_record(user=police, case=case, decision="dispose", reason=REASON)
        with django_capture_on_commit_callbacks(execute=True):
            tombstone = case_dispose(user=police, case=case)

    after = database_text()
    assert MARK not in after, [line for line in after.splitlines() if MARK in line][:5]
    assert "ZX9 9ZX" not in after
    assert NHS_NUMBER in before and UPN in before
    assert NHS_NUMBER not in after and UPN not in after
    assert not any(path.exists() for path in stored)
    assert not Attachment.objects.filter(referral=case.referral).exists()
    assert not SearchKey.objects.filter(person=person).exists()
    # The tombstone: what, when, by whose decision, under which rule; no content.
    tombstone = Tombstone.objects.get(case=case)
    assert (tombstone.case_reference, tombstone.person_reference) == (case.reference, person.reference)
    assert tombstone.person_erased and tombstone.retention_class == "police_led" and tombstone.period_years == 6
    assert tombstone.disposed_by == police and tombstone.decision.decision == "dispose"
    assert tombstone.counts["files"] == 1 and tombstone.counts["decision"] >= 3
    assert tombstone.counts["access_log_texts_erased"] >= 1
    assert tombstone.counts["access_log_texts_not_erasable"] == 0
    assert Event.objects.filter(case=case, kind="retention.disposed").exists()
    erasure = AccessLogEntry.objects.get(case=case, operation="erasure")
    assert erasure.user == police and str(tombstone.pk) in erasure.justification
    # Both chains verify after the erasure.
    out = verify()
    assert "audit_event:" in out and "audit_accesslogentry:" in out and out.count("intact") == 2


def test_the_event_history_holds_no_personal_text(world: World) -> None:
    """Why disposal leaves events alone: their summaries and data carry ids, codes and
    references, never names or case text (the access log's free text is what needs erasing)."""
    police_led_case(world)
    for event in Event.objects.all():
        assert MARK not in event.summary and MARK not in str(event.data), (event.kind, event.summary)
    assert "ZX9" not in str(list(Event.objects.values_list("summary", "data")))


def test_a_person_with_another_case_keeps_their_identity_but_loses_this_referral(
        world: World, django_capture_on_commit_callbacks: Any) -> None:
    keep = police_led_case(world, mark="Keepable")
    gone = police_led_case(world, mark=MARK, person=keep.person)
    gone.refresh_from_db()
    assert gone.person_id == keep.person_id
    police = world.users["police"]
    with later(SIX_YEARS + 1):
        retention_review_record(user=police, case=gone, decision="dispose", reason=REASON)
        with django_capture_on_commit_callbacks(execute=True):
            tombstone = case_dispose(user=police, case=gone)
    assert not tombstone.person_erased
    person = Person.objects.get(pk=keep.person_id)
    assert person.given_names == "Keepableina"
    assert "Keepable" in database_text() and MARK not in database_text()
    assert not SearchKey.objects.filter(person=person, value__icontains=MARK.lower()).exists()
    assert "intact" in verify()


# ---------------------------------------------------------------- reviews


def test_a_retain_decision_sets_the_next_review_and_takes_the_case_off_the_queue(world: World) -> None:
    case = police_led_case(world)
    police = world.users["police"]
    assert retention_queue(user=police, today=clock.today()) == []
    with later(SIX_YEARS - 10):
        queue = retention_queue(user=police, today=clock.today())
        assert [(i.case, i.state) for i in queue] == [(case, "upcoming")]
    with later(SIX_YEARS + 40):
        assert [i.state for i in retention_queue(user=police, today=clock.today())] == ["overdue"]
        next_review = clock.today() + timedelta(days=365)
        review = retention_review_record(user=police, case=case, decision="retain", reason=REASON,
                                         next_review_on=next_review)
        assert retention_queue(user=police, today=clock.today()) == []
    assert (review.decision, review.next_review_on, review.retention_class, review.period_years) == (
        "retain", next_review, "police_led", 6)
    assert Event.objects.filter(case=case, kind="retention.reviewed").count() == 1
    assert AccessLogEntry.objects.filter(case=case, operation="alteration",
                                         justification="Retention review: retain").exists()


@pytest.mark.parametrize(("decision", "reason", "next_review", "field", "message"), [
    ("", REASON, None, "decision", "Select whether to retain the case or dispose of it"),
    ("retain", "", 365, "reason", "Enter the rationale for this decision."),
    ("retain", "Keep it.", 365, "reason", "at least 20 characters"),
    ("retain", REASON, None, "next_review_on", "Enter the date of the next review"),
    ("retain", REASON, 0, "next_review_on", "The next review must be after today"),
    ("retain", REASON, 7 * 366, "next_review_on", "within 6 years"),
    ("dispose", REASON, 365, "next_review_on", "Leave the next review date empty"),
])
def test_bad_review_input_is_refused_and_changes_nothing(world: World, decision: str, reason: str,
                                                         next_review: int | None, field: str, message: str) -> None:
    case = police_led_case(world)
    events, log, version = Event.objects.count(), AccessLogEntry.objects.count(), case.version
    with later(SIX_YEARS + 1):
        on = clock.today() + timedelta(days=next_review) if next_review is not None else None
        with pytest.raises(InvalidInput) as problem:
            retention_review_record(user=world.users["police"], case=case, decision=decision, reason=reason,
                                    next_review_on=on)
    assert message in " ".join(problem.value.errors[field])
    assert not RetentionReview.objects.exists()
    assert (Event.objects.count(), AccessLogEntry.objects.count()) == (events, log)
    case.refresh_from_db()
    assert case.version == version


def test_dispose_is_refused_while_held_with_the_holds_reason(world: World) -> None:
    case = police_led_case(world)
    police = world.users["police"]
    case_services.retention_hold_place(user=police, case=case, reason_kind="litigation",
                                       reason="Civil claim against the force is pending.", placed_on=clock.today())
    with later(SIX_YEARS + 1):
        with pytest.raises(TransitionNotAllowed) as refused:
            retention_review_record(user=police, case=case, decision="dispose", reason=REASON)
        assert [u.code for u in refused.value.unmet] == ["retention.held"]
        assert "Legal proceedings: Civil claim against the force is pending." in refused.value.unmet[0].message
        # Held cases still show in the queue, as held.
        [item] = retention_queue(user=police, today=clock.today())
        assert item.held and item.holds[0].reason == "Civil claim against the force is pending."
    assert not RetentionReview.objects.exists()


def test_a_hold_placed_after_the_decision_still_stops_the_disposal(world: World) -> None:
    case = police_led_case(world)
    police = world.users["police"]
    with later(SIX_YEARS + 1):
        retention_review_record(user=police, case=case, decision="dispose", reason=REASON)
        case_services.retention_hold_place(user=police, case=case, reason_kind="serious_incident",
                                           reason="Linked to an incident under investigation.",
                                           placed_on=clock.today())
        with pytest.raises(TransitionNotAllowed) as refused:
            case_dispose(user=police, case=case)
    assert [u.code for u in refused.value.unmet] == ["retention.held"]
    assert not Tombstone.objects.exists()
    assert MARK in Case.objects.get(pk=case.pk).referral.concern


def test_dispose_before_the_review_is_due_or_without_a_decision_is_refused(world: World) -> None:
    case = police_led_case(world)
    police = world.users["police"]
    with pytest.raises(TransitionNotAllowed) as early:
        retention_review_record(user=police, case=case, decision="dispose", reason=REASON)
    assert [u.code for u in early.value.unmet] == ["retention.review_not_due"]
    with later(SIX_YEARS + 1):
        with pytest.raises(TransitionNotAllowed) as undecided:
            case_dispose(user=police, case=case)
        assert [u.code for u in undecided.value.unmet] == ["retention.no_dispose_decision"]
        retention_review_record(user=police, case=case, decision="retain", reason=REASON,
                                next_review_on=clock.today() + timedelta(days=30))
        with pytest.raises(TransitionNotAllowed):
            case_dispose(user=police, case=case)  # the latest decision is to retain
    assert not Tombstone.objects.exists()


def test_an_open_case_has_no_retention_review(world: World) -> None:
    referral, _ = referral_submit(user=world.users["referrer"], data=referral_input(world))
    with pytest.raises(TransitionNotAllowed) as refused:
        retention_review_record(user=world.users["police"], case=referral.case, decision="retain",
                                reason=REASON, next_review_on=clock.today() + timedelta(days=30))
    assert [u.code for u in refused.value.unmet] == ["retention.case_open"]


def test_a_disposed_case_cannot_be_disposed_of_or_reviewed_again(
        world: World, django_capture_on_commit_callbacks: Any) -> None:
    case = police_led_case(world)
    police = world.users["police"]
    with later(SIX_YEARS + 1):
        retention_review_record(user=police, case=case, decision="dispose", reason=REASON)
        case_dispose(user=police, case=case)
        for call in (lambda: case_dispose(user=police, case=case),
                     lambda: retention_review_record(user=police, case=case, decision="dispose", reason=REASON)):
            with pytest.raises(TransitionNotAllowed) as refused:
                call()
            assert refused.value.unmet[0].code == "retention.disposed"
        assert retention_queue(user=police, today=clock.today()) == []
    assert Tombstone.objects.count() == 1


def test_a_stale_form_is_refused(world: World) -> None:
    case = police_led_case(world)
    with later(SIX_YEARS + 1), pytest.raises(StaleState):
        retention_review_record(user=world.users["police"], case=case, decision="dispose", reason=REASON,
                                expected_version=case.version - 1)


# ---------------------------------------------------------------- who may


@pytest.mark.parametrize("name", ["referrer", "chair", "panel", "oversight", "admin", "provider",
                                  "other_coordinator"])
def test_only_the_police_and_channel_coordinators_involved_may_review(world: World, name: str) -> None:
    case = police_led_case(world)
    with later(SIX_YEARS + 1):
        for call in (lambda: retention_review_record(user=world.users[name], case=case, decision="dispose",
                                                     reason=REASON),
                     lambda: case_dispose(user=world.users[name], case=case)):
            with pytest.raises(AccessDenied):
                call()
        assert retention_queue(user=world.users[name], today=clock.today()) == []
    assert not RetentionReview.objects.exists()


def test_a_coordinator_reviews_only_cases_that_reached_their_panel(world: World) -> None:
    case = police_led_case(world)  # never referred to the panel
    with later(SIX_YEARS + 1), pytest.raises(AccessDenied):
        retention_review_record(user=world.users["coordinator"], case=case, decision="dispose", reason=REASON)


def test_decisions_stay_append_only_outside_disposal(world: World) -> None:
    case = police_led_case(world)
    with pytest.raises(PermissionError):
        Decision.objects.filter(case=case).update(rationale="")
    with later(SIX_YEARS + 1):
        review = retention_review_record(user=world.users["police"], case=case, decision="dispose", reason=REASON)
    with pytest.raises(PermissionError):
        RetentionReview.objects.filter(pk=review.pk).update(reason="")
    with pytest.raises(PermissionError):
        review.save()





# ---------------------------------------------------------------- the access log's erasable text (hash format 2)


def test_verify_still_finds_a_changed_or_falsely_erased_access_log_text(world: World) -> None:
    from casetrail.audit.services import access_log

    from .test_audit_chain import tamper, verify_fails

    entries = [access_log(user=world.users["police"], operation="consultation", subject=world.council,
                          justification=f"Break glass: {MARK} asked for help") for _ in range(3)]
    assert all(e.hash_format == 2 and e.payload_salt for e in entries)
    erase_payloads(AccessLogEntry, [entries[0].pk])
    assert "intact" in verify()
    tamper(f"UPDATE audit_accesslogentry SET justification = 'Routine check' WHERE id = {entries[1].pk}")
    assert f"seq {entries[1].seq} (id {entries[1].pk}): changed: its text no longer matches" in verify_fails()


def test_verify_finds_a_salt_removed_to_hide_a_changed_text(world: World) -> None:
    from casetrail.audit.services import access_log

    from .test_audit_chain import tamper, verify_fails

    entry = access_log(user=world.users["police"], operation="consultation", subject=world.council,
                       justification=f"Break glass: {MARK} asked for help")
    tamper(f"UPDATE audit_accesslogentry SET justification = 'Routine', payload_salt = '' WHERE id = {entry.pk}")
    assert "an erasure was faked" in verify_fails()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the database-level guard is PostgreSQL's")
def test_postgresql_lets_through_only_the_erasure_of_the_text(world: World) -> None:
    from django.db import DatabaseError, transaction

    from casetrail.audit.services import access_log

    entry = access_log(user=world.users["police"], operation="consultation", subject=world.council,
                       justification=f"Break glass: {MARK} asked for help")
    erase = f"UPDATE audit_accesslogentry SET justification = '', recipient = '', payload_salt = '' WHERE id = {entry.pk}"
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
        c.execute(erase)  # not in an erasure
    refused = [f"UPDATE audit_accesslogentry SET justification = 'Routine' WHERE id = {entry.pk}",
               erase.replace("payload_salt = ''", "payload_salt = '', user_id = NULL"),
               f"DELETE FROM audit_accesslogentry WHERE id = {entry.pk}"]
    for statement in refused:
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic(), connection.cursor() as c:
            c.execute("SELECT set_config('casetrail.audit_erasure', 'payload', true)")
            c.execute(statement)
    assert erase_payloads(AccessLogEntry, [entry.pk]) == (1, 0)
    assert AccessLogEntry.objects.get(pk=entry.pk).justification == ""
    assert "intact" in verify()
