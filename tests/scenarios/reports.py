"""What every replay report must satisfy, whatever the case."""

from __future__ import annotations

from datetime import date

from casetrail.replay.engine import Outcome
from casetrail.replay.format import load
from casetrail.replay.report import Flag, flags

from .conftest import LEARNING_REVIEW_2014


def all_flags(outcome: Outcome, through: date | None = None) -> list[Flag]:
    return [f for case in outcome.cases
            for f in flags(case, policy=outcome.policy, through=through or outcome.until, told=outcome.told)]


def told(flag: Flag, kind: str = "finding") -> set[str]:
    return {t.recipient for t in flag.told if t.kind == kind}


def assert_no_empty_section(report: str) -> None:
    """Every heading is followed by something other than a heading of the same or a higher level."""
    lines = [line for line in report.splitlines() if line.strip()]
    for here, after in zip(lines, [*lines[1:], ""], strict=True):
        if here.startswith("#"):
            level = len(here) - len(here.lstrip("#"))
            assert after, here
            assert not (after.startswith("#") and len(after) - len(after.lstrip("#")) <= level), here
            assert after not in ("None.", "Nobody."), here


def assert_none_of_the_2014_case(report: str) -> None:
    """No finding title, note or sentence of the 2014 replay appears in another case's report."""
    other = load(LEARNING_REVIEW_2014, today=date(2026, 1, 1))
    for finding in other.findings:
        assert finding.title not in report, finding.title
        assert not finding.note or finding.note not in report
    for phrase in ("accounts disagree", "referred twice", "Premature exit", "2025 learning review",
                   "Yusuf", "Karim", "Eastmoor"):
        assert phrase not in report, phrase
