"""The multi-page referral form: a full walk to a confirmation, each page's errors, retries and access."""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from casetrail.accounts.models import Agency, User
from casetrail.accounts.services import agency_create, agency_set_duty_owner, user_create
from casetrail.cases.models import Case
from casetrail.clock import today
from casetrail.referrals.attachments import MAX_FILES
from casetrail.referrals.models import Attachment, Referral

START = "/referrals/new/"
PDF = b"%PDF-1.4\n% a tiny test document\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 20


@dataclass
class Setup:
    police: Agency
    council: Agency
    officer: User
    referrer: User
    other_referrer: User


def _user(username: str, agency: Agency, role: str) -> User:
    return user_create(username=username, password="a-long-test-password-123", first_name=username.title(),
                       last_name="Tester", email=f"{username}@example.org", agency=agency, roles=[role],
                       job_title="Designated safeguarding lead")


@pytest.fixture
def setup(db: Any, settings: Any, tmp_path: Path) -> Setup:
    # Uploads go to a throwaway folder, not the project's var/.
    settings.VAR_DIR = tmp_path / "var"
    settings.MEDIA_ROOT = tmp_path / "var" / "uploads"
    police = agency_create(name="Testshire Police CTP", kind="police")
    officer = _user("officer", police, "police_officer")
    agency_set_duty_owner(agency=police, user=officer)
    council = agency_create(name="Testshire County Council", kind="local_authority", police_force=police)
    school = agency_create(name="Testshire Academy", kind="school")
    return Setup(police, council, officer, _user("teacher", school, "referrer"), _user("nurse", school, "referrer"))


@pytest.fixture
def referrer(client: Client, setup: Setup) -> Client:
    client.force_login(setup.referrer)
    return client


def _date(prefix: str, day: date) -> dict[str, str]:
    return {f"{prefix}_day": str(day.day), f"{prefix}_month": str(day.month), f"{prefix}_year": str(day.year)}


def about_you() -> dict[str, Any]:
    return {"referrer_name": "Rita Referrer", "referrer_job_title": "Head of year",
            "referrer_email": "rita@example.org", "referrer_phone": "01632 960 001",
            "referrer_organisation": "Testshire Academy", "referrer_sector": "education",
            "discussed_with": "Sam Lead, DSL"}


def person(setup: Setup) -> dict[str, Any]:
    return {"given_names": "Leo", "family_name": "Marsh-Test", "other_names": "Leon Marsh",
            "date_of_birth_month": "5", "date_of_birth_year": "2009", "sex": "male",
            "address": "1 Test Street\nTestville", "postcode": "te1 1st",
            "school_or_workplace": "Testshire Academy", "local_authority": str(setup.council.pk)}


def concern() -> dict[str, Any]:
    return {"concern": "Shared violent extremist videos with younger pupils at lunch and said <they> deserved it.",
            **_date("first_observed_on", today() - timedelta(days=3)),
            "concern_types": ["extreme_right_wing", "violence_fascination"]}


def urgency() -> dict[str, Any]:
    return {"urgency": "urgent", "person_aware": "no"}


def walk_to_check(client: Client, setup: Setup, files: list[SimpleUploadedFile] | None = None) -> None:
    for page, data in [("about-you", about_you()), ("person", person(setup)), ("concern", concern()),
                       ("urgency", urgency()), ("attachments", {"attachments": files or []})]:
        response = client.post(START + page, data)
        assert response.status_code == 302, (page, response.content.decode()[:3000])


def errors_of(response: Any) -> str:
    """The error summary's text, unescaped, so assertions can quote GOV.UK messages."""
    content = response.content.decode()
    assert "There is a problem" in content, content[:3000]
    start = content.index("govuk-error-summary")
    return html.unescape(content[start:content.index("</ul>", start)])


