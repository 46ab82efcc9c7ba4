"""The replay's report: as of any date, what was blocked, what was flagged, to whom, and since when.

Everything here reads the plain data a run leaves (`engine.Outcome`): the cases' records, the
blocks and the messages. Findings are worked out again from the records, as of each day, with
the same rules the product uses, so a report can be drawn for any date without a database.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from casetrail.core.codes import NFA_REASONS
from casetrail.core.dates import add_months
from casetrail.core.safeguard_policy import SafeguardPolicy
from casetrail.core.safeguards import CATEGORY_TEXT, RULES, CaseRecord, Finding, Severity, findings
from casetrail.replay.engine import Block, CaseOutcome, Outcome, Search, Told
from casetrail.replay.format import EVENT_TYPES, EventSpec, FindingSpec, MemberSpec

GATEWAY_WORDS = {"no_further_action": "no further action", "signpost": "signposted to another service",
                 "police_led": "police-led case management", "refer_to_panel": "referred to the Channel panel"}

# ---------------------------------------------------------------- the findings over time


@dataclass
class Flag:
    """One finding over the days it was visible, up to the report's date."""

    key: str
    case_reference: str
    first: Finding  # as it stood on the first day it was visible
    latest: Finding  # as it stood on the last day it was visible
    first_visible: date
    last_visible: date
    open: bool  # still visible on the report's date
    escalated_on: date | None = None
    told: list[Told] = field(default_factory=list)

    @property
    def rule(self) -> str:
        return self.first.rule

    @property
    def category(self) -> str:
        return _category(self.rule)


def _category(rule: str) -> str:
    return RULES[rule].category if rule in RULES else ""


def flags(case: CaseOutcome, *, policy: SafeguardPolicy, through: date, told: Iterable[Told] = ()) -> list[Flag]:
    """Every finding the case showed from its referral to `through`, with the day each first showed."""
    found: dict[str, Flag] = {}
    record: CaseRecord = case.record
    day = record.referred_on
    while day <= through:
        for finding in findings(record.as_of(day), today=day, policy=policy):
            flag = found.get(finding.key)
            if flag is None:
                flag = found[finding.key] = Flag(finding.key, case.reference, finding, finding, day, day, False)
            flag.latest, flag.last_visible = finding, day
            if finding.severity is Severity.ESCALATED and flag.escalated_on is None:
                flag.escalated_on = day
        day += timedelta(days=1)
    messages = [t for t in told if t.case_id == case.case_id and t.queued_on <= through]
    for flag in found.values():
        flag.open = flag.last_visible == through
        flag.told = [t for t in messages if t.finding_key == flag.key]
    return sorted(found.values(), key=lambda f: (f.first_visible, f.key))


def open_findings(case: CaseOutcome, *, policy: SafeguardPolicy, on: date) -> list[Finding]:
    return findings(case.record.as_of(on), today=on, policy=policy)


# ---------------------------------------------------------------- words


def _day(value: date | None) -> str:
    return f"{value:%-d %B %Y}" if value else "–"


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


