"""Pages other than the case steps: signing in, my work, case and person pages, search,
panel meetings, taskings, hand-overs and the provider register."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_http_methods

from casetrail import clock
from casetrail.accounts.models import User
from casetrail.audit.services import access_log
from casetrail.cases import safeguards, selectors, services
from casetrail.cases.access import access_facts_reused, allowed, require, view_of
from casetrail.cases.earlier_records import match_records
from casetrail.cases.models import (
    Assessment,
    Case,
    HandOver,
    InformationRequest,
    PanelMeeting,
    SupportAction,
    Tasking,
)
from casetrail.cases.stored_findings import case_findings_now
from casetrail.core import frameworks
from casetrail.core.codes import CONCERN_TYPES, GIVER, PERSON_AWARE, REFERRER_NEWS, SECTORS, URGENCY
from casetrail.core.errors import AccessDenied, NotFound
from casetrail.core.lifecycle import Stage, available_actions
from casetrail.core.policy import Permission, View
from casetrail.core.roles import Role
from casetrail.core.safeguards import unresolved_match_gate
from casetrail.core.schedules import post_exit_review_dates, tasking_acknowledgement_due
from casetrail.people.models import Person
from casetrail.web import case_forms as f
from casetrail.web.auth_views import reauthenticated
from casetrail.web.case_steps import STEP_STAGES, STEPS
from casetrail.web.steps import load_case, matches_context, run_service


class SignInView(auth_views.LoginView):
    template_name = "accounts/sign_in.html"
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs: Any) -> dict[str, Any]:
        # Single sign-on (casetrail/web/auth_views.py): the button only when it is configured,
        # and the problem when the provider's sign-in came back refused.
        from django.conf import settings

        return super().get_context_data(
            oidc_enabled=settings.CASETRAIL_OIDC_ENABLED,
            oidc_failed=settings.CASETRAIL_OIDC_ENABLED and self.request.GET.get("organisation") == "failed",
            **kwargs)


def home(request: HttpRequest) -> HttpResponse:
    return redirect("web:my-work" if request.user.is_authenticated else "web:sign-in")


@login_required
def my_work(request: HttpRequest) -> HttpResponse:
    work = selectors.my_work(user=request.user)  # type: ignore[arg-type]
    findings = [{"case": case, "finding": finding}
                for case, finding in safeguards.findings_for(request.user)]  # type: ignore[arg-type]
    from casetrail.cases.models import BreakGlassGrant

    outside = BreakGlassGrant.objects.filter(case__owner_user=request.user,
                                             granted_at__gte=clock.now() - timedelta(days=30)).select_related(
        "case", "user", "user__agency")
    return render(request, "work/my_work.html", {
        "work": work, "today": work.today, "findings": findings, "outside_reads": outside,
        "may_link": allowed(request.user, Permission.LINK_PERSON),  # type: ignore[arg-type]
        "earlier_records": selectors.unresolved_earlier_records(user=request.user)})  # type: ignore[arg-type]


@login_required
def my_referrals(request: HttpRequest) -> HttpResponse:
    return render(request, "referrals/mine.html", {"cases": selectors.my_referrals(user=request.user)})  # type: ignore[arg-type]


@login_required
def case_list(request: HttpRequest) -> HttpResponse:
    if not allowed(request.user, Permission.SEARCH):  # type: ignore[arg-type]
        raise PermissionDenied("Your role does not list cases.")
    stage = request.GET.get("stage") or None
    if stage and stage not in Stage._value2member_map_:
        stage = None
    cases = selectors.case_list(user=request.user, stage=stage)[:200]  # type: ignore[arg-type]
    return render(request, "cases/list.html", {"cases": cases, "stages": list(Stage), "stage": stage})


def referrer_news(case: Any) -> str:
    """The outcome in words suited to the referrer (F4): enough to know it was acted on."""
    if case.stage == Stage.EXITED:
        return REFERRER_NEWS["exited"]
    if case.stage in (Stage.AWAITING_CONSENT, Stage.SUPPORT):
        return REFERRER_NEWS["adopted"]
    if case.stage == Stage.CLOSED:
        # A case closed after its post-exit reviews keeps the outcome "exited"; the reviews are done.
        outcome = "closed" if case.outcome == "exited" else case.outcome
        return REFERRER_NEWS.get(outcome, REFERRER_NEWS["closed"])
    return REFERRER_NEWS.get(case.stage, REFERRER_NEWS["gateway"])


def _break_glass_context(request: HttpRequest, case: Any) -> dict[str, Any]:
    """Whether this reader is here through break glass, and who outside the case read it lately."""
    from casetrail.cases.access import access_facts
    from casetrail.core.policy import only_through_break_glass

    since = clock.now() - timedelta(days=30)
    grants = case.break_glass_grants.filter(granted_at__gte=since).select_related("user", "user__agency")
    mine = None
    if only_through_break_glass(request.user.as_actor(), access_facts(case)):  # type: ignore[union-attr]
        mine = case.break_glass_grants.filter(user=request.user, expires_at__gt=clock.now()).first()
    return {"break_glass_grants": grants, "my_break_glass": mine}


def _as_of(request: HttpRequest) -> tuple[date | None, str]:
    """The optional ?as_of=YYYY-MM-DD asking what the findings were on a past date."""
    raw = request.GET.get("as_of", "").strip()
    if not raw:
        return None, ""
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        return None, "Enter the date as year-month-day, for example 2025-03-27"
    if day > clock.today():
        return None, "The date must be today or in the past"
    return day, ""


def _chronology(case: Any) -> list[Any]:
    """The case's events, oldest first, each marked late when recorded well after it happened."""
    late_after = safeguards.current_policy().late_record_days
    events = list(selectors.case_timeline(case=case).exclude(kind="case.state"))
    for event in events:
        event.late_days = (event.recorded_at.date() - event.occurred_at.date()).days
        event.is_late = event.late_days > late_after
    return events


