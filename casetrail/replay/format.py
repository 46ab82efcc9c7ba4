"""Reading a replay file: YAML whose every value keeps its line, checked whole before anything runs.

A replay file has a `cast` of pseudonymous agencies and role-holders, one `subject` (the person
referred) and a list of dated `events`, each performed `by` a cast member. Optional `what_if`
branches add hypothetical events that are run and then undone. Every problem found is reported
with the line it is on; `docs/replay.md` describes the format.
"""

from __future__ import annotations

import calendar
import difflib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from casetrail.core import frameworks
from casetrail.core.codes import (
    CONCERN_TYPES,
    GIVER,
    NFA_REASONS,
    PANEL_REVIEW_OUTCOMES,
    PERSON_AWARE,
    POST_EXIT_OUTCOMES,
    SEX,
    SIGNIFICANT_EVENT_OUTCOMES,
    TASKING_END_REASONS,
    URGENCY,
)
from casetrail.core.dates import PartialDate
from casetrail.core.policy import PERMISSION_ROLES, Permission
from casetrail.core.referrals import nhs_number_errors, upn_errors
from casetrail.core.roles import AgencyKind, Role
from casetrail.core.safeguards import CATEGORY_TEXT

FORMAT_VERSION = 1

# ---------------------------------------------------------------- problems


@dataclass(frozen=True)
class Problem:
    line: int
    message: str


class ReplayError(Exception):
    """The replay was refused or stopped; every problem names its line. Nothing is left behind."""

    def __init__(self, source: str, problems: Iterable[Problem], *, during_run: bool = False):
        self.source = source
        self.problems = sorted(problems, key=lambda p: p.line)
        self.during_run = during_run
        super().__init__(self.text())

    def text(self) -> str:
        what = ("stopped; everything it had written was undone" if self.during_run
                else "refused; nothing was written")
        lines = [f"{self.source}, line {p.line}: {p.message}" for p in self.problems]
        return f"The replay was {what}:\n" + "\n".join(f"  {line}" for line in lines)


# ---------------------------------------------------------------- what a file can say


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # text, date, bool, int, texts, member, members, label, choice, vulnerabilities
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()
    stated: bool = False  # a date the record says something happened; defaults to the event's date
    refers_to: str = ""  # for labels: the kind of earlier event it names
    help: str = ""


def _f(name: str, kind: str = "text", **options: Any) -> Field:
    return Field(name, kind, **options)


@dataclass(frozen=True)
class EventType:
    name: str
    summary: str
    fields: tuple[Field, ...]
    permission: Permission | None = None
    roles: frozenset[Role] | None = None  # for actions no Permission names
    needs_case: bool = True
    creates: str = ""  # the kind of thing an `id:` on this event names

    @property
    def allowed_roles(self) -> frozenset[Role] | None:
        if self.permission is not None:
            return PERMISSION_ROLES[self.permission]
        return self.roles

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)


