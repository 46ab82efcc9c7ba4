"""The rules about possible earlier records, on plain records: a strong match counts and blocks
until a person resolves it, and one officer cannot make a repeat referral look like a first."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from casetrail.core import safeguards as s
from casetrail.core.safeguard_policy import DEFAULT_POLICY

D0 = date(2025, 3, 3)
OWNER, DUTY, SECOND = 10, 11, 12


def d(days: int) -> date:
    return D0 + timedelta(days=days)


def match(id: int = 1, *, found: int = 0, referrals: tuple[tuple[int, date], ...] = ((101, d(-300)),),
          changes: tuple[tuple[date, str], ...] = ()) -> s.PossibleMatchRec:
    return s.PossibleMatchRec(id, f"P-2024-00000{id}", 0.97, d(found), referrals, changes)


def at_gateway(*matches: s.PossibleMatchRec, earlier: tuple[date, ...] = (), earlier_ids: tuple[int, ...] = (),
               history_known_on: date | None = None) -> s.CaseRecord:
    return s.CaseRecord(case_id=1, referred_on=D0, states=(s.StateRec(D0, "gateway", OWNER, 1),),
                        possible_matches=matches, earlier_referrals=earlier, earlier_referral_ids=earlier_ids,
                        history_known_on=history_known_on, duty_owner_id=DUTY)


def codes(unmet: list[s.Unmet]) -> list[str]:
    return [u.code for u in unmet]


CLOSE_DAY = d(5)


def close(record: s.CaseRecord, on: date = CLOSE_DAY, reviewer: int | None = None) -> list[str]:
    return codes(s.gateway_close_gate(record, on=on, policy=DEFAULT_POLICY, reasons=["no_vulnerability"],
                                      second_reviewer_id=reviewer))


def test_an_unresolved_match_blocks_and_names_the_person() -> None:
    [refused] = s.unresolved_match_gate(at_gateway(match()).possible_matches)
    assert refused.code == "gateway.unresolved_match" and "P-2024-000001" in refused.message
    assert s.RULES["gateway.unresolved_match"].blocks


@pytest.mark.parametrize("status", ["linked", "rejected"])
def test_a_decision_either_way_resolves_it(status: str) -> None:
    assert s.unresolved_match_gate(at_gateway(match(changes=((d(2), status),))).possible_matches) == []


def test_undoing_the_link_opens_it_again_and_as_of_forgets_later_decisions() -> None:
    reopened = at_gateway(match(changes=((d(2), "linked"), (d(4), "open"))))
    assert codes(s.unresolved_match_gate(reopened.possible_matches)) == ["gateway.unresolved_match"]
    assert s.unresolved_match_gate(reopened.as_of(d(3)).possible_matches) == []
    assert codes(s.unresolved_match_gate(at_gateway(match(changes=((d(2), "rejected"),))).as_of(d(1)).possible_matches)) == [
        "gateway.unresolved_match"]
    # Found later than the day asked about: not known then.
    assert at_gateway(match(found=3)).as_of(d(2)).possible_matches == ()


def test_the_repeat_rule_counts_what_nobody_linked_but_not_what_was_rejected() -> None:
    two_earlier = ((101, d(-300)), (102, d(-100)))
    assert close(at_gateway(match(referrals=two_earlier))) == ["gateway.repeat_needs_second_review"]
    assert close(at_gateway(match(referrals=two_earlier)), reviewer=SECOND) == []
    assert close(at_gateway(match(referrals=two_earlier, changes=((d(1), "rejected"),)))) == []
    # Two possible earlier people of one referral each make three referrals too.
    assert close(at_gateway(match(1), match(2, referrals=((103, d(-50)),)))) == [
        "gateway.repeat_needs_second_review"]
    # Outside the window they do not count.
    assert close(at_gateway(match(referrals=((101, d(-900)), (102, d(-800)))))) == []


def test_a_referral_confirmed_and_matched_counts_once() -> None:
    record = at_gateway(match(referrals=((101, d(-300)),), changes=((d(1), "linked"),)),
                        earlier=(d(-300),), earlier_ids=(101,))
    assert record.repeat_referral_days() == [d(-300)]
    assert s.repeat_count(record, on=d(5), policy=DEFAULT_POLICY) == 2


def test_one_officer_cannot_take_a_repeat_referral_below_the_threshold() -> None:
    before = at_gateway(match(referrals=((101, d(-300)), (102, d(-100)))))
    after = at_gateway(match(referrals=((101, d(-300)), (102, d(-100))), changes=((d(1), "rejected"),)))
    assert codes(s.unlink_gate(before, after, on=d(1), policy=DEFAULT_POLICY, second_reviewer_id=None)) == [
        "person.unlink_needs_second_review"]
    assert s.unlink_gate(before, after, on=d(1), policy=DEFAULT_POLICY, second_reviewer_id=SECOND) == []
    # Still at or above the threshold afterwards, or below it already: nothing to guard.
    assert s.unlink_gate(before, before, on=d(1), policy=DEFAULT_POLICY, second_reviewer_id=None) == []
    assert s.unlink_gate(after, after, on=d(1), policy=DEFAULT_POLICY, second_reviewer_id=None) == []


def test_the_owner_is_told_from_the_day_found_and_the_duty_owner_after_the_interval() -> None:
    record = at_gateway(match(found=1))
    interval = DEFAULT_POLICY.unresolved_match_escalation_days

    def finding(day: int) -> s.Finding:
        [found] = [f for f in s.findings(record.as_of(d(day)), today=d(day), policy=DEFAULT_POLICY)
                   if f.rule == "referral.unresolved_match"]
        return found

    assert finding(1).since == d(1) and finding(1).notify == (OWNER,) and finding(1).escalated_to == ()
    assert finding(1 + interval).escalated_to == ()
    late = finding(2 + interval)
    assert late.escalated_to == (DUTY,) and late.severity is s.Severity.ESCALATED
    resolved = at_gateway(match(found=1, changes=((d(2), "linked"),)))
    assert "referral.unresolved_match" not in {f.rule for f in s.findings(resolved, today=d(9), policy=DEFAULT_POLICY)}


def test_the_repeat_finding_shows_from_the_day_the_match_was_found() -> None:
    [repeat] = [f for f in s.findings(at_gateway(match(found=0)), today=d(1), policy=DEFAULT_POLICY)
                if f.rule == "referral.repeat"]
    assert repeat.since == D0 and "resolve them" in repeat.message


def test_the_threshold_is_a_policy_setting_between_1_and_99_percent() -> None:
    assert DEFAULT_POLICY.possible_match_percent == 50
    assert DEFAULT_POLICY.with_overrides({"possible_match_percent": 80}).possible_match_percent == 80
    for bad in (0, 100, -5):
        with pytest.raises(ValueError, match="possible_match_percent"):
            DEFAULT_POLICY.with_overrides({"possible_match_percent": bad})
    described = {row[0]: row for row in DEFAULT_POLICY.describe()}
    assert "F11" in described["possible_match_percent"][4]