def _step_links(request: HttpRequest, case: Any) -> list[dict[str, Any]]:
    """Each step open at this stage, either as a link or with exactly why it is blocked."""
    facts = services._facts(case)
    blocked = {a.value: u for a, u in available_actions(facts).items()}
    links = []
    for key, stages in STEP_STAGES.items():
        step = STEPS[key]
        if case.stage not in stages or not allowed(request.user, step.permission, case):  # type: ignore[arg-type]
            continue
        unmet = []
        if key == "exit":
            unmet = blocked.get("exit", []) + [u for u in safeguards.exit_blockers(case)
                                               if u.code != "exit.no_assessment"]
        elif key == "close":
            unmet = blocked.get("close", [])
        elif key == "panel-decision":
            unmet = blocked.get("panel_adopt", [])
        waiting: list[Any] = []
        if step.blocked_by_matches == "all":
            records = match_records(case)  # only this, not the whole case record
            waiting = [r for r in records if not r.resolved]
            unmet = [*unmet, *unresolved_match_gate(records)]
        links.append({"key": key, "title": step.title, "unmet": unmet, "matches": waiting})
    return links


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    with access_facts_reused():  # the page only reads, and asks the policy about this case often
        return _case_detail(request, case_id)


def _case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    try:
        case, view = selectors.case_get(user=request.user, case_id=case_id)  # type: ignore[arg-type]
    except NotFound:
        raise Http404("No such case") from None
    if view is View.REFERRER_STATUS:
        return render(request, "cases/referrer_status.html", {"case": case, "news": referrer_news(case)})
    context: dict[str, Any] = {
        "case": case, "view": view, "full": view is View.FULL, "today": clock.today(),
        "referral": case.referral,
        "concern_types": [CONCERN_TYPES.get(c, c) for c in case.referral.concern_types],
        "sector": SECTORS.get(case.referral.referrer_sector, ""),
        "urgency": URGENCY.get(case.referral.urgency, ""),
        "person_aware": PERSON_AWARE.get(case.referral.person_aware, ""),
        "taskings": case.taskings.select_related("provider_user", "provider_agency").prefetch_related("sessions"),
        "support_actions": case.support_actions.select_related("owner_user", "owner_agency"),
    }
    if view is View.FULL:
        as_of, as_of_error = _as_of(request)
        findings = ([] if as_of_error else safeguards.case_findings(case, as_of=as_of) if as_of
                    else case_findings_now(case))
        history = [c for c in selectors.person_history(user=request.user, person=case.person) if c.pk != case.pk]  # type: ignore[arg-type]
        context.update(
            decisions=case.decisions.select_related("author", "author_agency").order_by("-occurred_at", "-id"),
            timeline=_chronology(case),
            findings=findings, as_of=as_of, as_of_error=as_of_error,
            messages_sent=case.messages.select_related("recipient", "recipient__agency").order_by("-created_at"),
            # The model stores the code only (no choices), so the label comes from the code list.
            consents=[(c, GIVER.get(c.giver, c.giver)) for c in case.consents.all()],
            draft_assessment=case.assessments.filter(status=Assessment.Status.DRAFT).first(),
            information_requests=case.information_requests.select_related("to_agency", "owner_user"),
            agenda=case.agenda_items.select_related("meeting"),
            reviews=case.reviews.all(),
            handovers=case.handovers.select_related("to_user", "to_agency", "from_user"),
            # Only in the full view: referrers and providers never read notes or consultations.
            consultations=case.consultations.select_related("recorded_by"),
            notes=case.notes.select_related("recorded_by"),
            significant_events=selectors.significant_events_with_decisions(case),
            can_record_events=allowed(request.user, Permission.RECORD_SIGNIFICANT_EVENT, case),  # type: ignore[arg-type]
            attachments=case.referral.attachments.all(),
            history=history,
            steps=_step_links(request, case),
            post_exit_due=post_exit_review_dates(case.exited_on) if case.exited_on else {},
            post_exit_done={r.months_after_exit: r for r in case.reviews.filter(kind="post_exit")},
            can_assess=allowed(request.user, Permission.ASSESS, case)  # type: ignore[arg-type]
            and case.stage in (Stage.PANEL, Stage.AWAITING_CONSENT, Stage.SUPPORT),
            can_agenda=allowed(request.user, Permission.MANAGE_PANEL, case) and case.stage == Stage.PANEL,  # type: ignore[arg-type]
            **matches_context(request, case),
        )
        context.update(_break_glass_context(request, case))
        latest = selectors.latest_assessment(case)
        if latest is not None:
            framework = frameworks.get_framework(latest.framework_key, latest.framework_version)
            context.update(latest_assessment=latest, framework=framework,
                           framework_superseded=framework.is_superseded_on(clock.today()),
                           vulnerabilities=frameworks.identified_vulnerabilities(
                               framework, services._judgements(latest.judgements)))
    return render(request, "cases/detail.html", context)


