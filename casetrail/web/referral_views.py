"""The referral form as GOV.UK question pages, with the answers kept in the session until sent."""

from __future__ import annotations

import datetime
import re
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from casetrail.accounts.models import Agency
from casetrail.core.codes import CONCERN_TYPES, PERSON_AWARE, SECTORS, SEX, URGENCY
from casetrail.core.dates import PartialDate
from casetrail.core.errors import AccessDenied, InvalidInput
from casetrail.core.referrals import ReferralInput, nhs_number_format
from casetrail.referrals.attachments import MAX_FILES, UploadedFile
from casetrail.referrals.models import IdempotencyRecord, Referral
from casetrail.referrals.services import referral_submit
from casetrail.web.referral_forms import (
    AboutYouForm,
    AttachmentsForm,
    ConcernForm,
    PersonForm,
    UrgencyForm,
)

DRAFT = "referral_draft"
SUBMITTED = "referral_submitted"
HEX = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Page:
    key: str
    title: str
    form_class: type[forms.Form]
    intro: str = ""
    warning: str = ""


PAGES: dict[str, Page] = {
    page.key: page
    for page in [
        Page("about-you", "About you", AboutYouForm,
             intro="The police Prevent team may contact you to talk about the referral."),
        Page("person", "About the person", PersonForm,
             intro="Tell us about the person you are concerned about. Leave out anything you do not know."),
        Page("concern", "Your concern", ConcernForm),
        Page("urgency", "Urgency and awareness", UrgencyForm,
             warning="If someone is at immediate risk of harm, call 999 now."),
        Page("attachments", "Attach supporting documents", AttachmentsForm,
             intro="You can attach documents that support your referral, such as notes of what was "
                   "said or screenshots. This is optional."),
    ]
}
ORDER = list(PAGES)
SUMMARY_TITLES = {"about-you": "About you", "person": "The person", "concern": "The concern",
                  "urgency": "Urgency and awareness", "attachments": "Attachments"}

# Which page asks for each field the referral service may refuse, so its error can link there.
FIELD_PAGES: dict[str, str] = {
    **{name: key for key in ("about-you", "person", "concern", "urgency")
       for name in PAGES[key].form_class.base_fields},
    "local_authority_id": "person",
    "attachments": "attachments",
}


def _url(key: str) -> str:
    return reverse(f"web:referral-{key}")


def _draft(request: HttpRequest) -> dict[str, Any] | None:
    draft = request.session.get(DRAFT)
    return draft if isinstance(draft, dict) and "pages" in draft else None


def _new_draft() -> dict[str, Any]:
    # The key is made once per draft, so however often the final POST arrives it is one referral.
    return {"key": secrets.token_urlsafe(24), "token": secrets.token_hex(16), "pages": {}, "files": []}


def _save(request: HttpRequest, draft: dict[str, Any]) -> None:
    request.session[DRAFT] = draft
    # Nested changes are invisible to the session unless it is told.
    request.session.modified = True


def _pending_dir(draft: dict[str, Any]) -> Path:
    token = str(draft.get("token", ""))
    if not HEX.match(token):
        raise Http404("No such draft")
    # Under VAR_DIR, never the web root: unscreened files must not be fetchable by URL.
    return Path(settings.VAR_DIR) / "pending-uploads" / token


def _discard(request: HttpRequest) -> None:
    draft = _draft(request)
    if draft is not None:
        shutil.rmtree(_pending_dir(draft), ignore_errors=True)
    request.session.pop(DRAFT, None)


def _first_missing(draft: dict[str, Any], before: str | None = None) -> str | None:
    keys = ORDER if before is None else ORDER[: ORDER.index(before)]
    return next((key for key in keys if key not in draft["pages"]), None)


def _guard(request: HttpRequest, key: str | None) -> HttpResponse | None:
    """Send someone who skipped ahead back to the first page they have not answered."""
    draft = _draft(request)
    if draft is None:
        return None if key == ORDER[0] else redirect("web:referral-start")
    missing = _first_missing(draft, key)
    return redirect(_url(missing)) if missing else None