EVENT_TYPES: dict[str, EventType] = {t.name: t for t in [
    EventType("referral", "A referral of the subject is submitted.", (
        _f("concern", required=True),
        _f("concern_types", "texts", required=True, choices=tuple(CONCERN_TYPES)),
        _f("first_observed_on", "date", stated=True),
        _f("urgency", "choice", default="routine", choices=tuple(URGENCY)),
        _f("person_aware", "choice", default="not_known", choices=tuple(PERSON_AWARE)),
        _f("discussed_with", default=""),
        _f("given_names", default="", help="as written on this referral, if it differs from the subject's"),
        _f("family_name", default="", help="as written on this referral (a misspelling, say)"),
    ), Permission.SUBMIT_REFERRAL, needs_case=False, creates="referral"),
    EventType("gateway_decision", "The police decide the gateway outcome.", (
        _f("outcome", "choice", required=True,
           choices=("no_further_action", "signpost", "police_led", "refer_to_panel")),
        _f("rationale", required=True),
        _f("decided_on", "date", stated=True),
        _f("deconfliction_done", "bool", default=True),
        _f("database_checks_done", "bool", default=True),
        _f("referrer_contacted_on", "date"),
        _f("referrer_contact_summary", default=""),
        _f("signposted_to", default=""),
        _f("referrer_contact_method", "choice", default="phone",
           choices=("phone", "meeting", "email", "letter")),
        _f("nfa_reasons", "texts", default=(), choices=tuple(NFA_REASONS)),
    ), Permission.GATEWAY_DECIDE),
    EventType("gateway_second_review", "A second police officer reviews a proposal to close at the gateway.", (
        _f("agree", "bool", required=True),
        _f("rationale", required=True),
        _f("reviewed_on", "date", stated=True),
    ), Permission.GATEWAY_DECIDE),
    EventType("person_search", "Someone searches for the person, as the gateway officer would (a read).", (
        _f("query", required=True, help="a name, date of birth or reference, as typed"),
    ), Permission.SEARCH, needs_case=False),
    EventType("person_link", "The earlier person record is confirmed as this referral's subject.", (
        _f("earlier_referral", "label", required=True, refers_to="referral"),
        _f("rationale", required=True),
    ), Permission.LINK_PERSON),
    EventType("match_rejected", "An earlier referral's person is judged not to be this referral's subject.", (
        _f("earlier_referral", "label", required=True, refers_to="referral"),
        _f("rationale", required=True),
    ), Permission.LINK_PERSON),
    EventType("police_led_decision", "The police refer a police-led case to the panel or close it.", (
        _f("outcome", "choice", required=True, choices=("refer_to_panel", "close")),
        _f("rationale", required=True),
        _f("decided_on", "date", stated=True),
    ), Permission.POLICE_LED_DECIDE),
    EventType("police_led_review", "The police review a police-led case.", (
        _f("rationale", required=True),
        _f("reviewed_on", "date", stated=True),
    ), Permission.POLICE_LED_DECIDE),
    EventType("significant_event", "Something that changes the picture is recorded on the case.", (
        _f("kind", "choice", required=True, choices=(
            "arrest_or_charge", "into_custody", "released", "moved", "mental_health_crisis", "school_exclusion",
            "partner_information", "meeting_concern")),
        _f("occurred_on", "date", stated=True),
        _f("source", required=True, help="who told us, or the meeting it was raised at"),
        _f("summary", required=True),
    ), Permission.RECORD_SIGNIFICANT_EVENT, creates="significant_event"),
    EventType("significant_event_decision", "The discussion and decision about a significant event.", (
        _f("event", "label", required=True, refers_to="significant_event"),
        _f("outcome", "choice", required=True, choices=tuple(SIGNIFICANT_EVENT_OUTCOMES)),
        _f("rationale", required=True),
        _f("responded_on", "date", stated=True),
    ), Permission.RECORD_SIGNIFICANT_EVENT),
    EventType("transfer_offer", "The case is offered to another area when the person moves or goes into or out of "
              "custody.", (
        _f("to", "member", required=True, help="the receiving force's or local authority's duty owner"),
        _f("kind", "choice", required=True, choices=("moved_area", "into_custody", "out_of_custody")),
        _f("reason", required=True),
    ), Permission.OFFER_HANDOVER, creates="handover"),
    EventType("panel_agenda", "The case is put on the agenda of a panel meeting.", (
        _f("meets_on", "date", required=True),
        _f("chair", "member", required=True),
        _f("location", default=""),
    ), Permission.MANAGE_PANEL),
    EventType("panel_decision", "The panel adopts the case or not.", (
        _f("adopt", "bool", required=True),
        _f("attendees", "members", required=True),
        _f("rationale", required=True),
        _f("dissent", default=""),
        _f("signposted_to", default=""),
        _f("decided_on", "date", stated=True),
    ), Permission.PANEL_DECIDE),
    EventType("consent", "Consent to Channel support is given or refused.", (
        _f("given", "bool", default=True),
        _f("giver", "choice", required=True, choices=tuple(GIVER)),
        _f("giver_name", required=True),
        _f("capacity_confirmed", "bool", default=True),
        _f("capacity_notes", default=""),
        _f("scope", required=True),
        _f("given_on", "date", stated=True),
        _f("refusal_consequence", default=""),
    ), Permission.RECORD_CONSENT),
    EventType("assessment", "A vulnerability assessment is made and submitted.", (
        _f("framework", required=True, help="key:version, e.g. vaf:2012"),
        _f("assessed_on", "date", stated=True),
        _f("summary", required=True),
        _f("vulnerabilities", "vulnerabilities", required=True),
    ), Permission.ASSESS),
    EventType("support_action", "A support action is added to the plan.", (
        _f("description", required=True),
        _f("vulnerabilities", "texts", required=True),
        _f("owner", "member", required=True),
        _f("due_on", "date", required=True),
    ), Permission.PLAN_SUPPORT, creates="support_action"),
    EventType("support_action_done", "A support action is delivered or cancelled.", (
        _f("action", "label", refers_to="support_action"),
        _f("status", "choice", default="done", choices=("done", "cancelled")),
        _f("completed_on", "date", stated=True),
        _f("summary", required=True, help="what was delivered, or why it was cancelled"),
    ), Permission.PLAN_SUPPORT),
    EventType("tasking", "An intervention provider is commissioned for sessions.", (
        _f("provider", "member", required=True),
        _f("sessions", "int", required=True),
        _f("purpose", required=True),
        _f("vulnerabilities", "texts", default=()),
        _f("commissioned_on", "date", stated=True),
    ), Permission.COMMISSION_TASKING, creates="tasking"),
    EventType("tasking_ended", "An intervention ends before its sessions are all delivered.", (
        _f("tasking", "label", refers_to="tasking"),
        _f("reason_kind", "choice", required=True, choices=tuple(TASKING_END_REASONS)),
        _f("rationale", required=True),
        _f("ended_on", "date", stated=True),
    ), roles=frozenset({Role.CHANNEL_COORDINATOR, Role.PANEL_CHAIR, Role.PROVIDER})),
    EventType("tasking_acknowledged", "The provider acknowledges a tasking.", (
        _f("tasking", "label", refers_to="tasking"),
        _f("acknowledged_on", "date", stated=True),
    ), Permission.DELIVER_TASKING),
    EventType("session", "The provider records a delivered session.", (
        _f("tasking", "label", refers_to="tasking"),
        _f("held_on", "date", stated=True),
        _f("report", required=True),
    ), Permission.DELIVER_TASKING),
    EventType("session_cancelled", "The provider cancels a commissioned session with a reason.", (
        _f("tasking", "label", refers_to="tasking"),
        _f("cancelled_on", "date", stated=True),
        _f("reason", required=True),
    ), Permission.DELIVER_TASKING),
    EventType("referrer_consultation", "The referrer's view is sought and recorded (not a mere update).", (
        _f("consulted_on", "date", stated=True),
        _f("method", "choice", required=True, choices=("phone", "meeting", "email", "letter")),
        _f("summary", required=True),
    ), Permission.CONSULT_REFERRER),
    EventType("case_note", "A dated contact or observation that is neither a decision nor a consultation.", (
        _f("noted_on", "date", stated=True),
        _f("text", required=True),
    ), Permission.ADD_NOTE),
    EventType("vulnerability_waiver", "The chair approves a reason why a vulnerability needs no support.", (
        _f("code", required=True),
        _f("reason", required=True),
        _f("approved_on", "date", stated=True),
    ), Permission.PANEL_DECIDE),
    EventType("panel_review", "The panel reviews the case during support.", (
        _f("held_on", "date", stated=True),
        _f("outcome", "choice", required=True, choices=tuple(PANEL_REVIEW_OUTCOMES)),
        _f("notes", required=True),
        _f("attendees", "members", required=True),
    ), Permission.PANEL_DECIDE),
    EventType("exit", "The panel exits the case from Channel support.", (
        _f("exited_on", "date", stated=True),
        _f("rationale", required=True),
        _f("residual_concerns", default=""),
        _f("onward_support", default=""),
        _f("attendees", "members", required=True),
        _f("dissent", default=""),
        _f("minimum_period_reason", default=""),
    ), Permission.PANEL_DECIDE),
    EventType("post_exit_review", "A 6- or 12-month post-exit review is recorded.", (
        _f("months", "int", required=True, choices=("6", "12")),
        _f("held_on", "date", stated=True),
        _f("outcome", "choice", required=True, choices=tuple(POST_EXIT_OUTCOMES)),
        _f("notes", required=True),
    ), Permission.POST_EXIT_REVIEW),
    EventType("closure", "The case is closed.", (
        _f("closed_on", "date", stated=True),
        _f("rationale", required=True),
    ), Permission.CLOSE_CASE),
    EventType("handover_offer", "Ownership of the case is offered to someone else.", (
        _f("to", "member", required=True),
        _f("reason", required=True),
    ), Permission.OFFER_HANDOVER, creates="handover"),
    EventType("handover_response", "The person offered a hand-over accepts or declines it.", (
        _f("handover", "label", refers_to="handover"),
        _f("accept", "bool", required=True),
        _f("reason", default="", help="why, when declining"),
    ), roles=frozenset(Role) - {Role.REFERRER, Role.OVERSIGHT}),
    EventType("retention_hold", "The record is held from disposal (an incident, a review, litigation).", (
        _f("reason_kind", "choice", required=True, choices=("serious_incident", "review", "litigation")),
        _f("reason", required=True),
        _f("placed_on", "date", stated=True),
    ), Permission.HOLD_FROM_DISPOSAL),
    EventType("note", "Context for the report only: nothing is written to the case.", (
        _f("text", required=True),
    ), needs_case=False),
]}