@login_required
@reauthenticated  # a disclosure: the password (and code) again unless given in the last few minutes
def attachment_download(request: HttpRequest, case_id: int, attachment_id: int) -> FileResponse:
    from django.conf import settings

    case = load_case(request, case_id)
    if view_of(request.user, case) is not View.FULL:  # type: ignore[arg-type]
        raise PermissionDenied("Only people working on the case can open its attachments.")
    attachment = get_object_or_404(case.referral.attachments, pk=attachment_id)
    access_log(user=request.user, operation="disclosure", subject=attachment, case=case, person=case.person,
               recipient=str(request.user.pk))
    response = FileResponse(open(settings.MEDIA_ROOT / attachment.stored_name, "rb"),  # noqa: SIM115
                            as_attachment=True, filename=attachment.original_name,
                            content_type=attachment.content_type)
    response["X-Content-Type-Options"] = "nosniff"
    # Even if a browser were to open it in place, nothing in it may run, and no copy may be kept.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["Cache-Control"] = "no-store, private"
    return response


@login_required
def search(request: HttpRequest) -> HttpResponse:
    if not allowed(request.user, Permission.SEARCH):  # type: ignore[arg-type]
        raise PermissionDenied("Your role cannot search cases.")
    form = f.SearchForm(request.GET or None)
    hits = None
    if form.is_valid():
        hits = selectors.search(user=request.user, query=form.cleaned_data["q"])  # type: ignore[arg-type]
        access_log(user=request.user, operation="consultation", subject=request.user,
                   justification=f"search returned {len(hits)} people")
    return render(request, "search.html", {"form": form, "hits": hits,
                                           "can_break_glass": allowed(request.user, Permission.BREAK_GLASS)})  # type: ignore[arg-type]


