"""The API at /api/v1/: thin handlers that parse input, call one service or selector, and answer.

Errors: 422 with field errors for bad input, 400 for a body that is not JSON at all, 409 with
unmet conditions for a refused transition or a stale version, 403 for an action the policy
refuses, 404 for what the caller may not see, 503 when the database cannot be reached or
written (nothing was saved; casetrail/web/errors.py).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import Header, NinjaAPI, Status
from ninja.errors import AuthenticationError, HttpError, ValidationError

from casetrail import clock
from casetrail.accounts.models import Agency, User
from casetrail.api import schemas as s
from casetrail.api.auth import TokenAuth
from casetrail.cases import safeguards, selectors, services
from casetrail.cases.access import allowed, require
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
from casetrail.core.dates import PartialDate
from casetrail.core.errors import (
    AccessDenied,
    InvalidInput,
    NotFound,
    StaleState,
    TransitionNotAllowed,
)
from casetrail.core.lifecycle import available_actions
from casetrail.core.policy import Permission
from casetrail.core.referrals import ReferralInput, nhs_number_errors, upn_errors
from casetrail.people.models import Person
from casetrail.providers.models import ProviderOrganisation
from casetrail.referrals.services import referral_submit

api = NinjaAPI(
    title="Casetrail API",
    version="1",
    description="Referrals, cases and their decisions for the Prevent/Channel programme. "
    "Authenticate with `Authorization: Bearer <token>`.",
    auth=TokenAuth(),
    urls_namespace="api",
)


# ---------------------------------------------------------------- error mapping


@api.exception_handler(InvalidInput)
def _invalid(request: HttpRequest, exc: InvalidInput) -> HttpResponse:
    return api.create_response(request, {"detail": "The request has errors.", "errors": exc.errors}, status=422)


@api.exception_handler(ValidationError)
def _schema_invalid(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    # ninja checks the body before the handler runs; a refusal must still come first, so a
    # caller who may not see the path's object, or may not do this at all, never gets a 422.
    refused = _refusal(request)
    if refused is not None:
        return refused
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        location = [str(p) for p in error.get("loc", []) if p not in ("body", "payload", "query", "path")]
        errors.setdefault(".".join(location) or "", []).append(str(error.get("msg", "Invalid value")))
    return api.create_response(request, {"detail": "The request has errors.", "errors": errors}, status=422)


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    # A body ninja cannot parse is a 400; as with a 422, a refusal comes first.
    if exc.status_code == 400:
        refused = _refusal(request)
        if refused is not None:
            return refused
        return api.create_response(request, {"detail": "The request body is not valid JSON."}, status=400)
    return api.create_response(request, {"detail": str(exc)}, status=exc.status_code)


@api.exception_handler(TransitionNotAllowed)
def _refused(request: HttpRequest, exc: TransitionNotAllowed) -> HttpResponse:
    unmet = [{"code": u.code, "message": u.message, "who": u.who} for u in exc.unmet]
    return api.create_response(request, {"detail": str(exc), "unmet": unmet}, status=409)


@api.exception_handler(StaleState)
def _stale(request: HttpRequest, exc: StaleState) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc), "unmet": []}, status=409)


@api.exception_handler(NotFound)
def _not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=404)


@api.exception_handler(AccessDenied)
def _denied(request: HttpRequest, exc: AccessDenied) -> HttpResponse:
    return api.create_response(request, {"detail": str(exc)}, status=403)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(request, {"detail": "Send a valid API token: Authorization: Bearer <token>."},
                               status=401)


ERRORS = s.ERRORS


def _user(request: HttpRequest) -> User:
    return request.auth  # type: ignore[attr-defined, no-any-return]


def _case(request: HttpRequest, case_id: int) -> Case:
    case, _ = selectors.case_get(user=_user(request), case_id=case_id, channel="api")
    return case


def _get_or_404(model: type, pk: int, what: str) -> Any:
    found = model.objects.filter(pk=pk).first()
    if found is None:
        raise NotFound(f"There is no {what} with that id that you can see.")
    return found


def _on_visible_case(request: HttpRequest, model: type, pk: int, what: str) -> tuple[Any, Any]:
    """An object and how much of its case the caller sees; one answer for absent and not seen,
    so a guessed id never tells that the object exists."""
    found = model.objects.filter(pk=pk).first()
    try:
        if found is None:
            raise NotFound(what)
        _, view = selectors.case_get(user=_user(request), case_id=found.case_id, channel="api")
    except NotFound:
        raise NotFound(f"There is no {what} with that id that you can see.") from None
    return found, view


def _optional_user(pk: int | None) -> User | None:
    return User.objects.filter(pk=pk).first() if pk is not None else None


def _information_request(request: HttpRequest, request_id: int) -> InformationRequest:
    """A request sent to the caller's agency or raised by the caller; any other is absent to them."""
    user = _user(request)
    item = InformationRequest.objects.filter(pk=request_id).first()
    if item is None or (user.agency_id != item.to_agency_id and user.pk != item.owner_user_id):
        raise NotFound("There is no information request with that id that you can see.")
    return item


def _path_case(request: HttpRequest, name: str, raw: str) -> Case | None:
    """The case behind a path id, checked as the handler will check it (NotFound when not seen)."""
    user = _user(request)
    if name == "reference" and (request.resolver_match.url_name or "") in RIGHTS_OPERATIONS:  # type: ignore[union-attr]
        from casetrail.rights import selectors as rights

        if request.path.startswith("/api/v1/people/"):
            rights.rights_person_get(user=user, reference=raw)
        else:
            rights.sar_get(user=user, reference=raw)
        return None
    if not (raw.isascii() and raw.isdigit()):  # "³" and "٣" are digits to str.isdigit, not to int()
        return None
    pk = int(raw)
    if name == "case_id":
        return selectors.case_get(user=user, case_id=pk, log=False)[0]
    if name == "tasking_id":
        return _tasking(request, pk).case
    if name == "assessment_id":
        return _assessment(request, pk).case
    if name == "action_id":
        action = _get_or_404(SupportAction, pk, "support action")
        if action.owner_user_id == user.pk:
            return action.case  # type: ignore[no-any-return]
        _on_visible_case(request, SupportAction, pk, "support action")
        case = _case(request, action.case_id)
        require(user, Permission.PLAN_SUPPORT, case)  # as support_action_complete asks of anyone else
        return case
    if name == "meeting_id" and not PanelMeeting.objects.filter(pk=pk, local_authority_id=user.agency_id).exists():
        raise NotFound("There is no panel meeting with that id that you can see.")
    if name == "request_id":
        _information_request(request, pk)
    if name == "handover_id" and not HandOver.objects.filter(pk=pk, to_user=user).exists():
        raise NotFound("There is no hand-over with that id offered to you.")
    return None