EVENT_KEYS = ("on", "by", "do", "id", "note", "reported")
TOP_KEYS = ("replay", "title", "source", "summary", "notes", "retention_rule_years", "findings", "cast",
            "subject", "events", "what_if")
FINDING_KEYS = ("id", "title", "source", "categories", "note")
_FINDING_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
AGENCY_KEYS = ("name", "kind", "police_force", "specialisms")
MEMBER_KEYS = ("name", "agency", "role", "roles", "job_title", "duty_owner", "panel_authority")
SUBJECT_KEYS = ("given_names", "family_name", "other_names", "date_of_birth", "sex", "address", "postcode",
                "school_or_workplace", "local_authority", "parent_carer", "nhs_number", "upn")
BRANCH_KEYS = ("title", "note", "events")
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_ISO_DAY = re.compile(r"^(\d{4})-(\d{2})-(\d{2})$")
_TRUE = {"true", "yes", "on"}
_FALSE = {"false", "no", "off"}

# ---------------------------------------------------------------- what a file becomes


@dataclass(frozen=True)
class AgencySpec:
    key: str
    name: str
    kind: AgencyKind
    police_force: str | None
    specialisms: tuple[str, ...]
    line: int


@dataclass(frozen=True)
class MemberSpec:
    key: str
    first_name: str
    last_name: str
    agency: str | None
    roles: tuple[Role, ...]
    job_title: str
    duty_owner: bool
    panel_authority: str | None
    line: int

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def role_label(self) -> str:
        return ", ".join(r.label for r in self.roles)


@dataclass(frozen=True)
class SubjectSpec:
    given_names: str
    family_name: str
    other_names: str
    date_of_birth: PartialDate | None
    sex: str
    address: str
    postcode: str
    school_or_workplace: str
    local_authority: str
    parent_carer: str
    line: int
    nhs_number: str = ""  # optional; synthetic numbers only (the 999 range)
    upn: str = ""


@dataclass(frozen=True)
class VulnerabilitySpec:
    factor: str
    nature: str
    evidence: str
    line: int


@dataclass(frozen=True)
class EventSpec:
    number: int  # 1-based position in its list
    line: int
    on: date
    by: str | None
    do: str
    values: Mapping[str, Any]
    lines: Mapping[str, int]
    label: str | None = None
    note: str = ""
    reported: tuple[str, ...] = ()  # the ids of the file's declared findings this event is part of

    @property
    def type(self) -> EventType:
        return EVENT_TYPES[self.do]

    def line_of(self, name: str) -> int:
        return self.lines.get(name, self.line)


@dataclass(frozen=True)
class FindingSpec:
    """A failure the file's source found, declared by the file; events name it in `reported`."""

    id: str
    title: str
    source: str
    line: int
    categories: tuple[str, ...] = ()  # kinds of safeguard (CATEGORY_TEXT keys) that answer it
    note: str = ""


@dataclass(frozen=True)
class Branch:
    title: str
    note: str
    events: tuple[EventSpec, ...]
    line: int


@dataclass(frozen=True)
class Replay:
    source: str
    title: str
    summary: str
    notes: tuple[str, ...]
    agencies: Mapping[str, AgencySpec]
    cast: Mapping[str, MemberSpec]
    subject: SubjectSpec
    events: tuple[EventSpec, ...]
    what_if: tuple[Branch, ...] = ()
    source_document: str = ""
    retention_rule_years: int | None = None
    findings: tuple[FindingSpec, ...] = ()

    @property
    def first_day(self) -> date:
        return self.events[0].on

    @property
    def last_day(self) -> date:
        return self.events[-1].on


# ---------------------------------------------------------------- reading


