"""A replay file that cannot be run fails with a message naming the line and the problem, and
leaves no data behind: problems in the file are found before anything is written, and an event
the services refuse part-way through rolls the whole run back."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from casetrail.replay.engine import DatabaseNotEmpty, run
from casetrail.replay.format import ReplayError, parse

from .reports import assert_no_empty_section

VALID = """\
replay: 1
title: A short case for testing
cast:
  agencies:
    police: {name: Testmoor Police CTP, kind: police}
    council: {name: Testmoor Council, kind: local_authority, police_force: police}
    school: {name: Testmoor Academy, kind: school}
    mentors: {name: Testmoor Mentoring, kind: provider, specialisms: [mentoring]}
  people:
    dsl: {name: Ann Teacher, agency: school, role: referrer, duty_owner: true}
    officer: {name: Bob Officer, agency: police, role: police_officer, duty_owner: true}
    coordinator: {name: Cal Coordinator, agency: council, role: channel_coordinator, duty_owner: true}
    chair: {name: Dee Chair, agency: council, role: panel_chair}
    mentor: {name: Eve Mentor, agency: mentors, role: intervention_provider, duty_owner: true}
subject:
  given_names: Sam
  family_name: Testperson
  date_of_birth: 2004-05
  sex: male
  local_authority: council
events:
  - on: 2020-01-06
    by: dsl
    do: referral
    concern: Has told classmates that violence against a named group is justified and shares videos.
    concern_types: [extreme_right_wing]
  - on: 2020-01-08
    by: officer
    do: gateway_decision
    outcome: refer_to_panel
    rationale: Escalating behaviour with a clear ideological element; suited to Channel.
  - on: 2020-01-09
    by: coordinator
    do: panel_agenda
    meets_on: 2020-01-15
    chair: chair
  - on: 2020-01-15
    by: chair
    do: panel_decision
    adopt: true
    attendees: [chair, coordinator, officer]
    rationale: Vulnerabilities that multi-agency support can reduce; the family will engage.
  - on: 2020-01-17
    by: coordinator
    do: consent
    giver: parent_carer
    giver_name: Pat Testperson
    scope: Channel support and sharing with the provider.
  - on: 2020-01-20
    by: coordinator
    do: assessment
    framework: vaf:2012
    summary: Grievance drives the behaviour; mentoring planned for the presenting views.
    vulnerabilities:
      - {factor: E01-grievance-injustice, nature: underlying_cause, evidence: Talks of unfair treatment of his family.}
      - {factor: I02-them-and-us, nature: presenting_behaviour, evidence: Divides people into us and them.}
  - on: 2020-01-21
    by: coordinator
    do: tasking
    provider: mentor
    sessions: 2
    purpose: Mentoring on the them-and-us view and lawful routes for the grievance.
    vulnerabilities: [I02-them-and-us]
  - on: 2020-02-03
    by: mentor
    do: tasking_acknowledged
  - on: 2020-02-10
    by: mentor
    do: session
    report: Met at the library and talked about where his views come from.
  - on: 2020-03-11
    by: chair
    do: exit
    rationale: Partners agree the vulnerability is much reduced after the sessions.
    attendees: [chair, coordinator, officer]