# The permission each operation's service checks, asked again before the body is looked at.
OPERATION_PERMISSIONS: dict[str, Permission] = {
    "gateway": Permission.GATEWAY_DECIDE, "gateway_second_review": Permission.GATEWAY_DECIDE,
    "signposting": Permission.RECORD_SIGNPOSTING_REPLY, "police_led": Permission.POLICE_LED_DECIDE,
    "link_person": Permission.LINK_PERSON, "reject_match": Permission.LINK_PERSON,
    "unlink_person": Permission.LINK_PERSON, "match_people": Permission.LINK_PERSON, "search": Permission.SEARCH,
    "case_earlier_records": Permission.LINK_PERSON, "transfer_case": Permission.OFFER_HANDOVER,
    "record_significant_event": Permission.RECORD_SIGNIFICANT_EVENT,
    "respond_to_significant_event": Permission.RECORD_SIGNIFICANT_EVENT,
    "list_significant_events": Permission.RECORD_SIGNIFICANT_EVENT,
    "review_police_led": Permission.POLICE_LED_DECIDE,
    "list_cases": Permission.SEARCH, "create_meeting": Permission.MANAGE_PANEL,
    "import_referrals": Permission.IMPORT_REFERRALS,
    "add_to_agenda": Permission.MANAGE_PANEL, "request_information": Permission.MANAGE_PANEL,
    "reply_information": Permission.ANSWER_INFORMATION_REQUEST, "panel_decision": Permission.PANEL_DECIDE,
    "panel_review": Permission.PANEL_DECIDE, "exit_case": Permission.PANEL_DECIDE,
    "waive_vulnerability": Permission.PANEL_DECIDE, "record_consent": Permission.RECORD_CONSENT,
    "withdraw_consent": Permission.RECORD_CONSENT, "start_assessment": Permission.ASSESS,
    "save_assessment": Permission.ASSESS, "submit_assessment": Permission.ASSESS,
    "add_support_action": Permission.PLAN_SUPPORT, "commission_tasking": Permission.COMMISSION_TASKING,
    "acknowledge_tasking": Permission.DELIVER_TASKING, "record_session": Permission.DELIVER_TASKING,
    "cancel_session": Permission.DELIVER_TASKING, "post_exit_review": Permission.POST_EXIT_REVIEW,
    "close_case": Permission.CLOSE_CASE, "consult_referrer": Permission.CONSULT_REFERRER,
    "add_note": Permission.ADD_NOTE, "hold_case": Permission.HOLD_FROM_DISPOSAL,
    "offer_handover": Permission.OFFER_HANDOVER,
    # casetrail/retention/api.py
    "review": Permission.RETENTION_REVIEW, "dispose": Permission.RETENTION_REVIEW,
}
# Operations on a person's rights, whose {reference} is a person's or a request's (casetrail/rights).
RIGHTS_OPERATIONS = frozenset({"open_subject_access_request", "redact_item", "extend_subject_access_request",
                               "answer_subject_access_request", "rectify"})
OPERATION_PERMISSIONS.update(dict.fromkeys(RIGHTS_OPERATIONS, Permission.DATA_SUBJECT_RIGHTS))


def _refusal(request: HttpRequest) -> HttpResponse | None:
    """The 404 or 403 the handler would give this caller, found without reading the body."""
    match = request.resolver_match
    if match is None or not isinstance(getattr(request, "auth", None), User):
        return None
    try:
        case = None
        for name, raw in match.kwargs.items():
            case = _path_case(request, name, str(raw)) or case
        permission = OPERATION_PERMISSIONS.get(match.url_name or "")
        if permission is not None:
            require(_user(request), permission, case)
    except NotFound as exc:
        return _not_found(request, exc)
    except AccessDenied as exc:
        return _denied(request, exc)
    return None


# ---------------------------------------------------------------- serialisers


def _summary(case: Case) -> dict[str, Any]:
    return {
        "id": case.pk, "reference": case.reference, "stage": case.stage, "stage_label": case.get_stage_display(),
        "person_reference": case.person.reference, "person_name": case.person.full_name,
        "owner_agency": case.owner_agency.name, "owner_user": case.owner_user.display_name,
        "opened_at": case.opened_at, "version": case.version,
    }


def _decision(d: Any) -> dict[str, Any]:
    return {
        "id": d.pk, "type": d.type, "outcome": d.outcome, "rationale": d.rationale,
        "author": d.author.display_name, "author_role": d.author_role, "author_agency": d.author_agency.name,
        "occurred_at": d.occurred_at, "recorded_at": d.recorded_at, "dissent": d.dissent,
        "attendees": d.attendees, "supersedes_id": d.supersedes_id,
    }


def _case_out(case: Case) -> dict[str, Any]:
    from casetrail.cases.services import _facts
    from casetrail.core.schedules import post_exit_review_dates

    actions = available_actions(_facts(case))
    return {
        **_summary(case),
        "referral_reference": case.referral.reference, "local_authority": case.local_authority.name,
        "police_agency": case.police_agency.name, "outcome": case.outcome,
        "referred_to_panel_on": case.referred_to_panel_on, "adopted_on": case.adopted_on,
        "exited_on": case.exited_on, "closed_on": case.closed_on,
        "post_exit_reviews_due": {str(m): d for m, d in post_exit_review_dates(case.exited_on).items()}
        if case.exited_on else {},
        "decisions": [_decision(d) for d in case.decisions.select_related("author", "author_agency")],
        "available_actions": {a.value: [u.__dict__ for u in unmet] for a, unmet in actions.items()},
    }


def _fresh(case: Case) -> dict[str, Any]:
    return _case_out(Case.objects.select_related("person", "referral", "owner_user", "owner_agency",
                                                 "police_agency", "local_authority").get(pk=case.pk))


def _assessment_out(a: Assessment) -> dict[str, Any]:
    return {"id": a.pk, "case_id": a.case_id, "framework": f"{a.framework_key}:{a.framework_version}",
            "status": a.status, "version": a.version, "judgements": a.judgements, "summary": a.summary,
            "vulnerabilities": [v.factor_code for v in frameworks.identified_vulnerabilities(
                frameworks.get_framework(a.framework_key, a.framework_version), services._judgements(a.judgements))]}


def _tasking_out(t: Tasking) -> dict[str, Any]:
    return {"id": t.pk, "case_id": t.case_id, "provider_organisation": t.provider_agency.name,
            "provider_user": t.provider_user.display_name, "sessions_commissioned": t.sessions_commissioned,
            "commissioned_on": t.commissioned_on, "acknowledged_on": t.acknowledged_on, "ended_on": t.ended_on,
            "sessions": [{"number": x.number, "status": x.status, "held_on": x.held_on.isoformat()}
                         for x in t.sessions.all()]}


