"""HTML and script typed into any free-text field is shown as text on every page, never run.

Each user-filled text field gets its own tagged payload through the real services; every page that
shows case data is rendered and parsed, and the payload must appear as text, never as markup (the
HTML the subject access answer's PDF is made from included). The list of fields comes from the models,
so a new free-text field fails here until it is covered, and each field must show where a reader
looks for it (WHERE_SHOWN).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from html.parser import HTMLParser
from typing import Any

import pytest
from django.apps import apps
from django.db import models
from django.test import Client

from casetrail.accounts.services import user_create
from casetrail.cases import services
from casetrail.cases.models import Case
from casetrail.clock import frozen_at
from casetrail.core import frameworks
from casetrail.core.codes import PANEL_REVIEW_OUTCOMES
from casetrail.core.dates import add_months
from casetrail.core.errors import InvalidInput
from casetrail.people.models import DuplicateCandidate
from casetrail.people.services import duplicate_dismiss, duplicates_record
from casetrail.referrals.attachments import UploadedFile
from casetrail.referrals.services import referral_submit
from casetrail.retention.services import retention_review_record
from casetrail.rights import exports
from casetrail.rights import services as rights
from casetrail.rights.models import Redaction
from casetrail.web.auth_views import REAUTHENTICATED_AT

from .conftest import PASSWORD, World, moment, referral_input

# Fields too short for the whole payload (the service refuses longer text) carry a short one.
SHORT_TAGS = {"referrals.Referral.referrer_phone": "phone"}


def payload(tag: str) -> str:
    if tag in SHORT_TAGS:
        return f'<script>alert("{SHORT_TAGS[tag]}")</script>"\'>'
    return f'<script>alert("{tag}")</script><img src=x onerror=alert(1)>"\'><svg onload=alert(1)>'


def shown(tag: str) -> str:
    """What a reader sees when the payload is rendered inertly: the same characters, as text."""
    return f'<script>alert("{SHORT_TAGS.get(tag, tag)}")</script>'


# Apps whose models hold what people type about a case, the people in it and who did what.
APPS = ["accounts", "referrals", "cases", "people", "providers", "notifications", "audit", "retention", "rights"]

# Text fields nobody types into, or typed only in a checked format, each with the reason.
NOT_FREE_TEXT: dict[str, str] = {
    **{f"accounts.Agency.{n}": r for n, r in [
        ("kind", "a code from AgencyKind")]},
    **{f"accounts.User.{n}": r for n, r in [
        ("password", "a hash; never shown"), ("username", "set by administrators; Django's validator allows "
                                              "letters, digits and @.+-_ only"),
        ("email", "checked as an email address")]},
    **{f"accounts.ApiToken.{n}": r for n, r in [
        ("key_hash", "a hash"), ("prefix", "generated"), ("name", "shown only to its owner as plain text; "
                                                          "named by the service issuing it")]},
    **{f"referrals.Referral.{n}": r for n, r in [
        ("reference", "generated"), ("referrer_email", "checked as an email address"),
        ("referrer_sector", "a code from SECTORS"), ("date_of_birth", "a partial date, parsed"),
        ("sex", "a code from SEX"), ("postcode", "checked against the postcode pattern"),
        ("nhs_number", "10 digits with a valid check digit (python-stdnum), stored compact"),
        ("upn", "a letter, 11 digits and a digit or letter, with a valid check letter (python-stdnum)"),
        ("code_list_version", "set by the service"), ("urgency", "a code from URGENCY"),
        ("person_aware", "a code from PERSON_AWARE")]},
    **{f"referrals.Attachment.{n}": r for n, r in [
        ("stored_name", "generated random hex"), ("content_type", "from the sniffed type's allow-list"),
        ("sha256", "computed")]},
    **{f"referrals.IdempotencyRecord.{n}": r for n, r in [
        ("key", "the retry key from a header: matched, never displayed"), ("request_hash", "computed")]},
    **{f"people.Person.{n}": r for n, r in [
        ("reference", "generated"), ("date_of_birth", "a partial date, parsed"), ("sex", "a code from SEX")]},
    "people.SearchKey.kind": "a code", "people.SearchKey.value": "normalised search key, never displayed",
    **{f"people.DuplicateCandidate.{n}": r for n, r in [
        ("model_trained_at", "set by the linkage job"), ("status", "a code")]},
    **{f"cases.Case.{n}": r for n, r in [
        ("reference", "generated"), ("stage", "a Stage code"), ("outcome", "set by the lifecycle")]},
    **{f"cases.Decision.{n}": r for n, r in [
        ("type", "a DecisionType code"), ("outcome", "a code checked by the service"),
        ("author_role", "the author's role code")]},
    **{f"cases.Consent.{n}": r for n, r in [
        ("giver", "a code"), ("withdrawal_consequence", "a code checked by the service")]},
    **{f"cases.Assessment.{n}": r for n, r in [
        ("framework_key", "a framework's key"), ("framework_version", "a framework's version"),
        ("status", "a code")]},
    "cases.SupportAction.status": "a code", "cases.Session.status": "a code",
    "cases.Review.kind": "a code", "cases.Review.outcome": "a code checked by the service",
    "cases.HandOver.target_type": "a code checked by the service", "cases.HandOver.status": "a code",
    "cases.ReferrerConsultation.method": "a code", "cases.VulnerabilityWaiver.code": "a framework factor code",
    "cases.RetentionHold.reason_kind": "a code",
    "providers.ProviderOrganisation.status": "a code", "providers.ProviderWorker.status": "a code",
    **{f"notifications.Message.{n}": r for n, r in [
        ("kind", "a code"), ("dedupe_key", "ids"), ("status", "a code"),
        ("subject", "composed by the service from the case reference only"),
        ("body", "composed by the service from the case reference and link only (docs/notifications.md)"),
        ("last_error", "the delivery backend's error"), ("backend_reference", "the delivery backend's id")]},
    **{f"audit.{m}.{n}": "computed by the audit chain" for m in ("Event", "AccessLogEntry")
       for n in ("prev_hash", "entry_hash")},
    "audit.ChainHead.chain": "a chain name", "audit.ChainHead.entry_hash": "computed",
    "audit.AccessLogEntry.payload_digest": "computed", "audit.AccessLogEntry.payload_salt": "generated",
    **{f"audit.Event.{n}": r for n, r in [
        ("kind", "a code"), ("subject_type", "a model label"), ("actor_role", "a role code"),
        ("summary", "composed by the services from references and codes; rendered on the case page below")]},
    **{f"audit.AccessLogEntry.{n}": r for n, r in [
        ("role", "role codes"), ("operation", "a code"), ("object_type", "a model label"),
        ("object_id", "an id"), ("channel", "a code"),
        ("request_id", "the request id header, shown only as text on the audit log"),
        ("justification", "composed by the services; break-glass reasons are exercised on the grant")]},
}

# System-set fields of retention reviews, tombstones and data-subject rights; their typed-in fields
# (review reasons, who asked, reasons, values, notes and the answer's recipient) get a payload in build().
NOT_FREE_TEXT.update({
    **{f"retention.RetentionReview.{n}": "a code set by the service" for n in ("decided_role", "decision",
                                                                             "retention_class")},
    **{f"retention.Tombstone.{n}": "copied references and codes, set by the disposal service" for n in (
        "case_reference", "disposed_role", "person_reference", "referral_reference", "retention_class")},
    **{f"rights.Rectification.{n}": "a code or label set by the service" for n in (
        "author_role", "field", "field_label", "outcome", "target_type")},
    "cases.HandOver.transfer_kind": "a code from HandOver.TransferKind; the service refuses any other",
    "cases.SignificantEvent.kind": "a code from SignificantEvent.Kind; the service refuses any other",
    "cases.SignificantEvent.recorded_role": "a role code set by the service",
    "cases.PossibleMatch.model_version": "the matching model's training time and file digest, set by the "
                                         "matching service",
    "rights.Redaction.author_role": "a role code",
    "cases.StoredFindings.generation": "a digest computed by the service",
    "rights.Redaction.item": "the key of an item of the person's record; the service refuses any other "
                             "(test_redaction_codes_and_items_refuse_typed_in_text)",
    "rights.Redaction.reason": "a code from RedactionReason; the service refuses any other "
                               "(test_redaction_codes_and_items_refuse_typed_in_text)",
    "rights.SubjectAccessRequest.reference": "generated", "rights.SubjectAccessRequest.status": "a code",
})

# Fields the services copy from another field, with the field whose tagged payload they carry.
COPIED: dict[str, str] = {
    "people.Person.given_names": "referrals.Referral.given_names",
    "people.Person.family_name": "referrals.Referral.family_name",
    # The value the referral held before the accepted correction; the referral now holds the corrected one.
    "rights.Rectification.recorded_value": "referrals.Referral.school_or_workplace",
}

# User-filled fields that are recorded but, by design, shown on no page (so their payload is never rendered).
NOT_DISPLAYED: dict[str, str] = {
    "accounts.Agency.region": "an administrator's grouping, not shown on case pages",
    "accounts.User.phone": "contact detail kept for administrators",
}


def free_text_fields() -> list[str]:
    found = []
    for label in APPS:
        try:
            config = apps.get_app_config(label)
        except LookupError:
            continue
        for model in config.get_models():
            for f in model._meta.get_fields():
                if isinstance(f, models.CharField | models.TextField):
                    found.append(f"{label}.{model.__name__}.{f.name}")
    return sorted(found)


@dataclass
class Hostile:
    case: Case
    signposted: Case
    exercised: set[str] = field(default_factory=set)
    pages: dict[str, tuple[str, str]] = field(default_factory=dict)  # label -> (username, url)
    answer: dict[str, Any] = field(default_factory=dict)  # the subject access answer, as disclosed


def build(world: World, client: Client) -> Hostile:  # noqa: PLR0915 - one journey, told in order
    u = world.users
    done: set[str] = set()

    def p(name: str) -> str:
        done.add(name)
        return payload(name)

    today = date.today()
    base = today - timedelta(days=420)
    # People and agencies as administrators or a single sign-on provider may name them.
    chair = user_create(username="hostilechair", password=PASSWORD, first_name=p("accounts.User.first_name"),
                        last_name=p("accounts.User.last_name"), email="chair2@example.org", agency=world.council,
                        roles=["panel_chair"], job_title=p("accounts.User.job_title"))
    from casetrail.accounts.services import agency_create
    hostile_school = agency_create(name=p("accounts.Agency.name"), kind="school")
    teacher = user_create(username="hostileteacher", password=PASSWORD, first_name="Tia", last_name="Tester",
                          email="tia@example.org", agency=hostile_school, roles=["referrer"], job_title="Teacher")

    with frozen_at(moment(base)):
        referral_fields = ["referrer_name", "referrer_job_title", "referrer_phone", "referrer_organisation",
                           "given_names", "family_name", "other_names", "address", "school_or_workplace",
                           "concern", "discussed_with"]
        data = referral_input(world, **{n: p(f"referrals.Referral.{n}") for n in referral_fields})
        referral, _ = referral_submit(user=teacher, data=data, attachments=[
            UploadedFile(p("referrals.Attachment.original_name") + ".txt", b"notes")])
        case = referral.case
        services.gateway_decide(
            user=u["police"], case=case, expected_version=None, deconfliction_done=True, database_checks_done=True,
            referrer_contacted_on=base, referrer_contact_summary=p("detail:referrer_contact_summary"),
            outcome="refer_to_panel", signposted_to="", rationale=p("cases.Decision.rationale"), decided_on=base)
        meeting = services.panel_meeting_create(user=u["coordinator"], meets_on=base, chair=chair,
                                                location=p("cases.PanelMeeting.location"))
        services.agenda_add(user=u["coordinator"], meeting=meeting, case=case)
        question = services.information_request_create(user=u["coordinator"], case=case, to_agency=world.nhs,
                                                       question=p("cases.InformationRequest.question"),
                                                       requested_on=base)
        services.information_request_reply(user=u["panel"], request=question,
                                           reply=p("cases.InformationRequest.reply"), replied_on=base)
        open_question = services.information_request_create(user=u["coordinator"], case=case, to_agency=world.nhs,
                                                            question=p("cases.InformationRequest.question") + " 2",
                                                            requested_on=base)
        services.panel_decide(user=chair, case=case, expected_version=None, adopt=True,
                              attendees=[p("decision.attendees"), "Police officer, CTP"],
                              dissent=p("cases.Decision.dissent"), signposted_to="",
                              rationale=p("cases.Decision.rationale"), decided_on=base)
        services.consent_record(user=u["coordinator"], case=case, expected_version=None, given=True,
                                giver="parent_carer", giver_name=p("cases.Consent.giver_name"),
                                capacity_confirmed=True, capacity_notes=p("cases.Consent.capacity_notes"),
                                scope=p("cases.Consent.scope"), given_on=base)
        framework = frameworks.current_framework(base)
        assessment = services.assessment_start(user=u["coordinator"], case=case)
        first, second = framework.factors[0].code, framework.factors[1].code
        judgements: dict[str, dict[str, Any]] = {
            f.code: {"present": False, "evidence": "", "nature": None} for f in framework.factors}
        judgements[first] = {"present": True, "evidence": p("assessment.evidence"), "nature": "underlying_cause"}
        judgements[second] = {"present": True, "evidence": p("assessment.evidence") + " 2",
                              "nature": "presenting_behaviour"}
        assessment = services.assessment_save(user=u["coordinator"], assessment=assessment, expected_version=None,
                                              judgements=judgements, summary=p("cases.Assessment.summary"))
        services.assessment_submit(user=u["coordinator"], assessment=assessment, expected_version=None,
                                   assessed_on=base)
        tasking = services.tasking_commission(user=u["coordinator"], case=case, provider_user=u["provider"],
                                              sessions_commissioned=2, purpose=p("cases.Tasking.purpose"),
                                              vulnerabilities=[first], commissioned_on=base)
        services.tasking_acknowledge(user=u["provider"], tasking=tasking, acknowledged_on=base)
        services.session_record(user=u["provider"], tasking=tasking, held_on=base,
                                report=p("cases.Session.report"))
        services.session_cancel(user=u["provider"], tasking=tasking, cancelled_on=base,
                                reason=p("cases.Session.cancellation_reason"))
        action = services.support_action_add(user=u["coordinator"], case=case,
                                             description=p("cases.SupportAction.description"),
                                             vulnerabilities=[first], owner_user=u["coordinator"],
                                             due_on=base + timedelta(days=30))
        services.support_action_complete(user=u["coordinator"], action=action, status="done", completed_on=base,
                                         note=p("cases.SupportAction.completion_note"))
        open_action = services.support_action_add(user=u["coordinator"], case=case,
                                                  description=p("cases.SupportAction.description") + " 2",
                                                  vulnerabilities=[first], owner_user=u["coordinator"],
                                                  due_on=base + timedelta(days=60))
        services.vulnerability_waiver_record(user=chair, case=case, code=second,
                                             reason=p("cases.VulnerabilityWaiver.reason"), approved_on=base)
        services.panel_review_record(user=chair, case=case, expected_version=None, held_on=base,
                                     outcome=next(iter(PANEL_REVIEW_OUTCOMES)),
                                     notes=p("cases.Review.notes"), attendees=["Chair, LA", "Officer, CTP"])
        services.referrer_consultation_record(user=u["coordinator"], case=case, consulted_on=base, method="phone",
                                              summary=p("cases.ReferrerConsultation.summary"))
        services.case_note_record(user=u["coordinator"], case=case, noted_on=base, text=p("cases.CaseNote.text"))
        services.significant_event_record(user=u["coordinator"], case=case, kind="partner_information",
                                          occurred_on=base, source=p("cases.SignificantEvent.source"),
                                          summary=p("cases.SignificantEvent.summary"))
        declined = services.handover_offer(user=u["coordinator"], case=case, target_type="support_action",
                                           target_id=open_action.pk, to_user=u["panel"],
                                           reason=p("cases.HandOver.reason"))
        services.handover_respond(user=u["panel"], handover=declined, accept=False,
                                  note=p("cases.HandOver.response_note"))
        # Only someone who may own the work is offered it: the case, to another council's coordinator.
        pending = services.handover_offer(user=u["coordinator"], case=case, target_type="case",
                                          target_id=case.pk, to_user=u["other_coordinator"],
                                          reason=p("cases.HandOver.reason") + " 2")
        services.support_action_complete(user=u["coordinator"], action=open_action, status="done",
                                         completed_on=base, note=p("cases.SupportAction.completion_note") + " 2")
    exited_on = base + timedelta(days=2)
    with frozen_at(moment(exited_on)):
        services.case_exit(user=chair, case=case, expected_version=None, exited_on=exited_on,
                           rationale=p("cases.Decision.rationale"), residual_concerns=p("detail:residual_concerns"),
                           onward_support=p("detail:onward_support"), attendees=["Chair, LA", "Officer, CTP"],
                           dissent=p("cases.Decision.dissent"), minimum_period_reason=p("detail:minimum_period"))
    for months in (6, 12):
        due = add_months(exited_on, months)
        with frozen_at(moment(due)):
            services.post_exit_review_record(user=u["police"], case=case, expected_version=None, months=months,
                                             held_on=due, outcome="no_concerns", notes=p("cases.Review.notes"))
    closed_on = add_months(exited_on, 12)
    with frozen_at(moment(closed_on)):
        services.case_close(user=u["coordinator"], case=case, expected_version=None, closed_on=closed_on,
                            rationale=p("cases.Decision.rationale"))
    hold = services.retention_hold_place(user=u["coordinator"], case=case, reason_kind="review",
                                         reason=p("cases.RetentionHold.reason"), placed_on=today)
    services.retention_hold_lift(user=u["coordinator"], hold=hold, reason=p("cases.RetentionHold.lift_reason"),
                                 lifted_on=today)
    services.retention_hold_place(user=u["coordinator"], case=case, reason_kind="review",
                                  reason=p("cases.RetentionHold.reason") + " 2", placed_on=today)

    # A second referral, signposted at the gateway, and the consent withdrawn on the way there is not
    # possible: consent withdrawal is exercised on a third case in support.
    second_ref, _ = referral_submit(user=u["referrer"], data=referral_input(world, given_names="Sam",
                                                                             family_name="Okafor-Test"))
    signposted = second_ref.case
    services.gateway_decide(user=u["police"], case=signposted, expected_version=None, deconfliction_done=True,
                            database_checks_done=True, referrer_contacted_on=None, referrer_contact_summary="",
                            outcome="signpost", signposted_to=p("detail:signposted_to"),
                            rationale=p("cases.Decision.rationale"), decided_on=today)
    services.signposting_reply(user=u["police"], case=signposted, expected_version=None, accepted=True,
                               service_contact=p("detail:service_contact"), rationale=p("cases.Decision.rationale"),
                               replied_on=today)
    from .conftest import case_in_support
    third = case_in_support(world)
    services.consent_withdraw(user=u["coordinator"], case=third, expected_version=None, withdrawn_on=today,
                              reason=p("cases.Consent.withdrawal_reason"), consequence="police_led")

    duplicates_record(pairs=[{"person_a": case.person_id, "person_b": signposted.person_id,
                              "match_probability": 0.9, "evidence": []}])
    pair = DuplicateCandidate.objects.get()
    duplicate_dismiss(user=u["admin"], candidate=pair, reason=p("people.DuplicateCandidate.review_reason"))

    far = agency_create(name="Farshire Council", kind="local_authority", police_force=world.police)
    outsider = user_create(username="outsider", password=PASSWORD, first_name="Ola", last_name="Tester",
                           email="ola@example.org", agency=far, roles=["channel_coordinator"], job_title="Lead")
    grant = services.break_glass_grant(user=outsider, reference=signposted.reference,
                                       reason=p("cases.BreakGlassGrant.reason"), hours=1)
    services.break_glass_review(user=u["oversight"], grant=grant, note=p("cases.BreakGlassGrant.review_note"))
    services.break_glass_grant(user=outsider, reference=case.reference,
                               reason=p("cases.BreakGlassGrant.reason") + " 2", hours=1)

    # Retention: a review decision to retain, with its typed-in reason, due again within the queue's notice.
    retention_review_record(user=u["police"], case=case, decision="retain",
                            reason=p("retention.RetentionReview.reason"), next_review_on=today + timedelta(days=10))

    # Subject access and rectification, handled by the force's Prevent officer (who sees every case of the person).
    person = case.person
    sar = rights.subject_access_request_open(user=u["police"], person=person,
                                             requested_by=p("rights.SubjectAccessRequest.requested_by"),
                                             received_on=today - timedelta(days=3))
    sar = rights.subject_access_request_extend(user=u["police"], request=sar, months=1,
                                               reason=p("rights.SubjectAccessRequest.extension_reason"))
    note_item = f"note:{case.notes.get().pk}:text"
    redaction = rights.redaction_mark(user=u["police"], request=sar, item=note_item, reason="third_party",
                                      rationale=p("rights.Redaction.rationale"))
    rights.redaction_withdraw(user=u["police"], redaction=redaction, rationale=p("rights.Redaction.rationale") + " 2")
    consultation = case.consultations.get(summary=payload("cases.ReferrerConsultation.summary"))
    rights.redaction_mark(user=u["police"], request=sar, item=f"consultation:{consultation.pk}:summary",
                          reason="third_party", rationale=p("rights.Redaction.rationale") + " 3")
    # Accepted, so the referral's school now holds the corrected value and the payload it held before is
    # shown only as the rectification's recorded value.
    rights.rectification_decide(
        user=u["police"], person=person, target=f"referral:{referral.pk}:school_or_workplace",
        requested_by=p("rights.Rectification.requested_by"), requested_value=p("rights.Rectification.requested_value"),
        outcome="accepted", corrected_value=p("rights.Rectification.corrected_value"),
        rationale=p("rights.Rectification.rationale"), decided_on=today, request=sar)
    referral.refresh_from_db()
    assert referral.school_or_workplace == payload("rights.Rectification.corrected_value")
    answer = rights.subject_access_disclose(user=u["police"], request=sar, recipient=p("audit.AccessLogEntry.recipient"),
                                            format="pdf")
    rights.subject_access_request_complete(user=u["police"], request=sar, completed_on=today,
                                           note=p("rights.SubjectAccessRequest.completion_note"))
    done.update(COPIED)

    window = {"start_day": str(base.day), "start_month": str(base.month), "start_year": str(base.year),
              "end_day": str(today.day), "end_month": str(today.month), "end_year": str(today.year)}
    from urllib.parse import urlencode
    hostile = Hostile(case=case, signposted=signposted, exercised=done, answer=answer)
    hostile.pages = {
        "case page (police)": ("police", f"/cases/{case.pk}/"),
        "case page (coordinator)": ("coordinator", f"/cases/{case.pk}/"),
        "signposted case page": ("police", f"/cases/{signposted.pk}/"),
        "withdrawn consent case page": ("coordinator", f"/cases/{third.pk}/"),
        "case page through break glass": ("outsider", f"/cases/{case.pk}/"),
        "case list": ("coordinator", "/cases/"),
        "person page": ("police", f"/people/{case.person.reference}"),
        "my work (coordinator)": ("coordinator", "/my-work"),
        "my work (police)": ("police", "/my-work"),
        "my work (other coordinator)": ("other_coordinator", "/my-work"),
        "my work (provider)": ("provider", "/my-work"),
        "my work (panel member)": ("panel", "/my-work"),
        "my referrals": ("hostileteacher", "/my-referrals"),
        "referral confirmation": ("hostileteacher", f"/referrals/new/confirmation/{referral.reference}"),
        "search echoing a hostile query": ("police", "/search?" + urlencode({"q": payload("referrals.Referral.family_name")})),
        "search by reference": ("police", "/search?" + urlencode({"q": case.reference})),
        "tasking page": ("provider", f"/taskings/{tasking.pk}"),
        "panel meetings": ("coordinator", "/panel-meetings/"),
        "panel meeting page": ("coordinator", f"/panel-meetings/{meeting.pk}"),
        "information request": ("panel", f"/information-requests/{open_question.pk}"),
        "hand-over": ("other_coordinator", f"/handovers/{pending.pk}"),
        "assessment": ("coordinator", f"/cases/{case.pk}/assessment/{assessment.pk}"),
        "duplicates": ("admin", "/people/duplicates"),
        "duplicate review": ("admin", f"/people/duplicates/{pair.pk}"),
        "break-glass queue": ("oversight", "/audit/break-glass"),
        "access log": ("oversight", "/audit/log?" + urlencode({**window, "case": case.reference})),
        "unusual access": ("oversight", "/audit/unusual"),
        "access log for the person": ("oversight", "/audit/log?" + urlencode({**window, "person": person.reference})),
        "retention queue": ("police", "/retention/"),
        "retention review": ("police", f"/retention/cases/{case.pk}"),
        "disposal confirmation (held)": ("police", f"/retention/cases/{case.pk}/dispose"),
        "subject access requests": ("police", "/subject-access-requests/"),
        "subject access request": ("police", f"/subject-access-requests/{sar.reference}"),
        "withhold an item": ("police", f"/subject-access-requests/{sar.reference}/redact?"
                             + urlencode({"item": note_item})),
        "produce the answer": ("police", f"/subject-access-requests/{sar.reference}/answer"),
    }
    return hostile


# Typed in here, but by design not shown as typed on any page, each with the reason.
NOT_ON_THESE_PAGES: dict[str, str] = {
    "referrals.Attachment.original_name": "the payload holds '/', so only what follows the last one is kept",
}

# Pages that list work or cases by reference and date only, so no typed-in text reaches them.
REFERENCES_ONLY: list[str] = ["my work (other coordinator)", "my work (provider)", "my work (panel member)",
                              "search echoing a hostile query", "duplicates", "unusual access",
                              "subject access requests", "produce the answer"]

# Where a reader expects to find what was typed: each field must show, as text, on this page.
WHERE_SHOWN: dict[str, str] = {
    "accounts.User.job_title": "case page (coordinator)",  # beside the decisions the user made
    "cases.CaseNote.text": "case page (coordinator)",
    "cases.SignificantEvent.source": "case page (coordinator)",
    "cases.SignificantEvent.summary": "case page (coordinator)",
    "cases.Consent.capacity_notes": "case page (coordinator)",
    "cases.HandOver.response_note": "case page (coordinator)",
    "cases.ReferrerConsultation.summary": "case page (coordinator)",
    "cases.SupportAction.completion_note": "case page (coordinator)",
    "referrals.Referral.discussed_with": "case page (police)",
    "detail:referrer_contact_summary": "case page (police)",
    "detail:residual_concerns": "case page (coordinator)",
    "detail:onward_support": "case page (coordinator)",
    "detail:minimum_period": "case page (coordinator)",
    "detail:signposted_to": "signposted case page",
    "detail:service_contact": "signposted case page",
    "retention.RetentionReview.reason": "retention review",
    "rights.SubjectAccessRequest.requested_by": "subject access request",
    "rights.SubjectAccessRequest.extension_reason": "subject access request",
    "rights.SubjectAccessRequest.completion_note": "subject access request",
    "rights.Redaction.rationale": "subject access request",
    "rights.Rectification.requested_by": "person page",
    "rights.Rectification.requested_value": "person page",
    "rights.Rectification.corrected_value": "person page",
    "rights.Rectification.rationale": "person page",
    "rights.Rectification.recorded_value": "person page",
    "audit.AccessLogEntry.recipient": "access log for the person",
}


class Page(HTMLParser):
    """What a browser would make of the page: elements, attributes, scripts and the visible text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.scripts: list[str] = []
        self.problems: list[str] = []
        self.inputs: dict[str, str] = {}  # name -> value, as the browser fills the field in
        self._in: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"<{tag} {name}={value!r}>: an event handler")
            if value and "alert(" in value and name != "value":
                self.problems.append(f"<{tag} {name}={value!r}>: payload in an attribute")
        if tag == "img" and ("src", "x") in attrs:
            self.problems.append("<img src=x>: markup from the payload")
        if tag == "input":
            named = dict(attrs)
            self.inputs[named.get("name") or ""] = named.get("value") or ""
        if tag in ("script", "style", "textarea", "title"):
            self._in.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if self._in and self._in[-1] == tag:
            self._in.pop()

    def handle_data(self, data: str) -> None:
        if self._in and self._in[-1] in ("script", "style"):
            self.scripts.append(data)
            if "alert(" in data:
                self.problems.append(f"a script element carries the payload: {data[:80]!r}")
        else:
            self.text.append(data)


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def sign_in(client: Client, username: str) -> None:
    client.logout()
    assert client.login(username=username, password=PASSWORD)
    session = client.session
    session[REAUTHENTICATED_AT] = time.time()  # as if the password had just been given again
    session.save()


