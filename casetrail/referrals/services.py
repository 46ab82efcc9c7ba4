"""Referral intake: one transaction creates the referral, its person, its case and their events."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from dataclasses import asdict
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from casetrail import clock
from casetrail.accounts.models import Agency, User
from casetrail.audit.services import access_log, event_record, history_lock
from casetrail.core.codes import CODE_LIST_VERSION
from casetrail.core.errors import InvalidInput
from casetrail.core.lifecycle import Stage
from casetrail.core.policy import Permission, acting_role
from casetrail.core.referrals import (
    ReferralInput,
    nhs_number_compact,
    normalise_postcode,
    referral_errors,
    upn_compact,
)
from casetrail.core.roles import AgencyKind
from casetrail.referrals.attachments import MAX_FILES, UploadedFile, check_upload
from casetrail.referrals.models import Attachment, IdempotencyRecord, Referral


class IdempotencyConflict(InvalidInput):
    """The same idempotency key was used for a different submission."""


def _next_reference(prefix: str, model: type, field: str = "reference") -> str:
    history_lock()  # counted while no other writer can add one (audit.services.history_lock)
    year = clock.today().year
    stem = f"{prefix}-{year}-"
    count = model.objects.filter(**{f"{field}__startswith": stem}).count() + 1
    return f"{stem}{count:05d}"


def request_fingerprint(data: ReferralInput) -> str:
    payload = asdict(data)
    payload["date_of_birth"] = data.date_of_birth.to_iso() if data.date_of_birth else None
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


def referral_submit(
    *,
    user: User,
    data: ReferralInput,
    attachments: list[UploadedFile] | None = None,
    idempotency_key: str | None = None,
    channel: str = "web",
) -> tuple[Referral, bool]:
    """Accept a referral; returns (referral, created). A retried key returns the first referral."""
    from casetrail.cases.access import require

    require(user, Permission.SUBMIT_REFERRAL)
    fingerprint = request_fingerprint(data)
    if idempotency_key:
        earlier = IdempotencyRecord.objects.filter(user=user, key=idempotency_key).select_related("referral").first()
        if earlier is not None:
            return _replay(earlier, fingerprint), False

    errors, authority = _intake_errors(data)
    checked = []
    if len(attachments or []) > MAX_FILES:
        errors.setdefault("attachments", []).append(f"You can attach up to {MAX_FILES} files")
    for index, upload in enumerate((attachments or [])[:MAX_FILES]):
        try:
            checked.append(check_upload(upload))
        except InvalidInput as problem:
            errors.setdefault("attachments", []).extend(f"File {index + 1}: {m}" for m in problem.errors[""])
    if errors:
        raise InvalidInput(errors)

    written: list[Path] = []
    try:
        with transaction.atomic():
            referral = _create(user=user, data=data, authority=authority, checked=checked, channel=channel,
                               written=written)
            if idempotency_key:
                IdempotencyRecord.objects.create(
                    user=user, key=idempotency_key, request_hash=fingerprint, referral=referral,
                    created_at=clock.now(),
                )
    except BaseException as failure:
        # Nothing was recorded, so no file may stay behind either.
        for path in written:
            path.unlink(missing_ok=True)
        if not isinstance(failure, IntegrityError):
            raise
        # A concurrent retry with the same key won the race: answer with its referral.
        earlier = IdempotencyRecord.objects.filter(user=user, key=idempotency_key).select_related("referral").first()
        if earlier is None:
            raise
        return _replay(earlier, fingerprint), False
    return referral, True


def _intake_errors(data: ReferralInput) -> tuple[dict[str, list[str]], Agency | None]:
    """Every problem with a referral's content, by field, and the local authority it names."""
    errors = referral_errors(data, today=clock.today())
    authority = Agency.objects.filter(pk=data.local_authority_id, kind=AgencyKind.LOCAL_AUTHORITY) \
        .select_related("police_force").first()
    if authority is None:
        errors.setdefault("local_authority_id", []).append("Select the local authority area the person lives in")
    elif authority.police_force_id is None or authority.police_force.duty_owner_id is None:
        errors.setdefault("local_authority_id", []).append(
            "That area has no police Prevent team set up to screen referrals; contact the administrator"
        )
    return errors, authority