@login_required
def person_detail(request: HttpRequest, reference: str) -> HttpResponse:
    person = Person.objects.filter(reference=reference.upper()).first()
    cases = selectors.person_history(user=request.user, person=person) if person else []  # type: ignore[arg-type]
    if person is None or not cases:
        raise Http404("No such person")
    access_log(user=request.user, operation="consultation", subject=person, person=person)
    referrals = [c.referral for c in cases]
    return render(request, "people/detail.html", {"person": person, "cases": cases, "referrals": referrals})


# ---------------------------------------------------------------- panel meetings


def _panel_user(request: HttpRequest) -> None:
    user = request.user
    if not user.has_role(Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR, Role.PANEL_MEMBER):  # type: ignore[union-attr]
        raise PermissionDenied("Only Channel panel staff and members see panel meetings.")


def _panel_authority(request: HttpRequest) -> int | None:
    user = request.user
    return user.panel_authority_id if user.has_role(Role.PANEL_MEMBER) and not user.has_role(  # type: ignore[union-attr]
        Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR) else user.agency_id  # type: ignore[union-attr]


@login_required
@require_http_methods(["GET", "POST"])
def meeting_list(request: HttpRequest) -> HttpResponse:
    _panel_user(request)
    authority = _panel_authority(request)
    can_manage = allowed(request.user, Permission.MANAGE_PANEL)  # type: ignore[arg-type]
    form = None
    if can_manage:
        form = f.PanelMeetingForm(request.POST or None, agency=request.user.agency)  # type: ignore[union-attr]
        if request.method == "POST" and form.is_valid():
            meeting = run_service(form, lambda: services.panel_meeting_create(
                user=request.user, meets_on=form.cleaned_data["meets_on"],  # type: ignore[arg-type]
                chair=form.cleaned_data["chair"], location=form.cleaned_data["location"]))
            if meeting is not None:
                messages.success(request, "Panel meeting created")
                return redirect("web:meeting-detail", meeting_id=meeting.pk)
    elif request.method == "POST":
        raise PermissionDenied("Only the coordinator or chair arranges panel meetings.")
    meetings = PanelMeeting.objects.filter(local_authority_id=authority).select_related("chair")
    return render(request, "panel/meetings.html", {"meetings": meetings, "form": form},
                  status=400 if form is not None and form.errors else 200)


@login_required
def meeting_detail(request: HttpRequest, meeting_id: int) -> HttpResponse:
    _panel_user(request)
    meeting = get_object_or_404(PanelMeeting, pk=meeting_id, local_authority_id=_panel_authority(request))
    visible = set(selectors.visible_cases(request.user).values_list("pk", flat=True))  # type: ignore[arg-type]
    items = [i for i in meeting.items.select_related("case", "case__person") if i.case_id in visible]
    return render(request, "panel/meeting.html", {"meeting": meeting, "items": items})