def _handover_out(h: HandOver) -> dict[str, Any]:
    return {"id": h.pk, "case_id": h.case_id, "target_type": h.target_type, "target_id": h.target_id,
            "to_user": h.to_user.display_name, "status": h.status, "respond_by": h.respond_by,
            "lapsed": h.is_lapsed, "transfer_kind": h.transfer_kind, "to_agency": h.to_agency.name}


# ---------------------------------------------------------------- referrals


@api.post("/referrals", response={201: s.ReferralOut, 200: s.ReferralOut, **ERRORS}, tags=["referrals"])
def create_referral(request: HttpRequest, payload: s.ReferralIn,
                    idempotency_key: str | None = Header(None, alias="Idempotency-Key")) -> Any:
    """Submit a referral. Send an Idempotency-Key header so a retry never creates a second referral."""
    birth = None
    if payload.date_of_birth:
        try:
            birth = PartialDate.from_iso(payload.date_of_birth)
        except ValueError as problem:
            raise InvalidInput.single("date_of_birth", f"Date of birth is not a real date: {problem}") from None
    if idempotency_key is not None and not 8 <= len(idempotency_key) <= 100:
        raise InvalidInput.single("idempotency_key", "The Idempotency-Key header must be 8 to 100 characters")
    data = ReferralInput(**{**payload.dict(), "date_of_birth": birth,
                            "concern_types": tuple(payload.concern_types)})
    referral, created = referral_submit(user=_user(request), data=data, idempotency_key=idempotency_key,
                                        channel="api")
    user = _user(request)
    case = referral.case
    earlier = []
    if allowed(user, Permission.LINK_PERSON, case):
        earlier = [_earlier_out(r) for r in selectors.case_earlier_records(user=user, case=case, channel="api")
                   if r.visible_cases]
    body = {"reference": referral.reference, "case_reference": case.reference,
            "case_id": case.pk, "submitted_at": referral.submitted_at,
            "status": case.get_stage_display(), "possible_earlier_records": earlier}
    return Status(201 if created else 200, body)


def _earlier_out(r: Any) -> dict[str, Any]:
    m = r.match
    return {"person_reference": r.person.reference, "match_probability": m.probability,
            "match_weight": m.match_weight, "model_version": m.model_version, "found_at": m.found_at,
            "status": r.status, "evidence": m.evidence,
            "cases": [{"case_id": c.pk, "case_reference": c.reference, "stage": c.stage} for c in r.visible_cases],
            "hidden_case_references": [c.reference for c in r.hidden_cases]}


@api.post("/referrals/import", response={200: s.ImportOut, **ERRORS}, tags=["referrals"])
def import_referrals(request: HttpRequest, payload: s.ImportIn) -> Any:
    """Import referrals made before Casetrail, from a legacy system (police Prevent officers, for areas
    their force screens; docs/import.md). Each row is checked as POST /referrals checks a referral; good
    rows are recorded oldest first, each in its own transaction and matched against the person index;
    bad rows, duplicates and rows imported before are answered with their reasons, never recorded."""
    from casetrail.core.imports import FileProblem, rows_from_items
    from casetrail.referrals.imports import ImportSummary, import_rows

    try:
        rows = rows_from_items(payload.rows)
    except FileProblem as problem:
        raise InvalidInput.single("rows", str(problem)) from None
    summary = ImportSummary("json", "utf-8", "", payload.dry_run, [])
    import_rows(user=_user(request), rows=rows, summary=summary, source=payload.source.strip() or "API")
    return {
        "dry_run": summary.dry_run, "imported": summary.imported, "would_import": summary.count("would_import"),
        "matched": summary.matched, "new_people": summary.new_people, "bad": summary.bad,
        "duplicates": summary.count("duplicate"), "already_imported": summary.count("already_imported"),
        "rows": [{"item": o.line, "legacy_reference": o.legacy_reference, "status": o.status,
                  "problems": [{"column": c, "problem": p} for c, p in o.problems],
                  "referral_reference": o.referral_reference, "possible_earlier_records": o.possible_earlier_records}
                 for o in summary.outcomes],
    }


@api.get("/referrals/mine", response={200: list[s.ReferralStatusOut], **ERRORS}, tags=["referrals"])
def my_referrals(request: HttpRequest) -> Any:
    """The status and outcome of the referrals I made (never police checks or case notes)."""
    return [{"reference": c.referral.reference, "case_reference": c.reference, "submitted_at": c.referral.submitted_at,
             "status": c.get_stage_display(), "outcome": c.outcome} for c in selectors.my_referrals(user=_user(request))]


# ---------------------------------------------------------------- cases


@api.get("/cases", response={200: list[s.CaseSummary], **ERRORS}, tags=["cases"])
def list_cases(request: HttpRequest, stage: str | None = None, open_only: bool = False) -> Any:
    require(_user(request), Permission.SEARCH)
    return [_summary(c) for c in selectors.case_list(user=_user(request), stage=stage, open_only=open_only)[:500]]


@api.get("/cases/{case_id}", response={200: s.CaseOut, **ERRORS}, tags=["cases"])
def get_case(request: HttpRequest, case_id: int) -> Any:
    user = _user(request)
    case, view = selectors.case_get(user=user, case_id=case_id, channel="api")
    if view < selectors.View.FULL:
        raise AccessDenied("Your role sees only part of this case; use the referral or tasking endpoints.")
    return _case_out(case)


@api.post("/cases/{case_id}/gateway", response={200: s.CaseOut, **ERRORS}, tags=["gateway"])
def gateway(request: HttpRequest, case_id: int, payload: s.GatewayIn) -> Any:
    case = _case(request, case_id)
    services.gateway_decide(user=_user(request), case=case, **payload.dict())
    return _fresh(case)


@api.post("/cases/{case_id}/signposting-reply", response={200: s.CaseOut, **ERRORS}, tags=["gateway"])
def signposting(request: HttpRequest, case_id: int, payload: s.SignpostingReplyIn) -> Any:
    case = _case(request, case_id)
    services.signposting_reply(user=_user(request), case=case, **payload.dict())
    return _fresh(case)


@api.post("/cases/{case_id}/police-led", response={200: s.CaseOut, **ERRORS}, tags=["gateway"])
def police_led(request: HttpRequest, case_id: int, payload: s.PoliceLedIn) -> Any:
    case = _case(request, case_id)
    services.police_led_decide(user=_user(request), case=case, **payload.dict())
    return _fresh(case)


@api.post("/cases/{case_id}/link-person", response={200: s.PersonOut, **ERRORS}, tags=["people"])
def link_person(request: HttpRequest, case_id: int, payload: s.LinkPersonIn) -> Any:
    user = _user(request)
    case = _case(request, case_id)
    person = Person.objects.filter(reference=payload.person_reference.strip().upper()).first()
    if person is not None and not selectors.person_history(user=user, person=person):
        person = None  # a person the caller cannot see is treated as absent
    services.case_link_person(user=user, case=case, person=person, rationale=payload.rationale)
    assert person is not None
    return _person_out(user, person)


