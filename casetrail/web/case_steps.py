"""The steps of the journey as pages: each names its form, permission and service."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from casetrail.accounts.models import User
from casetrail.cases import services
from casetrail.cases.access import access_facts, eligible_owners, owner_refusal
from casetrail.cases.models import Case
from casetrail.cases.selectors import latest_assessment
from casetrail.core import frameworks
from casetrail.core.policy import Ownable, Permission
from casetrail.core.roles import AgencyKind
from casetrail.people.models import Person
from casetrail.web import case_forms as f
from casetrail.web.steps import Step


def _vulnerability_choices(request: HttpRequest, case: Case) -> list[tuple[str, str]]:
    assessment = latest_assessment(case)
    if assessment is None:
        return []
    framework = frameworks.get_framework(assessment.framework_key, assessment.framework_version)
    found = frameworks.identified_vulnerabilities(framework, services._judgements(assessment.judgements))
    labels = {"underlying_cause": "underlying cause", "presenting_behaviour": "presenting behaviour"}
    return [(v.factor_code, f"{v.title} ({labels.get(v.nature or '', 'nature not recorded')})") for v in found]


def _approved_providers(request: HttpRequest, case: Case) -> Any:
    from casetrail.clock import today
    from casetrail.providers.models import ProviderWorker

    approved = [w.user_id for w in ProviderWorker.objects.select_related("organisation")
                if w.is_approved_on(today())]
    eligible = eligible_owners(Ownable.TASKING, case).values_list("pk", flat=True)
    return User.objects.filter(pk__in=approved, is_active=True).filter(pk__in=list(eligible)) \
        .select_related("agency")


def _answering_agencies(request: HttpRequest, case: Case) -> dict[str, Any]:
    """Agencies whose duty owner may own an information request to them (the access policy)."""
    from casetrail.accounts.models import Agency

    agencies = Agency.objects.exclude(kind=AgencyKind.PROVIDER).filter(duty_owner__isnull=False) \
        .select_related("duty_owner")
    facts = access_facts(case)
    return {"agencies": Agency.objects.filter(pk__in=[
        a.pk for a in agencies
        if owner_refusal(Ownable.INFORMATION_REQUEST, a.duty_owner, case, addressed_agency_id=a.pk,
                         facts=facts) is None])}




def _targets(request: HttpRequest, case: Case) -> dict[str, Any]:
    targets = [(f"case:{case.pk}", f"The case (owned by {case.owner_user.display_name}, {case.owner_agency})")]
    for action in case.support_actions.filter(status="open").select_related("owner_user"):
        targets.append((f"support_action:{action.pk}", f"Support action: {action.description[:60]} "
                        f"(owned by {action.owner_user.display_name})"))
    for tasking in case.taskings.select_related("provider_user"):
        targets.append((f"tasking:{tasking.pk}", f"Tasking of {tasking.provider_user.display_name}"))
    for request_ in case.information_requests.filter(replied_on__isnull=True).select_related("to_agency"):
        targets.append((f"information_request:{request_.pk}", f"Information request to {request_.to_agency}"))
    receivers: set[int] = set()
    for value, _ in targets:
        kind, _, target_id = value.partition(":")
        addressed = (case.information_requests.get(pk=target_id).to_agency_id
                     if kind == Ownable.INFORMATION_REQUEST else None)
        receivers |= set(eligible_owners(Ownable(kind), case, addressed_agency_id=addressed)
                         .values_list("pk", flat=True))
    receivers.discard(request.user.pk)  # nobody hands work to themselves
    people = User.objects.filter(pk__in=receivers).select_related("agency").order_by("last_name", "first_name")
    return {"targets": targets, "receivers": people}


def _handover(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    target_type, _, target_id = data["target"].partition(":")
    return services.handover_offer(user=request.user, case=case, target_type=target_type,  # type: ignore[arg-type]
                                   target_id=int(target_id), to_user=data["to_user"], reason=data["reason"])


def _suggested_person(request: HttpRequest, reference: str) -> Person:
    from casetrail.core.errors import InvalidInput

    person = Person.objects.filter(reference=reference.strip().upper()).first()
    if person is None:
        raise InvalidInput.single("person_reference", "There is no person with that reference")
    return person


def _reject(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.match_reject(user=request.user, case=case,  # type: ignore[arg-type]
                                 person=_suggested_person(request, data["person_reference"]),
                                 rationale=data["rationale"])


def _link(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    from casetrail.cases.selectors import person_history
    from casetrail.core.errors import InvalidInput

    person = Person.objects.filter(reference=data["person_reference"].strip().upper()).first()
    if person is None or not person_history(user=request.user, person=person):  # type: ignore[arg-type]
        raise InvalidInput.single("person_reference", "There is no person with that reference that you can see")
    return services.case_link_person(user=request.user, case=case, person=person,  # type: ignore[arg-type]
                                     rationale=data["rationale"])


def _open_taskings(case: Case) -> list[tuple[int, str]]:
    return [(t.pk, f"{t.provider_agency}: {t.sessions.count()} of {t.sessions_commissioned} sessions accounted for, "
                   f"commissioned {t.commissioned_on:%-d %B %Y}")
            for t in case.taskings.select_related("provider_agency").filter(ended_on__isnull=True)
            if t.sessions.count() < t.sessions_commissioned]


def _end_tasking(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    from casetrail.core.errors import InvalidInput

    tasking = case.taskings.filter(pk=data.pop("tasking")).first()
    if tasking is None:
        raise InvalidInput.single("tasking", "Select an intervention on this case")
    return services.tasking_end(user=request.user, tasking=tasking, **data)  # type: ignore[arg-type]


def _transfer_areas(case: Case) -> Any:
    """The areas a case at this stage can go to (each with a duty owner to receive it)."""
    from casetrail.accounts.models import Agency
    from casetrail.core.lifecycle import transfer_receiver_kind

    return Agency.objects.filter(kind=transfer_receiver_kind(case.stage), duty_owner__isnull=False) \
        .exclude(pk=services.transfer_area_of(case)).order_by("name")


def _events_awaiting_decision(case: Case) -> list[tuple[int, str]]:
    from casetrail.cases.selectors import significant_events_with_decisions

    return [(e.pk, f"{e.get_kind_display()}, {e.occurred_on:%-d %B %Y} ({e.source})")
            for e, decision in significant_events_with_decisions(case) if decision is None]


def _respond_to_event(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    from casetrail.core.errors import InvalidInput

    event = case.significant_events.filter(pk=data.pop("event")).first()
    if event is None:
        raise InvalidInput.single("event", "Select an event recorded on this case")
    return services.significant_event_respond(user=request.user, event=event, **data)  # type: ignore[arg-type]


STEPS: dict[str, Step] = {
    "gateway": Step(
        title="Gateway assessment", caption="Police Prevent officer", form_class=f.GatewayForm,
        permission=Permission.GATEWAY_DECIDE, success="Gateway decision recorded",
        intro="Record the checks you have made, your contact with the referrer and the outcome.",
        perform=lambda r, c, d: services.gateway_decide(user=r.user, case=c, **d), shows_matches=True,
        blocked_by_matches="all"),
    "signposting": Step(
        title="Record the signposted service's reply", form_class=f.SignpostingReplyForm,
        permission=Permission.RECORD_SIGNPOSTING_REPLY, success="Reply recorded",
        intro="A signposted referral stays open until the receiving service accepts it.",
        perform=lambda r, c, d: services.signposting_reply(user=r.user, case=c, **d)),
    "police-led": Step(
        title="Police-led case management decision", form_class=f.PoliceLedForm,
        permission=Permission.POLICE_LED_DECIDE, success="Decision recorded",
        perform=lambda r, c, d: services.police_led_decide(user=r.user, case=c, **d), shows_matches=True,
        blocked_by_matches="closing the case"),
    "information-request": Step(
        title="Request information from a partner", form_class=f.InformationRequestForm,
        permission=Permission.MANAGE_PANEL, success="Information request sent",
        intro="The partner agency's duty owner will see it on their work list; a reply is due in 10 days.",
        form_kwargs=_answering_agencies,
        perform=lambda r, c, d: services.information_request_create(user=r.user, case=c, **d)),
    "panel-decision": Step(
        title="Panel decision: adopt or not", caption="Channel panel chair", form_class=f.PanelDecisionForm,
        permission=Permission.PANEL_DECIDE, success="Panel decision recorded",
        perform=lambda r, c, d: services.panel_decide(user=r.user, case=c, **d)),
    "consent": Step(
        title="Record consent", form_class=f.ConsentForm, permission=Permission.RECORD_CONSENT,
        success="Consent recorded",
        intro="Support needs the person's consent, or a parent's or carer's if they are under 18.",
        perform=lambda r, c, d: services.consent_record(user=r.user, case=c, **d)),
    "consent-withdraw": Step(
        title="Record that consent was withdrawn", form_class=f.ConsentWithdrawForm,
        permission=Permission.RECORD_CONSENT, success="Withdrawal of consent recorded",
        warning="Support stops now. Record what the panel will do instead.",
        perform=lambda r, c, d: services.consent_withdraw(user=r.user, case=c, **d)),
    "support-action": Step(
        title="Add a support action", form_class=f.SupportActionForm, permission=Permission.PLAN_SUPPORT,
        success="Support action added",
        intro="Every action addresses one or more vulnerabilities from the latest assessment.",
        form_kwargs=lambda r, c: {"vulnerabilities": _vulnerability_choices(r, c),
                                  "owners": eligible_owners(Ownable.SUPPORT_ACTION, c)},
        perform=lambda r, c, d: services.support_action_add(user=r.user, case=c, **d)),
    "tasking": Step(
        title="Task an intervention provider", form_class=f.TaskingForm, permission=Permission.COMMISSION_TASKING,
        success="Provider tasked; they must acknowledge the tasking within 5 working days",
        intro="Only approved providers with current vetting are listed.",
        form_kwargs=lambda r, c: {"vulnerabilities": _vulnerability_choices(r, c),
                                  "providers": _approved_providers(r, c)},
        perform=lambda r, c, d: services.tasking_commission(user=r.user, case=c, **d)),
    "panel-review": Step(
        title="Record a panel review", form_class=f.PanelReviewForm, permission=Permission.PANEL_DECIDE,
        success="Panel review recorded",
        perform=lambda r, c, d: services.panel_review_record(user=r.user, case=c, **d)),
    "exit": Step(
        title="Exit the case from Channel", caption="Channel panel chair", form_class=f.ExitForm,
        permission=Permission.PANEL_DECIDE, success="Exit recorded; post-exit reviews are now scheduled",
        intro="Exit when all members agree vulnerability is removed or much reduced. Post-exit reviews fall "
              "due 6 and 12 months after the exit date.",
        perform=lambda r, c, d: services.case_exit(user=r.user, case=c, **d)),
    "post-exit-review": Step(
        title="Record a post-exit review", form_class=f.PostExitReviewForm, permission=Permission.POST_EXIT_REVIEW,
        success="Post-exit review recorded",
        perform=lambda r, c, d: services.post_exit_review_record(user=r.user, case=c, **d)),
    "close": Step(
        title="Close the case", form_class=f.CloseForm, permission=Permission.CLOSE_CASE,
        success="Case closed", button="Close the case",
        perform=lambda r, c, d: services.case_close(user=r.user, case=c, **d)),
    "link-person": Step(
        title="Link to an earlier person record", form_class=f.LinkPersonForm, permission=Permission.LINK_PERSON,
        success="Linked: the person's earlier referrals and cases now show on this case",
        intro="Use this when the person referred is someone already known, perhaps under another spelling.",
        initial=lambda r, c: {"person_reference": r.GET.get("person", "")[:20]},
        perform=_link),
    "handover": Step(
        title="Hand over ownership", form_class=f.HandOverForm, permission=Permission.OFFER_HANDOVER,
        success="Hand-over offered: ownership moves when the receiver accepts",
        form_kwargs=_targets, perform=_handover),
}

STEPS.update({
    "reject-match": Step(
        title="Not the same person", form_class=f.RejectMatchForm, permission=Permission.LINK_PERSON,
        success="Recorded: the suggestion stays on the case, marked as not the same person",
        intro="A suggested match is a possibility, not a fact. Record why this one is a different person.",
        initial=lambda r, c: {"person_reference": r.GET.get("person", "")[:20]},
        perform=_reject),
    "unlink-person": Step(
        title="Undo the link to an earlier person", form_class=f.UnlinkPersonForm,
        permission=Permission.LINK_PERSON, success="Link undone: both people's histories are as they were",
        warning="The referral goes back to the person it was recorded as.",
        perform=lambda r, c, d: services.person_link_undo(user=r.user, case=c, **d)),
    "second-review": Step(
        title="Second officer's review of closing a repeat referral", caption="Police Prevent officer",
        form_class=f.GatewaySecondReviewForm, permission=Permission.GATEWAY_DECIDE,
        success="Your review is recorded; the deciding officer can now close the referral if you agreed",
        intro="A referral that makes several for the same person cannot close at the gateway on one officer's "
              "word. Read the earlier referrals first.",
        perform=lambda r, c, d: services.gateway_second_review_record(user=r.user, case=c, **d)),
    "consult-referrer": Step(
        title="Record a consultation with the referrer", form_class=f.ReferrerConsultationForm,
        permission=Permission.CONSULT_REFERRER, success="Consultation with the referrer recorded",
        intro="The referrer knows the person: ask for their view before deciding on risk or support.",
        perform=lambda r, c, d: services.referrer_consultation_record(user=r.user, case=c, **d)),
    "note": Step(
        title="Add a note", form_class=f.CaseNoteForm, permission=Permission.ADD_NOTE, success="Note added",
        perform=lambda r, c, d: services.case_note_record(user=r.user, case=c, **d)),
    "waive-vulnerability": Step(
        title="Approve no support for a vulnerability", caption="Channel panel chair",
        form_class=f.VulnerabilityWaiverForm, permission=Permission.PANEL_DECIDE,
        success="Reason approved; the exit gate now accepts this vulnerability without a support action",
        form_kwargs=lambda r, c: {"vulnerabilities": _vulnerability_choices(r, c)},
        perform=lambda r, c, d: services.vulnerability_waiver_record(user=r.user, case=c, **d)),
    "end-tasking": Step(
        title="End an intervention early", form_class=f.TaskingEndForm, permission=Permission.COMMISSION_TASKING,
        success="Recorded: the intervention has ended and the panel is asked to review it",
        intro="When mentoring stops or a provider withdraws before every session is delivered, record it here. "
              "Until you do, the sessions not delivered stay overdue.",
        form_kwargs=lambda r, c: {"taskings": _open_taskings(c)},
        perform=_end_tasking),
    "police-led-review": Step(
        title="Review the police-led case", form_class=f.PoliceLedReviewForm, permission=Permission.POLICE_LED_DECIDE,
        success="Review recorded", caption="Police Prevent officer",
        intro="A police-led case is reviewed at least every three months.",
        perform=lambda r, c, d: services.police_led_review_record(user=r.user, case=c, **d)),
    "transfer": Step(
        title="Transfer the case to another area", form_class=f.TransferForm, permission=Permission.OFFER_HANDOVER,
        success="Transfer offered: the case moves when the receiving area accepts it",
        intro="When the person moves area, or goes into or out of custody, the case moves with them: it is "
              "never closed for that. The receiving area's duty owner accepts it, with its history, open "
              "findings and due reviews, or declines with a reason.",
        form_kwargs=lambda r, c: {"agencies": _transfer_areas(c)},
        perform=lambda r, c, d: services.case_transfer_offer(user=r.user, case=c, **d)),
    "significant-event": Step(
        title="Record a significant event", form_class=f.SignificantEventForm,
        permission=Permission.RECORD_SIGNIFICANT_EVENT, success="Significant event recorded",
        intro="An arrest or charge, custody or release, a move, a mental-health crisis, an exclusion, new "
              "information from a partner or a concern raised at a multi-agency meeting. On an open Channel case "
              "it puts the case on the next panel agenda and the assessment is due again.",
        perform=lambda r, c, d: services.significant_event_record(user=r.user, case=c, **d)),
    "significant-event-response": Step(
        title="Record the decision about a significant event", form_class=f.SignificantEventResponseForm,
        permission=Permission.RECORD_SIGNIFICANT_EVENT, success="Decision recorded",
        intro="A concern raised at a meeting, or an event after the case closed, needs a recorded discussion "
              "and decision.",
        form_kwargs=lambda r, c: {"events": _events_awaiting_decision(c)},
        initial=lambda r, c: {"event": r.GET.get("event", "")[:12]},
        perform=_respond_to_event),
    "hold": Step(
        title="Hold from disposal", form_class=f.RetentionHoldForm, permission=Permission.HOLD_FROM_DISPOSAL,
        success="The case is held from disposal",
        intro="A case linked to a serious incident or under review must be kept, whatever its retention date.",
        perform=lambda r, c, d: services.retention_hold_place(user=r.user, case=c, **d)),
})

# The stages at which each step is offered on the case page.
STEP_STAGES: dict[str, tuple[str, ...]] = {
    "gateway": ("gateway",),
    "signposting": ("signposted",),
    "police-led": ("police_led",),
    "information-request": ("panel", "awaiting_consent", "support"),
    "panel-decision": ("panel",),
    "consent": ("awaiting_consent",),
    "consent-withdraw": ("support",),
    "support-action": ("support",),
    "tasking": ("support",),
    "panel-review": ("support", "awaiting_consent"),
    "exit": ("support",),
    "post-exit-review": ("exited",),
    "close": ("exited",),
    "link-person": ("gateway", "signposted", "police_led", "panel", "awaiting_consent", "support", "exited"),
    "handover": ("gateway", "signposted", "police_led", "panel", "awaiting_consent", "support", "exited"),
    "second-review": ("gateway", "police_led"),
    "reject-match": (),
    "unlink-person": (),
    "consult-referrer": ("gateway", "signposted", "police_led", "panel", "awaiting_consent", "support", "exited"),
    "note": ("gateway", "signposted", "police_led", "panel", "awaiting_consent", "support", "exited", "closed"),
    "waive-vulnerability": ("support",),
    "hold": ("gateway", "signposted", "police_led", "panel", "awaiting_consent", "support", "exited", "closed"),
    "end-tasking": ("support",),
    "police-led-review": ("police_led",),
    "transfer": ("gateway", "signposted", "police_led", "panel", "awaiting_consent", "support", "exited"),
    "significant-event": ("gateway", "signposted", "police_led", "panel", "awaiting_consent", "support", "exited",
                          "closed"),
    # Offered on the case page beside each event that waits for a decision.
    "significant-event-response": (),
}