def load(path: str | Path, *, today: date | None = None) -> Replay:
    """Read and check a replay file; raises ReplayError listing every problem with its line."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as problem:
        raise ReplayError(str(path), [Problem(1, f"cannot be read: {problem}")]) from None
    return parse(text, source=str(path), today=today)


def parse(text: str, *, source: str = "<replay>", today: date | None = None) -> Replay:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as problem:
        mark = problem.problem_mark or problem.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise ReplayError(source, [Problem(line, f"is not valid YAML: {problem.problem}")]) from None
    reader = _Reader(source, today or date.today())
    replay = reader.replay(root)
    if reader.problems or replay is None:
        raise ReplayError(source, reader.problems)
    return replay


def _line(node: Node) -> int:
    return node.start_mark.line + 1


def _suggest(word: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(known), n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


class _Skip(Exception):
    """A value could not be read; its problem has been recorded."""


@dataclass
class _Scope:
    """What earlier events made, so later ones can name them."""

    labels: dict[str, tuple[str, int, dict[str, Any]]] = field(default_factory=dict)  # label: (kind, line, values)
    latest: dict[str, str] = field(default_factory=dict)  # kind: latest label
    vulnerabilities: set[str] = field(default_factory=set)  # factors of the latest assessment
    referred: bool = False
    anonymous: int = 0

    def copy(self) -> _Scope:
        return _Scope(dict(self.labels), dict(self.latest), set(self.vulnerabilities), self.referred,
                      self.anonymous)


class _Reader:
    def __init__(self, source: str, today: date):
        self.source = source
        self.today = today
        self.problems: list[Problem] = []
        self.agencies: dict[str, AgencySpec] = {}
        self.cast: dict[str, MemberSpec] = {}
        self.subject_birth: PartialDate | None = None
        self.findings: dict[str, FindingSpec] = {}

    def fail(self, node: Node | int, message: str) -> _Skip:
        self.problems.append(Problem(node if isinstance(node, int) else _line(node), message))
        return _Skip()

    # ------------------------------------------------------------ shapes

    def mapping(self, node: Node, where: str, known: Iterable[str]) -> dict[str, tuple[Node, Node]]:
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"{where} must be a mapping of names to values")
        known = tuple(known)
        found: dict[str, tuple[Node, Node]] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.fail(key_node, f"{where}: a key must be a plain name")
                continue
            key = key_node.value
            if key in found:
                self.fail(key_node, f"{where}: '{key}' is given twice (first on line {_line(found[key][0])})")
                continue
            if known and key not in known:
                self.fail(key_node, f"{where}: unknown field '{key}'{_suggest(key, known)}; "
                                    f"expected one of: {', '.join(known)}")
                continue
            found[key] = (key_node, value_node)
        return found

    def sequence(self, node: Node, where: str) -> list[Node]:
        if not isinstance(node, SequenceNode):
            raise self.fail(node, f"{where} must be a list")
        return list(node.value)

    def scalar(self, node: Node, where: str) -> str:
        if not isinstance(node, ScalarNode):
            raise self.fail(node, f"{where} must be a single value, not a list or mapping")
        if node.tag == "tag:yaml.org,2002:null" and node.style is None:
            return ""
        return str(node.value)

    def text(self, node: Node, where: str, *, required: bool = False) -> str:
        value = self.scalar(node, where).strip()
        if required and not value:
            raise self.fail(node, f"{where} must not be empty")
        return value

    def day(self, node: Node, where: str) -> date:
        value = self.scalar(node, where).strip()
        match = _ISO_DAY.match(value)
        if not match:
            raise self.fail(node, f"{where} is '{value}', which is not a date: write it as YYYY-MM-DD")
        year, month, day = (int(part) for part in match.groups())
        if not 1 <= month <= 12:
            raise self.fail(node, f"{where} is {value}, which is not a real date: there is no month {month}")
        last = calendar.monthrange(year, month)[1] if year >= 1 else 31
        if not 1 <= day <= last:
            month_name = calendar.month_name[month]
            raise self.fail(node, f"{where} is {value}, which is not a real date: {month_name} {year} has "
                                  f"{last} days")
        return date(year, month, day)

    def partial_day(self, node: Node, where: str) -> PartialDate:
        value = self.scalar(node, where).strip()
        try:
            return PartialDate.from_iso(value)
        except ValueError as problem:
            raise self.fail(node, f"{where} is '{value}', which is not a date (YYYY, YYYY-MM or YYYY-MM-DD): "
                                  f"{problem}") from None

    def boolean(self, node: Node, where: str) -> bool:
        value = self.scalar(node, where).strip().lower()
        if value in _TRUE:
            return True
        if value in _FALSE:
            return False
        raise self.fail(node, f"{where} must be true or false, not '{value}'")

    def integer(self, node: Node, where: str) -> int:
        value = self.scalar(node, where).strip()
        if not value.isdigit():
            raise self.fail(node, f"{where} must be a whole number, not '{value}'")
        return int(value)

    def texts(self, node: Node, where: str) -> tuple[str, ...]:
        if isinstance(node, ScalarNode):
            value = self.text(node, where)
            return (value,) if value else ()
        return tuple(self.text(item, f"{where} item") for item in self.sequence(node, where))

    def key(self, node: Node, where: str) -> str:
        value = self.scalar(node, where)
        if not _KEY.match(value):
            raise self.fail(node, f"{where} '{value}' must be a short name in lower case (letters, digits, _)")
        return value

    # ------------------------------------------------------------ the file

    def replay(self, root: Node | None) -> Replay | None:
        if root is None:
            self.fail(1, "the file is empty: it needs a cast, a subject and events")
            return None
        try:
            top = self.mapping(root, "the file", TOP_KEYS)
        except _Skip:
            return None
        for name in ("replay", "cast", "subject", "events"):
            if name not in top:
                self.fail(root, f"the file has no '{name}' section")
        version: int | None = None
        if "replay" in top:
            try:
                version = self.integer(top["replay"][1], "'replay' (the format version)")
                if version != FORMAT_VERSION:
                    self.fail(top["replay"][1], f"this is replay format {version}; Casetrail reads format "
                                                f"{FORMAT_VERSION}")
            except _Skip:
                pass
        if "findings" in top:
            self.read_findings(top["findings"][1])
        if "cast" in top:
            self.read_cast(top["cast"][1])
        subject = self.read_subject(top["subject"][1]) if "subject" in top else None
        scope = _Scope()
        events: tuple[EventSpec, ...] = ()
        if "events" in top:
            events = self.read_events(top["events"][1], "events", scope, previous=None)
            if not events and not self.problems:
                self.fail(top["events"][1], "there are no events")
            elif events and events[0].do != "referral" and not any(e.do == "referral" for e in events):
                self.fail(top["events"][1], "the events need a referral before anything can happen to a case")
        branches = self.read_branches(top["what_if"][1], scope) if "what_if" in top else ()
        notes: tuple[str, ...] = ()
        if "notes" in top:
            try:
                notes = self.texts(top["notes"][1], "'notes'")
            except _Skip:
                pass
        years = None
        if "retention_rule_years" in top:
            try:
                years = self.integer(top["retention_rule_years"][1], "'retention_rule_years'")
            except _Skip:
                pass
        title = summary = document = ""
        try:
            title = self.text(top["title"][1], "'title'") if "title" in top else "Replay"
            summary = self.text(top["summary"][1], "'summary'") if "summary" in top else ""
            document = self.text(top["source"][1], "'source'") if "source" in top else ""
        except _Skip:
            pass
        if self.problems or subject is None or version is None:
            return None
        return Replay(source=self.source, title=title, summary=summary, notes=notes, agencies=self.agencies,
                      cast=self.cast, subject=subject, events=events, what_if=branches,
                      source_document=document, retention_rule_years=years,
                      findings=tuple(self.findings.values()))

    def read_findings(self, node: Node) -> None:
        try:
            items = self.sequence(node, "'findings'")
        except _Skip:
            return
        for number, item in enumerate(items, start=1):
            where = f"finding {number}"
            try:
                raw = self.mapping(item, where, FINDING_KEYS)
                if "id" not in raw or "title" not in raw:
                    raise self.fail(item, f"{where} needs an id and a title")
                ident = self.scalar(raw["id"][1], f"{where}: id").strip()
                if not _FINDING_ID.match(ident):
                    raise self.fail(raw["id"][1], f"{where}: id '{ident}' must be a short name (letters, digits, "
                                                  "'_', '.', '-')")
                where = f"finding '{ident}'"
                if ident in self.findings:
                    raise self.fail(raw["id"][1], f"{where} is declared twice (first on line "
                                                  f"{self.findings[ident].line})")
                title = self.text(raw["title"][1], f"{where}: title", required=True)
                source = self.text(raw["source"][1], f"{where}: source") if "source" in raw else ""
                note = self.text(raw["note"][1], f"{where}: note") if "note" in raw else ""
                categories = self.texts(raw["categories"][1], f"{where}: categories") if "categories" in raw else ()
                for category in categories:
                    if category not in CATEGORY_TEXT:
                        self.fail(raw["categories"][1], f"{where}: '{category}' is not a kind of safeguard"
                                                        f"{_suggest(category, CATEGORY_TEXT)}; known kinds: "
                                                        f"{', '.join(CATEGORY_TEXT)}")
                self.findings[ident] = FindingSpec(ident, title, source, _line(item), categories, note)
            except _Skip:
                continue

    def read_cast(self, node: Node) -> None:
        try:
            sections = self.mapping(node, "'cast'", ("agencies", "people"))
        except _Skip:
            return
        if "agencies" not in sections or "people" not in sections:
            self.fail(node, "'cast' needs both 'agencies' and 'people'")
            return
        try:
            agencies = self.mapping(sections["agencies"][1], "'cast: agencies'", ())
        except _Skip:
            agencies = {}
        for key_node, value in agencies.values():
            try:
                self.read_agency(self.key(key_node, "an agency's name"), value)
            except _Skip:
                continue
        for spec in self.agencies.values():
            if spec.police_force is not None:
                force = self.agencies.get(spec.police_force)
                if force is None or force.kind != AgencyKind.POLICE:
                    self.fail(spec.line, f"agency '{spec.key}': police_force '{spec.police_force}' is not a police "
                                         "agency in the cast")
            elif spec.kind == AgencyKind.LOCAL_AUTHORITY:
                self.fail(spec.line, f"agency '{spec.key}': a local authority needs the police_force that screens "
                                     "its referrals")
        try:
            people = self.mapping(sections["people"][1], "'cast: people'", ())
        except _Skip:
            people = {}
        for key_node, value in people.values():
            try:
                self.read_member(self.key(key_node, "a cast member's name"), value)
            except _Skip:
                continue
        for kind in (AgencyKind.POLICE, AgencyKind.LOCAL_AUTHORITY):
            for spec in self.agencies.values():
                if spec.kind == kind and not any(m.agency == spec.key and m.duty_owner for m in self.cast.values()):
                    self.fail(spec.line, f"agency '{spec.key}' needs one cast member marked duty_owner: true, "
                                         "to receive its new work")

    def read_agency(self, key: str, node: Node) -> None:
        values = self.mapping(node, f"agency '{key}'", AGENCY_KEYS)
        if "name" not in values or "kind" not in values:
            raise self.fail(node, f"agency '{key}' needs a name and a kind")
        kind_text = self.text(values["kind"][1], f"agency '{key}': kind")
        if kind_text not in AgencyKind._value2member_map_:
            raise self.fail(values["kind"][1], f"agency '{key}': kind '{kind_text}' is not one of "
                                               f"{', '.join(k.value for k in AgencyKind)}")
        force = self.text(values["police_force"][1], f"agency '{key}': police_force") \
            if "police_force" in values else None
        specialisms = self.texts(values["specialisms"][1], f"agency '{key}': specialisms") \
            if "specialisms" in values else ()
        kind = AgencyKind(kind_text)
        if kind == AgencyKind.PROVIDER and not specialisms:
            raise self.fail(node, f"agency '{key}': a provider organisation needs its specialisms")
        self.agencies[key] = AgencySpec(key, self.text(values["name"][1], f"agency '{key}': name", required=True),
                                        kind, force or None, specialisms, _line(node))

    def read_member(self, key: str, node: Node) -> None:
        where = f"cast member '{key}'"
        values = self.mapping(node, where, MEMBER_KEYS)
        if "name" not in values:
            raise self.fail(node, f"{where} needs a name")
        name = self.text(values["name"][1], f"{where}: name", required=True)
        first, _, last = name.partition(" ")
        roles_node = values.get("roles") or values.get("role")
        if roles_node is None:
            raise self.fail(node, f"{where} needs a role")
        roles = []
        for role in self.texts(roles_node[1], f"{where}: role"):
            if role not in Role._value2member_map_:
                raise self.fail(roles_node[1], f"{where}: role '{role}' is not one of "
                                               f"{', '.join(r.value for r in Role)}{_suggest(role, list(Role))}")
            roles.append(Role(role))
        agency = self.text(values["agency"][1], f"{where}: agency") if "agency" in values else None
        if agency is not None and agency not in self.agencies:
            raise self.fail(values["agency"][1], f"{where}: agency '{agency}' is not in the cast"
                                                 f"{_suggest(agency, self.agencies)}")
        if agency is None and Role.ADMINISTRATOR not in roles:
            raise self.fail(node, f"{where} needs an agency")
        authority = self.text(values["panel_authority"][1], f"{where}: panel_authority") \
            if "panel_authority" in values else None
        if Role.PANEL_MEMBER in roles and authority not in self.agencies:
            raise self.fail(node, f"{where}: a panel member needs the panel_authority (a local authority in the "
                                  "cast) whose panel they sit on")
        if Role.PROVIDER in roles and (agency is None or self.agencies[agency].kind != AgencyKind.PROVIDER):
            raise self.fail(node, f"{where}: an intervention provider must belong to a provider organisation")
        duty = self.boolean(values["duty_owner"][1], f"{where}: duty_owner") if "duty_owner" in values else False
        if duty and agency is not None and any(m.agency == agency and m.duty_owner for m in self.cast.values()):
            raise self.fail(values["duty_owner"][1], f"{where}: agency '{agency}' already has a duty owner")
        job = self.text(values["job_title"][1], f"{where}: job_title") if "job_title" in values else ""
        self.cast[key] = MemberSpec(key, first, last, agency, tuple(roles), job or roles[0].label, duty,
                                    authority, _line(node))

    def read_subject(self, node: Node) -> SubjectSpec | None:
        try:
            values = self.mapping(node, "'subject'", SUBJECT_KEYS)
            for name in ("given_names", "family_name", "local_authority"):
                if name not in values:
                    raise self.fail(node, f"'subject' needs {name}")

            def text(name: str, default: str = "") -> str:
                return self.text(values[name][1], f"subject: {name}") if name in values else default

            birth = (self.partial_day(values["date_of_birth"][1], "subject: date_of_birth")
                     if "date_of_birth" in values else None)
            sex = text("sex", "not_known")
            if sex not in SEX:
                raise self.fail(values["sex"][1], f"subject: sex must be one of {', '.join(SEX)}")
            authority = text("local_authority")
            spec = self.agencies.get(authority)
            if spec is None or spec.kind != AgencyKind.LOCAL_AUTHORITY:
                raise self.fail(values["local_authority"][1], f"subject: local_authority '{authority}' is not a "
                                                              "local authority in the cast")
            for name, check in (("nhs_number", nhs_number_errors), ("upn", upn_errors)):
                wrong = check(text(name))
                if wrong:
                    raise self.fail(values[name][1], f"subject: {name}: {wrong[0]}")
            self.subject_birth = birth
            return SubjectSpec(text("given_names"), text("family_name"), text("other_names"), birth, sex,
                               text("address"), text("postcode"), text("school_or_workplace"), authority,
                               text("parent_carer"), _line(node), nhs_number=text("nhs_number"), upn=text("upn"))
        except _Skip:
            return None

    def read_branches(self, node: Node, scope: _Scope) -> tuple[Branch, ...]:
        branches = []
        try:
            items = self.sequence(node, "'what_if'")
        except _Skip:
            return ()
        for item in items:
            try:
                values = self.mapping(item, "a what_if branch", BRANCH_KEYS)
                if "title" not in values or "events" not in values:
                    raise self.fail(item, "a what_if branch needs a title and events")
                events = self.read_events(values["events"][1], "what_if events", scope.copy(), previous=None)
                if not events:
                    raise self.fail(values["events"][1], "a what_if branch needs at least one event")
                branches.append(Branch(self.text(values["title"][1], "what_if: title", required=True),
                                       self.text(values["note"][1], "what_if: note") if "note" in values else "",
                                       events, _line(item)))
            except _Skip:
                continue
        return tuple(branches)

    # ------------------------------------------------------------ events

    def read_events(self, node: Node, where: str, scope: _Scope,
                    previous: tuple[date, int] | None) -> tuple[EventSpec, ...]:
        try:
            items = self.sequence(node, f"'{where}'")
        except _Skip:
            return ()
        events = []
        for number, item in enumerate(items, start=1):
            try:
                event = self.read_event(item, number, scope, previous)
            except _Skip:
                continue
            previous = (event.on, event.line)
            events.append(event)
        return tuple(events)

    def read_event(self, node: Node, number: int, scope: _Scope, previous: tuple[date, int] | None) -> EventSpec:
        if not isinstance(node, MappingNode):
            raise self.fail(node, f"event {number} must be a mapping with on, by and do")
        raw = self.mapping(node, f"event {number}", ())
        if "do" not in raw:
            raise self.fail(node, f"event {number} has no 'do' (the event type)")
        do_node = raw["do"][1]
        do = self.scalar(do_node, "'do'").strip()
        kind = EVENT_TYPES.get(do)
        if kind is None:
            raise self.fail(do_node, f"unknown event type '{do}'{_suggest(do, EVENT_TYPES)}; known types: "
                                     f"{', '.join(EVENT_TYPES)}")
        where = f"'{do}' event"
        if "on" not in raw:
            raise self.fail(node, f"{where} has no 'on' date")
        on = self.day(raw["on"][1], f"{where}: on")
        if on > self.today:
            raise self.fail(raw["on"][1], f"{where}: on is {on.isoformat()}, which is in the future; a replay can "
                                          "only hold what has already happened")
        if previous is not None and on < previous[0]:
            raise self.fail(raw["on"][1], f"{where}: on is {on.isoformat()}, before the previous event "
                                          f"({previous[0].isoformat()}, line {previous[1]}); list events in the "
                                          "order they were recorded")
        if self.subject_birth is not None and on < self.subject_birth.earliest() and kind.needs_case:
            raise self.fail(raw["on"][1], f"{where}: on is {on.isoformat()}, before the subject was born")
        by = self.read_actor(raw, kind, where, node)
        if kind.needs_case and not scope.referred:
            raise self.fail(do_node, f"{where}: there is no case yet; the first event about the case must be a "
                                     "referral")
        values: dict[str, Any] = {}
        lines: dict[str, int] = {}
        allowed = {f.name for f in kind.fields}
        for name, (key_node, value_node) in raw.items():
            if name in EVENT_KEYS:
                continue
            if name not in allowed:
                self.fail(key_node, f"{where}: unknown field '{name}'{_suggest(name, allowed)}; a '{do}' event "
                                    f"takes: {', '.join(f.name for f in kind.fields) or 'nothing else'}")
                continue
            spec = kind.field(name)
            assert spec is not None
            try:
                values[name] = self.value(spec, value_node, f"{where}: {name}", scope)
            except _Skip:
                continue
            lines[name] = _line(value_node)
        for spec in kind.fields:
            if spec.name in values:
                continue
            if spec.required:
                self.fail(node, f"{where} needs '{spec.name}'")
            elif spec.kind == "label":
                latest = scope.latest.get(spec.refers_to)
                if latest is None:
                    self.fail(node, f"{where}: there is no earlier {spec.refers_to.replace('_', ' ')} for it to be "
                                    "about")
                else:
                    values[spec.name] = latest
            elif spec.stated:
                values[spec.name] = on
            else:
                values[spec.name] = spec.default
        self.check_dates(kind, values, lines, on, where)
        label = None
        if "id" in raw:
            label = self.key(raw["id"][1], f"{where}: id")
            if not kind.creates:
                self.fail(raw["id"][1], f"{where}: an id names something an event creates; '{do}' creates nothing "
                                        "later events can refer to")
            elif label in scope.labels:
                self.fail(raw["id"][1], f"{where}: id '{label}' is already used on line {scope.labels[label][1]}")
        note = self.text(raw["note"][1], f"{where}: note") if "note" in raw else ""
        reported = self.read_reported(raw, where)
        event = EventSpec(number, _line(node), on, by, do, values, lines, label, note, reported)
        self.check_event(event, scope, node)
        if kind.creates:
            scope.anonymous += 1
            label = label or f"_{kind.creates}{scope.anonymous}"
            scope.labels[label] = (kind.creates, event.line, values)
            scope.latest[kind.creates] = label
            event = EventSpec(number, event.line, on, by, do, values, lines, label, note, reported)
        if do == "referral":
            scope.referred = True
        if do == "assessment":
            scope.vulnerabilities = {v.factor for v in values.get("vulnerabilities", ())}
        return event

    def read_actor(self, raw: dict[str, tuple[Node, Node]], kind: EventType, where: str, node: Node) -> str | None:
        if "by" not in raw:
            if kind.name == "note":
                return None
            raise self.fail(node, f"{where} has no 'by' (the cast member who did it)")
        by_node = raw["by"][1]
        by = self.scalar(by_node, f"{where}: by").strip()
        member = self.cast.get(by)
        if member is None:
            raise self.fail(by_node, f"{where}: by '{by}' is not in the cast{_suggest(by, self.cast)}")
        allowed = kind.allowed_roles
        if allowed is not None and not allowed & set(member.roles):
            who = " or ".join(sorted(r.label for r in allowed))
            raise self.fail(by_node, f"{where}: {by} ({member.full_name}, {member.role_label}) may not record "
                                     f"'{kind.name}' events; only a {who} may")
        return by

    def read_reported(self, raw: dict[str, tuple[Node, Node]], where: str) -> tuple[str, ...]:
        if "reported" not in raw:
            return ()
        node = raw["reported"][1]
        codes = self.texts(node, f"{where}: reported")
        items = node.value if isinstance(node, SequenceNode) else [node]
        for code, item in zip(codes, items, strict=False):
            if code not in self.findings:
                declared = f"declared: {', '.join(self.findings)}" if self.findings else "the file declares none"
                self.fail(item, f"{where}: reported '{code}' is not a finding declared in 'findings'"
                                f"{_suggest(code, self.findings)} ({declared})")
        return codes

    def value(self, spec: Field, node: Node, where: str, scope: _Scope) -> Any:
        if spec.kind == "text":
            return self.text(node, where, required=spec.required and spec.name not in ("rationale",))
        if spec.kind == "date":
            return self.day(node, where)
        if spec.kind == "bool":
            return self.boolean(node, where)
        if spec.kind == "int":
            number = self.integer(node, where)
            if spec.choices and str(number) not in spec.choices:
                raise self.fail(node, f"{where} must be {' or '.join(spec.choices)}")
            return number
        if spec.kind == "choice":
            value = self.text(node, where)
            if value not in spec.choices:
                raise self.fail(node, f"{where} is '{value}'; choose one of: {', '.join(spec.choices)}"
                                      f"{_suggest(value, spec.choices)}")
            return value
        if spec.kind == "texts":
            values = self.texts(node, where)
            if spec.choices:
                for value in values:
                    if value not in spec.choices:
                        raise self.fail(node, f"{where}: '{value}' is not one of: {', '.join(spec.choices)}")
            return values
        if spec.kind == "member":
            key = self.text(node, where)
            if key not in self.cast:
                raise self.fail(node, f"{where}: '{key}' is not in the cast{_suggest(key, self.cast)}")
            return key
        if spec.kind == "members":
            keys = self.texts(node, where)
            for key in keys:
                if key not in self.cast:
                    raise self.fail(node, f"{where}: '{key}' is not in the cast{_suggest(key, self.cast)}")
            return keys
        if spec.kind == "label":
            label = self.text(node, where)
            known = scope.labels.get(label)
            if known is None or known[0] != spec.refers_to:
                raise self.fail(node, f"{where}: no earlier {spec.refers_to.replace('_', ' ')} has id '{label}'")
            return label
        if spec.kind == "vulnerabilities":
            return self.vulnerabilities(node, where)
        raise AssertionError(spec.kind)

    def vulnerabilities(self, node: Node, where: str) -> tuple[VulnerabilitySpec, ...]:
        found = []
        for item in self.sequence(node, where):
            values = self.mapping(item, f"{where} item", ("factor", "nature", "evidence"))
            if "factor" not in values or "nature" not in values:
                raise self.fail(item, f"{where}: each vulnerability needs a factor and its nature")
            nature = self.text(values["nature"][1], f"{where}: nature")
            if nature not in frameworks.NATURES:
                raise self.fail(values["nature"][1], f"{where}: nature must be one of "
                                                     f"{', '.join(frameworks.NATURES)}")
            evidence = self.text(values["evidence"][1], f"{where}: evidence") if "evidence" in values else ""
            found.append(VulnerabilitySpec(self.text(values["factor"][1], f"{where}: factor", required=True),
                                           nature, evidence, _line(item)))
        if not found:
            raise self.fail(node, f"{where}: list at least one identified vulnerability")
        return tuple(found)

    # ------------------------------------------------------------ rules between fields and events

    def check_dates(self, kind: EventType, values: dict[str, Any], lines: dict[str, int], on: date,
                    where: str) -> None:
        for spec in kind.fields:
            day = values.get(spec.name)
            if spec.kind != "date" or day is None or spec.name not in lines:
                continue
            if spec.stated and day > on:
                self.fail(lines[spec.name], f"{where}: {spec.name} is {day.isoformat()}, after the event's date "
                                            f"{on.isoformat()}; a record cannot say something happened after it "
                                            "was recorded")
            if self.subject_birth is not None and day < self.subject_birth.earliest() and spec.stated:
                self.fail(lines[spec.name], f"{where}: {spec.name} is {day.isoformat()}, before the subject was "
                                            "born")

    def check_event(self, event: EventSpec, scope: _Scope, node: Node) -> None:
        values = event.values
        where = f"'{event.do}' event"
        if event.do == "assessment":
            ref = values.get("framework", "")
            try:
                framework = frameworks.framework_from_ref(ref)
            except frameworks.UnknownFramework:
                known = ", ".join(f.ref for f in frameworks.all_frameworks())
                self.fail(event.line_of("framework"), f"{where}: framework '{ref}' is unknown; known: {known}")
                return
            for v in values.get("vulnerabilities", ()):
                if not framework.has_factor(v.factor):
                    self.fail(v.line, f"{where}: {framework.label} has no factor '{v.factor}'"
                                      f"{_suggest(v.factor, [f.code for f in framework.factors])}")
        if event.do in ("support_action", "tasking"):
            unknown = [c for c in values.get("vulnerabilities", ()) if c not in scope.vulnerabilities]
            if unknown:
                self.fail(event.line_of("vulnerabilities"), f"{where}: {', '.join(unknown)} "
                                                            f"{'is' if len(unknown) == 1 else 'are'} not among the "
                                                            "vulnerabilities of the latest assessment")
        if event.do == "tasking":
            provider = self.cast.get(values.get("provider", ""))
            if provider is not None and Role.PROVIDER not in provider.roles:
                self.fail(event.line_of("provider"), f"{where}: provider '{provider.key}' is not an intervention "
                                                     "provider")
            if values.get("sessions") is not None and not 1 <= values["sessions"] <= 50:
                self.fail(event.line_of("sessions"), f"{where}: sessions must be between 1 and 50")
        if event.do == "handover_response":
            offer = scope.labels.get(values.get("handover", ""))
            if offer is not None and offer[2].get("to") != event.by:
                to = self.cast.get(offer[2].get("to", ""))
                self.fail(node, f"{where}: only {to.full_name if to else 'the receiver'} (offered the hand-over on "
                                f"line {offer[1]}) may answer it, not {event.by}")
        if event.do == "support_action_done":
            action = scope.labels.get(values.get("action", ""))
            member = self.cast.get(event.by or "")
            if action is not None and member is not None and action[2].get("owner") != event.by \
                    and not PERMISSION_ROLES[Permission.PLAN_SUPPORT] & set(member.roles):
                self.fail(node, f"{where}: only the action's owner or a Channel coordinator may record it done")
        for name in ("attendees",):
            if name in values and len(values[name]) < 2:
                self.fail(event.line_of(name), f"{where}: record at least two attendees")