class _Words:
    """How the report names people, agencies, rules and events."""

    def __init__(self, outcome: Outcome):
        self.outcome = outcome
        self.replay = outcome.replay

    def member(self, key: str | None) -> str:
        member = self.replay.cast.get(key or "")
        if member is None:
            return key or "nobody"
        return f"{member.full_name} ({self.role(member)})"

    def role(self, member: MemberSpec) -> str:
        agency = self.replay.agencies.get(member.agency or "")
        return f"{member.role_label}, {agency.name}" if agency else member.role_label

    def user(self, user_id: int) -> str:
        return self.member(self.outcome.cast_user_ids.get(user_id, f"user {user_id}"))

    def users(self, ids: Iterable[int]) -> str:
        names = [self.user(i) for i in ids]
        return "; ".join(names) if names else "nobody (shown on the case)"

    @staticmethod
    def rule(rule: str) -> str:
        known = RULES.get(rule)
        return f"{known.title} (`{rule}`)" if known else f"`{rule}`"

    @staticmethod
    def category(key: str) -> str:
        return CATEGORY_TEXT.get(key, key).split(":")[0]

    def event(self, event: EventSpec) -> str:
        """What the event did, in words (for the timeline and the blocks)."""
        v, cast = event.values, self.replay.cast
        member = cast.get(event.by or "")
        agency = self.replay.agencies.get(member.agency or "") if member else None
        match event.do:
            case "referral":
                return f"Referral from {agency.name if agency else 'a referrer'}" + (
                    f" (surname written '{v['family_name']}')" if v.get("family_name") else "")
            case "gateway_decision":
                reasons = ", ".join(NFA_REASONS.get(r, r).lower() for r in v.get("nfa_reasons", ()))
                return f"Gateway decision: {GATEWAY_WORDS.get(v['outcome'], v['outcome'])}" + (
                    f" ({reasons})" if reasons else "")
            case "panel_agenda":
                return f"Put on the agenda of the panel meeting of {_day(v['meets_on'])}"
            case "panel_decision":
                return "The panel adopts the case" if v["adopt"] else "The panel does not adopt the case"
            case "consent":
                giver = "a parent or carer" if v["giver"] == "parent_carer" else "the person"
                return f"Consent given by {giver}" if v["given"] else f"Consent refused by {giver}"
            case "assessment":
                found = v["vulnerabilities"]
                causes = sum(1 for f in found if f.nature == "underlying_cause")
                return (f"Assessment on {v['framework']}: {len(found)} vulnerabilities, {causes} of them underlying "
                        "causes")
            case "tasking":
                return f"{self.member(v['provider'])} tasked for {v['sessions']} sessions"
            case "tasking_acknowledged":
                return "The provider acknowledges the tasking"
            case "session":
                return "The provider records a session delivered"
            case "session_cancelled":
                return "The provider cancels a session"
            case "case_note":
                return f"Note: {v['text']}"
            case "referrer_consultation":
                return f"The referrer is consulted ({v['method']})"
            case "exit":
                return "Exit from Channel support"
            case "post_exit_review":
                return f"{v['months']}-month post-exit review recorded"
            case "closure":
                return "The case is closed"
            case "handover_offer":
                return f"The case is offered to {self.member(v['to'])}"
            case "handover_response":
                return "The hand-over is accepted" if v["accept"] else f"The hand-over is declined: {v['reason']}"
            case "retention_hold":
                return f"The record is held from disposal ({v['reason_kind'].replace('_', ' ')})"
            case "person_link":
                return "The earlier person record is linked to this referral"
            case "person_search":
                return f"Search for \u201c{v['query']}\u201d"
            case "note":
                return str(v.get("text", ""))
        return EVENT_TYPES[event.do].summary.rstrip(".")

    def told(self, told: Iterable[Told]) -> str:
        parts = []
        for t in told:
            how = "escalated to" if t.kind == "escalation" else "told"
            parts.append(f"{how} {self.member(t.recipient)} on {_day(t.queued_on)}")
        return "; ".join(parts) if parts else "nobody was sent a message (shown on the case)"


# ---------------------------------------------------------------- the report


