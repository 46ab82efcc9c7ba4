"""Keeping the register of intervention providers: organisations, their people, their approval."""

from __future__ import annotations

from datetime import date

from django.db import transaction

from casetrail import clock
from casetrail.accounts.models import Agency, User
from casetrail.audit.services import event_record
from casetrail.cases.access import require
from casetrail.core.errors import InvalidInput
from casetrail.core.policy import Permission, acting_role
from casetrail.core.roles import AgencyKind, Role
from casetrail.providers.models import ApprovalStatus, ProviderOrganisation, ProviderWorker

SPECIALISMS = {
    "islamist": "Islamist radicalisation",
    "extreme_right_wing": "Extreme right-wing radicalisation",
    "mixed_unclear": "Mixed, unclear or unstable ideologies",
    "violence_fascination": "Fascination with extreme violence",
    "online_harms": "Online harms and digital literacy",
    "mentoring": "Mentoring and diversionary activity",
    "mental_health": "Mental health and neurodiversity",
}


def _check(status: str, until: date | None, specialisms: list[str], until_field: str) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if status not in ApprovalStatus.values:
        errors["status"] = ["Select the approval status"]
    if status == ApprovalStatus.APPROVED and until is None:
        errors[until_field] = ["Enter the date the approval or vetting expires"]
    elif until is not None and status == ApprovalStatus.APPROVED and until < clock.today():
        errors[until_field] = ["An approval cannot already have expired: set the status instead"]
    if not specialisms or not set(specialisms) <= set(SPECIALISMS):
        errors["specialisms"] = ["Select at least one specialism from the list"]
    return errors


@transaction.atomic
def provider_organisation_save(*, user: User, agency: Agency | None, name: str, specialisms: list[str],
                               status: str, approved_until: date | None) -> ProviderOrganisation:
    """Register a new provider organisation (agency None) or change an existing one's approval."""
    require(user, Permission.MANAGE_PROVIDERS)
    errors = _check(status, approved_until, specialisms, "approved_until")
    if agency is None:
        if not name.strip():
            errors["name"] = ["Enter the organisation's name"]
        elif Agency.objects.filter(name__iexact=name.strip()).exists():
            errors["name"] = ["An organisation with that name already exists"]
    if errors:
        raise InvalidInput(errors)
    if agency is None:
        agency = Agency.objects.create(name=name.strip(), kind=AgencyKind.PROVIDER)
    organisation, created = ProviderOrganisation.objects.update_or_create(
        agency=agency, defaults={"specialisms": specialisms, "status": status, "approved_until": approved_until}
    )
    role = acting_role(user.as_actor(), Permission.MANAGE_PROVIDERS)
    event_record(kind="provider.registered" if created else "provider.approval_changed", subject=organisation,
                 actor=user, role=role or "", summary=f"Provider {agency.pk} status {status}",
                 data={"status": status, "approved_until": approved_until.isoformat() if approved_until else None})
    return organisation


@transaction.atomic
def provider_worker_save(*, user: User, worker_user: User | None, organisation: ProviderOrganisation | None,
                         specialisms: list[str], status: str, vetting_expires_on: date | None) -> ProviderWorker:
    require(user, Permission.MANAGE_PROVIDERS)
    errors = _check(status, vetting_expires_on, specialisms, "vetting_expires_on")
    if organisation is None:
        errors["organisation"] = ["Select the provider organisation"]
    if worker_user is None or not worker_user.has_role(Role.PROVIDER):
        errors["worker_user"] = ["Select a person with the intervention provider role"]
    elif organisation is not None and worker_user.agency_id != organisation.agency_id:
        errors["worker_user"] = ["The person must belong to that provider organisation"]
    if errors:
        raise InvalidInput(errors)
    worker, created = ProviderWorker.objects.update_or_create(
        user=worker_user, defaults={"organisation": organisation, "specialisms": specialisms, "status": status,
                                    "vetting_expires_on": vetting_expires_on},
    )
    role = acting_role(user.as_actor(), Permission.MANAGE_PROVIDERS)
    event_record(kind="provider_worker.registered" if created else "provider_worker.changed", subject=worker,
                 actor=user, role=role or "", summary=f"Provider worker {worker.pk} status {status}",
                 data={"status": status})
    return worker
