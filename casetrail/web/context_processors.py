"""Navigation for the signed-in person, built from what their roles allow."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from casetrail.core.policy import Permission, may
from casetrail.core.roles import Role


def navigation(request: HttpRequest) -> dict[str, object]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated or not hasattr(user, "as_actor"):
        return {"nav_items": [], "acting": None}
    actor = user.as_actor()
    items: list[tuple[str, str]] = [("My work", reverse("web:my-work"))]
    if may(actor, Permission.SUBMIT_REFERRAL):
        items.append(("Make a referral", reverse("web:referral-start")))
    if user.has_role(Role.REFERRER) and len(user.role_set) == 1:
        items.append(("My referrals", reverse("web:my-referrals")))
    if may(actor, Permission.SEARCH):
        items.append(("Cases", reverse("web:case-list")))
        items.append(("Search", reverse("web:search")))
    if user.has_role(Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR, Role.PANEL_MEMBER):
        items.append(("Panel meetings", reverse("web:meeting-list")))
    if user.has_role(Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR, Role.ADMINISTRATOR, Role.PROVIDER):
        items.append(("Providers", reverse("web:provider-list")))
    if user.has_role(Role.OVERSIGHT, Role.ADMINISTRATOR):
        items.append(("Audit", reverse("web:audit-log")))
        items.append(("Break-glass audit", reverse("web:audit-break-glass")))
    if user.has_role(Role.ADMINISTRATOR, Role.POLICE_OFFICER):
        items.append(("Possible duplicates", reverse("web:duplicate-list")))
    if may(actor, Permission.DATA_SUBJECT_RIGHTS):
        items.append(("Subject access", reverse("web:sar-list")))
    if user.has_role(Role.ADMINISTRATOR, Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR, Role.OVERSIGHT):
        items.append(("Safeguard policy", reverse("web:safeguard-policy")))
    if may(actor, Permission.RETENTION_REVIEW):
        items.append(("Retention reviews", reverse("web:retention-queue")))
    if may(actor, Permission.RUN_REPLAY):
        items.append(("Replays", reverse("web:replay-upload")))
    path = request.path
    nav_items = [
        {"label": label, "url": url, "active": path == url or (url != "/" and path.startswith(url))}
        for label, url in items
    ]
    return {
        "nav_items": nav_items,
        "acting": {
            "name": user.display_name,
            "roles_display": user.roles_display,
            "agency_name": user.agency.name if user.agency_id else "",
        },
    }