def _person_out(user: User, person: Person) -> dict[str, Any]:
    return {"reference": person.reference, "name": person.full_name, "date_of_birth": person.date_of_birth,
            "cases": [{"case_id": c.pk, "case_reference": c.reference, "referral_reference": c.referral.reference,
                       "stage": c.stage, "opened_at": c.opened_at}
                      for c in selectors.person_history(user=user, person=person)]}


def _match_out(m: Any) -> dict[str, Any]:
    return {"person_reference": m.person.reference, "match_probability": m.probability,
            "match_weight": m.best.match_weight,
            "evidence": [{"field": e.field, "level": e.level, "agrees": e.agrees, "weight": e.weight}
                         for e in m.best.evidence],
            "referrals": len(m.visible_cases),
            "cases": [{"case_id": c.pk, "case_reference": c.reference, "stage": c.stage} for c in m.visible_cases],
            "hidden_cases": m.hidden_cases, "rejected": m.rejected is not None}


# Before /people/{reference}: Django tries paths in order, and "match" would be taken for a reference.
@api.post("/people/match", response={200: s.MatchesOut, **ERRORS}, tags=["people"])
def match_people(request: HttpRequest, payload: s.IdentityIn) -> Any:
    """A would-be referral's identity in; the earlier people it may be, with scores and evidence, out."""
    from casetrail.audit.services import access_log
    from casetrail.people.linkage.records import Identity
    from casetrail.people.matching import person_matches

    user = _user(request)
    # Only those who decide whether two records are one person may match identities: for anyone
    # else the answer would tell who has been referred (the API must not be an oracle).
    require(user, Permission.LINK_PERSON)
    errors: dict[str, list[str]] = {}
    if len(payload.purpose.strip()) < 10:
        errors["purpose"] = ["Say why you are matching this identity (at least 10 characters); it is recorded"]
    if not (payload.given_names.strip() or payload.family_name.strip() or payload.date_of_birth.strip()):
        errors[""] = ["Give at least a name or a date of birth"]
    if payload.date_of_birth.strip():
        try:
            PartialDate.from_iso(payload.date_of_birth.strip())
        except ValueError:
            errors["date_of_birth"] = ["Enter the date of birth as YYYY, YYYY-MM or YYYY-MM-DD"]
    for name, problems in (("nhs_number", nhs_number_errors(payload.nhs_number)), ("upn", upn_errors(payload.upn))):
        if problems:
            errors[name] = problems
    if errors:
        raise InvalidInput(errors)
    identity = Identity(record_id="query", given_names=payload.given_names, family_name=payload.family_name,
                        other_names=tuple(payload.other_names), date_of_birth=payload.date_of_birth.strip(),
                        sex=payload.sex, postcode=payload.postcode, address=payload.address, school=payload.school,
                        nhs_number=payload.nhs_number, upn=payload.upn)
    # Nothing at all (count, reference, evidence) about a person the caller may not see.
    matches = [m for m in person_matches(user=user, identity=identity) if m.visible_cases]
    purpose = f"Identity match: {payload.purpose.strip()}"
    for m in matches:
        access_log(user=user, operation="consultation", subject=m.person, person=m.person, channel="api",
                   justification=purpose)
    if not matches:
        access_log(user=user, operation="consultation", subject=user, channel="api",
                   justification=f"{purpose} (no person shown)")
    return {"matches": [_match_out(m) for m in matches]}


@api.get("/people/{reference}", response={200: s.PersonOut, **ERRORS}, tags=["people"])
def get_person(request: HttpRequest, reference: str) -> Any:
    user = _user(request)
    require(user, Permission.SEARCH)
    person = Person.objects.filter(reference=reference.upper()).first()
    if person is None or not selectors.person_history(user=user, person=person):
        raise NotFound("There is no person with that reference that you can see.")
    from casetrail.audit.services import access_log

    access_log(user=user, operation="consultation", subject=person, person=person, channel="api")
    return _person_out(user, person)


@api.get("/search", response={200: list[s.SearchHitOut], **ERRORS}, tags=["people"])
def search(request: HttpRequest, q: str) -> Any:
    """Find people by case or referral reference, name (tolerant of spelling) or date of birth."""
    user = _user(request)
    require(user, Permission.SEARCH)
    if len(q.strip()) < 2:
        raise InvalidInput.single("q", "Enter at least 2 characters")
    return [{"person_reference": h.person.reference, "name": h.person.full_name,
             "date_of_birth": h.person.date_of_birth, "score": round(h.score, 3),
             "case_references": [c.reference for c in h.cases]}
            for h in selectors.search(user=user, query=q)]


# ---------------------------------------------------------------- panel


@api.post("/panel-meetings", response={201: s.MeetingOut, **ERRORS}, tags=["panel"])
def create_meeting(request: HttpRequest, payload: s.MeetingIn) -> Any:
    meeting = services.panel_meeting_create(user=_user(request), meets_on=payload.meets_on,
                                            chair=_optional_user(payload.chair_id), location=payload.location)
    return Status(201, _meeting_out(meeting))


def _meeting_out(m: PanelMeeting) -> dict[str, Any]:
    return {"id": m.pk, "meets_on": m.meets_on, "chair": m.chair.display_name,
            "local_authority": m.local_authority.name,
            "case_references": [i.case.reference for i in m.items.select_related("case")]}


@api.post("/panel-meetings/{meeting_id}/agenda", response={200: s.MeetingOut, **ERRORS}, tags=["panel"])
def add_to_agenda(request: HttpRequest, meeting_id: int, payload: s.AgendaIn) -> Any:
    user = _user(request)
    meeting = PanelMeeting.objects.filter(pk=meeting_id, local_authority_id=user.agency_id).first()
    if meeting is None:
        raise NotFound("There is no panel meeting with that id that you can see.")
    services.agenda_add(user=user, meeting=meeting, case=_case(request, payload.case_id))
    return _meeting_out(meeting)


@api.post("/cases/{case_id}/information-requests", response={201: s.InformationRequestOut, **ERRORS},
          tags=["panel"])
def request_information(request: HttpRequest, case_id: int, payload: s.InformationRequestIn) -> Any:
    case = _case(request, case_id)
    item = services.information_request_create(
        user=_user(request), case=case, to_agency=Agency.objects.filter(pk=payload.to_agency_id).first(),
        question=payload.question, requested_on=payload.requested_on)
    return Status(201, _request_out(item))


def _request_out(r: InformationRequest) -> dict[str, Any]:
    return {"id": r.pk, "case_id": r.case_id, "to_agency": r.to_agency.name, "question": r.question,
            "requested_on": r.requested_on, "due_on": r.due_on, "reply": r.reply, "replied_on": r.replied_on}


