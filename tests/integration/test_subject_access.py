"""Subject access requests and rectification through the real services and pages: everything
held is gathered (closed cases included), withheld items never reach the PDF or JSON answer,
the answer is logged as a disclosure to its recipient, and a correction keeps the old value."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client

from casetrail import clock
from casetrail.audit.models import AccessLogEntry, Event
from casetrail.cases import services as case_services
from casetrail.cases.models import Case
from casetrail.core.errors import AccessDenied, InvalidInput, NotFound
from casetrail.people.models import Person
from casetrail.referrals.services import referral_submit
from casetrail.rights import exports, selectors, services
from casetrail.rights.models import Rectification, Redaction, SubjectAccessRequest
from casetrail.web.auth_views import REAUTHENTICATED_AT

from .conftest import PASSWORD, World, case_in_support, referral_input

SECRET = "Covert source Falcon reports meetings at the old mill."
SESSION_REPORT = "Talked through the videos he shared; he listened and asked questions."
NOTE = "Mother phoned to say he has stopped going to the gym club."
REASONS = "Names a covert human intelligence source; disclosure would endanger them."


@dataclass
class Journey:
    world: World
    person: Person
    channel_case: Case
    closed_case: Case

    def user(self, name: str) -> Any:
        return self.world.users[name]


@pytest.fixture
def journey(world: World) -> Journey:
    """One person with a Channel case in support (note, tasking and a session report) and an
    earlier-closed police-led case whose referral came with intelligence, linked to them."""
    users = world.users
    today = clock.today()
    case = case_in_support(world)
    case_services.case_note_record(user=users["coordinator"], case=case, noted_on=today, text=NOTE)
    tasking = case.taskings.get()
    case_services.tasking_acknowledge(user=users["provider"], tasking=tasking, acknowledged_on=today)
    case_services.session_record(user=users["provider"], tasking=tasking, held_on=today, report=SESSION_REPORT)
    referral, _ = referral_submit(user=users["referrer"], data=referral_input(world, given_names="Samuel",
                                                                               referrer_name="Ravi Referrer",
                                                                               concern=SECRET))
    closed = referral.case
    # The earlier record found at intake is resolved before the gateway may decide.
    case_services.case_link_person(user=users["police"], case=closed, person=case.person,
                                   rationale="Same date of birth, address and school; Samuel is Sam.")
    case_services.gateway_decide(user=users["police"], case=closed, expected_version=None, deconfliction_done=True,
                                 database_checks_done=True, referrer_contacted_on=None, referrer_contact_summary="",
                                 outcome="police_led", signposted_to="",
                                 rationale="Live police interest; handled by the CT unit.", decided_on=today)
    case_services.police_led_decide(user=users["police"], case=closed, expected_version=None, outcome="close",
                                    rationale="Police activity concluded; nothing further.", decided_on=today)
    closed.refresh_from_db()
    case.refresh_from_db()
    return Journey(world, case.person, case, closed)


def open_request(journey: Journey, who: str = "police") -> SubjectAccessRequest:
    return services.subject_access_request_open(user=journey.user(who), person=journey.person,
                                                requested_by="The person, by letter",
                                                received_on=clock.today() - timedelta(days=3))


def key_of(data: selectors.SubjectData, record_prefix: str, field: str) -> str:
    for section in data.sections:
        for record in section.records:
            if record.key.startswith(record_prefix):
                for item in record.items:
                    if item.key.endswith(f":{field}"):
                        return item.key
    raise AssertionError(f"no {record_prefix} {field}")


def all_values(answer: dict[str, Any]) -> str:
    return json.dumps(answer)


def pdf_text(answer: dict[str, Any]) -> str:
    """The text WeasyPrint lays out on the PDF's pages (the PDF's own streams are compressed)."""
    from weasyprint import HTML

    texts: list[str] = []

    def walk(box: Any) -> None:
        if getattr(box, "text", None):
            texts.append(box.text)
        for child in getattr(box, "children", []) or []:
            walk(child)

    for page in HTML(string=exports.answer_html(answer)).render().pages:
        walk(page._page_box)
    return " ".join(texts)


# ---------------------------------------------------------------- opening a request


def test_opening_a_request_sets_the_statutory_due_date_and_is_recorded(journey: Journey) -> None:
    sar = open_request(journey)
    assert sar.reference.startswith("SAR-") and sar.status == "open" and sar.handler == journey.user("police")
    assert sar.due_on >= sar.received_on + timedelta(days=28)
    event = Event.objects.get(kind="subject_access.opened")
    assert event.subject_id == sar.pk and event.data["due_on"] == sar.due_on.isoformat()
    assert AccessLogEntry.objects.filter(operation="collection", object_type="subjectaccessrequest",
                                         person=journey.person).exists()


def test_bad_input_opens_nothing_and_says_what_is_wrong(journey: Journey) -> None:
    events = Event.objects.count()
    with pytest.raises(InvalidInput) as problem:
        services.subject_access_request_open(user=journey.user("police"), person=journey.person, requested_by=" ",
                                             received_on=clock.today() + timedelta(days=1))
    assert set(problem.value.errors) == {"requested_by", "received_on"}
    assert "today or in the past" in problem.value.errors["received_on"][0]
    assert not SubjectAccessRequest.objects.exists() and Event.objects.count() == events


def test_someone_who_cannot_see_the_person_is_told_nothing(journey: Journey) -> None:
    with pytest.raises(NotFound):
        open_request(journey, "other_coordinator")
    with pytest.raises(NotFound):
        selectors.rights_person_get(user=journey.user("other_coordinator"), reference=journey.person.reference)
    sar = open_request(journey)
    with pytest.raises(NotFound) as guessed:
        selectors.sar_get(user=journey.user("other_coordinator"), reference=sar.reference)
    assert journey.person.reference not in str(guessed.value)
    assert selectors.sar_list(user=journey.user("other_coordinator")) == []


def test_roles_without_the_permission_are_refused(journey: Journey) -> None:
    for name in ("panel", "provider", "oversight", "referrer"):
        with pytest.raises(AccessDenied):
            open_request(journey, name)
    assert not SubjectAccessRequest.objects.exists()


def test_a_coordinator_who_sees_only_part_of_the_record_cannot_answer_for_it(journey: Journey) -> None:
    # The closed police-led case never reached the panel, so the coordinator cannot see it: an
    # answer they produced would leave it out.
    with pytest.raises(AccessDenied) as refused:
        open_request(journey, "coordinator")
    assert "every case" in str(refused.value)
    assert not SubjectAccessRequest.objects.exists()


# ---------------------------------------------------------------- gathering


def test_everything_held_is_gathered_across_cases_closed_ones_included(journey: Journey) -> None:
    sar = open_request(journey)
    data = selectors.subject_data_for_review(user=journey.user("police"), request=sar)
    text = json.dumps(selectors.redacted_copy(data))
    titles = {s.key: len(s.records) for s in data.sections}
    assert titles["referrals"] == 2 and titles["cases"] == 2
    for expected in (SECRET, NOTE, SESSION_REPORT, "Live police interest", "Grievance drives the behaviour",
                     "Shares violent videos with classmates", "Mentoring sessions", "Rita Referrer",
                     journey.closed_case.reference, "Talks often of unfair treatment"):
        assert expected in text, expected
    assert titles["access_log"] > 0  # who looked at their data is part of the answer
    # What was done on both cases, and when: the event history, the closed case's included.
    events = Event.objects.filter(case__in=[journey.channel_case.pk, journey.closed_case.pk])
    assert titles["history"] == events.count() > 5
    history = next(s for s in data.sections if s.key == "history")
    summaries = [i.value for r in history.records for i in r.items if i.key.endswith(":summary")]
    assert sorted(summaries) == sorted(events.values_list("summary", flat=True))
    assert AccessLogEntry.objects.filter(operation="consultation", person=journey.person,
                                         justification__contains=sar.reference).exists()


# ---------------------------------------------------------------- redaction and the answer


def test_withheld_items_are_absent_from_the_json_and_the_pdf(journey: Journey) -> None:
    police = journey.user("police")
    sar = open_request(journey)
    data = selectors.subject_data_gather(person=journey.person)
    concern = key_of(data, f"referral:{journey.closed_case.referral_id}", "concern")
    referrer = key_of(data, f"referral:{journey.channel_case.referral_id}", "referrer_name")
    note = next(r.key for s in data.sections for r in s.records if r.key.startswith("note:"))
    services.redaction_mark(user=police, request=sar, item=concern, reason="police_source", rationale=REASONS)
    services.redaction_mark(user=police, request=sar, item=referrer, reason="third_party",
                            rationale="The referrer is a third party and has not agreed.")
    services.redaction_mark(user=police, request=sar, item=note, reason="third_party",
                            rationale="The whole note is what a family member told us.")
    answer = services.subject_access_disclose(user=police, request=sar, recipient="The person, by post",
                                              format="json")
    as_json = exports.answer_json(answer).decode()
    as_pdf = pdf_text(answer)
    for withheld in (SECRET, "Rita Referrer", NOTE):
        assert withheld not in as_json and withheld not in as_pdf
    for shown in (SESSION_REPORT, "Ravi Referrer", "[Redacted: sensitive police source or intelligence]",
                  "[Redacted: third-party information]"):
        assert shown in as_json and shown in " ".join(as_pdf.split()), shown
    assert exports.answer_pdf(answer).startswith(b"%PDF")
    # Each step was a recorded decision with its reasons, and an event.
    assert Redaction.objects.filter(request=sar).count() == 3
    assert Event.objects.filter(kind="subject_access.redacted").count() == 3
    assert Event.objects.filter(kind="subject_access.redacted", case=journey.closed_case).exists()


def test_a_redaction_needs_a_listed_ground_and_an_item_of_the_record(journey: Journey) -> None:
    sar = open_request(journey)
    data = selectors.subject_data_gather(person=journey.person)
    concern = key_of(data, "referral:", "concern")
    police = journey.user("police")
    with pytest.raises(InvalidInput) as problem:
        services.redaction_mark(user=police, request=sar, item=concern, reason="embarrassing", rationale="x")
    assert set(problem.value.errors) == {"reason", "rationale"}
    with pytest.raises(InvalidInput) as unknown:
        services.redaction_mark(user=police, request=sar, item="referral:99999:concern", reason="third_party",
                                rationale=REASONS)
    assert "item" in unknown.value.errors
    assert not Redaction.objects.exists()
    services.redaction_mark(user=police, request=sar, item=concern, reason="third_party", rationale=REASONS)
    with pytest.raises(InvalidInput, match="already withheld"):
        services.redaction_mark(user=police, request=sar, item=concern, reason="third_party", rationale=REASONS)


def test_a_released_item_is_back_in_the_answer(journey: Journey) -> None:
    police = journey.user("police")
    sar = open_request(journey)
    concern = key_of(selectors.subject_data_gather(person=journey.person),
                     f"referral:{journey.closed_case.referral_id}", "concern")
    redaction = services.redaction_mark(user=police, request=sar, item=concern, reason="police_source",
                                        rationale=REASONS)
    with pytest.raises(InvalidInput):
        services.redaction_withdraw(user=police, redaction=redaction, rationale="ok")
    services.redaction_withdraw(user=police, redaction=redaction, rationale="The source has since been closed.")
    answer = services.subject_access_disclose(user=police, request=sar, recipient="The person", format="json")
    assert SECRET in all_values(answer)
    assert Redaction.objects.count() == 2  # the first decision stays on record


def test_the_answer_is_logged_as_a_disclosure_to_its_recipient(journey: Journey) -> None:
    sar = open_request(journey)
    services.subject_access_disclose(user=journey.user("police"), request=sar,
                                     recipient="Their solicitor, by recorded post", format="pdf")
    entry = AccessLogEntry.objects.get(operation="disclosure")
    assert entry.recipient == "Their solicitor, by recorded post" and entry.person == journey.person
    assert entry.user == journey.user("police") and sar.reference in entry.justification
    assert Event.objects.filter(kind="subject_access.disclosed", subject_id=sar.pk).exists()


def test_an_answer_without_a_recipient_discloses_nothing(journey: Journey) -> None:
    sar = open_request(journey)
    with pytest.raises(InvalidInput) as problem:
        services.subject_access_disclose(user=journey.user("police"), request=sar, recipient=" ", format="doc")
    assert set(problem.value.errors) == {"recipient", "format"}
    assert not AccessLogEntry.objects.filter(operation="disclosure").exists()


def test_an_extension_moves_the_due_date_once_with_a_reason(journey: Journey) -> None:
    sar = open_request(journey)
    first_due = sar.due_on
    with pytest.raises(InvalidInput):
        services.subject_access_request_extend(user=journey.user("police"), request=sar, months=3,
                                               reason="Complex: four agencies' records to review.")
    sar.refresh_from_db()
    assert sar.extension_months == 0
    sar = services.subject_access_request_extend(user=journey.user("police"), request=sar, months=2,
                                                 reason="Complex: four agencies' records to review.")
    assert sar.due_on > first_due and sar.extension_months == 2
    assert Event.objects.filter(kind="subject_access.extended").get().data["due_before"] == first_due.isoformat()


def test_an_answered_request_is_closed_to_further_redaction(journey: Journey) -> None:
    sar = open_request(journey)
    services.subject_access_request_complete(user=journey.user("police"), request=sar, completed_on=clock.today(),
                                             note="Sent by recorded post")
    item = key_of(selectors.subject_data_gather(person=journey.person), "referral:", "concern")
    with pytest.raises(InvalidInput, match="answered"):
        services.redaction_mark(user=journey.user("police"), request=sar, item=item, reason="third_party",
                                rationale=REASONS)


# ---------------------------------------------------------------- rectification


def rectify(journey: Journey, **overrides: Any) -> Rectification:
    values: dict[str, Any] = dict(user=journey.user("police"), person=journey.person, target="person:date_of_birth",
                                  requested_by="The person, in writing", requested_value="2008-07-15",
                                  outcome="accepted", corrected_value="2008-07-15",
                                  rationale="Birth certificate seen at the meeting on the date below.",
                                  decided_on=clock.today())
    values.update(overrides)
    return services.rectification_decide(**values)


def test_an_accepted_rectification_changes_the_value_and_keeps_the_old_one(journey: Journey) -> None:
    decision = rectify(journey)
    journey.person.refresh_from_db()
    assert journey.person.date_of_birth == "2008-07-15"
    assert decision.recorded_value == "2008-05-17" and decision.corrected_value == "2008-07-15"
    alteration = AccessLogEntry.objects.get(operation="alteration", justification__startswith="Rectification")
    assert alteration.person == journey.person and "Date of birth" in alteration.justification
    # Every case of the person shows it in its history.
    for case in (journey.channel_case, journey.closed_case):
        assert Event.objects.filter(kind="rectification.accepted", case=case).exists()


def test_a_correction_to_a_referral_changes_only_that_referral(journey: Journey) -> None:
    referral = journey.channel_case.referral
    rectify(journey, target=f"referral:{referral.pk}:address", requested_value="2 Test Street",
            corrected_value="2 Test Street")
    referral.refresh_from_db()
    journey.closed_case.referral.refresh_from_db()
    assert referral.address == "2 Test Street" and journey.closed_case.referral.address == "1 Test Street"
    assert Event.objects.filter(kind="rectification.accepted").get().case == journey.channel_case


def test_a_refused_rectification_is_recorded_and_changes_nothing(journey: Journey) -> None:
    decision = rectify(journey, outcome="refused", corrected_value="",
                       rationale="School records and the referral agree on the recorded date.")
    journey.person.refresh_from_db()
    assert journey.person.date_of_birth == "2008-05-17"
    assert decision.outcome == "refused" and decision.recorded_value == "2008-05-17"
    assert not AccessLogEntry.objects.filter(operation="alteration", justification__startswith="Rectification").exists()
    assert Event.objects.filter(kind="rectification.refused").count() == 2


def test_a_bad_rectification_changes_nothing(journey: Journey) -> None:
    with pytest.raises(InvalidInput) as problem:
        rectify(journey, corrected_value="17/05/2008", rationale="")
    assert set(problem.value.errors) == {"corrected_value", "rationale"}
    with pytest.raises(InvalidInput) as unknown:
        rectify(journey, target="person:reference")
    assert "target" in unknown.value.errors
    journey.person.refresh_from_db()
    assert journey.person.date_of_birth == "2008-05-17"
    assert not Rectification.objects.exists() and not AccessLogEntry.objects.filter(operation="alteration", justification__startswith="Rectification").exists()


def test_rectification_is_refused_to_those_who_may_not_handle_it(journey: Journey) -> None:
    with pytest.raises(NotFound):
        rectify(journey, user=journey.user("other_coordinator"))
    with pytest.raises(AccessDenied):
        rectify(journey, user=journey.user("panel"))
    journey.person.refresh_from_db()
    assert journey.person.date_of_birth == "2008-05-17" and not Rectification.objects.exists()


# ---------------------------------------------------------------- pages


def signed_in(client: Client, name: str) -> Client:
    assert client.login(username=name if name != "other_coordinator" else "othercoord", password=PASSWORD)
    return client


def test_the_person_page_links_to_subject_access_for_those_who_handle_it(journey: Journey, client: Client) -> None:
    page = signed_in(client, "police").get(f"/people/{journey.person.reference}").content.decode()
    assert f"/people/{journey.person.reference}/subject-access-request" in page
    panel = Client()
    signed_in(panel, "panel")
    assert "subject-access-request" not in panel.get(f"/people/{journey.person.reference}").content.decode()


def test_opening_a_request_on_the_page(journey: Journey, client: Client) -> None:
    signed_in(client, "police")
    url = f"/people/{journey.person.reference}/subject-access-request"
    bad = client.post(url, {"requested_by": "", "received_on_day": "1", "received_on_month": "1",
                            "received_on_year": str(clock.today().year + 1)})
    assert bad.status_code == 400 and "There is a problem" in bad.content.decode()
    assert not SubjectAccessRequest.objects.exists()
    today = clock.today()
    done = client.post(url, {"requested_by": "The person, by email", "received_on_day": today.day,
                             "received_on_month": today.month, "received_on_year": today.year})
    sar = SubjectAccessRequest.objects.get()
    assert done.status_code == 302 and done["Location"] == f"/subject-access-requests/{sar.reference}"
    listing = client.get("/subject-access-requests/").content.decode()
    assert sar.reference in listing and "Due in" in listing


def test_the_list_shows_an_overdue_request(journey: Journey, client: Client) -> None:
    sar = services.subject_access_request_open(user=journey.user("police"), person=journey.person,
                                               requested_by="The person", received_on=clock.today() - timedelta(days=70))
    page = signed_in(client, "police").get("/subject-access-requests/").content.decode()
    assert sar.reference in page and "Overdue" in page


def test_review_redact_and_download_on_the_pages(journey: Journey, client: Client) -> None:
    sar = open_request(journey)
    signed_in(client, "police")
    review = client.get(f"/subject-access-requests/{sar.reference}")
    assert review.status_code == 200 and SECRET in review.content.decode()
    concern = key_of(selectors.subject_data_gather(person=journey.person),
                     f"referral:{journey.closed_case.referral_id}", "concern")
    redact_url = f"/subject-access-requests/{sar.reference}/redact?item={concern}"
    assert client.get(redact_url).status_code == 200
    bad = client.post(redact_url, {"item": concern, "reason": "", "rationale": ""})
    assert bad.status_code == 400 and "There is a problem" in bad.content.decode() and not Redaction.objects.exists()
    assert client.post(redact_url, {"item": concern, "reason": "police_source", "rationale": REASONS}).status_code == 302
    assert "[Redacted: sensitive police source" in client.get(f"/subject-access-requests/{sar.reference}").content.decode()

    answer_url = f"/subject-access-requests/{sar.reference}/answer"
    missing = client.get(answer_url, {"format": "pdf", "recipient": ""})
    assert missing.status_code == 400 and "Enter who is the copy for" in missing.content.decode()
    pdf = client.get(answer_url, {"format": "pdf", "recipient": "The person, by post"})
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    as_json = client.get(answer_url, {"format": "json", "recipient": "The person, by email"})
    assert as_json.status_code == 200 and SECRET not in as_json.content.decode()
    assert "[Redacted: sensitive police source or intelligence]" in as_json.content.decode()
    recipients = set(AccessLogEntry.objects.filter(operation="disclosure").values_list("recipient", flat=True))
    assert recipients == {"The person, by post", "The person, by email"}


def test_the_download_asks_who_you_are_again(journey: Journey, client: Client) -> None:
    sar = open_request(journey)
    signed_in(client, "police")
    session = client.session
    session[REAUTHENTICATED_AT] = time.time() - 3600
    session.save()
    response = client.get(f"/subject-access-requests/{sar.reference}/answer",
                          {"format": "json", "recipient": "The person"})
    assert response.status_code == 302 and response["Location"].startswith("/confirm-identity?next=")
    assert not AccessLogEntry.objects.filter(operation="disclosure").exists()


def test_pages_refuse_those_who_may_not_see_or_handle_it(journey: Journey, client: Client) -> None:
    sar = open_request(journey)
    signed_in(client, "other_coordinator")
    for url in (f"/subject-access-requests/{sar.reference}", f"/subject-access-requests/{sar.reference}/answer"
                "?format=json&recipient=x", f"/people/{journey.person.reference}/subject-access-request",
                f"/people/{journey.person.reference}/rectification", "/subject-access-requests/SAR-2099-0001"):
        assert client.get(url).status_code == 404, url
    assert journey.person.reference not in client.get("/subject-access-requests/").content.decode()
    panel = Client()
    signed_in(panel, "panel")
    assert panel.get("/subject-access-requests/").status_code == 403
    assert panel.get(f"/subject-access-requests/{sar.reference}").status_code == 403
    assert not AccessLogEntry.objects.filter(operation="disclosure").exists()


def test_rectification_on_the_page_shows_on_the_person_and_case_pages(journey: Journey, client: Client) -> None:
    signed_in(client, "police")
    url = f"/people/{journey.person.reference}/rectification"
    today = clock.today()
    dated = {"decided_on_day": today.day, "decided_on_month": today.month, "decided_on_year": today.year}
    bad = client.post(url, {"target": "person:family_name", "requested_by": "The person", "outcome": "accepted",
                            "corrected_value": "", "rationale": "Passport shows the spelling Okafor-Tess.", **dated})
    assert bad.status_code == 400 and "Enter the corrected value" in bad.content.decode()
    journey.person.refresh_from_db()
    assert journey.person.family_name == "Okafor-Test"
    done = client.post(url, {"target": "person:family_name", "requested_by": "The person", "outcome": "accepted",
                             "corrected_value": "Okafor-Tess", "requested_value": "Okafor-Tess",
                             "rationale": "Passport shows the spelling Okafor-Tess.", **dated})
    assert done.status_code == 302
    journey.person.refresh_from_db()
    assert journey.person.family_name == "Okafor-Tess"
    person_page = client.get(f"/people/{journey.person.reference}").content.decode()
    assert "Corrections to the record" in person_page and "Okafor-Test" in person_page
    case_page = client.get(f"/cases/{journey.channel_case.pk}/").content.decode()
    assert "Rectification accepted: Family name (person record)" in case_page


def test_extend_and_record_the_answer_on_the_pages(journey: Journey, client: Client) -> None:
    sar = open_request(journey)
    signed_in(client, "police")
    extend_url = f"/subject-access-requests/{sar.reference}/extend"
    bad = client.post(extend_url, {"months": "1", "reason": "busy"})
    assert bad.status_code == 400 and "at least 20 characters" in bad.content.decode()
    assert client.post(extend_url, {"months": "1", "reason": "Complex: four agencies' records to review."}
                       ).status_code == 302
    sar.refresh_from_db()
    assert sar.extension_months == 1
    today = clock.today()
    detail = f"/subject-access-requests/{sar.reference}"
    future = client.post(detail, {"complete": "1", "completed_on_day": "1", "completed_on_month": "1",
                                  "completed_on_year": today.year + 1})
    assert future.status_code == 400 and "There is a problem" in future.content.decode()
    sar.refresh_from_db()
    assert sar.status == "open"
    assert client.post(detail, {"complete": "1", "completed_on_day": today.day, "completed_on_month": today.month,
                                "completed_on_year": today.year, "note": "Sent by post"}).status_code == 302
    sar.refresh_from_db()
    assert sar.status == "completed" and "Answered" in client.get(detail).content.decode()


def test_a_request_holds_every_case_of_the_person_from_disposal_until_it_is_answered(journey: Journey) -> None:
    from casetrail.cases.models import RetentionHold

    sar = open_request(journey)
    held = RetentionHold.objects.filter(reason_kind="subject_access", lifted_on=None)
    assert {h.case_id for h in held} == {journey.channel_case.pk, journey.closed_case.pk}
    assert all(sar.reference in h.reason for h in held)
    services.subject_access_request_complete(user=journey.user("police"), request=sar, completed_on=clock.today(),
                                             note="Sent by recorded delivery.")
    assert not RetentionHold.objects.filter(reason_kind="subject_access", lifted_on=None).exists()
    lifted = RetentionHold.objects.filter(reason_kind="subject_access")
    assert lifted.count() == 2 and all(sar.reference in h.lift_reason for h in lifted)


def test_a_hold_placed_for_another_reason_stays_when_the_request_is_answered(journey: Journey) -> None:
    from casetrail.cases.models import RetentionHold
    from casetrail.cases.services import retention_hold_place

    retention_hold_place(user=journey.user("police"), case=journey.closed_case, reason_kind="litigation",
                         reason="Civil claim issued against the force; keep everything.", placed_on=clock.today())
    sar = open_request(journey)
    services.subject_access_request_complete(user=journey.user("police"), request=sar, completed_on=clock.today(),
                                             note="Sent by recorded delivery.")
    assert list(RetentionHold.objects.filter(lifted_on=None).values_list("reason_kind", flat=True)) == ["litigation"]
