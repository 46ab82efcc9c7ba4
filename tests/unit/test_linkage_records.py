"""Normalising identities for linkage: odd, partial and hostile input never raises."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from casetrail.people.linkage.records import COLUMNS, Identity, name_groups, normalise, parse_date


def identity(**fields: object) -> Identity:
    base = {"record_id": "1", "given_names": "", "family_name": ""}
    base.update(fields)
    return Identity(**base)  # type: ignore[arg-type]


def test_an_empty_name_is_missing_not_an_error():
    record = normalise(identity(date_of_birth="2009-04-01"))
    assert record["given"] is None and record["family"] is None and record["given_groups"] is None
    assert record["dob"] == "2009-04-01"
    assert set(record) == set(COLUMNS)


def test_accents_and_other_alphabets_fold_to_plain_letters():
    assert normalise(identity(given_names="Zoë", family_name="Łukasiewicz"))["family"] == "lukasiewicz"
    assert normalise(identity(given_names="Александр", family_name="Смирнов"))["given"] == "aleksandr"
    assert normalise(identity(given_names="Seán", family_name="O'Brien"))["family"] == "obrien"


def test_unknown_characters_separate_words_and_unreadable_names_are_missing():
    record = normalise(identity(given_names="😀 Jack\x00", family_name="محمد"))
    assert record["given"] == "jack"
    assert record["family"] is None  # a script with no table here is missing, not garbage


def test_titles_are_dropped_from_given_names():
    assert normalise(identity(given_names="Mr John Paul"))["given"] == "john"
    assert normalise(identity(given_names="Mr John Paul"))["given_all"] == ["john", "paul"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2009-04-17", (2009, 4, 17)),
        ("17/04/2009", (2009, 4, 17)),
        ("2009-04", (2009, 4, None)),
        ("2009", (2009, None, None)),
        ("2009-17-04", (2009, 4, 17)),  # month over 12: day and month written the wrong way round
        ("2009-02-30", (2009, 2, None)),  # no 30 February: keep what is possible
        ("2009-13-40", (2009, None, None)),
        ("9999-99-99", (None, None, None)),
        ("0000-00-00", (None, None, None)),
        ("1066-10-14", (None, None, None)),
        ("yesterday", (None, None, None)),
        ("", (None, None, None)),
    ],
)
def test_absurd_dates_keep_only_their_possible_parts(text, expected):
    assert parse_date(text) == expected


def test_partial_dates_fill_only_the_parts_known():
    record = normalise(identity(date_of_birth="2009"))
    assert (record["dob"], record["dob_ym"], record["dob_year"]) == (None, None, 2009)


def test_postcodes_give_sector_and_district_when_they_can():
    record = normalise(identity(postcode=" sw1a-1aa "))
    assert (record["postcode"], record["pc_sector"], record["pc_district"]) == ("SW1A 1AA", "SW1A 1", "SW1A")
    assert normalise(identity(postcode="LS6"))["pc_district"] == "LS6"
    assert normalise(identity(postcode="not known"))["pc_district"] is None


def test_another_countrys_postcode_is_kept_to_compare_as_it_is():
    record = normalise(identity(postcode=" 2615 "))
    assert (record["postcode"], record["pc_sector"], record["pc_district"]) == ("2615", None, "2615")
    assert normalise(identity(postcode="1012 AB"))["postcode"] == "1012AB"
    for junk in ("12", "?", "12345678901", "SW1A 1A"):  # too short, no digit, too long, half a UK postcode
        assert normalise(identity(postcode=junk))["postcode"] is None, junk


def test_transliterations_and_nicknames_share_a_canonical_name():
    assert set(name_groups("mohammed")) & set(name_groups("muhammad")) & set(name_groups("mohamed"))
    assert set(name_groups("aleksandr")) & set(name_groups("alexander"))
    assert set(name_groups("bob")) & set(name_groups("robert"))
    assert not set(name_groups("robert")) & set(name_groups("william"))


def test_multi_part_family_names_keep_their_parts():
    record = normalise(identity(family_name="Smith-Jones"))
    assert record["family"] == "smithjones" and record["family_parts"] == ["smith", "jones"]
    assert normalise(identity(family_name="Al-Hassan"))["family_parts"] == ["hassan"]


def test_aliases_add_given_and_family_names():
    record = normalise(identity(given_names="Ali", family_name="Khan", other_names=("Alan Kane", "Sonny")))
    assert "alan" in record["given_all"] and "sonny" in record["given_all"]
    assert "kane" in record["family_all"] and "khan" in record["family_all"]


def test_values_of_the_wrong_type_are_read_as_text():
    record = normalise(Identity("7", None, 42, other_names=None, date_of_birth=None))  # type: ignore[arg-type]
    assert record["record_id"] == "7" and record["given"] is None


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60), st.text(max_size=60), st.text(max_size=20), st.text(max_size=12),
       st.lists(st.text(max_size=20), max_size=3))
def test_normalise_never_raises(given_names, family_name, dob, postcode, aliases):
    record = normalise(Identity("x", given_names, family_name, tuple(aliases), dob, "?", postcode, dob, postcode))
    assert set(record) == set(COLUMNS)


def test_identifiers_are_kept_only_when_valid():
    record = normalise(Identity("1", "A", "B", nhs_number="999 000 0018", upn="j201000000000"))
    assert record["nhs"] == "9990000018" and record["upn"] == "J201000000000"
    # A mistyped digit breaks the check digit: missing, not a different number.
    for nhs_number, upn in (("999 000 0019", "J201000000001"), ("12345", "not a upn"), ("", "")):
        bad = normalise(Identity("1", "A", "B", nhs_number=nhs_number, upn=upn))
        assert bad["nhs"] is None and bad["upn"] is None


def test_the_full_name_key_is_a_digest_of_both_names():
    one = normalise(Identity("1", "Zoë", "O'Brien"))["name_key"]
    assert one == normalise(Identity("2", "zoe", "OBRIEN"))["name_key"]
    assert one != normalise(Identity("3", "Zoe", "Brien"))["name_key"] and "zoe" not in one
    assert normalise(Identity("4", "", "Obrien"))["name_key"] is None
