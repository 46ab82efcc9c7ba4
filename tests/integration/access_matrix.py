"""The authorisation matrix: for every page route and API operation, who gets in.

One line per route. `own` names the roles let in with the ids of case A (the case each of them
is involved in, in their role's way: their force, their council's panel, their organisation's
tasking, their referral); `other` names the roles let in with the ids of case B, which belongs
to another force and council and involves none of them. A route without an id has no `other`:
`own` is simply who may use it. Everyone not named must be refused: 403 or 404 (a page sends
someone signed out to sign in; the API answers 401 without a valid token).

Add a line here when you add a route; tests/integration/test_access_matrix.py fails, naming
the route, until you do. The roles are those of docs/roles.md, by their username in the
`world` fixture; "anonymous" is someone not signed in.

`post` sends a POST with `body` (empty unless given): an allowed role must get past the access
check (a form error or 422 at most, since the body is incomplete), a refused one 403 or 404,
and nothing may change either way.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ROLES = ("referrer", "police", "coordinator", "chair", "panel", "provider", "oversight", "admin")
EVERYONE = frozenset({*ROLES, "anonymous"})
SIGNED_IN = frozenset(ROLES)
NOBODY: frozenset[str] = frozenset()


def roles(*names: str) -> frozenset[str]:
    unknown = set(names) - EVERYONE
    assert not unknown, f"not a matrix role: {unknown}"
    return frozenset(names)


POLICE = roles("police")
CHANNEL = roles("coordinator", "chair")  # the coordinator and the chair of case A's council
CHAIR = roles("chair")
SEES_IN_FULL = roles("police", "coordinator", "chair", "panel", "oversight")  # case A's whole record
SEES_AT_ALL = SEES_IN_FULL | roles("referrer", "provider")  # the referrer's status page, the provider's part
OVERSIGHT = roles("oversight")  # reads every case
SEARCHERS = roles("police", "coordinator", "chair", "panel", "provider", "oversight")
AUDITORS = roles("oversight", "admin")
RIGHTS = roles("police", "coordinator")  # subject access and rectification for case A's person


@dataclass(frozen=True)
class Entry:
    route: str  # a page's URL pattern as Django prints it, or "METHOD /path" of an API operation
    own: frozenset[str]
    other: frozenset[str] | None = None  # None: the route names no object
    get: bool = True
    post: bool = False
    body: dict[str, str] = field(default_factory=dict)
    post_own: frozenset[str] | None = None  # who may POST with case A's ids, when fewer than may look

    def allowed(self, side: str, method: str) -> frozenset[str]:
        if side == "own":
            return self.post_own if method == "POST" and self.post_own is not None else self.own
        assert self.other is not None
        return self.other if method == "GET" or self.post_own is None else self.other & self.post_own

    @property
    def has_object(self) -> bool:
        return self.other is not None


def page(route: str, own: frozenset[str], other: frozenset[str] | None = None, *, get: bool = True,
         post: bool = False, body: dict[str, str] | None = None, post_own: frozenset[str] | None = None) -> Entry:
    return Entry(route, own, other, get, post or post_own is not None, body or {}, post_own)


def step(key: str, own: frozenset[str]) -> Entry:
    """A step on a case (casetrail/web/case_steps.py): a form nobody outside case A may open."""
    return page(f"cases/<int:case_id>/{key}", own, NOBODY, post=True)


def api(route: str, own: frozenset[str], other: frozenset[str] | None = None) -> Entry:
    method, _, _ = route.partition(" ")
    return Entry(route, own, other, get=method == "GET", post=method != "GET")


PAGES: list[Entry] = [
    page("healthz", EVERYONE),
    page("", SIGNED_IN),  # to my work; someone signed out goes to sign in
    page("sign-in", EVERYONE, post=True),
    page("sign-out", EVERYONE, get=False, post=True),  # then to sign in, like anyone signed out
    page("second-factor/set-up", SIGNED_IN),
    page("second-factor/check", SIGNED_IN),
    page("confirm-identity", SIGNED_IN, post=True),
    page("sign-in/organisation", NOBODY),  # single sign-on is switched off: 404 for all
    page("sign-in/organisation/callback", NOBODY),
    page("my-work", SIGNED_IN),
    page("my-referrals", SIGNED_IN),
    page("referrals/new/", SIGNED_IN),
    page("referrals/new/about-you", SIGNED_IN, post=True),
    page("referrals/new/person", SIGNED_IN, post=True),
    page("referrals/new/concern", SIGNED_IN, post=True),
    page("referrals/new/urgency", SIGNED_IN, post=True),
    page("referrals/new/attachments", SIGNED_IN, post=True),
    page("referrals/new/check", SIGNED_IN, post=True),
    page("referrals/new/confirmation/<str:reference>", roles("referrer"), NOBODY),
    page("cases/", SEARCHERS),
    page("cases/<int:case_id>/", SEES_AT_ALL, OVERSIGHT),
    page("cases/<int:case_id>/assessment/start", CHANNEL, NOBODY, post=True),
    page("cases/<int:case_id>/assessment/<int:assessment_id>", SEES_IN_FULL, OVERSIGHT),
    page("cases/<int:case_id>/assessment/<int:assessment_id>/summary", CHANNEL, NOBODY, post=True),
    page("cases/<int:case_id>/assessment/<int:assessment_id>/<str:dimension_code>", CHANNEL, NOBODY, post=True),
    page("cases/<int:case_id>/agenda", CHANNEL, NOBODY, post=True),
    page("cases/<int:case_id>/attachments/<int:attachment_id>", SEES_IN_FULL, OVERSIGHT),
    step("gateway", POLICE),
    step("signposting", POLICE),
    step("police-led", POLICE),
    step("information-request", CHANNEL),
    step("panel-decision", CHAIR),
    step("consent", CHANNEL),
    step("consent-withdraw", CHANNEL),
    step("support-action", CHANNEL),
    step("tasking", CHANNEL),
    step("panel-review", CHAIR),
    step("exit", CHAIR),
    step("post-exit-review", CHANNEL | POLICE),
    step("close", CHANNEL),
    step("link-person", roles("police", "coordinator")),
    step("handover", CHANNEL | POLICE),
    step("reject-match", roles("police", "coordinator")),
    step("unlink-person", roles("police", "coordinator")),
    step("second-review", POLICE),
    step("consult-referrer", CHANNEL | POLICE),
    step("note", CHANNEL | POLICE | roles("panel")),
    step("waive-vulnerability", CHAIR),
    step("hold", CHANNEL | POLICE),
    step("significant-event", CHANNEL | POLICE | roles("panel")),
    step("end-tasking", CHANNEL),
    step("police-led-review", POLICE),
    step("transfer", CHANNEL | POLICE),
    step("significant-event-response", CHANNEL | POLICE | roles("panel")),
    page("search", SEARCHERS),
    page("safeguard-policy", SIGNED_IN),
    page("break-glass", CHANNEL | POLICE, post=True),
    page("audit/break-glass", AUDITORS, post=True, body={"grant": "{break_glass_id}"}),
    page("audit/log", AUDITORS),
    page("audit/unusual", AUDITORS),
    page("people/duplicates", roles("admin", "police")),
    page("people/duplicates/<int:pair_id>", roles("admin", "police"), post=True),
    page("people/<str:reference>", SEES_AT_ALL, OVERSIGHT),
    page("panel-meetings/", CHANNEL | roles("panel"), post_own=CHANNEL),  # a panel member looks, never arranges
    page("panel-meetings/<int:meeting_id>", CHANNEL | roles("panel"), NOBODY),
    # Sent to the panel member's health body, whose duty owner the panel member is.
    page("information-requests/<int:request_id>", roles("panel"), NOBODY, post=True),
    page("taskings/<int:tasking_id>", SEES_IN_FULL | roles("provider"), OVERSIGHT, body={"form": "session"},
         post_own=roles("provider")),
    page("support-actions/<int:action_id>", CHANNEL, NOBODY, post=True),  # its owner, the coordinator, or a planner
    page("handovers/<int:handover_id>", CHAIR, NOBODY, post=True),  # offered to the chair only
    page("providers/", roles("coordinator", "chair", "admin", "provider", "oversight")),
    page("providers/new", roles("admin", "coordinator"), post=True),
    page("providers/<int:organisation_id>", roles("admin", "coordinator"), post=True),
    # Retention (casetrail/retention): the review queue, a case's review and its disposal.
    page("retention/", RIGHTS),
    page("retention/cases/<int:case_id>", RIGHTS, NOBODY, post=True),
    page("retention/cases/<int:case_id>/dispose", RIGHTS, NOBODY, post=True),
    # Replays (casetrail/replay): upload a file, watch its run, read its report; oversight only.
    page("replays/", OVERSIGHT, post=True),
    page("replays/<int:run_id>", OVERSIGHT),
    page("replays/<int:run_id>/report.pdf", OVERSIGHT),
    # Data-subject rights (casetrail/rights): whoever may act on every case of the person.
    page("subject-access-requests/", RIGHTS),
    page("subject-access-requests/<str:reference>", RIGHTS, NOBODY, post=True),
    # Without ?item= naming a piece of the person's data every role gets 404, so this line asks
    # only that nobody gets in; tests/integration of casetrail/rights cover the item form.
    page("subject-access-requests/<str:reference>/redact", NOBODY, NOBODY, post=True),
    page("subject-access-requests/<str:reference>/extend", RIGHTS, NOBODY, post=True),
    page("subject-access-requests/<str:reference>/answer", RIGHTS, NOBODY),
    page("people/<str:reference>/subject-access-request", RIGHTS, NOBODY, post=True),
    page("people/<str:reference>/rectification", RIGHTS, NOBODY, post=True),
]


API: list[Entry] = [
    api("POST /api/v1/referrals", SIGNED_IN),
    api("POST /api/v1/referrals/import", POLICE),
    api("GET /api/v1/referrals/mine", SIGNED_IN),
    api("GET /api/v1/cases", SEARCHERS),
    api("GET /api/v1/cases/{case_id}", SEES_IN_FULL, OVERSIGHT),
    api("POST /api/v1/cases/{case_id}/gateway", POLICE, NOBODY),
    api("POST /api/v1/cases/{case_id}/signposting-reply", POLICE, NOBODY),
    api("POST /api/v1/cases/{case_id}/police-led", POLICE, NOBODY),
    api("POST /api/v1/cases/{case_id}/link-person", roles("police", "coordinator"), NOBODY),
    # Only those who link people may match identities: for anyone else it would tell who was referred.
    api("POST /api/v1/people/match", roles("police", "coordinator")),
    api("GET /api/v1/people/{reference}", SEARCHERS, OVERSIGHT),
    api("GET /api/v1/search", SEARCHERS),
    api("POST /api/v1/panel-meetings", CHANNEL),
    api("POST /api/v1/panel-meetings/{meeting_id}/agenda", CHANNEL, NOBODY),
    api("POST /api/v1/cases/{case_id}/information-requests", CHANNEL, NOBODY),
    api("POST /api/v1/information-requests/{request_id}/reply", roles("panel"), NOBODY),
    api("POST /api/v1/cases/{case_id}/panel-decision", CHAIR, NOBODY),
    api("POST /api/v1/cases/{case_id}/consent", CHANNEL, NOBODY),
    api("POST /api/v1/cases/{case_id}/consent/withdraw", CHANNEL, NOBODY),
    api("GET /api/v1/frameworks", EVERYONE),  # the published frameworks: no personal data
    api("POST /api/v1/cases/{case_id}/assessments", CHANNEL, NOBODY),
    api("PATCH /api/v1/assessments/{assessment_id}", CHANNEL, NOBODY),
    api("POST /api/v1/assessments/{assessment_id}/submit", CHANNEL, NOBODY),
    api("POST /api/v1/cases/{case_id}/support-actions", CHANNEL, NOBODY),
    api("POST /api/v1/support-actions/{action_id}/complete", CHANNEL, NOBODY),
    api("POST /api/v1/cases/{case_id}/taskings", CHANNEL, NOBODY),
    api("GET /api/v1/taskings/{tasking_id}", SEES_IN_FULL | roles("provider"), OVERSIGHT),
    api("POST /api/v1/taskings/{tasking_id}/acknowledge", roles("provider"), NOBODY),
    api("POST /api/v1/taskings/{tasking_id}/sessions", roles("provider"), NOBODY),
    api("POST /api/v1/taskings/{tasking_id}/cancellations", roles("provider"), NOBODY),
    api("POST /api/v1/cases/{case_id}/panel-reviews", CHAIR, NOBODY),
    api("POST /api/v1/cases/{case_id}/exit", CHAIR, NOBODY),
    api("POST /api/v1/cases/{case_id}/post-exit-reviews", CHANNEL | POLICE, NOBODY),
    api("POST /api/v1/cases/{case_id}/close", CHANNEL, NOBODY),
    api("GET /api/v1/cases/{case_id}/findings", SEES_IN_FULL, OVERSIGHT),
    api("GET /api/v1/cases/{case_id}/exit-blockers", CHAIR, NOBODY),
    api("POST /api/v1/cases/{case_id}/gateway-second-review", POLICE, NOBODY),
    api("POST /api/v1/cases/{case_id}/referrer-consultations", CHANNEL | POLICE, NOBODY),
    api("POST /api/v1/cases/{case_id}/notes", CHANNEL | POLICE | roles("panel"), NOBODY),
    api("GET /api/v1/cases/{case_id}/significant-events", CHANNEL | POLICE | roles("panel"), NOBODY),
    api("POST /api/v1/taskings/{tasking_id}/end", CHANNEL | roles("provider"), NOBODY),
    api("POST /api/v1/cases/{case_id}/police-led-reviews", POLICE, NOBODY),
    api("POST /api/v1/cases/{case_id}/transfers", CHANNEL | POLICE, NOBODY),
    api("POST /api/v1/cases/{case_id}/significant-events", CHANNEL | POLICE | roles("panel"), NOBODY),
    api("POST /api/v1/cases/{case_id}/significant-events/{event_id}/decision", CHANNEL | POLICE | roles("panel"),
        NOBODY),
    api("POST /api/v1/cases/{case_id}/vulnerability-waivers", CHAIR, NOBODY),
    api("POST /api/v1/cases/{case_id}/holds", CHANNEL | POLICE, NOBODY),
    api("POST /api/v1/cases/{case_id}/handovers", CHANNEL | POLICE, NOBODY),
    api("POST /api/v1/handovers/{handover_id}/respond", CHAIR, NOBODY),
    api("GET /api/v1/my-work", SIGNED_IN),
    api("GET /api/v1/providers", SEARCHERS),
    api("GET /api/v1/cases/{case_id}/matches", roles("police", "coordinator"), NOBODY),
    api("GET /api/v1/cases/{case_id}/earlier-records", roles("police", "coordinator"), NOBODY),
    api("POST /api/v1/cases/{case_id}/matches/reject", roles("police", "coordinator"), NOBODY),
    api("POST /api/v1/cases/{case_id}/unlink-person", roles("police", "coordinator"), NOBODY),
    # Retention (casetrail/retention/api.py): reviews and disposal by the force's or council's staff.
    api("GET /api/v1/retention/queue", RIGHTS),
    api("POST /api/v1/cases/{case_id}/retention-reviews", RIGHTS, NOBODY),
    api("POST /api/v1/cases/{case_id}/disposal", RIGHTS, NOBODY),
    # Data-subject rights: {reference} is case A's or B's person, or their subject access request.
    api("POST /api/v1/people/{reference}/subject-access-requests", RIGHTS, NOBODY),
    api("POST /api/v1/people/{reference}/rectifications", RIGHTS, NOBODY),
    api("GET /api/v1/subject-access-requests", RIGHTS),
    api("GET /api/v1/subject-access-requests/{reference}", RIGHTS, NOBODY),
    api("POST /api/v1/subject-access-requests/{reference}/redactions", RIGHTS, NOBODY),
    api("POST /api/v1/subject-access-requests/{reference}/extension", RIGHTS, NOBODY),
    api("POST /api/v1/subject-access-requests/{reference}/answer", RIGHTS, NOBODY),
]

# Routes that are not endpoints of the service itself, with why they need no matrix line.
# The API's own description is public by design; the Django admin lets in only staff accounts,
# and no role's account is staff (test_the_django_admin_lets_no_role_in checks every admin route).
FRAMEWORK_ROUTES = {
    "api/v1/": "the API's index (ninja)",
    "api/v1/openapi.json": "the OpenAPI description, public",
    "api/v1/docs": "the OpenAPI viewer, public",
}
ADMIN_PREFIX = "admin/"