@api.post("/information-requests/{request_id}/reply", response={200: s.InformationRequestOut, **ERRORS},
          tags=["panel"])
def reply_information(request: HttpRequest, request_id: int, payload: s.InformationReplyIn) -> Any:
    item = _information_request(request, request_id)
    item = services.information_request_reply(user=_user(request), request=item, reply=payload.reply,
                                              replied_on=payload.replied_on)
    return _request_out(item)


@api.post("/cases/{case_id}/panel-decision", response={200: s.CaseOut, **ERRORS}, tags=["panel"])
def panel_decision(request: HttpRequest, case_id: int, payload: s.PanelDecisionIn) -> Any:
    case = _case(request, case_id)
    services.panel_decide(user=_user(request), case=case, **payload.dict())
    return _fresh(case)


# ---------------------------------------------------------------- consent and assessment


@api.post("/cases/{case_id}/consent", response={201: s.ConsentOut, **ERRORS}, tags=["consent"])
def record_consent(request: HttpRequest, case_id: int, payload: s.ConsentIn) -> Any:
    consent = services.consent_record(user=_user(request), case=_case(request, case_id), **payload.dict())
    return Status(201, consent)


@api.post("/cases/{case_id}/consent/withdraw", response={200: s.ConsentOut, **ERRORS}, tags=["consent"])
def withdraw_consent(request: HttpRequest, case_id: int, payload: s.ConsentWithdrawIn) -> Any:
    return services.consent_withdraw(user=_user(request), case=_case(request, case_id), **payload.dict())


@api.get("/frameworks", response={200: list[s.FrameworkOut], **ERRORS}, tags=["assessment"], auth=None)
def list_frameworks(request: HttpRequest) -> Any:
    """The assessment frameworks, with their factors, hints and evidence prompts."""
    return [{"ref": f.ref, "name": f.name, "in_use_from": f.in_use_from, "superseded_on": f.superseded_on,
             "dimensions": [{"code": d.code, "title": d.title,
                             "factors": [{"code": x.code, "title": x.title, "hint": x.hint,
                                          "evidence_prompts": list(x.evidence_prompts)} for x in d.factors]}
                            for d in f.dimensions]} for f in frameworks.all_frameworks()]


@api.post("/cases/{case_id}/assessments", response={201: s.AssessmentOut, **ERRORS}, tags=["assessment"])
def start_assessment(request: HttpRequest, case_id: int, payload: s.AssessmentStartIn) -> Any:
    assessment = services.assessment_start(user=_user(request), case=_case(request, case_id),
                                           framework_ref=payload.framework)
    return Status(201, _assessment_out(assessment))


def _assessment(request: HttpRequest, assessment_id: int) -> Assessment:
    assessment, _ = _on_visible_case(request, Assessment, assessment_id, "assessment")
    return assessment  # type: ignore[no-any-return]


@api.patch("/assessments/{assessment_id}", response={200: s.AssessmentOut, **ERRORS}, tags=["assessment"])
def save_assessment(request: HttpRequest, assessment_id: int, payload: s.AssessmentSaveIn) -> Any:
    assessment = services.assessment_save(
        user=_user(request), assessment=_assessment(request, assessment_id),
        expected_version=payload.expected_version,
        judgements={k: v.dict() for k, v in payload.judgements.items()}, summary=payload.summary)
    return _assessment_out(assessment)


@api.post("/assessments/{assessment_id}/submit", response={200: s.AssessmentOut, **ERRORS}, tags=["assessment"])
def submit_assessment(request: HttpRequest, assessment_id: int, payload: s.AssessmentSubmitIn) -> Any:
    assessment = services.assessment_submit(user=_user(request), assessment=_assessment(request, assessment_id),
                                            expected_version=payload.expected_version,
                                            assessed_on=payload.assessed_on)
    return _assessment_out(assessment)


# ---------------------------------------------------------------- support and taskings


def _action_out(a: SupportAction) -> dict[str, Any]:
    return {"id": a.pk, "case_id": a.case_id, "description": a.description, "vulnerabilities": a.vulnerabilities,
            "owner_agency": a.owner_agency.name, "owner_user": a.owner_user.display_name, "due_on": a.due_on,
            "status": a.status}


@api.post("/cases/{case_id}/support-actions", response={201: s.SupportActionOut, **ERRORS}, tags=["support"])
def add_support_action(request: HttpRequest, case_id: int, payload: s.SupportActionIn) -> Any:
    action = services.support_action_add(user=_user(request), case=_case(request, case_id),
                                         description=payload.description, vulnerabilities=payload.vulnerabilities,
                                         owner_user=_optional_user(payload.owner_user_id), due_on=payload.due_on)
    return Status(201, _action_out(action))


@api.post("/support-actions/{action_id}/complete", response={200: s.SupportActionOut, **ERRORS}, tags=["support"])
def complete_support_action(request: HttpRequest, action_id: int, payload: s.SupportActionCompleteIn) -> Any:
    action = _get_or_404(SupportAction, action_id, "support action")
    if action.owner_user_id != _user(request).pk:
        _on_visible_case(request, SupportAction, action_id, "support action")
    action = services.support_action_complete(user=_user(request), action=action, status=payload.status,
                                              completed_on=payload.completed_on, note=payload.note)
    return _action_out(action)


@api.post("/cases/{case_id}/taskings", response={201: s.TaskingOut, **ERRORS}, tags=["support"])
def commission_tasking(request: HttpRequest, case_id: int, payload: s.TaskingIn) -> Any:
    tasking = services.tasking_commission(
        user=_user(request), case=_case(request, case_id), provider_user=_optional_user(payload.provider_user_id),
        sessions_commissioned=payload.sessions_commissioned, purpose=payload.purpose,
        vulnerabilities=payload.vulnerabilities, commissioned_on=payload.commissioned_on)
    return Status(201, _tasking_out(tasking))


def _tasking(request: HttpRequest, tasking_id: int) -> Tasking:
    tasking, view = _on_visible_case(request, Tasking, tasking_id, "tasking")
    if view < selectors.View.PROVIDER:  # a referrer sees the case's status, not its support
        raise AccessDenied("Your role sees only the status of this case, not its taskings.")
    return tasking  # type: ignore[no-any-return]


@api.get("/taskings/{tasking_id}", response={200: s.TaskingOut, **ERRORS}, tags=["support"])
def get_tasking(request: HttpRequest, tasking_id: int) -> Any:
    return _tasking_out(_tasking(request, tasking_id))


@api.post("/taskings/{tasking_id}/acknowledge", response={200: s.TaskingOut, **ERRORS}, tags=["support"])
def acknowledge_tasking(request: HttpRequest, tasking_id: int, payload: s.AcknowledgeIn) -> Any:
    return _tasking_out(services.tasking_acknowledge(user=_user(request), tasking=_tasking(request, tasking_id),
                                                     acknowledged_on=payload.acknowledged_on))