def _store(path: Path, content: bytes) -> None:
    """Write a new file readable by this service alone and never executable; never overwrite one."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(content)


def _replay(earlier: IdempotencyRecord, fingerprint: str) -> Referral:
    if earlier.request_hash != fingerprint:
        raise IdempotencyConflict(
            {"idempotency_key": ["This idempotency key was already used for a different referral."]}
        )
    return earlier.referral


def _create(*, user: User, data: ReferralInput, authority: Agency, checked: list, channel: str,  # type: ignore[type-arg]
            written: list[Path], submitted_at: datetime | None = None) -> Referral:
    from casetrail.cases.earlier_records import possible_matches_find
    from casetrail.cases.models import Case
    from casetrail.people.services import person_create, person_index

    now = clock.now()
    # A referral imported from a legacy system was made before Casetrail recorded it: the referral,
    # its case and their events carry that moment; every record keeps when it was written.
    made = submitted_at or now
    person = person_create(
        given_names=data.given_names, family_name=data.family_name, birth=data.date_of_birth, sex=data.sex
    )
    if data.other_names.strip():
        person_index(person=person, names=[data.other_names], birth=None)
    referral = Referral.objects.create(
        reference=_next_reference("REF", Referral),
        submitted_by=user,
        submitted_at=made,
        referrer_name=data.referrer_name.strip(),
        referrer_job_title=data.referrer_job_title.strip(),
        referrer_email=data.referrer_email.strip(),
        referrer_phone=data.referrer_phone.strip(),
        referrer_organisation=data.referrer_organisation.strip(),
        referrer_sector=data.referrer_sector,
        person=person,
        given_names=data.given_names.strip(),
        family_name=data.family_name.strip(),
        other_names=data.other_names.strip(),
        date_of_birth=data.date_of_birth.to_iso() if data.date_of_birth else "",
        sex=data.sex,
        address=data.address.strip(),
        postcode=normalise_postcode(data.postcode) if data.postcode.strip() else "",
        school_or_workplace=data.school_or_workplace.strip(),
        nhs_number=nhs_number_compact(data.nhs_number),
        upn=upn_compact(data.upn),
        local_authority=authority,
        concern=data.concern.strip(),
        first_observed_on=data.first_observed_on,
        concern_types=list(data.concern_types),
        code_list_version=CODE_LIST_VERSION,
        urgency=data.urgency,
        person_aware=data.person_aware,
        discussed_with=data.discussed_with.strip(),
    )
    police = authority.police_force
    case = Case.objects.create(
        reference=_next_reference("CT", Case),
        person=person,
        referral=referral,
        stage=Stage.GATEWAY,
        police_agency=police,
        local_authority=authority,
        owner_agency=police,
        owner_user_id=police.duty_owner_id,
        opened_at=made,
    )
    event_record(kind="case.state", subject=case, case=case, summary="Case opened at the gateway", occurred_at=made,
                 data={"stage": case.stage, "owner_user": case.owner_user_id, "owner_agency": case.owner_agency_id})
    upload_dir = Path(settings.MEDIA_ROOT)
    upload_dir.mkdir(parents=True, exist_ok=True)
    for item in checked:
        stored = secrets.token_hex(16)
        _store(upload_dir / stored, item.content)
        written.append(upload_dir / stored)
        Attachment.objects.create(
            referral=referral, original_name=item.name, stored_name=stored,
            content_type=item.content_type, size=len(item.content), sha256=item.sha256, uploaded_at=now,
        )
    event_record(
        kind="referral.submitted", subject=referral, case=case, actor=user, role="referrer",
        occurred_at=made, summary=f"Referral {referral.reference} received",
        data={"channel": channel, "attachments": len(checked), "urgency": data.urgency},
    )
    event_record(
        kind="case.opened", subject=case, case=case, actor=user, role="referrer", occurred_at=made,
        summary=f"Case {case.reference} opened at gateway; owner {police.name}",
        data={"owner_user": case.owner_user_id, "owner_agency": police.pk},
    )
    access_log(user=user, operation="collection", subject=referral, case=case, person=person, channel=channel)
    # Matched at once against every earlier referral: each strong match is kept on the case and
    # must be resolved before the gateway decides (casetrail/cases/earlier_records.py).
    possible_matches_find(case=case)
    return referral


# ---------------------------------------------------------------- import from a legacy system


class AlreadyImported(InvalidInput):
    """The row was imported before (same legacy reference, or the same referral without one)."""

    def __init__(self, referral: Referral, field_name: str):
        self.referral = referral
        super().__init__({field_name: [f"Already imported as {referral.reference}"]})


def import_key(*, agency_id: int, data: ReferralInput, submitted_at: datetime, legacy_reference: str) -> str:
    """What makes an imported row the same as one imported before, within one police force: its
    legacy reference, or without one the referral's content and the day it was made."""
    if legacy_reference.strip():
        part = "ref:" + hashlib.sha256(legacy_reference.strip().encode()).hexdigest()
    else:
        part = "row:" + hashlib.sha256(
            f"{request_fingerprint(data)}|{timezone.localdate(submitted_at).isoformat()}".encode()).hexdigest()
    return f"import:{agency_id}:{part}"