"""


def _line_of(text: str, fragment: str, occurrence: int = 1) -> int:
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if fragment in line]
    return lines[occurrence - 1]


def _refused(text: str) -> ReplayError:
    with pytest.raises(ReplayError) as caught:
        parse(text, source="case.yaml", today=date(2026, 1, 1))
    return caught.value


def _counts() -> dict[str, int]:
    from casetrail.accounts.models import Agency, User
    from casetrail.audit.models import Event
    from casetrail.cases.models import Case, Decision
    from casetrail.notifications.models import Message
    from casetrail.referrals.models import Referral

    return {model.__name__: model.objects.count() for model in (Case, Referral, Decision, User, Agency, Event,
                                                                 Message)}


def test_the_valid_file_is_accepted() -> None:
    replay = parse(VALID, today=date(2026, 1, 1))
    assert [e.do for e in replay.events][:2] == ["referral", "gateway_decision"]


def test_an_unknown_event_type_is_refused_naming_its_line() -> None:
    text = VALID.replace("do: exit", "do: exitt")
    problem = _refused(text)
    [found] = problem.problems
    assert found.line == _line_of(text, "do: exitt")
    assert "unknown event type 'exitt'" in found.message
    assert "did you mean 'exit'" in found.message
    assert f"case.yaml, line {found.line}: " in str(problem)
    assert "nothing was written" in str(problem)


@pytest.mark.parametrize(("written", "says"), [
    ("2015-02-30", "2015-02-30, which is not a real date: February 2015 has 28 days"),
    ("2020-13-01", "not a real date: there is no month 13"),
    ("20 March 2020", "not a date: write it as YYYY-MM-DD"),
])
def test_an_impossible_date_is_refused_naming_its_line(written: str, says: str) -> None:
    text = VALID.replace("  - on: 2020-03-11", f"  - on: {written}")
    [found] = _refused(text).problems
    assert found.line == _line_of(text, f"- on: {written}")
    assert says in found.message


def test_an_event_dated_before_the_one_above_it_is_refused_naming_both_lines() -> None:
    text = VALID.replace("  - on: 2020-02-10", "  - on: 2020-01-02")
    [found] = _refused(text).problems
    assert found.line == _line_of(text, "- on: 2020-01-02")
    assert f"before the previous event (2020-02-03, line {_line_of(text, '- on: 2020-02-03')})" in found.message


def test_an_event_in_the_future_is_refused_naming_its_line() -> None:
    text = VALID.replace("  - on: 2020-03-11", "  - on: 2031-03-11")
    [found] = _refused(text).problems
    assert found.line == _line_of(text, "- on: 2031-03-11")
    assert "in the future" in found.message


def test_a_stated_date_after_the_event_was_recorded_is_refused() -> None:
    text = VALID.replace("    do: session\n", "    do: session\n    held_on: 2020-02-12\n")
    [found] = _refused(text).problems
    assert found.line == _line_of(text, "held_on: 2020-02-12")
    assert "after the event's date" in found.message


def test_an_action_by_a_role_that_may_not_perform_it_is_refused_naming_its_line() -> None:
    text = VALID.replace("    by: chair\n    do: exit", "    by: mentor\n    do: exit")
    [found] = _refused(text).problems
    assert found.line == _line_of(text, "by: mentor", occurrence=3)
    assert "mentor (Eve Mentor, Intervention provider) may not record 'exit' events" in found.message
    assert "only a Channel panel chair may" in found.message


def test_a_referrer_cannot_decide_at_the_gateway() -> None:
    text = VALID.replace("    by: officer\n    do: gateway_decision", "    by: dsl\n    do: gateway_decision")
    [found] = _refused(text).problems
    assert found.line == _line_of(text, "by: dsl", occurrence=2)
    assert "only a Police Prevent officer may" in found.message


def test_every_problem_is_listed_at_once_with_its_own_line() -> None:
    text = (VALID.replace("do: exit", "do: exitt").replace("  - on: 2020-02-10", "  - on: 2015-02-30")
            .replace("    by: officer\n    do: gateway_decision", "    by: dsl\n    do: gateway_decision"))
    problems = _refused(text).problems
    assert [p.line for p in problems] == sorted(p.line for p in problems)
    assert len(problems) == 3


@pytest.mark.parametrize(("change", "says"), [
    (("sessions: 2", "sesions: 2"), "unknown field 'sesions' (did you mean 'sessions'?)"),
    (("provider: mentor", "provider: mentr"), "'mentr' is not in the cast"),
    (("factor: I02-them-and-us", "factor: I02-us-and-them"), "has no factor 'I02-us-and-them'"),
    (("vulnerabilities: [I02-them-and-us]", "vulnerabilities: [E05-excitement-adventure]"),
     "not among the vulnerabilities of the latest assessment"),
    (("adopt: true", "adopt: perhaps"), "must be true or false"),
    (("    rationale: Partners agree", "    reason: Partners agree"), "unknown field 'reason'"),
])
def test_other_mistakes_name_their_line(change: tuple[str, str], says: str) -> None:
    text = VALID.replace(*change)
    problems = _refused(text).problems
    matching = [p for p in problems if says in p.message]
    assert matching, problems
    assert matching[0].line == _line_of(text, change[1].strip())


def test_a_file_that_is_not_yaml_names_the_line() -> None:
    text = VALID.replace("    concern_types: [extreme_right_wing]", "    concern_types: [extreme_right_wing")
    [found] = _refused(text).problems
    assert "is not valid YAML" in found.message
    assert found.line >= _line_of(text, "concern_types: [extreme_right_wing")


@pytest.mark.django_db
def test_an_event_the_services_refuse_stops_the_replay_and_leaves_no_rows(tmp_path: Path) -> None:
    text = VALID.replace("  - on: 2020-02-03\n    by: mentor\n    do: tasking_acknowledged\n", "")
    before = _counts()
    with pytest.raises(ReplayError) as caught:
        run(parse(text, source="case.yaml"))
    [found] = caught.value.problems
    assert found.line == _line_of(text, "do: session") - 2
    assert "Acknowledge the tasking before recording sessions" in found.message
    assert "everything it had written was undone" in str(caught.value)
    assert _counts() == before


@pytest.mark.django_db
def test_the_command_refuses_a_bad_file_naming_the_line_and_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(VALID.replace("  - on: 2020-03-11", "  - on: 2015-02-30"))
    before = _counts()
    with pytest.raises(CommandError) as caught:
        call_command("replay", str(path), "--current-database", verbosity=0)
    assert f"case.yaml, line {_line_of(path.read_text(), '- on: 2015-02-30')}: " in str(caught.value)
    assert "February 2015 has 28 days" in str(caught.value)
    assert caught.value.returncode == 2
    assert _counts() == before


@pytest.mark.django_db
def test_the_command_undoes_a_replay_the_services_stop_part_way(tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(VALID.replace("    do: consent\n    giver: parent_carer", "    do: consent\n    giver: person"))
    before = _counts()
    with pytest.raises(CommandError) as caught:
        call_command("replay", str(path), "--current-database", verbosity=0)
    assert f"line {_line_of(path.read_text(), 'giver: person')}" in str(caught.value)
    assert _counts() == before


@pytest.mark.django_db
def test_a_replay_refuses_a_database_that_already_holds_cases() -> None:
    replay = parse(VALID)
    run(replay)
    before = _counts()
    with pytest.raises(DatabaseNotEmpty):
        run(replay)
    assert _counts() == before


@pytest.mark.django_db
def test_the_short_case_runs_and_its_exit_is_blocked_for_the_undelivered_session() -> None:
    outcome = run(parse(VALID))
    [block] = outcome.blocks
    assert block.event.do == "exit"
    assert "exit.sessions_outstanding" in block.rules


def test_every_event_type_is_documented_for_reviewers() -> None:
    from casetrail.replay.format import EVENT_TYPES

    docs = (Path(__file__).resolve().parents[2] / "docs" / "replay.md").read_text()
    assert [name for name in EVENT_TYPES if f"| `{name}` |" not in docs] == []


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "at", "says"), [
    (("do: exit", "do: exitt"), "do: exitt", "unknown event type 'exitt'"),
    (("  - on: 2020-03-11", "  - on: 2015-02-30"), "- on: 2015-02-30", "February 2015 has 28 days"),
    (("  - on: 2020-02-10", "  - on: 2020-01-02"), "- on: 2020-01-02", "before the previous event"),
    (("  - on: 2020-03-11", "  - on: 2099-03-11"), "- on: 2099-03-11", "in the future"),
    (("    by: chair\n    do: exit", "    by: mentor\n    do: exit"), "by: mentor\n    do: exit",
     "may not record 'exit' events"),
])
def test_each_kind_of_bad_input_fails_through_the_command_naming_the_line_and_leaving_no_rows(
        tmp_path: Path, change: tuple[str, str], at: str, says: str) -> None:
    path = tmp_path / "case.yaml"
    text = VALID.replace(*change)
    path.write_text(text)
    line = text[:text.index(at)].count("\n") + 1
    before = _counts()
    with pytest.raises(CommandError) as caught:
        call_command("replay", str(path), "--current-database", verbosity=0)
    assert f"case.yaml, line {line}: " in str(caught.value)
    assert says in str(caught.value)
    assert _counts() == before


# ---------------------------------------------------------------- the file's own findings

WITH_FINDINGS = VALID.replace("title: A short case for testing\n", """\
title: A short case for testing
findings:
  - id: X1
    title: Exit before the sessions were delivered
    source: A made-up review for testing
    categories: [exit, sessions]
  - {id: X2, title: Record lost to disposal, source: A made-up review for testing, categories: [retention]}