def _changing(request: HttpRequest) -> bool:
    return request.GET.get("change") == "1"


def _next_url(request: HttpRequest, key: str) -> str:
    index = ORDER.index(key)
    if _changing(request) or index == len(ORDER) - 1:
        return _url("check")
    return _url(ORDER[index + 1])


def _back_url(request: HttpRequest, key: str) -> str:
    if _changing(request):
        return _url("check")
    index = ORDER.index(key)
    return _url(ORDER[index - 1]) if index else _url("start")


def _birth(draft: dict[str, Any] | None) -> PartialDate | None:
    text = ((draft or {}).get("pages", {}).get("person") or {}).get("date_of_birth")
    try:
        return PartialDate.from_iso(text) if text else None
    except ValueError:
        return None


@login_required
@require_http_methods(["GET", "POST"])
def referral_start(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        # "Start a new referral" throws away the one in progress, with its uploaded files.
        _discard(request)
        return redirect("web:referral-about-you")
    draft = _draft(request)
    resume = None
    if draft is not None and draft["pages"]:
        resume = _url(_first_missing(draft) or "check")
    return render(request, "referrals/start.html", {"resume_url": resume, "max_files": MAX_FILES})


def _page_view(page: Page) -> Callable[[HttpRequest], HttpResponse]:
    @login_required
    @require_http_methods(["GET", "POST"])
    def view(request: HttpRequest) -> HttpResponse:
        blocked = _guard(request, page.key)
        if blocked is not None:
            return blocked
        draft = _draft(request)
        kwargs: dict[str, Any] = {"birth": _birth(draft)} if page.form_class is ConcernForm else {}
        form_class: Any = page.form_class
        if request.method == "POST":
            form = form_class(request.POST, **kwargs)
            if form.is_valid():
                draft = draft or _new_draft()
                draft["pages"][page.key] = form.session_values()
                _save(request, draft)
                return redirect(_next_url(request, page.key))
            status = 400
        else:
            stored = (draft or {}).get("pages", {}).get(page.key)
            if stored is not None:
                initial = form_class.initial_from(stored)
            elif page.form_class is AboutYouForm:
                initial = AboutYouForm.initial_for(request.user)
            else:
                initial = {}
            form = form_class(initial=initial, **kwargs)
            status = 200
        context = {"page": page, "form": form, "back_url": _back_url(request, page.key)}
        return render(request, "referrals/question.html", context, status=status)

    view.__name__ = f"referral_{page.key.replace('-', '_')}"
    return view


referral_about_you = _page_view(PAGES["about-you"])
referral_person = _page_view(PAGES["person"])
referral_concern = _page_view(PAGES["concern"])
referral_urgency = _page_view(PAGES["urgency"])


@login_required
@require_http_methods(["GET", "POST"])
def referral_attachments(request: HttpRequest) -> HttpResponse:
    blocked = _guard(request, "attachments")
    if blocked is not None:
        return blocked
    draft = _draft(request)
    assert draft is not None  # _guard sends anyone without a draft to the start
    files: list[dict[str, Any]] = draft["files"]
    status = 200
    if request.method == "POST" and "remove" in request.POST:
        stored = request.POST["remove"]
        kept = [f for f in files if f["stored"] != stored]
        if len(kept) != len(files) and HEX.match(stored):
            (_pending_dir(draft) / stored).unlink(missing_ok=True)
            draft["files"] = kept
            _save(request, draft)
        # Back to the same page (keeping ?change=1) so they can see what is left.
        return redirect(request.get_full_path())
    if request.method == "POST":
        form = AttachmentsForm(request.POST, request.FILES, already=len(files))
        if form.is_valid():
            folder = _pending_dir(draft)
            if form.cleaned_data["attachments"]:
                folder.mkdir(parents=True, exist_ok=True)
            for checked in form.cleaned_data["attachments"]:
                # A random name on disk: the referrer's file name is only ever shown, never a path.
                stored = secrets.token_hex(16)
                (folder / stored).write_bytes(checked.content)
                files.append({"name": checked.name, "stored": stored, "size": len(checked.content)})
            draft["pages"]["attachments"] = {}
            _save(request, draft)
            return redirect(_next_url(request, "attachments"))
        status = 400
    else:
        form = AttachmentsForm(already=len(files))
    context = {
        "page": PAGES["attachments"], "form": form, "files": files, "max_files": MAX_FILES,
        "back_url": _back_url(request, "attachments"),
    }
    return render(request, "referrals/attachments.html", context, status=status)


def _referral_input(draft: dict[str, Any]) -> ReferralInput:
    """The answers from every page as the service's input."""
    values: dict[str, Any] = {}
    for key in ("about-you", "person", "concern", "urgency"):
        form_class: Any = PAGES[key].form_class
        values.update(form_class.initial_from(draft["pages"][key]))
    values["local_authority_id"] = int(values.pop("local_authority"))
    values["concern_types"] = tuple(values.get("concern_types") or ())
    if not isinstance(values.get("first_observed_on"), datetime.date):
        raise ValueError("The date the concern was first observed is missing")
    return ReferralInput(**values)


def _display(value: Any) -> str:
    return str(value) if value not in (None, "") else "Not given"


def _sections(draft: dict[str, Any]) -> list[dict[str, Any]]:
    """The summary lists on check your answers: one per page, each row with its question."""
    about, person = draft["pages"]["about-you"], draft["pages"]["person"]
    concern, urgency = draft["pages"]["concern"], draft["pages"]["urgency"]
    authority = Agency.objects.filter(pk=person.get("local_authority")).first()
    birth = _birth(draft)
    observed = ConcernForm.initial_from(concern).get("first_observed_on")

    def row(label: str, value: Any, field: str) -> dict[str, Any]:
        return {"key": label, "value": value, "field": field}

    sections = [
        ("about-you", [
            row("Name", _display(about.get("referrer_name")), "referrer_name"),
            row("Job title or role", _display(about.get("referrer_job_title")), "referrer_job_title"),
            row("Email address", _display(about.get("referrer_email")), "referrer_email"),
            row("Phone number", _display(about.get("referrer_phone")), "referrer_phone"),
            row("Organisation", _display(about.get("referrer_organisation")), "referrer_organisation"),
            row("Sector", _display(SECTORS.get(about.get("referrer_sector", ""))), "referrer_sector"),
            row("Safeguarding lead consulted", _display(about.get("discussed_with")), "discussed_with"),
        ]),
        ("person", [
            row("Name", f"{person.get('given_names', '')} {person.get('family_name', '')}".strip(),
                "given_names"),
            row("Other names or spellings", _display(person.get("other_names")), "other_names"),
            row("Date of birth", birth.as_text() if birth else "Not known", "date_of_birth"),
            row("Sex", _display(SEX.get(person.get("sex", ""))), "sex"),
            row("NHS number", _display(nhs_number_format(str(person.get("nhs_number") or ""))), "nhs_number"),
            row("Address", _display(person.get("address")), "address"),
            row("Postcode", _display(person.get("postcode")), "postcode"),
            row("School, college or workplace", _display(person.get("school_or_workplace")),
                "school_or_workplace"),
            row("Unique Pupil Number", _display(person.get("upn")), "upn"),
            row("Local authority area", authority.name if authority else "Not found: choose again",
                "local_authority"),
        ]),
        ("concern", [
            row("What you observed", _display(concern.get("concern")), "concern"),
            row("First observed",
                f"{observed.day} {observed:%B %Y}" if isinstance(observed, datetime.date) else "Not given",
                "first_observed_on"),
            row("Type of concern", [CONCERN_TYPES.get(c, c) for c in concern.get("concern_types", [])],
                "concern_types"),
        ]),
        ("urgency", [
            row("Urgency", _display(URGENCY.get(urgency.get("urgency", ""))), "urgency"),
            row("Person knows about the referral", _display(PERSON_AWARE.get(urgency.get("person_aware", ""))),
                "person_aware"),
        ]),
        ("attachments", [
            row("Files", [f["name"] for f in draft["files"]] or "None", "attachments"),
        ]),
    ]
    return [
        {"title": SUMMARY_TITLES[key], "url": _url(key),
         "rows": [{**r, "is_list": isinstance(r["value"], list)} for r in rows]}
        for key, rows in sections
    ]


def _problems(problem: InvalidInput) -> list[dict[str, str | None]]:
    """Each refusal as a GOV.UK error summary item that links to the page that asks for it."""
    items: list[dict[str, str | None]] = []
    for field, field_messages in problem.errors.items():
        key = FIELD_PAGES.get(field)
        href = None
        if key is not None:
            name = "local_authority" if field == "local_authority_id" else field
            anchor = f"id_{name}_day" if name in ("date_of_birth", "first_observed_on") else f"id_{name}"
            href = f"{_url(key)}?change=1#{anchor}"
        items.extend({"text": message, "href": href} for message in field_messages)
    return items


def _uploads(draft: dict[str, Any]) -> list[UploadedFile]:
    folder = _pending_dir(draft)
    uploads = []
    missing = []
    for item in draft["files"]:
        path = folder / str(item["stored"])
        if not HEX.match(str(item["stored"])) or not path.is_file():
            missing.append(item)
            continue
        uploads.append(UploadedFile(item["name"], path.read_bytes()))
    if missing:
        # Forget the lost files so the attachments page shows what is really there.
        draft["files"] = [item for item in draft["files"] if item not in missing]
        missing = [item["name"] for item in missing]
        raise InvalidInput({"attachments": [f"'{name}' is no longer available; attach it again"
                                            for name in missing]})
    return uploads


@login_required
@require_http_methods(["GET", "POST"])
def referral_check(request: HttpRequest) -> HttpResponse:
    draft = _draft(request)
    if draft is None and request.method == "POST":
        # A retried "Submit referral" after it went through: show the referral it made.
        done = request.session.get(SUBMITTED) or {}
        if done.get("key") and done.get("key") == request.POST.get("key"):
            return redirect("web:referral-confirmation", reference=done["reference"])
    blocked = _guard(request, None) if draft is not None else redirect("web:referral-start")
    if blocked is not None:
        return blocked
    assert draft is not None
    problems: list[dict[str, str | None]] = []
    status = 200
    if request.method == "POST":
        user: Any = request.user
        key = draft["key"]
        try:
            data = _referral_input(draft)
        except (KeyError, TypeError, ValueError):
            # A draft damaged or left over from an older version of the form: start again.
            _discard(request)
            return redirect("web:referral-start")
        try:
            # If a request with this key already went through (a double-click), the service
            # answers with that referral; the files may already have been cleared away.
            replay = IdempotencyRecord.objects.filter(user=user, key=key).exists()
            uploads = [] if replay else _uploads(draft)
            referral, _ = referral_submit(user=user, data=data, attachments=uploads,
                                          idempotency_key=key, channel="web")
        except AccessDenied as denied:
            raise PermissionDenied(str(denied)) from None
        except InvalidInput as problem:
            _save(request, draft)
            problems = _problems(problem)
            status = 400
        else:
            _discard(request)
            request.session[SUBMITTED] = {"key": key, "reference": referral.reference}
            return redirect("web:referral-confirmation", reference=referral.reference)
    context = {"sections": _sections(draft), "problems": problems, "key": draft["key"],
               "back_url": _url(ORDER[-1])}
    return render(request, "referrals/check.html", context, status=status)


@login_required
def referral_confirmation(request: HttpRequest, reference: str) -> HttpResponse:
    # Only the person who sent it: a reference alone must not reveal that a referral exists.
    referral = Referral.objects.filter(reference=reference, submitted_by=request.user).first()
    if referral is None:
        raise Http404("No such referral")
    return render(request, "referrals/confirmation.html", {"referral": referral})