def render(outcome: Outcome, *, as_of: date | None = None) -> str:
    """The report as Markdown, for a reader who does not need to know how Casetrail works."""
    day = as_of or outcome.until
    words = _Words(outcome)
    replay = outcome.replay
    all_flags = {c.case_id: flags(c, policy=outcome.policy, through=day, told=outcome.told)
                 for c in outcome.cases}
    blocks = [b for b in outcome.blocks if b.event.on <= day]
    told = [t for t in outcome.told if t.queued_on <= day]
    out: list[str] = [f"# {replay.title}", ""]
    out += [f"What Casetrail would have shown **as of {_day(day)}**, replaying `{replay.source}` through "
            f"the real services with the clock set to each event's date.", ""]
    if replay.summary:
        out += [replay.summary, ""]
    out += ["All people and organisations in this replay are pseudonyms.", ""]

    out += ["## At a glance", ""]
    for case in outcome.cases:
        state = case.record.as_of(day).state
        if state is None:
            continue
        owner = words.user(state.owner_user_id) if state.owner_user_id else "nobody"
        out.append(f"- Case {case.reference} is at the stage **{_stage(state.stage)}**; its owner is {owner}.")
    open_now = [f for fl in all_flags.values() for f in fl if f.open]
    overdue = [f for f in open_now if f.latest.severity in (Severity.OVERDUE, Severity.ESCALATED)]
    people = {t.recipient for t in told}
    out += [
        f"- **{len(blocks)}** action{'s' if len(blocks) != 1 else ''} would have been blocked by a safeguard; "
        "each went ahead as the old process did, so that every later failure is still checked.",
        f"- **{sum(len(fl) for fl in all_flags.values())}** safeguard flags were raised; **{len(open_now)}** are "
        f"open on {_day(day)}, of which **{len(overdue)}** are overdue work.",
        f"- **{len(told)}** messages were sent to **{len(people)}** people.", "",
    ]

    sections = [part for finding in replay.findings
                for part in _finding_section(finding, outcome, words, all_flags, blocks, day)]
    if sections:
        out += ["## The findings and what Casetrail did", ""]
        if replay.source_document:
            out += [f"The findings are those this file declares, from {_cell(replay.source_document)}.", ""]
        out += sections
    covered = {kind for finding in replay.findings for kind in finding.categories}
    sections = [part for key in CATEGORY_TEXT if key not in covered
                for part in _category_section(key, outcome, words, all_flags, blocks, day)]
    if sections:
        out += ["## What Casetrail did, by kind of safeguard" if not covered
                else "## What else Casetrail did, by kind of safeguard", ""] + sections
    matched = _matching_lines(outcome, day)
    if matched:
        out += ["## What matching found at each referral", "",
                "Each referral's identity was matched against every earlier referral when it arrived; each "
                "strong match is a possible earlier record that blocks the gateway until someone resolves it.",
                "", *matched, ""]
    searched = [s for s in outcome.searches if s.event.on <= day]
    if searched:
        out += ["## What the searches found", "",
                "Each search as the gateway would have run it on that day, with what Casetrail found then.", ""]
        out += [_search_line(looked, words) for looked in searched] + [""] + _how_connected() + [""]

    if blocks:
        out += ["## Actions a safeguard would have blocked", ""]
        out += ["| Date | Action | By | What stood in the way | What happened |", "|---|---|---|---|---|"]
        for b in blocks:
            rules = "; ".join(words.rule(r) for r in dict.fromkeys(b.rules))
            out.append(f"| {_day(b.event.on)} | {_cell(words.event(b.event))} | {_cell(words.member(b.event.by))} "
                       f"| {_cell(rules)}: {_cell(b.message)} | {_cell(b.went_ahead)} |")
        out.append("")

    table = _flag_table([f for fl in all_flags.values() for f in fl if f.open], words)
    if table:
        out += [f"## Safeguard flags open on {_day(day)}", ""] + table
    if overdue:
        out += [f"## Overdue work on {_day(day)}", ""]
        for f in overdue:
            escalated = f" (escalated on {_day(f.escalated_on)})" if f.escalated_on else ""
            out.append(f"- {_cell(f.latest.message)} Who must act: {f.latest.who}{escalated}.")
        out.append("")
    table = _flag_table([f for fl in all_flags.values() for f in fl if not f.open], words, closed=True)
    if table:
        out += ["## Flags raised earlier and since resolved", ""] + table

    if told:
        out += ["## Who was told, and when", ""]
        out += ["| Date | Who | About |", "|---|---|---|"]
        for t in told:
            about = ("the outcome of a decision on their referral" if t.kind == "referrer_outcome"
                     else ("escalated: " if t.kind == "escalation" else "") + words.rule(t.rule))
            out.append(f"| {_day(t.queued_on)} | {_cell(words.member(t.recipient))} | {_cell(about)} |")
        out.append("")

    out += ["## What happened", ""]
    out += _timeline(outcome, words, day)

    branches = _branches(outcome, day)
    if branches:
        out += ["## What if", ""]
        for branch in branches:
            out += _branch_section(branch, words)

    if replay.notes:
        out += ["## Notes and assumptions", ""] + [f"- {_cell(n)}" for n in replay.notes] + [""]
    out += ["## How to read this report", "",
            "Each flag is worked out from what had been recorded by the end of each day, with the rules "
            "Casetrail uses today (`casetrail/core/safeguards.py`); *first visible* is the first day the "
            "records showed it. Messages are those the notification worker would have sent at the end of "
            "that day. A *block* is an action a safeguard refuses; in a replay of the old process the refusal "
            "is recorded and the action goes ahead, as it did at the time.", ""]
    return "\n".join(out).rstrip() + "\n"