def test_the_whole_form_makes_one_referral_and_one_case(referrer: Client, setup: Setup) -> None:
    start = referrer.get(START)
    assert start.status_code == 200
    assert b"call 999" in start.content and b"screens every referral first" in start.content
    first = referrer.get(START + "about-you")
    # Prefilled from the signed-in person.
    assert b'value="Teacher Tester"' in first.content and b'value="teacher@example.org"' in first.content
    assert b'value="Testshire Academy"' in first.content

    walk_to_check(referrer, setup, [SimpleUploadedFile("notes.pdf", PDF)])
    check = referrer.get(START + "check")
    assert check.status_code == 200
    content = check.content.decode()
    assert "Check your answers" in content and "May 2009" in content and "notes.pdf" in content
    assert "&lt;they&gt;" in content and "<they>" not in content
    assert content.count("?change=1") >= 20
    assert Referral.objects.count() == 0

    sent = referrer.post(START + "check", {"key": referrer.session["referral_draft"]["key"]})
    assert sent.status_code == 302
    referral = Referral.objects.get()
    assert sent["Location"] == f"/referrals/new/confirmation/{referral.reference}"
    assert (referral.submitted_by, referral.referrer_name, referral.referrer_sector) == (
        setup.referrer, "Rita Referrer", "education")
    assert (referral.given_names, referral.family_name, referral.date_of_birth) == ("Leo", "Marsh-Test", "2009-05")
    assert (referral.postcode, referral.local_authority, referral.urgency, referral.person_aware) == (
        "TE1 1ST", setup.council, "urgent", "no")
    assert referral.concern_types == ["extreme_right_wing", "violence_fascination"]
    assert referral.first_observed_on == today() - timedelta(days=3)
    assert referral.discussed_with == "Sam Lead, DSL"
    assert Attachment.objects.get(referral=referral).original_name == "notes.pdf"
    case = Case.objects.get()
    assert (case.referral, case.stage, case.owner_user, case.police_agency) == (
        referral, "gateway", setup.officer, setup.police)

    confirmation = referrer.get(sent["Location"])
    assert b"Referral submitted" in confirmation.content and referral.reference.encode() in confirmation.content
    assert b"What happens next" in confirmation.content
    assert "referral_draft" not in referrer.session
    assert referrer.get(START + "person").status_code == 302


def test_pending_files_are_kept_outside_the_web_root_and_removed_after_sending(
        referrer: Client, setup: Setup, settings: Any) -> None:
    walk_to_check(referrer, setup, [SimpleUploadedFile("notes.pdf", PDF)])
    draft = referrer.session["referral_draft"]
    folder = Path(settings.VAR_DIR) / "pending-uploads" / draft["token"]
    assert [f["name"] for f in draft["files"]] == ["notes.pdf"]
    assert (folder / draft["files"][0]["stored"]).read_bytes() == PDF
    referrer.post(START + "check", {"key": draft["key"]})
    assert not folder.exists()


@pytest.mark.parametrize(("page", "change", "message"), [
    ("about-you", {"referrer_name": ""}, "Enter your full name"),
    ("about-you", {"referrer_email": "rita.example.org"},
     "Enter an email address in the correct format, like name@example.org"),
    ("about-you", {"referrer_sector": ""}, "Select the sector your organisation is in"),
    ("person", {"given_names": "", "family_name": ""}, "Enter the person's first name"),
    ("person", {"given_names": "", "family_name": ""}, "Enter the person's last name"),
    ("person", {"postcode": "NOT A CODE"}, "Enter a real postcode, like SW1A 1AA"),
    ("person", {"date_of_birth_month": "", "date_of_birth_year": str(today().year + 1)},
     "Date of birth must be in the past"),
    ("person", {"local_authority": ""}, "Select the local authority area the person lives in"),
    ("concern", _date("first_observed_on", today() + timedelta(days=1)),
     "The date the concern was first observed must be today or in the past"),
    ("concern", _date("first_observed_on", date(2009, 1, 10)),
     "The date the concern was first observed must be after the person's date of birth"),
    ("concern", {"concern_types": []}, "Select at least one type of concern, or 'No ideology identified'"),
    ("concern", {"concern": "Too short"}, "Describe what you observed in at least 30 characters"),
    ("urgency", {"urgency": ""}, "Select how urgent the concern is"),
])
def test_each_page_shows_its_errors_and_changes_nothing(
        referrer: Client, setup: Setup, page: str, change: dict[str, Any], message: str) -> None:
    pages = {"about-you": about_you(), "person": person(setup), "concern": concern(), "urgency": urgency()}
    for key, data in pages.items():
        if key == page:
            break
        referrer.post(START + key, data)
    before = dict(referrer.session.get("referral_draft", {}).get("pages", {}))
    response = referrer.post(START + page, {**pages[page], **change})
    assert response.status_code == 400
    assert message in errors_of(response)
    assert b"<title>Error:" in response.content
    assert dict(referrer.session.get("referral_draft", {}).get("pages", {})) == before
    assert Referral.objects.count() == 0


