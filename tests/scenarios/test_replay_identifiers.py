"""A replay's subject may carry an NHS number and a UPN (made-up ones): the referral records them
compact; a mistyped one is refused before anything runs, naming its line and what is wrong."""

from __future__ import annotations

from datetime import date

import pytest

from casetrail.core.referrals import NHS_NUMBER_MESSAGES, UPN_MESSAGES
from casetrail.replay.engine import run
from casetrail.replay.format import ReplayError, parse

from .test_replay_bad_input import VALID, _line_of

SUBJECT = "  local_authority: council\n"


def with_identifiers(nhs_number: str, upn: str) -> str:
    assert VALID.count(SUBJECT) == 1
    return VALID.replace(SUBJECT, f"{SUBJECT}  nhs_number: {nhs_number}\n  upn: {upn}\n")


def test_the_subject_keys_are_optional_and_parsed() -> None:
    assert (parse(VALID, today=date(2026, 1, 1)).subject.nhs_number, parse(VALID).subject.upn) == ("", "")
    subject = parse(with_identifiers("999 234 5675", "T801000012001"), today=date(2026, 1, 1)).subject
    assert (subject.nhs_number, subject.upn) == ("999 234 5675", "T801000012001")


@pytest.mark.parametrize(("nhs_number", "upn", "wrong", "says"), [
    ("999 234 5676", "T801000012001", "nhs_number: 999 234 5676", NHS_NUMBER_MESSAGES["checksum"]),
    ("9992345675", "T000000012001", "upn: T000000012001", UPN_MESSAGES["authority"]),
])
def test_a_mistyped_identifier_is_refused_naming_its_line(nhs_number: str, upn: str, wrong: str, says: str) -> None:
    text = with_identifiers(nhs_number, upn)
    with pytest.raises(ReplayError) as caught:
        parse(text, source="case.yaml", today=date(2026, 1, 1))
    [found] = caught.value.problems
    assert found.line == _line_of(text, wrong)
    assert found.message == f"subject: {wrong.split(':')[0]}: {says}"


@pytest.mark.django_db
def test_the_referral_records_them_compact() -> None:
    from casetrail.referrals.models import Referral

    run(parse(with_identifiers("999-234-5675", "t801000012001")))
    referral = Referral.objects.get()
    assert (referral.nhs_number, referral.upn) == ("9992345675", "T801000012001")