def _stage(stage: str) -> str:
    from casetrail.core.lifecycle import Stage

    return Stage(stage).label if stage in Stage._value2member_map_ else stage


def _flag_table(items: list[Flag], words: _Words, *, closed: bool = False) -> list[str]:
    if not items:
        return []
    head = "| Flag | Kind | What it says | First visible | " + ("Until | " if closed else "") + \
        "Who must act | Who was told |"
    rows = [head, "|" + "---|" * (7 if closed else 6)]
    for f in items:
        until = f"{_day(f.last_visible)} | " if closed else ""
        rows.append(f"| {_cell(words.rule(f.rule))} | {_cell(words.category(f.category))} | {_cell(f.latest.message)} | "
                    f"{_day(f.first_visible)} | {until}{_cell(f.latest.who)} | {_cell(words.told(f.told))} |")
    return [*rows, ""]


def _finding_section(finding: FindingSpec, outcome: Outcome, words: _Words, all_flags: dict[int, list[Flag]],
                     blocks: list[Block], day: date) -> list[str]:
    """A finding the file declares: the events that were part of it, and what the safeguards of its
    kinds blocked and flagged. Left out when nothing in the replay touches it."""
    kinds = set(finding.categories)
    events = [e for e in outcome.replay.events if finding.id in e.reported and e.on <= day]
    branch_events = [e for b in _branches(outcome, day) if b.branch for e in b.branch.events
                     if finding.id in e.reported]
    out = [f"- *In the case:* {_event_line(event, words)}" for event in events]
    out += _did(kinds, outcome, words, all_flags, blocks, day)
    if branch_events:
        out += _what_if_lines(kinds, outcome, words, day)
    if "retention" in kinds:
        out += _retention(outcome, day)
    if not out:
        return []
    if events and not any(line.startswith(("- **Blocked**", "- **Flagged**", "- *What if")) for line in out):
        out.append(f"- Nothing was blocked or flagged for this by {_day(day)}.")
    head = [f"### {finding.id}: {_cell(finding.title)}", ""]
    if finding.source:
        head += [f"Source: {_cell(finding.source)}.", ""]
    if finding.note:
        head += [_cell(finding.note), ""]
    return [*head, *out, ""]


def _category_section(key: str, outcome: Outcome, words: _Words, all_flags: dict[int, list[Flag]],
                      blocks: list[Block], day: date) -> list[str]:
    out = _did({key}, outcome, words, all_flags, blocks, day)
    if key == "retention" and out:
        out += _retention(outcome, day)
    if not out:
        return []
    return [f"### {_cell(CATEGORY_TEXT[key])}", "", *out, ""]


def _event_line(event: EventSpec, words: _Words) -> str:
    who = f", {words.member(event.by)}" if event.by else ""
    text = f"{words.event(event).rstrip('.')}. {event.note}" if event.note else words.event(event)
    return f"{_day(event.on)}{who}: {_cell(text)}"