""") + """\
    reported: [X1]
"""


def test_a_file_declares_its_own_findings_and_events_refer_to_them() -> None:
    replay = parse(WITH_FINDINGS, today=date(2026, 1, 1))
    assert [(f.id, f.title, f.categories) for f in replay.findings] == [
        ("X1", "Exit before the sessions were delivered", ("exit", "sessions")),
        ("X2", "Record lost to disposal", ("retention",))]
    assert replay.findings[0].line == _line_of(WITH_FINDINGS, "- id: X1")
    assert replay.events[-1].reported == ("X1",)


def test_a_finding_declared_twice_is_refused_naming_both_lines() -> None:
    text = WITH_FINDINGS.replace("  - {id: X2,", "  - {id: X1,")
    [found] = _refused(text).problems
    assert found.line == _line_of(text, "  - {id: X1,")
    assert found.message == f"finding 'X1' is declared twice (first on line {_line_of(text, '- id: X1')})"


def test_an_event_referring_to_an_undeclared_finding_is_refused_naming_its_line() -> None:
    text = WITH_FINDINGS.replace("reported: [X1]", "reported: [X1, X3]")
    [found] = _refused(text).problems
    assert found.line == _line_of(text, "reported: [X1, X3]")
    assert "reported 'X3' is not a finding declared in 'findings'" in found.message
    assert "(declared: X1, X2)" in found.message


def test_a_finding_of_an_unknown_kind_is_refused_naming_its_line() -> None:
    text = WITH_FINDINGS.replace("categories: [exit, sessions]", "categories: [exitt, sessions]")
    [found] = _refused(text).problems
    assert found.line == _line_of(text, "categories: [exitt")
    assert "'exitt' is not a kind of safeguard (did you mean 'exit'?)" in found.message


@pytest.mark.django_db
@pytest.mark.parametrize(("change", "at", "says"), [
    (("  - {id: X2,", "  - {id: X1,"), "  - {id: X1,", "finding 'X1' is declared twice"),
    (("reported: [X1]", "reported: [X1, X9]"), "reported: [X1, X9]",
     "reported 'X9' is not a finding declared in 'findings'"),
])
def test_bad_findings_fail_through_the_command_naming_the_line_and_leaving_no_rows(
        tmp_path: Path, change: tuple[str, str], at: str, says: str) -> None:
    path = tmp_path / "case.yaml"
    text = WITH_FINDINGS.replace(*change)
    path.write_text(text)
    line = text[:text.index(at)].count("\n") + 1
    before = _counts()
    with pytest.raises(CommandError) as caught:
        call_command("replay", str(path), "--current-database", verbosity=0)
    assert f"case.yaml, line {line}: " in str(caught.value)
    assert says in str(caught.value)
    assert caught.value.returncode == 2
    assert _counts() == before


@pytest.mark.django_db
def test_the_report_shows_only_the_file_s_own_findings_and_no_empty_section() -> None:
    from casetrail.replay.report import render

    report = render(run(parse(WITH_FINDINGS)))
    assert "### X1: Exit before the sessions were delivered" in report
    assert "Commissioned sessions not accounted for" in report  # the exit gate, under X1
    assert "### X2" not in report  # nothing in the replay touched it
    assert "### Referrer" in report  # a kind no declared finding covers, shown by itself
    assert "### F" not in report and "Premature exit" not in report
    assert_no_empty_section(report)