@pytest.mark.parametrize(("files", "message"), [
    ([SimpleUploadedFile("setup.exe", b"MZ\x90\x00 program")],
     "'setup.exe' must be a PDF, Word document (.docx), JPG, PNG or text file"),
    ([SimpleUploadedFile("scan.pdf", PNG)], "'scan.pdf' does not match its file type"),
    ([SimpleUploadedFile(f"note{i}.txt", b"plain text") for i in range(MAX_FILES + 1)],
     f"You can attach up to {MAX_FILES} files"),
])
def test_bad_attachments_are_refused_on_their_page(
        referrer: Client, setup: Setup, files: list[SimpleUploadedFile], message: str) -> None:
    walk_to_check(referrer, setup)
    response = referrer.post(START + "attachments?change=1", {"attachments": files})
    assert response.status_code == 400
    assert message in errors_of(response)
    assert referrer.session["referral_draft"]["files"] == []
    assert Referral.objects.count() == 0


def test_attached_files_count_towards_the_limit_and_can_be_removed(referrer: Client, setup: Setup) -> None:
    walk_to_check(referrer, setup, [SimpleUploadedFile(f"n{i}.txt", b"text") for i in range(MAX_FILES)])
    more = referrer.post(START + "attachments?change=1", {"attachments": [SimpleUploadedFile("x.txt", b"x")]})
    assert "you have already attached 5" in errors_of(more)
    stored = referrer.session["referral_draft"]["files"][0]["stored"]
    removed = referrer.post(START + "attachments?change=1", {"remove": stored})
    assert removed.status_code == 302
    assert [f["name"] for f in referrer.session["referral_draft"]["files"]] == [
        f"n{i}.txt" for i in range(1, MAX_FILES)]


def test_a_change_link_returns_to_check_your_answers(referrer: Client, setup: Setup) -> None:
    walk_to_check(referrer, setup)
    page = referrer.get(START + "urgency?change=1")
    assert b'href="/referrals/new/check"' in page.content  # the back link
    response = referrer.post(START + "urgency?change=1", {"urgency": "routine", "person_aware": "yes"})
    assert response["Location"] == "/referrals/new/check"
    assert b"Routine: no immediate risk" in referrer.get(START + "check").content


def test_a_refusal_at_submission_links_to_the_page_that_fixes_it(referrer: Client, setup: Setup) -> None:
    walk_to_check(referrer, setup)
    # A later date of birth, given through a change link, now contradicts the concern page.
    later = {**person(setup), **_date("date_of_birth", today() - timedelta(days=1))}
    referrer.post(START + "person?change=1", later)
    response = referrer.post(START + "check", {"key": referrer.session["referral_draft"]["key"]})
    assert response.status_code == 400
    summary = errors_of(response)
    assert "The date the concern was first observed must be after the person's date of birth" in summary
    assert 'href="/referrals/new/concern?change=1#id_first_observed_on_day"' in summary
    assert Referral.objects.count() == 0