def _did(kinds: set[str], outcome: Outcome, words: _Words, all_flags: dict[int, list[Flag]],
         blocks: list[Block], day: date) -> list[str]:
    """What the safeguards of these kinds blocked and flagged in the main timeline."""
    out = []
    for b in blocks:
        rules = [r for r in dict.fromkeys(b.rules) if _category(r) in kinds]
        if rules:
            out.append(f"- **Blocked** on {_day(b.event.on)}: {_cell(words.event(b.event))}, recorded by "
                       f"{words.member(b.event.by)}, because of {', '.join(words.rule(r) for r in rules)}. "
                       f"{b.went_ahead}")
    for f in (f for fl in all_flags.values() for f in fl if f.category in kinds):
        state = "still open" if f.open else f"until {_day(f.last_visible)}"
        escalated = f"; escalated on {_day(f.escalated_on)}" if f.escalated_on else ""
        out.append(f"- **Flagged** from {_day(f.first_visible)} ({state}{escalated}): {words.rule(f.rule)}. "
                   f"{_cell(f.latest.message)} Who was told: {words.told(f.told)}.")
    return out


def _branches(outcome: Outcome, day: date) -> list[Outcome]:
    """The what-if branches that had begun by the report's date."""
    return [b for b in outcome.branches if b.branch is not None and b.branch.events[0].on <= day]


def _what_if_lines(kinds: set[str], outcome: Outcome, words: _Words, day: date) -> list[str]:
    out = []
    for branch in _branches(outcome, day):
        title = branch.branch.title if branch.branch else "what if"
        for case in branch.cases:
            for f in flags(case, policy=branch.policy, through=branch.until, told=branch.told):
                if f.category in kinds:
                    out.append(f"- *What if* ({title}): on case {case.reference} Casetrail shows {words.rule(f.rule)} "
                               f"from {_day(f.first_visible)}: {_cell(f.latest.message)} Who was told: "
                               f"{words.told(f.told)}; it is shown to {f.latest.who.lower()}.")
        for b in branch.blocks:
            rules = [r for r in b.rules if _category(r) in kinds]
            if rules:
                out.append(f"- *What if:* {_day(b.event.on)}: {_cell(words.event(b.event))}, recorded by "
                           f"{words.member(b.event.by)}, would have been **blocked** by "
                           f"{', '.join(words.rule(r) for r in rules)}: {_cell(b.message)}")
        if "repeat referrals" in kinds:
            out += [f"- *What if:* {_search_line(looked, words)[2:]}" for looked in branch.searches]
    return out


def _search_line(looked: Search, words: _Words) -> str:
    earlier = (f"it found the earlier referral{'s' if len(looked.found_earlier) > 1 else ''} of this person"
               if looked.found_earlier else "it found no earlier referral of this person")
    return (f"- **Search** on {_day(looked.event.on)} by {words.member(looked.event.by)} for "
            f"\u201c{_cell(looked.event.values['query'])}\u201d: {_hits(looked)}; {earlier}.")


def _matching_lines(outcome: Outcome, day: date) -> list[str]:
    """Per referral, its possible earlier records as found and where each stood on `day`."""
    names = {c.referral_id: (c.referral_label if c.referral_label and not c.referral_label.startswith("_")
                             else c.reference) for c in outcome.cases}
    lines, any_found = [], False
    for case in outcome.cases:
        record = case.record.as_of(day)
        if case.record.referred_on > day:
            continue
        found = []
        for m in record.possible_matches:
            earlier = ", ".join(names.get(pk, "another referral") for pk, _ in m.referrals) or "none"
            status = {"linked": "resolved as the same person", "rejected": "judged a different person"}.get(
                m.status, "**not resolved**")
            when = f" on {_day(m.changes[-1][0])}" if m.changes and m.status != "open" else ""
            found.append(f"person {m.person}, {m.percent} likely, found {_day(m.found_on)} (referrals: {earlier}): "
                         f"{status}{when}")
        any_found = any_found or bool(found)
        label = names.get(case.referral_id, case.reference)
        lines.append(f"- **{_cell(label)}** ({case.reference}, {_day(case.record.referred_on)}): "
                     + ("; ".join(_cell(f) for f in found) if found else "no possible earlier record") + ".")
    return lines if any_found else []


