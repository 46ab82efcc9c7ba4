"""A person's NHS number and Unique Pupil Number on a referral: typed with spaces or dashes they are
accepted and kept compact; each way of getting one wrong has its own message; not knowing them is fine.

Every number here is made up: NHS numbers start 999 (never issued to a patient), and UPNs are built
with python-stdnum's check letter."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest
from stdnum.gb import nhs, upn

from casetrail.core.dates import PartialDate
from casetrail.core.referrals import (
    NHS_NUMBER_EXAMPLE,
    NHS_NUMBER_MESSAGES,
    UPN_EXAMPLE,
    UPN_MESSAGES,
    ReferralInput,
    nhs_number_compact,
    nhs_number_errors,
    nhs_number_format,
    referral_errors,
    upn_compact,
    upn_errors,
)
from casetrail.core.subject_access import (
    RECTIFIABLE_REFERRAL_FIELDS,
    corrected_value_errors,
    corrected_value_stored,
    rectification_errors,
)

TODAY = date(2026, 11, 22)
NHS_NUMBER = "9992345675"  # valid: 999 range, Modulus 11 check digit 5
UPN = "T801000012001"  # valid: check letter T, local authority 801


def a_bad_check_digit(number: str) -> str:
    return number[:-1] + str((int(number[-1]) + 1) % 10)


def test_the_fixtures_and_the_examples_are_valid_made_up_numbers() -> None:
    for number in (NHS_NUMBER, nhs_number_compact(NHS_NUMBER_EXAMPLE)):
        assert nhs.is_valid(number) and number.startswith("999")
    assert upn.is_valid(UPN) and upn.is_valid(UPN_EXAMPLE)
    assert not nhs.is_valid(a_bad_check_digit(NHS_NUMBER))


@pytest.mark.parametrize("typed", ["9992345675", "999 234 5675", "999-234-5675", " 999 - 234 - 5675 ",
                                   "999\t234\u00a05675"])
def test_an_nhs_number_with_spaces_or_dashes_is_accepted_and_kept_as_ten_digits(typed: str) -> None:
    assert nhs_number_errors(typed) == []
    assert nhs_number_compact(typed) == NHS_NUMBER


@pytest.mark.parametrize("typed", [UPN, "t801000012001", "T801 0000 12 001", "t-801-0000-12-001", f" {UPN} "])
def test_a_upn_with_spaces_dashes_or_lower_case_is_accepted_and_kept_upper_case(typed: str) -> None:
    assert upn_errors(typed) == []
    assert upn_compact(typed) == UPN


def test_a_temporary_upn_ending_in_a_letter_is_accepted() -> None:
    body = "80100001200A"
    temporary = upn.calc_check_digit(body) + body
    assert upn_errors(temporary) == []


def test_nothing_given_is_no_error_and_is_stored_empty() -> None:
    for blank in ("", "   ", " - "):
        assert nhs_number_errors(blank) == [] and nhs_number_compact(blank) == ""
        assert upn_errors(blank) == [] and upn_compact(blank) == ""


@pytest.mark.parametrize(("typed", "kind"), [
    ("999234567", "length"),  # one digit short
    ("99923456750", "length"),  # one too many
    ("999 234 567", "length"),
    ("999 234 567O", "format"),  # a letter O for a zero
    ("NHS 999 234 5675", "format"),
    ("999.234.5675", "format"),
    ("９９９２３４５６７５", "format"),  # full-width digits are not the digits an NHS number is made of
    ("<script>", "format"),
    (a_bad_check_digit(NHS_NUMBER), "checksum"),
    ("999 234 5676", "checksum"),
    ("9991234560", "checksum"),  # no 999123456 stem has a valid check digit (it would be 10)
])
def test_each_way_an_nhs_number_is_wrong_has_its_own_message(typed: str, kind: str) -> None:
    assert nhs_number_errors(typed) == [NHS_NUMBER_MESSAGES[kind]]


def test_the_nhs_number_messages_are_specific_and_show_a_made_up_example() -> None:
    assert NHS_NUMBER_MESSAGES["length"] == "Enter an NHS number with 10 digits, like 999 111 2227"
    assert NHS_NUMBER_MESSAGES["checksum"] == "The NHS number is not valid: check it for a mistyped digit"
    assert len(set(NHS_NUMBER_MESSAGES.values())) == 3


@pytest.mark.parametrize(("typed", "kind"), [
    (UPN[:-1], "length"),
    (UPN + "1", "length"),
    ("T80100001200", "length"),
    ("1801000012001", "format"),  # a digit where the check letter goes
    ("T8010000120A1", "format"),  # a letter among the digits
    ("T80100001200O", "format"),  # O is never used at the end
    ("T000000012001", "authority"),  # 000 is no local authority's number
    ("T999000012001", "authority"),
    ("A801000012001", "checksum"),
    ("T801000012002", "checksum"),
    ("I801000012001", "checksum"),  # I is never a check letter
])
def test_each_way_a_upn_is_wrong_has_its_own_message(typed: str, kind: str) -> None:
    assert upn_errors(typed) == [UPN_MESSAGES[kind]]


def test_the_upn_messages_are_specific() -> None:
    assert UPN_MESSAGES["length"] == f"Enter a UPN with a letter and 12 characters, like {UPN_EXAMPLE}"
    assert UPN_MESSAGES["checksum"] == "The UPN is not valid: check it for a mistyped character"
    assert "local authority" in UPN_MESSAGES["authority"]
    assert len(set(UPN_MESSAGES.values())) == 4


def test_a_stored_nhs_number_is_shown_in_groups() -> None:
    assert nhs_number_format(NHS_NUMBER) == "999 234 5675"
    assert nhs_number_format("") == ""


def referral(**overrides: object) -> ReferralInput:
    data = ReferralInput(
        referrer_name="Rita Referrer", referrer_job_title="Head of year", referrer_email="rita@example.org",
        referrer_phone="", referrer_organisation="Testshire Academy", referrer_sector="education",
        given_names="Sam", family_name="Okafor-Test", other_names="", date_of_birth=PartialDate(2010, 5, 17),
        sex="male", address="1 Test Street", postcode="TE1 1ST", school_or_workplace="Testshire Academy",
        local_authority_id=1, concern="Has told classmates that violence against a named group is justified.",
        first_observed_on=date(2026, 11, 1), concern_types=("extreme_right_wing",))
    return replace(data, **overrides)  # type: ignore[arg-type]


def test_a_referral_is_complete_without_identifiers_and_with_good_ones() -> None:
    assert referral().nhs_number == "" and referral().upn == ""
    assert referral_errors(referral(), today=TODAY) == {}
    assert referral_errors(referral(nhs_number="999 234 5675", upn="t801 0000 12 001"), today=TODAY) == {}


def test_a_referral_with_bad_identifiers_names_each_field() -> None:
    errors = referral_errors(referral(nhs_number="999 234 5676", upn="T000000012001"), today=TODAY)
    assert errors == {"nhs_number": [NHS_NUMBER_MESSAGES["checksum"]], "upn": [UPN_MESSAGES["authority"]]}


def test_identifiers_on_a_referral_can_be_corrected_to_another_valid_number_or_to_none() -> None:
    assert RECTIFIABLE_REFERRAL_FIELDS["nhs_number"] == ("NHS number", "nhs_number")
    assert RECTIFIABLE_REFERRAL_FIELDS["upn"] == ("Unique Pupil Number", "upn")
    assert corrected_value_errors("nhs_number", "999 111 2227", today=TODAY) == []
    assert corrected_value_errors("nhs_number", "", today=TODAY) == []  # "that is not my number"
    assert corrected_value_errors("nhs_number", "999 111 2228", today=TODAY) == [NHS_NUMBER_MESSAGES["checksum"]]
    assert corrected_value_errors("upn", "A801000012001", today=TODAY) == [UPN_MESSAGES["checksum"]]
    assert corrected_value_stored("nhs_number", " 999-111-2227 ") == "9991112227"
    assert corrected_value_stored("upn", "t801000012001") == UPN
    assert corrected_value_stored("birth", "2008-5-7") == "2008-05-07"


def test_a_correction_to_the_same_number_written_differently_is_no_correction() -> None:
    same = rectification_errors(kind="nhs_number", outcome="accepted", current=NHS_NUMBER, corrected="999 234 5675",
                                rationale="The person showed a letter from their doctor.", today=TODAY)
    assert same == [("corrected_value", "The corrected value is the same as the recorded one")]
    other = rectification_errors(kind="nhs_number", outcome="accepted", current=NHS_NUMBER,
                                 corrected="999 111 2227", rationale="The person showed a letter from their doctor.",
                                 today=TODAY)
    assert other == []