@api.post("/taskings/{tasking_id}/sessions", response={201: s.TaskingOut, **ERRORS}, tags=["support"])
def record_session(request: HttpRequest, tasking_id: int, payload: s.SessionIn) -> Any:
    tasking = _tasking(request, tasking_id)
    services.session_record(user=_user(request), tasking=tasking, held_on=payload.held_on, report=payload.report)
    return Status(201, _tasking_out(tasking))


@api.post("/taskings/{tasking_id}/cancellations", response={201: s.TaskingOut, **ERRORS}, tags=["support"])
def cancel_session(request: HttpRequest, tasking_id: int, payload: s.SessionCancelIn) -> Any:
    tasking = _tasking(request, tasking_id)
    services.session_cancel(user=_user(request), tasking=tasking, cancelled_on=payload.cancelled_on,
                            reason=payload.reason)
    return Status(201, _tasking_out(tasking))


@api.post("/taskings/{tasking_id}/end", response={201: s.TaskingOut, **ERRORS}, tags=["support"])
def end_tasking(request: HttpRequest, tasking_id: int, payload: s.TaskingEndIn) -> Any:
    """End an intervention before its sessions are delivered: a decision with reasons, by whoever
    commissioned it on the case or by the provider tasked; the panel is asked to review it."""
    tasking = _tasking(request, tasking_id)
    services.tasking_end(user=_user(request), tasking=tasking, **payload.dict())
    return Status(201, _tasking_out(Tasking.objects.get(pk=tasking.pk)))


@api.post("/cases/{case_id}/police-led-reviews", response={201: s.CaseOut, **ERRORS}, tags=["gateway"])
def review_police_led(request: HttpRequest, case_id: int, payload: s.PoliceLedReviewIn) -> Any:
    """The periodic review of a police-led case (due at least every `police_led_review_days`)."""
    case = _case(request, case_id)
    services.police_led_review_record(user=_user(request), case=case, **payload.dict())
    return Status(201, _fresh(case))


# ---------------------------------------------------------------- reviews, exit and closure


@api.post("/cases/{case_id}/panel-reviews", response={201: s.CaseOut, **ERRORS}, tags=["reviews"])
def panel_review(request: HttpRequest, case_id: int, payload: s.PanelReviewIn) -> Any:
    case = _case(request, case_id)
    services.panel_review_record(user=_user(request), case=case, **payload.dict())
    return Status(201, _fresh(case))


@api.post("/cases/{case_id}/exit", response={200: s.CaseOut, **ERRORS}, tags=["reviews"])
def exit_case(request: HttpRequest, case_id: int, payload: s.ExitIn) -> Any:
    case = _case(request, case_id)
    services.case_exit(user=_user(request), case=case, **payload.dict())
    return _fresh(case)


@api.post("/cases/{case_id}/post-exit-reviews", response={201: s.CaseOut, **ERRORS}, tags=["reviews"])
def post_exit_review(request: HttpRequest, case_id: int, payload: s.PostExitReviewIn) -> Any:
    case = _case(request, case_id)
    services.post_exit_review_record(user=_user(request), case=case, **payload.dict())
    return Status(201, _fresh(case))


@api.post("/cases/{case_id}/close", response={200: s.CaseOut, **ERRORS}, tags=["reviews"])
def close_case(request: HttpRequest, case_id: int, payload: s.CloseIn) -> Any:
    case = _case(request, case_id)
    services.case_close(user=_user(request), case=case, **payload.dict())
    return _fresh(case)


@api.post("/cases/{case_id}/transfers", response={201: s.HandOverOut, **ERRORS}, tags=["cases"])
def transfer_case(request: HttpRequest, case_id: int, payload: s.TransferIn) -> Any:
    """Offer the case to another area when the person moves or goes into or out of custody; the
    receiving agency's duty owner answers through /handovers/{id}/respond."""
    case = _case(request, case_id)
    agency = Agency.objects.filter(pk=payload.to_agency_id).first() if payload.to_agency_id is not None else None
    if payload.to_agency_id is not None and agency is None:
        raise InvalidInput.single("to_agency_id", "There is no agency with that id")
    offer = services.case_transfer_offer(user=_user(request), case=case, to_agency=agency, kind=payload.kind,
                                         reason=payload.reason)
    return Status(201, _handover_out(offer))


# ---------------------------------------------------------------- safeguards


def _finding_out(f: Any) -> dict[str, Any]:
    return {"rule": f.rule, "key": f.key, "title": f.title, "source": f.source, "severity": f.severity.value,
            "message": f.message, "who": f.who, "since": f.since, "notify_user_ids": list(f.notify),
            "escalated_to_user_ids": list(f.escalated_to)}


@api.get("/cases/{case_id}/findings", response={200: s.FindingsOut, **ERRORS}, tags=["safeguards"])
def case_findings(request: HttpRequest, case_id: int, as_of: date | None = None) -> Any:
    """Open safeguard findings on the case, now or as the recorded facts stood at the end of `as_of`."""
    user = _user(request)
    case, view = selectors.case_get(user=user, case_id=case_id, channel="api")
    if view < selectors.View.FULL:
        raise AccessDenied("Your role sees only part of this case, not its findings.")
    if as_of is not None and as_of > clock.today():
        raise InvalidInput.single("as_of", "The date must be today or in the past")
    return {"case_id": case.pk, "case_reference": case.reference, "as_of": as_of or clock.today(),
            "findings": [_finding_out(f) for f in (safeguards.case_findings(case, as_of=as_of) if as_of
                                                   else case_findings_now(case))]}


@api.get("/cases/{case_id}/exit-blockers", response={200: s.Refused, **ERRORS}, tags=["safeguards"])
def exit_blockers(request: HttpRequest, case_id: int) -> Any:
    """What stands in the way of exiting the case today (empty `unmet` when nothing does)."""
    case = _case(request, case_id)
    require(_user(request), Permission.PANEL_DECIDE, case)
    unmet = safeguards.exit_blockers(case)
    return {"detail": "Exit is blocked" if unmet else "Nothing blocks exit",
            "unmet": [{"code": u.code, "message": u.message, "who": u.who} for u in unmet]}


@api.post("/cases/{case_id}/gateway-second-review", response={201: s.CaseOut, **ERRORS}, tags=["gateway"])
def gateway_second_review(request: HttpRequest, case_id: int, payload: s.GatewaySecondReviewIn) -> Any:
    case = _case(request, case_id)
    services.gateway_second_review_record(user=_user(request), case=case, **payload.dict())
    return Status(201, _fresh(case))