def render(client: Client, username: str, url: str) -> tuple[Page, str]:
    sign_in(client, username)
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert response["Content-Type"].startswith("text/html")
    html = response.content.decode()
    return parse(html), html


@pytest.fixture
def hostile(world: World, client: Client, settings: Any, tmp_path: Any) -> Hostile:
    settings.MEDIA_ROOT = tmp_path / "uploads"
    return build(world, client)


def test_every_free_text_field_is_exercised_or_explained(world: World, client: Client, hostile: Hostile) -> None:
    fields = free_text_fields()
    model_fields = {name for name in hostile.exercised if not name.startswith(("detail:", "decision.", "assessment."))}
    unknown = set(NOT_FREE_TEXT) | set(NOT_DISPLAYED) | model_fields
    assert not unknown - set(fields), f"listed here but no longer in the models: {sorted(unknown - set(fields))}"
    missing = [name for name in fields if name not in unknown]
    assert not missing, (
        "free-text fields with no hostile input in this test; give them a payload in build() or list them in "
        f"NOT_FREE_TEXT with the reason: {missing}")
    assert not set(NOT_FREE_TEXT) & model_fields


def test_payloads_in_every_field_are_shown_as_text_on_every_page(world: World, client: Client,
                                                                 hostile: Hostile) -> None:
    seen: set[str] = set()
    blank: list[str] = []
    texts: dict[str, str] = {}
    for label, (username, url) in hostile.pages.items():
        page, html = render(client, world.users[username].username if username in world.users else username, url)
        assert not page.problems, (label, page.problems[:5])
        assert "<script>alert(" not in html and "<svg onload" not in html and "<img src=x" not in html, label
        text = texts[label] = "".join(page.text)
        found = {tag for tag in hostile.exercised if shown(tag) in text}
        if found:
            # Escaped, so the reader sees exactly what was typed.
            assert "&lt;script&gt;alert(" in html, label
        else:
            blank.append(label)
        seen |= found
    assert blank == REFERENCES_ONLY, f"pages showing none of the hostile text (list them if by design): {blank}"
    seen |= {copy for copy, source in COPIED.items() if source in seen}
    never = hostile.exercised - seen - set(NOT_DISPLAYED) - set(NOT_ON_THESE_PAGES)
    assert not never, f"typed in but shown on none of the pages rendered: {sorted(never)}"
    misplaced = {name: page for name, page in WHERE_SHOWN.items()
                 if shown(COPIED.get(name, name)) not in texts[page]}
    assert not misplaced, f"not shown where a reader looks for it: {misplaced}"
    assert not set(NOT_ON_THESE_PAGES) & set(WHERE_SHOWN)


