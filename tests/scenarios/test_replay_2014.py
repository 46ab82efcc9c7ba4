"""The 2014 case replayed: for each failure the February 2025 learning review found (F1-F12), the
safeguard that fires, the day it first becomes visible, and who is told (from the real messages).

The expected days follow from the replay file's dates and the default safeguard policy:
assessment 24 Nov 2014 + 90 days; tasking 27 Nov 2014 + 5 working days to acknowledge; session
9 Jan 2015 + 21 days; exit 8 Apr 2015, so reviews due 8 Oct 2015 and 8 Apr 2016; hand-over
offered 14 Apr 2015 + 5 working days; a flag not dealt with is escalated 7 days later.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from casetrail.core.safeguards import RULES
from casetrail.replay.engine import Block, Outcome
from casetrail.replay.report import Flag, flags, render

from .conftest import CHECK_DAYS, LEARNING_REVIEW_2014, Replayed
from .reports import assert_no_empty_section

# failure: (rule, what the flag's key starts with, first visible, told, escalated to the chair on)
EXPECTED: dict[str, tuple[str, str, date, set[str], date | None]] = {
    "F1": ("assessment.outdated", "assessment.outdated:", date(2015, 2, 23), {"coordinator"}, None),
    "F2": ("plan.presenting_only", "plan.presenting_only:", date(2014, 11, 27), {"coordinator"}, None),
    "F3": ("plan.vulnerability_unaddressed", "plan.unaddressed:", date(2014, 11, 24), {"coordinator"}, None),
    "F4": ("referrer.not_consulted", "referrer.not_consulted:", date(2014, 10, 16), {"officer", "coordinator"},
           None),
    "F5": ("session.overdue", "session.overdue:", date(2015, 1, 31), {"coordinator", "mentor"},
           date(2015, 2, 7)),
    "F6": ("tasking.unacknowledged", "tasking.unacknowledged:", date(2014, 12, 5), {"coordinator", "mentor"},
           date(2014, 12, 12)),
    "F7": ("gate.overridden", "gate.overridden:", date(2015, 4, 8), {"chair"}, None),
    "F8": ("review.overdue", "review.overdue:", date(2015, 10, 9), {"coordinator"}, date(2015, 10, 16)),
    "F9": ("decision.no_rationale", "decision.no_rationale:", date(2014, 10, 16), {"officer"}, None),
    "F10": ("handover.unanswered", "handover.unanswered:", date(2015, 4, 22), {"officer", "coordinator"},
            date(2015, 4, 29)),
    "F12": ("retention.hold", "retention.hold:", date(2021, 10, 18), set(), None),
}


def _flags(outcome: Outcome, through: date | None = None) -> list[Flag]:
    return [f for case in outcome.cases
            for f in flags(case, policy=outcome.policy, through=through or outcome.until, told=outcome.told)]


def _first(outcome: Outcome, rule: str, prefix: str) -> Flag:
    matching = [f for f in _flags(outcome) if f.rule == rule and f.key.startswith(prefix)]
    assert matching, f"no {rule} flag was raised"
    return min(matching, key=lambda f: (f.first_visible, f.key))


def _told(flag: Flag, kind: str = "finding") -> set[str]:
    return {t.recipient for t in flag.told if t.kind == kind}


def _blocks(outcome: Outcome, do: str) -> list[Block]:
    return [b for b in outcome.blocks if b.event.do == do]


@pytest.mark.parametrize("failure", sorted(EXPECTED, key=lambda code: int(code[1:])))
def test_each_failure_is_flagged_on_the_day_it_became_visible_to_the_people_who_must_act(
        replay_2014: Replayed, failure: str) -> None:
    rule, prefix, first_visible, told, escalated_on = EXPECTED[failure]
    declared = {f.id: f for f in replay_2014.outcome.replay.findings}
    assert RULES[rule].category in declared[failure].categories  # the file maps its finding to the rule's kind
    flag = _first(replay_2014.outcome, rule, prefix)
    assert flag.first_visible == first_visible
    assert flag.first.since == first_visible
    assert _told(flag) == told
    assert all(t.queued_on == first_visible and t.sent_on == first_visible
               for t in flag.told if t.kind == "finding")
    assert flag.escalated_on == escalated_on
    if escalated_on is not None:
        assert _told(flag, "escalation") == {"chair"}
        assert {t.queued_on for t in flag.told if t.kind == "escalation"} == {escalated_on}


def test_f1_f3_f4_f5_f7_the_exit_is_blocked_by_the_exit_gate_and_goes_ahead_as_the_old_process_did(
        replay_2014: Replayed) -> None:
    outcome = replay_2014.outcome
    [exit_block] = _blocks(outcome, "exit")
    assert exit_block.event.on == date(2015, 4, 8)
    assert set(exit_block.rules) == {"exit.assessment_outdated", "exit.vulnerability_unsupported",
                                     "exit.sessions_outstanding", "exit.referrer_not_consulted"}
    assert {RULES[r].category for r in exit_block.rules} == {"assessment", "support", "referrer", "sessions"}
    assert "135 days old" in exit_block.message
    exited = outcome.cases[0].record.as_of(date(2015, 4, 8))
    assert exited.stage == "exited"  # it went ahead, so every later failure is still checked
    override = _first(outcome, "gate.overridden", "gate.overridden:")
    assert "'Exit' went ahead" in override.first.message
    assert _told(override) == {"chair"}


def test_f3_only_the_underlying_causes_stay_unaddressed_once_the_provider_is_tasked(replay_2014: Replayed) -> None:
    unaddressed = {f.key.rsplit(":", 1)[1]: f for f in _flags(replay_2014.outcome)
                   if f.rule == "plan.vulnerability_unaddressed"}
    assert unaddressed["E11-transitional-time"].last_visible == date(2015, 4, 7)
    assert unaddressed["E03-identity-meaning-belonging"].last_visible == date(2015, 4, 7)
    assert unaddressed["I02-them-and-us"].last_visible == date(2014, 11, 26)


def test_f4_the_update_to_the_school_is_not_a_consultation_and_every_risk_decision_is_flagged(
        replay_2014: Replayed) -> None:
    not_consulted = [f for f in _flags(replay_2014.outcome) if f.rule == "referrer.not_consulted"]
    assert [f.first_visible for f in not_consulted] == [date(2014, 10, 16), date(2014, 11, 12), date(2015, 4, 8)]
    # The referrer is told each outcome automatically, so "not told" never fires.
    assert not [f for f in _flags(replay_2014.outcome) if f.rule == "referrer.not_told"]
    outcomes = [t.queued_on for t in replay_2014.outcome.told if t.kind == "referrer_outcome"]
    assert outcomes == [date(2014, 10, 16), date(2014, 11, 12), date(2015, 4, 8), date(2016, 12, 21)]
    assert {t.recipient for t in replay_2014.outcome.told if t.kind == "referrer_outcome"} == {"dsl"}


def test_f8_the_twelve_month_review_is_overdue_until_its_late_record_and_the_closure_is_blocked(
        replay_2014: Replayed) -> None:
    outcome = replay_2014.outcome
    twelve = _first(outcome, "review.overdue", f"review.overdue:{outcome.cases[0].case_id}:12")
    assert (twelve.first_visible, twelve.last_visible) == (date(2016, 4, 9), date(2016, 12, 19))
    assert _told(twelve) == {"coordinator"} and _told(twelve, "escalation") == {"chair"}
    late = [f for f in _flags(outcome) if f.rule == "record.late" and "post-exit review" in f.first.message]
    assert len(late) == 1
    assert late[0].first_visible == date(2016, 12, 20)
    assert "244 days later" in late[0].first.message
    [closure] = _blocks(outcome, "closure")
    assert closure.rules == ("closure.post_exit_reviews_missing",)
    assert "6-month" in closure.message


def test_f9_a_decision_without_rationale_is_refused_then_recorded_as_having_none(replay_2014: Replayed) -> None:
    [gateway] = _blocks(replay_2014.outcome, "gateway_decision")
    assert gateway.event.on == date(2014, 10, 16)
    assert gateway.rules == ("decision.no_rationale",)
    assert "rationale" in gateway.message.lower()
    decision = replay_2014.outcome.cases[0].record.decisions_of("gateway")[0]
    assert decision.rationale.startswith("[No explicit rationale")


def test_f11_a_second_referral_with_a_misspelt_surname_is_connected_and_cannot_close_on_no_ideology(
        replay_2014: Replayed) -> None:
    outcome = replay_2014.outcome
    assert len(outcome.cases) == 1  # the recorded single referral
    [branch] = outcome.branches
    [looked] = branch.searches
    assert looked.event.values["query"] == "Yusuf Kareem"
    assert looked.found_earlier == ("first_referral",)  # found under the other spelling
    [second] = branch.cases
    repeat = [f for f in flags(second, policy=branch.policy, through=branch.until, told=branch.told)
              if f.rule == "referral.repeat"]
    assert len(repeat) == 1
    assert RULES["referral.repeat"].category == "repeat referrals"
    # Visible from the day the referral came (the 11th): the earlier record was found at intake and
    # counted at once, the day before the officer linked the records.
    assert repeat[0].first_visible == date(2019, 3, 11)
    assert "13 October 2014" in repeat[0].first.message
    assert repeat[0].first.notify == ()  # shown to whoever handles the referral, not messaged
    [block] = branch.blocks
    assert (block.event.on, block.rules) == (date(2019, 3, 18), ("gateway.no_ideology_alone",))
    assert RULES["gateway.no_ideology_alone"].category == "gateway"


def test_f12_the_hold_keeps_the_record_past_a_five_year_disposal_date(replay_2014: Replayed) -> None:
    report = render(replay_2014.outcome)
    assert "would have come up for disposal on 21 December 2021" in report
    assert "a hold placed on 18 October 2021 stops that" in report


def test_the_report_s_findings_agree_with_the_product_s_own_as_of_answers(replay_2014: Replayed) -> None:
    outcome = replay_2014.outcome
    for day in CHECK_DAYS:
        open_then = {f.key for f in _flags(outcome, through=day) if f.open}
        assert open_then == replay_2014.adapter_keys[day], day


def test_the_report_names_every_failure_and_only_pseudonyms(replay_2014: Replayed) -> None:
    report = render(replay_2014.outcome)
    for finding in replay_2014.outcome.replay.findings:  # declared by the file, not by the code
        assert f"### {finding.id}: {finding.title}" in report
    assert [f.id for f in replay_2014.outcome.replay.findings] == [f"F{n}" for n in range(1, 13)]
    assert "accounts disagree" in report  # the file's own note on F11
    assert_no_empty_section(report)
    assert "Janet Lowe (Channel panel chair, Eastmoor Borough Council)" in report
    assert "pseudonyms" in report


def test_a_report_as_of_an_earlier_date_shows_only_what_was_known_then(replay_2014: Replayed) -> None:
    report = render(replay_2014.outcome, as_of=date(2015, 3, 1))
    assert "as of 1 March 2015" in report
    assert "Session 2 of 2 was due by 30 January 2015" in report
    assert "Exit from Channel support" not in report
    assert "escalated to Janet Lowe (Channel panel chair, Eastmoor Borough Council) on 7 February 2015" in report


def test_the_replay_leaves_nothing_behind_in_the_database(replay_2014: Replayed) -> None:
    assert replay_2014.rows_left == 0


@pytest.mark.django_db
def test_a_reviewer_runs_the_replay_from_the_command_line_in_a_throwaway_database(tmp_path: Path) -> None:
    from casetrail.cases.models import Case

    report = tmp_path / "report.md"
    root = Path(__file__).resolve().parents[2]
    finished = subprocess.run(
        [sys.executable, "manage.py", "replay", str(LEARNING_REVIEW_2014), "--as-of", "2016-01-01",
         "--report", str(report), "--no-what-if"],
        cwd=root, env={**os.environ, "DJANGO_SETTINGS_MODULE": "casetrail.settings"}, capture_output=True,
        text=True, check=False, timeout=600)
    assert finished.returncode == 0, finished.stderr
    assert "As of 1 January 2016: 2 actions blocked" in finished.stdout
    text = report.read_text()
    assert "as of 1 January 2016" in text
    assert "### F7: Premature exit" in text
    assert "The 6-month post-exit review was due on 8 October 2015" in text
    assert Case.objects.count() == 0