@api.post("/cases/{case_id}/referrer-consultations", response={201: s.CaseOut, **ERRORS}, tags=["safeguards"])
def consult_referrer(request: HttpRequest, case_id: int, payload: s.ConsultationIn) -> Any:
    case = _case(request, case_id)
    services.referrer_consultation_record(user=_user(request), case=case, **payload.dict())
    return Status(201, _fresh(case))


@api.post("/cases/{case_id}/notes", response={201: s.CaseOut, **ERRORS}, tags=["cases"])
def add_note(request: HttpRequest, case_id: int, payload: s.NoteIn) -> Any:
    case = _case(request, case_id)
    services.case_note_record(user=_user(request), case=case, **payload.dict())
    return Status(201, _fresh(case))


@api.get("/cases/{case_id}/significant-events", response={200: list[s.SignificantEventOut], **ERRORS},
         tags=["safeguards"])
def list_significant_events(request: HttpRequest, case_id: int) -> Any:
    """Arrests, custody, moves, crises, exclusions, partners' news and meeting concerns on the case."""
    case = _case(request, case_id)
    require(_user(request), Permission.RECORD_SIGNIFICANT_EVENT, case)
    return [{"id": e.pk, "kind": e.kind, "occurred_on": e.occurred_on, "source": e.source, "summary": e.summary,
             "recorded_at": e.recorded_at, "decision": _decision(d) if d is not None else None}
            for e, d in selectors.significant_events_with_decisions(case)]


@api.post("/cases/{case_id}/significant-events", response={201: s.CaseOut, **ERRORS}, tags=["safeguards"])
def record_significant_event(request: HttpRequest, case_id: int, payload: s.SignificantEventIn) -> Any:
    """Record a significant event: the assessment becomes due again and an open Channel case goes on
    the next panel agenda; after closure it is flagged to the last owner as a possible re-referral."""
    case = _case(request, case_id)
    services.significant_event_record(user=_user(request), case=case, **payload.dict())
    return Status(201, _fresh(case))


@api.post("/cases/{case_id}/significant-events/{event_id}/decision", response={201: s.CaseOut, **ERRORS},
          tags=["safeguards"])
def respond_to_significant_event(request: HttpRequest, case_id: int, event_id: int,
                                 payload: s.SignificantEventResponseIn) -> Any:
    """The recorded discussion and decision about a significant event."""
    case = _case(request, case_id)
    event = case.significant_events.filter(pk=event_id).first()
    if event is None:
        raise NotFound("There is no such event on this case.")
    services.significant_event_respond(user=_user(request), event=event, **payload.dict())
    return Status(201, _fresh(case))


@api.post("/cases/{case_id}/vulnerability-waivers", response={201: s.CaseOut, **ERRORS}, tags=["safeguards"])
def waive_vulnerability(request: HttpRequest, case_id: int, payload: s.WaiverIn) -> Any:
    case = _case(request, case_id)
    services.vulnerability_waiver_record(user=_user(request), case=case, **payload.dict())
    return Status(201, _fresh(case))


@api.post("/cases/{case_id}/holds", response={201: s.CaseOut, **ERRORS}, tags=["safeguards"])
def hold_case(request: HttpRequest, case_id: int, payload: s.HoldIn) -> Any:
    case = _case(request, case_id)
    services.retention_hold_place(user=_user(request), case=case, **payload.dict())
    return Status(201, _fresh(case))


# ---------------------------------------------------------------- hand-overs and my work


@api.post("/cases/{case_id}/handovers", response={201: s.HandOverOut, **ERRORS}, tags=["ownership"])
def offer_handover(request: HttpRequest, case_id: int, payload: s.HandOverIn) -> Any:
    offer = services.handover_offer(user=_user(request), case=_case(request, case_id),
                                    target_type=payload.target_type, target_id=payload.target_id,
                                    to_user=_optional_user(payload.to_user_id), reason=payload.reason)
    return Status(201, _handover_out(offer))


@api.post("/handovers/{handover_id}/respond", response={200: s.HandOverOut, **ERRORS}, tags=["ownership"])
def respond_handover(request: HttpRequest, handover_id: int, payload: s.HandOverRespondIn) -> Any:
    offer = HandOver.objects.filter(pk=handover_id, to_user=_user(request)).first()
    if offer is None:
        raise NotFound("There is no hand-over with that id offered to you.")
    return _handover_out(services.handover_respond(user=_user(request), handover=offer, accept=payload.accept,
                                                   note=payload.note))


@api.get("/my-work", response={200: s.MyWorkOut, **ERRORS}, tags=["ownership"])
def my_work(request: HttpRequest) -> Any:
    work = selectors.my_work(user=_user(request))
    return {"owned_cases": [_summary(c) for c in work.owned_cases],
            "tasks": [{"kind": t.kind, "title": t.title, "case_reference": t.case.reference, "due_on": t.due_on,
                       "overdue": t.is_overdue(work.today)} for t in work.tasks],
            "awaiting_acceptance": [_handover_out(h) for h in work.awaiting_acceptance]}


@api.get("/providers", response={200: list[s.ProviderOut], **ERRORS}, tags=["providers"])
def providers(request: HttpRequest) -> Any:
    require(_user(request), Permission.SEARCH)
    return [{"id": p.pk, "name": p.agency.name, "specialisms": p.specialisms, "status": p.status,
             "approved_until": p.approved_until,
             "workers": [{"user_id": w.user_id, "name": w.user.display_name, "status": w.status,
                          "vetting_expires_on": w.vetting_expires_on.isoformat() if w.vetting_expires_on else None,
                          "approved_today": w.is_approved_on(date.today())}
                         for w in p.workers.select_related("user")]}
            for p in ProviderOrganisation.objects.select_related("agency")]


# ---------------------------------------------------------------- person matching


@api.get("/cases/{case_id}/matches", response={200: s.MatchesOut, **ERRORS}, tags=["people"])
def case_matches(request: HttpRequest, case_id: int) -> Any:
    """Earlier people this case's referral may be, for those who may link them."""
    case = _case(request, case_id)
    require(_user(request), Permission.LINK_PERSON, case)
    return {"matches": [_match_out(m) for m in selectors.case_matches(user=_user(request), case=case,
                                                                      channel="api")]}


@api.get("/cases/{case_id}/earlier-records", response={200: list[s.EarlierRecordOut], **ERRORS}, tags=["people"])
def case_earlier_records(request: HttpRequest, case_id: int) -> Any:
    """The case's possible earlier records as found, with where each stands; every one still open
    blocks the gateway decision. For those who may link people on the case."""
    case = _case(request, case_id)
    require(_user(request), Permission.LINK_PERSON, case)
    return [_earlier_out(r) for r in selectors.case_earlier_records(user=_user(request), case=case, channel="api")]


