"""Roles people hold and kinds of agency they belong to, as the programme names them."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    REFERRER = "referrer"
    POLICE_OFFICER = "police_officer"
    CHANNEL_COORDINATOR = "channel_coordinator"
    PANEL_CHAIR = "panel_chair"
    PANEL_MEMBER = "panel_member"
    PROVIDER = "intervention_provider"
    OVERSIGHT = "oversight"
    ADMINISTRATOR = "administrator"

    @property
    def label(self) -> str:
        return ROLE_LABELS[self]


ROLE_LABELS: dict[Role, str] = {
    Role.REFERRER: "Referrer",
    Role.POLICE_OFFICER: "Police Prevent officer",
    Role.CHANNEL_COORDINATOR: "Channel coordinator",
    Role.PANEL_CHAIR: "Channel panel chair",
    Role.PANEL_MEMBER: "Panel member",
    Role.PROVIDER: "Intervention provider",
    Role.OVERSIGHT: "Oversight (read only)",
    Role.ADMINISTRATOR: "Administrator",
}

STAFF_ROLES = frozenset(Role) - {Role.REFERRER}


class AgencyKind(StrEnum):
    POLICE = "police"
    LOCAL_AUTHORITY = "local_authority"
    SCHOOL = "school"
    HEALTH = "health"
    PROVIDER = "provider"
    HOME_OFFICE = "home_office"
    OTHER = "other"

    @property
    def label(self) -> str:
        return {
            AgencyKind.POLICE: "Police force or counter-terrorism unit",
            AgencyKind.LOCAL_AUTHORITY: "Local authority",
            AgencyKind.SCHOOL: "School or college",
            AgencyKind.HEALTH: "Health body",
            AgencyKind.PROVIDER: "Intervention provider organisation",
            AgencyKind.HOME_OFFICE: "Home Office",
            AgencyKind.OTHER: "Other organisation",
        }[self]