def test_an_area_without_a_screening_team_is_refused_with_a_link_to_the_person_page(
        referrer: Client, setup: Setup) -> None:
    walk_to_check(referrer, setup)
    setup.police.duty_owner = None
    setup.police.save()
    response = referrer.post(START + "check", {"key": referrer.session["referral_draft"]["key"]})
    summary = errors_of(response)
    assert "no police Prevent team" in summary
    assert 'href="/referrals/new/person?change=1#id_local_authority"' in summary
    assert Referral.objects.count() == 0


def test_submitting_twice_makes_one_referral(referrer: Client, setup: Setup) -> None:
    walk_to_check(referrer, setup, [SimpleUploadedFile("notes.txt", b"some notes")])
    draft = referrer.session["referral_draft"]
    first = referrer.post(START + "check", {"key": draft["key"]})
    # The browser retries the same POST after the draft was cleared.
    again = referrer.post(START + "check", {"key": draft["key"]})
    assert first.status_code == again.status_code == 302
    assert first["Location"] == again["Location"]
    # A double-click: the second request still holds the draft (and its files are gone).
    session = referrer.session
    session["referral_draft"] = draft
    session.save()
    third = referrer.post(START + "check", {"key": draft["key"]})
    assert third["Location"] == first["Location"]
    assert Referral.objects.count() == 1 and Case.objects.count() == 1


def test_later_pages_without_a_draft_go_back_to_the_start(referrer: Client, setup: Setup) -> None:
    for page in ["person", "concern", "urgency", "attachments", "check"]:
        response = referrer.get(START + page)
        assert response.status_code == 302 and response["Location"] == START, page
    assert referrer.post(START + "check", {"key": "made-up"})["Location"] == START
    referrer.post(START + "about-you", about_you())
    # Skipping ahead lands on the first unanswered page.
    assert referrer.get(START + "urgency")["Location"] == START + "person"


def test_start_again_discards_the_draft(referrer: Client, setup: Setup, settings: Any) -> None:
    walk_to_check(referrer, setup, [SimpleUploadedFile("notes.pdf", PDF)])
    token = referrer.session["referral_draft"]["token"]
    assert b"Continue your referral" in referrer.get(START).content
    assert referrer.post(START)["Location"] == START + "about-you"
    assert "referral_draft" not in referrer.session
    assert not (Path(settings.VAR_DIR) / "pending-uploads" / token).exists()


def test_only_the_referrer_sees_the_confirmation(client: Client, setup: Setup) -> None:
    client.force_login(setup.referrer)
    walk_to_check(client, setup)
    location = client.post(START + "check", {"key": client.session["referral_draft"]["key"]})["Location"]
    client.force_login(setup.other_referrer)
    assert client.get(location).status_code == 404
    assert client.get(START + "confirmation/REF-0000-00000").status_code == 404


@pytest.mark.parametrize("page", ["", "about-you", "person", "concern", "urgency", "attachments", "check",
                                  "confirmation/REF-2025-00001"])
def test_anonymous_people_are_sent_to_sign_in(client: Client, setup: Setup, page: str) -> None:
    response = client.get(START + page)
    assert response.status_code == 302
    assert response["Location"].startswith("/sign-in?next=")


def test_a_lost_pending_file_is_reported_and_forgotten(referrer: Client, setup: Setup, settings: Any) -> None:
    walk_to_check(referrer, setup, [SimpleUploadedFile("notes.pdf", PDF)])
    draft = referrer.session["referral_draft"]
    for stored in (Path(settings.VAR_DIR) / "pending-uploads" / draft["token"]).iterdir():
        stored.unlink()
    response = referrer.post(START + "check", {"key": draft["key"]})
    summary = errors_of(response)
    assert "'notes.pdf' is no longer available; attach it again" in summary
    assert 'href="/referrals/new/attachments?change=1#id_attachments"' in summary
    assert referrer.session["referral_draft"]["files"] == []
    assert Referral.objects.count() == 0