def referral_import_errors(*, user: User, data: ReferralInput, submitted_at: datetime,
                           legacy_reference: str = "") -> dict[str, list[str]]:
    """Every reason this legacy referral cannot be imported, by field (the API's field names, with
    `submitted_at` and `legacy_reference`); empty when it can be. Writes nothing."""
    from casetrail.cases.access import require
    from casetrail.core.imports import LEGACY_REFERENCE_MAX

    require(user, Permission.IMPORT_REFERRALS)
    errors, authority = _intake_errors(data)

    def add(name: str, message: str) -> None:
        errors.setdefault(name, []).append(message)

    if authority is not None and authority.police_force_id is not None \
            and authority.police_force_id != user.agency_id:
        add("local_authority_id", f"{authority.name} is screened by {authority.police_force.name}: you can import "
                                  "referrals only of areas your own force screens")
    made = timezone.localdate(submitted_at)
    if submitted_at > clock.now():
        add("submitted_at", "The date the referral was made must be in the past")
    else:  # (a date after today is already refused by the referral's own rules)
        if made < data.first_observed_on <= clock.today():
            add("first_observed_on", "The date the concern was first observed must be on or before the date "
                                     "the referral was made")
        if data.date_of_birth is not None and made < data.date_of_birth.earliest() <= clock.today():
            add("date_of_birth", "The date of birth must be before the date the referral was made")
    if len(legacy_reference.strip()) > LEGACY_REFERENCE_MAX:
        add("legacy_reference", f"The legacy reference must be {LEGACY_REFERENCE_MAX} characters or fewer")
    return errors


def referral_import_earlier(*, user: User, data: ReferralInput, submitted_at: datetime,
                            legacy_reference: str = "") -> Referral | None:
    """The referral an earlier import made of this row, if any."""
    key = import_key(agency_id=user.agency_id or 0, data=data, submitted_at=submitted_at,
                     legacy_reference=legacy_reference)
    record = IdempotencyRecord.objects.filter(key=key).select_related("referral").first()
    return record.referral if record is not None else None


def referral_import(*, user: User, data: ReferralInput, submitted_at: datetime, legacy_reference: str = "",
                    source: str = "", line: int | None = None) -> Referral:
    """Record a referral made before Casetrail, from a legacy system's export: the same checks,
    person, case, events and matching against the person index as any referral, dated when it was
    made, plus a `referral.imported` event with its legacy reference and source. A row imported
    before (by anyone in the same force) raises AlreadyImported and records nothing."""
    errors = referral_import_errors(user=user, data=data, submitted_at=submitted_at,
                                    legacy_reference=legacy_reference)
    if errors:
        raise InvalidInput(errors)
    authority = Agency.objects.select_related("police_force").get(pk=data.local_authority_id)
    legacy = legacy_reference.strip()
    key = import_key(agency_id=user.agency_id or 0, data=data, submitted_at=submitted_at, legacy_reference=legacy)
    with transaction.atomic():
        # One import at a time per force, so two runs of one file cannot both record a row.
        Agency.objects.select_for_update().filter(pk=user.agency_id).first()
        earlier = IdempotencyRecord.objects.filter(key=key).select_related("referral").first()
        if earlier is not None:
            raise AlreadyImported(earlier.referral, "legacy_reference" if legacy else "")
        referral = _create(user=user, data=data, authority=authority, checked=[], channel="import", written=[],
                           submitted_at=submitted_at)
        IdempotencyRecord.objects.create(user=user, key=key, request_hash=request_fingerprint(data),
                                         referral=referral, created_at=clock.now())
        made = timezone.localtime(submitted_at)
        event_record(
            kind="referral.imported", subject=referral, case=referral.case, actor=user,
            role=acting_role(user.as_actor(), Permission.IMPORT_REFERRALS) or "",
            summary=f"Referral {referral.reference} imported from a legacy record"
                    + (f" (legacy reference {legacy})" if legacy else "")
                    + f"; made {made:%-d %B %Y}",
            data={"legacy_reference": legacy, "submitted_at": made.isoformat(), "source": source[:200],
                  "line": line},
        )
    return referral