def test_the_search_echoes_the_hostile_query_as_the_text_of_its_field(world: World, client: Client,
                                                                      hostile: Hostile) -> None:
    _, url = hostile.pages["search echoing a hostile query"]
    page, html = render(client, "police", url)
    assert page.inputs["q"] == payload("referrals.Referral.family_name")  # what was typed, as the field's value
    assert 'value="&lt;script&gt;alert(&quot;referrals.Referral.family_name&quot;)' in html
    assert not page.problems and "<script>alert(" not in html


def test_the_subject_access_answer_for_the_pdf_is_escaped_html(world: World, client: Client,
                                                               hostile: Hostile) -> None:
    html = exports.answer_html(hostile.answer)
    page = parse(html)
    assert not page.problems, page.problems[:5]
    assert "<script>alert(" not in html and "<svg onload" not in html and "<img src=x" not in html
    text = "".join(page.text)
    for tag in ("audit.AccessLogEntry.recipient", "rights.Rectification.corrected_value", "cases.CaseNote.text",
                "referrals.Referral.concern", "cases.Decision.rationale"):
        assert shown(tag) in text, tag
    # The withheld consultation summary is not in the answer at all; the released note is.
    assert shown("cases.ReferrerConsultation.summary") not in text and "[Redacted:" in text