def _how_connected() -> list[str]:
    return ["*How Casetrail connects a later referral:* every referral's names and date of birth are "
            "indexed with keys that tolerate misspellings, swapped name order and transliteration, so the "
            "officer at the gateway who searches for the person finds the earlier record under a different "
            "spelling. Confirming that it is the same person is a recorded decision; from then on the "
            "earlier referrals are listed on the new case and flagged to whoever handles it."]


def _hits(looked: Search) -> str:
    return "; ".join(f"person {person}, score {score:.2f}, referrals {', '.join(refs) or 'none'}"
                     for person, score, refs in looked.hits) or "no results"


def _retention(outcome: Outcome, day: date) -> list[str]:
    out = []
    years = outcome.replay.retention_rule_years
    for case in outcome.cases:
        record = case.record.as_of(day)
        closures = record.decisions_of("closure")
        if years and closures:
            due = add_months(closures[-1].on, 12 * years)
            held = [h for h in record.holds if h.placed_on <= due]
            verdict = (f"a hold placed on {_day(held[0].placed_on)} stops that: disposal is blocked while the "
                       "hold stands, and disposal itself is always a recorded decision, never a timer"
                       if held else "no hold was placed before then, so the record would have been at risk")
            out.append(f"- *Retention:* under a {years}-year rule counted from closure, case {case.reference} "
                       f"would have come up for disposal on {_day(due)}; {verdict}.")
    return out


def _timeline(outcome: Outcome, words: _Words, day: date) -> list[str]:
    rows = ["| Date | Who | What | Notes |", "|---|---|---|---|"]
    blocked = {id(b.event) for b in outcome.blocks}
    searched = {id(s.event): s for s in outcome.searches}
    for performed in outcome.performed:
        event = performed.event
        if event.on > day:
            continue
        what = words.event(event)
        stated = [v for k, v in event.values.items() if _is_stated(event, k) and v != event.on]
        notes = []
        if stated and (event.on - min(stated)).days > outcome.policy.late_record_days:
            notes.append(f"recorded {(event.on - min(stated)).days} days after it happened ({_day(min(stated))})")
        if id(event) in searched:
            notes.append(f"found: {_hits(searched[id(event)])}")
        if id(event) in blocked:
            notes.append("a safeguard refused this; it went ahead as in the old process")
        if event.reported:
            notes.append("findings: " + ", ".join(event.reported))
        if event.note and event.do != "note":
            notes.append(event.note)
        who = words.member(event.by) if event.by else ""
        rows.append(f"| {_day(event.on)} | {_cell(who)} | {_cell(what)} | {_cell('; '.join(notes))} |")
    return [*rows, ""]


def _is_stated(event: EventSpec, name: str) -> bool:
    """A date the record gives for when the thing itself happened (not when a concern was first seen)."""
    spec = EVENT_TYPES[event.do].field(name)
    return spec is not None and spec.stated and name != "first_observed_on"


def _branch_section(branch: Outcome, words: _Words) -> list[str]:
    title = branch.branch.title if branch.branch else "What if"
    out = [f"### {title}", ""]
    if branch.branch and branch.branch.note:
        out += [branch.branch.note, ""]
    out += ["This branch was run after the main timeline and then undone; nothing of it remains.", ""]
    out += _timeline(branch, words, branch.until)
    for case in branch.cases:
        case_flags = flags(case, policy=branch.policy, through=branch.until, told=branch.told)
        if case_flags:
            out += [f"Flags on case {case.reference} up to {_day(branch.until)}:", ""]
            out += _flag_table(case_flags, words, closed=True)
    out += [_search_line(looked, words) for looked in branch.searches]
    for b in branch.blocks:
        out.append(f"- **Blocked** on {_day(b.event.on)}: {_cell(words.event(b.event))} "
                   f"({'; '.join(words.rule(r) for r in b.rules)}): {_cell(b.message)}")
    return [*out, ""]