@api.post("/cases/{case_id}/matches/reject", response={201: s.CaseOut, **ERRORS}, tags=["people"])
def reject_match(request: HttpRequest, case_id: int, payload: s.RejectMatchIn) -> Any:
    case = _case(request, case_id)
    person = Person.objects.filter(reference=payload.person_reference.strip().upper()).first()
    if person is None:
        raise InvalidInput.single("person_reference", "There is no person with that reference")
    services.match_reject(user=_user(request), case=case, person=person, rationale=payload.rationale)
    return Status(201, _fresh(case))


@api.post("/cases/{case_id}/unlink-person", response={200: s.CaseOut, **ERRORS}, tags=["people"])
def unlink_person(request: HttpRequest, case_id: int, payload: s.UnlinkIn) -> Any:
    case = _case(request, case_id)
    services.person_link_undo(user=_user(request), case=case, rationale=payload.rationale)
    return _fresh(case)


# ---------------------------------------------------------------- data-subject rights (casetrail/rights)


def _sar(request: HttpRequest, reference: str) -> Any:
    from casetrail.rights.selectors import sar_get

    return sar_get(user=_user(request), reference=reference)


def _sar_out(r: Any) -> dict[str, Any]:
    from casetrail.rights.selectors import active_redactions

    return {"reference": r.reference, "person_reference": r.person.reference, "requested_by": r.requested_by,
            "received_on": r.received_on, "due_on": r.due_on, "extension_months": r.extension_months,
            "status": r.status, "overdue": r.times.is_overdue(clock.today()), "handler": r.handler.display_name,
            "items_withheld": len(active_redactions(r))}


def _redaction_out(r: Any) -> dict[str, Any]:
    return {"id": r.pk, "item": r.item, "reason": r.reason, "rationale": r.rationale,
            "author": r.author.display_name, "recorded_at": r.recorded_at, "withdraws": r.withdraws_id}


@api.post("/people/{reference}/subject-access-requests", response={201: s.SubjectAccessRequestOut, **ERRORS},
          tags=["subject access"])
def open_subject_access_request(request: HttpRequest, reference: str, payload: s.SubjectAccessRequestIn) -> Any:
    """Record a subject access request for the person; the caller handles it."""
    from casetrail.rights.selectors import rights_person_get
    from casetrail.rights.services import subject_access_request_open

    person = rights_person_get(user=_user(request), reference=reference)
    sar = subject_access_request_open(user=_user(request), person=person, **payload.dict())
    return Status(201, _sar_out(sar))


@api.get("/subject-access-requests", response={200: list[s.SubjectAccessRequestOut], **ERRORS},
         tags=["subject access"])
def list_subject_access_requests(request: HttpRequest, open_only: bool = False) -> Any:
    """Requests about people the caller can see, oldest due first (empty for roles that do not handle them)."""
    from casetrail.rights.selectors import sar_list

    require(_user(request), Permission.DATA_SUBJECT_RIGHTS)
    return [_sar_out(r) for r in sar_list(user=_user(request), open_only=open_only)]


@api.get("/subject-access-requests/{reference}", response={200: s.SubjectAccessReviewOut, **ERRORS},
         tags=["subject access"])
def get_subject_access_request(request: HttpRequest, reference: str) -> Any:
    """Everything held about the person, with each item's key and whether it is withheld (for review)."""
    from casetrail.rights.selectors import subject_data_for_review

    sar = _sar(request, reference)
    data = subject_data_for_review(user=_user(request), request=sar, channel="api")
    sections = [{"key": sec.key, "title": sec.title, "records": [
        {"key": rec.key, "title": rec.title, "redacted": rec.redacted.placeholder if rec.redacted else None,
         "items": [{"key": i.key, "label": i.label, "value": i.value,
                    "redacted": i.redacted.placeholder if i.redacted else None} for i in rec.items]}
        for rec in sec.records]} for sec in data.sections]
    decisions = [_redaction_out(r) for r in sar.redactions.select_related("author")]
    return {**_sar_out(sar), "redaction_decisions": decisions, "sections": sections}


@api.post("/subject-access-requests/{reference}/redactions", response={201: s.RedactionOut, **ERRORS},
          tags=["subject access"])
def redact_item(request: HttpRequest, reference: str, payload: s.RedactionIn) -> Any:
    """Withhold one item (its key) or a whole record from the answer, on a listed ground with reasons."""
    from casetrail.rights.services import redaction_mark

    redaction = redaction_mark(user=_user(request), request=_sar(request, reference), **payload.dict())
    return Status(201, _redaction_out(redaction))


@api.post("/subject-access-requests/{reference}/extension", response={200: s.SubjectAccessRequestOut, **ERRORS},
          tags=["subject access"])
def extend_subject_access_request(request: HttpRequest, reference: str, payload: s.ExtensionIn) -> Any:
    from casetrail.rights.services import subject_access_request_extend

    return _sar_out(subject_access_request_extend(user=_user(request), request=_sar(request, reference),
                                                  **payload.dict()))


@api.post("/subject-access-requests/{reference}/answer", response={200: s.SubjectAnswerOut, **ERRORS},
          tags=["subject access"])
def answer_subject_access_request(request: HttpRequest, reference: str, payload: s.SubjectAnswerIn) -> Any:
    """The answer as JSON, withheld items replaced by '[Redacted: ground]'; logged as a disclosure to
    the recipient."""
    from casetrail.rights.services import subject_access_disclose

    return subject_access_disclose(user=_user(request), request=_sar(request, reference),
                                   recipient=payload.recipient, format="json", channel="api")


@api.post("/people/{reference}/rectifications", response={201: s.RectificationOut, **ERRORS},
          tags=["subject access"])
def rectify(request: HttpRequest, reference: str, payload: s.RectificationIn) -> Any:
    """Decide a claim that something recorded about the person is wrong: accept (with the corrected
    value) or refuse, with reasons. The value recorded before is kept in the decision."""
    from casetrail.rights.models import SubjectAccessRequest
    from casetrail.rights.selectors import rights_person_get
    from casetrail.rights.services import rectification_decide

    person = rights_person_get(user=_user(request), reference=reference)
    values = payload.dict()
    sar_reference = values.pop("request_reference").strip().upper()
    sar = None
    if sar_reference:
        sar = SubjectAccessRequest.objects.filter(person=person, reference=sar_reference).first()
        if sar is None:
            raise InvalidInput.single("request_reference", "This person has no subject access request with "
                                                           "that reference")
    decision = rectification_decide(user=_user(request), person=person, request=sar, **values)
    return Status(201, {"id": decision.pk, "target": values["target"], "field_label": decision.field_label,
                        "outcome": decision.outcome, "recorded_value": decision.recorded_value,
                        "corrected_value": decision.corrected_value, "decided_on": decision.decided_on})


# ---------------------------------------------------------------- retention (casetrail/retention/api.py)

from casetrail.retention.api import router as retention_router  # noqa: E402

api.add_router("", retention_router)