def test_the_subject_access_answer_as_json_is_a_download_of_plain_data(world: World, client: Client,
                                                                       hostile: Hostile) -> None:
    sar = hostile.case.person.subject_access_requests.get()
    sign_in(client, "police")
    response = client.get(f"/subject-access-requests/{sar.reference}/answer",
                          {"format": "json", "recipient": payload("audit.AccessLogEntry.recipient") + " 2"})
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json" and response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == f'attachment; filename="{sar.reference}.json"'
    body = json.loads(response.content)
    assert body["request"]["recipient"] == payload("audit.AccessLogEntry.recipient") + " 2"


def test_redaction_codes_and_items_refuse_typed_in_text(world: World, client: Client, hostile: Hostile) -> None:
    sar = hostile.case.person.subject_access_requests.get()
    before = Redaction.objects.count()
    note_item = f"note:{hostile.case.notes.get().pk}:text"
    with pytest.raises(InvalidInput) as bad_item:
        rights.redaction_mark(user=world.users["police"], request=sar, item=payload("item"), reason="third_party",
                              rationale="Names the neighbour who reported the concern.")
    assert "item" in bad_item.value.errors
    with pytest.raises(InvalidInput) as bad_reason:
        rights.redaction_mark(user=world.users["police"], request=sar, item=note_item, reason=payload("reason"),
                              rationale="Names the neighbour who reported the concern.")
    assert "reason" in bad_reason.value.errors
    assert Redaction.objects.count() == before


def test_the_api_returns_the_payload_as_plain_json_data(world: World, client: Client, hostile: Hostile) -> None:
    token = world.token("police")
    response = client.get(f"/api/v1/cases/{hostile.case.pk}", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json; charset=utf-8"
    body = json.loads(response.content)
    assert shown("cases.Decision.rationale") in json.dumps(body, ensure_ascii=False).replace('\\"', '"')
    assert response["X-Content-Type-Options"] == "nosniff"