@login_required
@require_http_methods(["GET", "POST"])
def agenda_add(request: HttpRequest, case_id: int) -> HttpResponse:
    case = load_case(request, case_id)
    if not allowed(request.user, Permission.MANAGE_PANEL, case):  # type: ignore[arg-type]
        raise PermissionDenied("Only the Channel coordinator or chair manages the agenda.")
    meetings = PanelMeeting.objects.filter(local_authority=case.local_authority, meets_on__gte=clock.today())
    form = f.AgendaForm(request.POST or None, meetings=meetings)
    if request.method == "POST" and form.is_valid():
        if run_service(form, lambda: services.agenda_add(user=request.user, meeting=form.cleaned_data["meeting"],  # type: ignore[arg-type]
                                                         case=case)) is not None:
            messages.success(request, "Added to the panel agenda")
            return redirect("web:case-detail", case_id=case.pk)
    return render(request, "cases/agenda_add.html", {"case": case, "form": form, "page_title": "Add to a panel agenda",
                                                     "back_url": reverse("web:case-detail", args=[case.pk]), "button": "Add to agenda"},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def information_request_reply(request: HttpRequest, request_id: int) -> HttpResponse:
    item = get_object_or_404(InformationRequest.objects.select_related("case", "to_agency"), pk=request_id)
    # Addressed to an agency, read by those in it who may answer for it (not, say, a nurse who only
    # makes referrals), or by whoever now owns the request; anyone else is told there is no such request.
    addressed = (request.user.agency_id == item.to_agency_id  # type: ignore[union-attr]
                 and allowed(request.user, Permission.ANSWER_INFORMATION_REQUEST))  # type: ignore[arg-type]
    if not addressed and request.user.pk != item.owner_user_id:
        raise Http404("No such request")
    form = f.InformationReplyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            done = run_service(form, lambda: services.information_request_reply(
                user=request.user, request=item, **form.cleaned_data))  # type: ignore[arg-type]
        except AccessDenied as denied:
            raise PermissionDenied(str(denied)) from None
        if done is not None:
            messages.success(request, "Reply sent")
            return redirect("web:my-work")
    access_log(user=request.user, operation="disclosure", subject=item, case=item.case,
               recipient=item.to_agency.name, justification="information request from the Channel panel")
    return render(request, "panel/information_reply.html", {"item": item, "form": form, "page_title": "Answer an information request",
                                                             "back_url": reverse("web:my-work"), "button": "Send reply"},
                  status=400 if form.errors else 200)


# ---------------------------------------------------------------- taskings and support actions


@login_required
@require_http_methods(["GET", "POST"])
def tasking_detail(request: HttpRequest, tasking_id: int) -> HttpResponse:
    tasking = get_object_or_404(Tasking.objects.select_related("case", "provider_user", "provider_agency"),
                                pk=tasking_id)
    case = load_case(request, tasking.case_id)
    if view_of(request.user, case) < View.PROVIDER:  # type: ignore[arg-type]  # a referrer: status only
        raise PermissionDenied("Your role sees only the status of this case, not its taskings.")
    is_provider = request.user.agency_id == tasking.provider_agency_id and allowed(  # type: ignore[union-attr]
        request.user, Permission.DELIVER_TASKING, case)  # type: ignore[arg-type]
    forms_ = {"acknowledge": f.AcknowledgeForm, "session": f.SessionForm, "cancel": f.SessionCancelForm}
    bound = {name: cls(request.POST if request.POST.get("form") == name else None, prefix=name)
             for name, cls in forms_.items()}
    if request.method == "POST":
        if not is_provider:
            raise PermissionDenied("Only the tasked provider organisation records sessions.")
        name = request.POST.get("form", "")
        form = bound.get(name)
        if form is None:
            raise Http404("Unknown form")
        calls = {
            "acknowledge": lambda d: services.tasking_acknowledge(user=request.user, tasking=tasking, **d),
            "session": lambda d: services.session_record(user=request.user, tasking=tasking, **d),
            "cancel": lambda d: services.session_cancel(user=request.user, tasking=tasking, **d),
        }
        if form.is_valid() and run_service(form, lambda: calls[name](form.cleaned_data)) is not None:
            messages.success(request, {"acknowledge": "Tasking acknowledged", "session": "Session recorded",
                                       "cancel": "Cancellation recorded"}[name])
            return redirect("web:tasking-detail", tasking_id=tasking.pk)
    sessions = list(tasking.sessions.all())
    return render(request, "taskings/detail.html", {
        "tasking": tasking, "case": case, "sessions": sessions, "is_provider": is_provider, "forms": bound,
        "remaining": tasking.sessions_commissioned - len(sessions),
        "ack_due": tasking_acknowledgement_due(tasking.commissioned_on),
        "vulnerabilities": tasking.vulnerabilities,
    }, status=400 if any(b.errors for b in bound.values()) else 200)


@login_required
@require_http_methods(["GET", "POST"])
def support_action_complete(request: HttpRequest, action_id: int) -> HttpResponse:
    action = get_object_or_404(SupportAction.objects.select_related("case"), pk=action_id)
    case = load_case(request, action.case_id) if request.user.pk != action.owner_user_id else action.case
    if request.user.pk != action.owner_user_id and not allowed(request.user, Permission.PLAN_SUPPORT, case):  # type: ignore[arg-type]
        raise PermissionDenied("Only the action's owner or the Channel panel's planners update it.")
    form = f.SupportActionCompleteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            done = run_service(form, lambda: services.support_action_complete(
                user=request.user, action=action, **form.cleaned_data))  # type: ignore[arg-type]
        except AccessDenied as denied:
            raise PermissionDenied(str(denied)) from None
        if done is not None:
            messages.success(request, "Support action updated")
            return redirect("web:case-detail", case_id=case.pk)
    return render(request, "cases/support_action_complete.html", {"action": action, "case": case, "form": form,
                                                                  "page_title": "Update a support action",
                                                                  "back_url": reverse("web:case-detail", args=[case.pk])},
                  status=400 if form.errors else 200)


@login_required
@require_http_methods(["GET", "POST"])
def handover_respond(request: HttpRequest, handover_id: int) -> HttpResponse:
    offer = get_object_or_404(HandOver.objects.select_related("case", "from_user", "from_agency"),
                              pk=handover_id, to_user=request.user)
    form = f.HandOverRespondForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        if run_service(form, lambda: services.handover_respond(user=request.user, handover=offer,  # type: ignore[arg-type]
                                                               **form.cleaned_data)) is not None:
            messages.success(request, "Hand-over " + ("accepted" if form.cleaned_data["accept"] else "declined"))
            return redirect("web:my-work")
    return render(request, "work/handover_respond.html", {"offer": offer, "form": form, "page_title": "A hand-over is offered to you",
                                                           "back_url": reverse("web:my-work"), "button": "Send answer"},
                  status=400 if form.errors else 200)


# ---------------------------------------------------------------- provider register


@login_required
def provider_list(request: HttpRequest) -> HttpResponse:
    from casetrail.providers.models import ProviderOrganisation
    from casetrail.providers.services import SPECIALISMS

    if not request.user.has_role(Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR, Role.ADMINISTRATOR,  # type: ignore[union-attr]
                                 Role.PROVIDER, Role.OVERSIGHT):
        raise PermissionDenied("Your role does not use the provider register.")
    organisations = ProviderOrganisation.objects.select_related("agency").prefetch_related("workers__user")
    return render(request, "providers/list.html", {
        "organisations": organisations, "today": clock.today(), "specialisms": SPECIALISMS,
        "can_manage": allowed(request.user, Permission.MANAGE_PROVIDERS)})  # type: ignore[arg-type]


@login_required
@require_http_methods(["GET", "POST"])
def provider_edit(request: HttpRequest, organisation_id: int | None = None) -> HttpResponse:
    from casetrail.providers.forms import ProviderOrganisationForm
    from casetrail.providers.models import ProviderOrganisation
    from casetrail.providers.services import provider_organisation_save

    try:
        require(request.user, Permission.MANAGE_PROVIDERS)  # type: ignore[arg-type]
    except AccessDenied as denied:
        raise PermissionDenied(str(denied)) from None
    organisation = get_object_or_404(ProviderOrganisation, pk=organisation_id) if organisation_id else None
    initial = {"name": organisation.agency.name, "specialisms": organisation.specialisms,
               "status": organisation.status, "approved_until": organisation.approved_until} if organisation else {}
    form = ProviderOrganisationForm(request.POST or None, initial=initial, editing=organisation is not None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if run_service(form, lambda: provider_organisation_save(
                user=request.user, agency=organisation.agency if organisation else None,  # type: ignore[arg-type]
                name=data.get("name", ""), specialisms=data["specialisms"], status=data["status"],
                approved_until=data["approved_until"])) is not None:
            messages.success(request, "Provider register updated")
            return redirect("web:provider-list")
    return render(request, "providers/edit.html", {"form": form, "organisation": organisation,
                                                   "page_title": f"Change {organisation.agency.name}" if organisation else "Register a provider organisation",
                                                   "back_url": reverse("web:provider-list")},
                  status=400 if form.errors else 200)


@login_required
def safeguard_policy(request: HttpRequest) -> HttpResponse:
    """The safeguards' intervals and counts in force, with their defaults and sources."""
    from casetrail.core.safeguards import RULES, SOURCE_TEXT

    policy = safeguards.current_policy()
    rules = [{"id": r.id, "title": r.title, "blocks": r.blocks, "source": f"{r.source}: {SOURCE_TEXT[r.source]}"}
             for r in RULES.values()]
    return render(request, "safeguards/policy.html", {"settings": policy.describe(), "rules": rules})


# ---------------------------------------------------------------- duplicate people


def _duplicate_reviewer(request: HttpRequest) -> None:
    if not allowed(request.user, Permission.REVIEW_DUPLICATES):  # type: ignore[arg-type]
        raise PermissionDenied("Only administrators and police Prevent officers review possible duplicates.")


@login_required
def duplicate_list(request: HttpRequest) -> HttpResponse:
    _duplicate_reviewer(request)
    from casetrail.people.models import DuplicateCandidate

    pairs = DuplicateCandidate.objects.filter(status=DuplicateCandidate.Status.OPEN).select_related(
        "person_a", "person_b")[:200]
    reviewed = DuplicateCandidate.objects.exclude(status=DuplicateCandidate.Status.OPEN).select_related(
        "person_a", "person_b", "reviewed_by").order_by("-reviewed_at")[:50]
    return render(request, "people/duplicates.html", {"pairs": pairs, "reviewed": reviewed})


@login_required
def duplicate_review(request: HttpRequest, pair_id: int) -> HttpResponse:
    _duplicate_reviewer(request)
    from casetrail.people.models import DuplicateCandidate
    from casetrail.people.services import duplicate_dismiss, duplicate_link

    pair = get_object_or_404(DuplicateCandidate.objects.select_related("person_a", "person_b"), pk=pair_id)
    for person in (pair.person_a, pair.person_b):
        access_log(user=request.user, operation="consultation", subject=person, person=person,
                   justification="Review of a possible duplicate person")
    from casetrail.web.case_forms import DuplicateReviewForm

    form = DuplicateReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        act = duplicate_link if form.cleaned_data["same"] else duplicate_dismiss
        try:
            done = run_service(form, lambda: act(user=request.user, candidate=pair, reason=form.cleaned_data["reason"]))
        except AccessDenied as denied:
            form.add_error(None, f"{denied} Ask a police Prevent officer of the force that holds the cases.")
            done = None
        if done is not None:
            messages.success(request, "Linked as one person" if form.cleaned_data["same"] else
                             "Recorded as different people")
            return redirect("web:duplicate-list")
    sides = [(p, list(p.referrals.order_by("submitted_at"))) for p in (pair.person_a, pair.person_b)]
    return render(request, "people/duplicate_review.html", {"pair": pair, "form": form, "sides": sides},
                  status=400 if form.errors else 200)


# ---------------------------------------------------------------- break glass and the auditors' queue


@login_required
def break_glass(request: HttpRequest) -> HttpResponse:
    if not allowed(request.user, Permission.BREAK_GLASS):  # type: ignore[arg-type]
        raise PermissionDenied("Your role cannot read cases outside its involvement.")
    form = f.BreakGlassForm(request.POST or None, initial={"reference": request.GET.get("reference", "")[:20]})
    if request.method == "POST" and form.is_valid():
        grant = run_service(form, lambda: services.break_glass_grant(user=request.user, **form.cleaned_data))  # type: ignore[arg-type]
        if grant is not None:
            messages.success(request, f"You can read this case until {timezone.localtime(grant.expires_at):%H:%M}. "
                                      "The case owner has been told.")
            return redirect("web:case-detail", case_id=grant.case_id)
    return render(request, "cases/break_glass.html", {"form": form}, status=400 if form.errors else 200)


@login_required
def audit_break_glass(request: HttpRequest) -> HttpResponse:
    if not allowed(request.user, Permission.AUDIT):  # type: ignore[arg-type]
        raise PermissionDenied("Only auditors (oversight and administrators) see this queue.")
    from casetrail.cases.models import BreakGlassGrant

    form = f.BreakGlassReviewForm(request.POST or None)
    if request.method == "POST":
        grant = get_object_or_404(BreakGlassGrant, pk=request.POST.get("grant", 0))
        if form.is_valid():
            done = run_service(form, lambda: services.break_glass_review(user=request.user, grant=grant,  # type: ignore[arg-type]
                                                                         note=form.cleaned_data["note"]))
            if done is not None:
                messages.success(request, "Review recorded")
                return redirect("web:audit-break-glass")
    waiting = BreakGlassGrant.objects.filter(reviewed_at__isnull=True).select_related("case", "user", "user__agency")
    reviewed = BreakGlassGrant.objects.filter(reviewed_at__isnull=False).select_related(
        "case", "user", "reviewed_by").order_by("-reviewed_at")[:50]
    return render(request, "audit/break_glass.html", {"waiting": waiting, "reviewed": reviewed, "form": form,
                                                      "now": clock.now()}, status=400 if form.errors else 200)


def _auditor(request: HttpRequest) -> None:
    if not allowed(request.user, Permission.AUDIT):  # type: ignore[arg-type]
        raise PermissionDenied("Only auditors (oversight and administrators) search the access log.")


@login_required
def audit_log(request: HttpRequest) -> HttpResponse:
    """Who looked at this person? What did this user look at last month?"""
    _auditor(request)
    from casetrail.audit.selectors import log_search

    today = clock.today()
    data = request.GET if "start_day" in request.GET else None
    form = f.AuditSearchForm(data, initial={"start": today - timedelta(days=30), "end": today})
    entries = None
    if form.is_bound and form.is_valid():
        found: dict[str, Any] = {}
        if form.cleaned_data["person"]:
            person = Person.objects.filter(reference=form.cleaned_data["person"].strip().upper()).first()
            if person is None:
                form.add_error("person", "There is no person with that reference")
            found["person_id"] = person.pk if person else None
        if form.cleaned_data["case"]:
            case = Case.objects.filter(reference=form.cleaned_data["case"].strip().upper()).first()
            if case is None:
                form.add_error("case", "There is no case with that reference")
            found["case_id"] = case.pk if case else None
        if form.cleaned_data["username"]:
            who = User.objects.filter(username=form.cleaned_data["username"].strip()).first()
            if who is None:
                form.add_error("username", "There is no user with that username")
            found["user_id"] = who.pk if who else None
        if not form.errors:
            entries = log_search(start=form.cleaned_data["start"], end=form.cleaned_data["end"],
                                 operation=form.cleaned_data["operation"], **found)
            access_log(user=request.user, operation="consultation", subject=request.user,
                       person=Person.objects.filter(pk=found.get("person_id")).first(),
                       justification=f"Audit search of the access log returned {len(entries)} entries")
    return render(request, "audit/log.html", {"form": form, "entries": entries},
                  status=400 if form.errors else 200)


@login_required
def audit_unusual(request: HttpRequest) -> HttpResponse:
    """Unusual access over the last 30 days: heavy days, out of hours, break glass."""
    _auditor(request)
    from casetrail.audit.selectors import UNUSUAL_DAILY_VOLUME, unusual_access

    today = clock.today()
    report = unusual_access(start=today - timedelta(days=30), end=today)
    return render(request, "audit/unusual.html", {"report": report, "volume": UNUSUAL_DAILY_VOLUME,
                                                  "start": today - timedelta(days=30), "end": today})
