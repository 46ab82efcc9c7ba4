"""Assessment frameworks as versioned data, and the rules for an assessment's judgements."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casetrail.core import frameworks
from casetrail.core.frameworks import (
    NATURES,
    PRESENTING_BEHAVIOUR,
    UNDERLYING_CAUSE,
    Framework,
    FrameworkDefinitionError,
    Judgement,
    UnknownFactor,
    UnknownFramework,
    Vulnerability,
    all_frameworks,
    current_framework,
    dimension_progress,
    framework_from_ref,
    get_framework,
    identified_vulnerabilities,
    validate_judgements,
)

BUILTIN_DIR = Path(frameworks.__file__).parent / "framework_data"
VAF = get_framework("vaf", "2012")
PAF = get_framework("paf", "2024")
EVIDENCE = "Told his teacher the council 'always takes from people like us'."


def present(
    code: str, nature: str | None = UNDERLYING_CAUSE, evidence: str = EVIDENCE
) -> Judgement:
    return Judgement(code, True, evidence, nature)


def absent(code: str, evidence: str = "", nature: str | None = None) -> Judgement:
    return Judgement(code, False, evidence, nature)


def all_absent(framework: Framework) -> dict[str, Judgement]:
    return {f.code: absent(f.code) for f in framework.factors}


def errors_for(judgements: dict[str, Judgement], *, complete: bool = True) -> dict[str, list[str]]:
    return validate_judgements(VAF, judgements, complete=complete)


# --- The Vulnerability Assessment Framework ------------------------------------


def test_the_vaf_has_22_factors_split_13_engagement_6_intent_3_capability() -> None:
    counts = {d.code: len(d.factors) for d in VAF.dimensions}

    assert counts == {"engagement": 13, "intent": 6, "capability": 3}
    assert len(VAF.factors) == 22


def test_vaf_factor_codes_are_unique() -> None:
    codes = [f.code for f in VAF.factors]

    assert len(set(codes)) == len(codes) == 22


def test_vaf_factors_carry_the_published_wording_in_order() -> None:
    titles = [f.title for f in VAF.factors]

    assert titles[0] == "Grievance and injustice"
    assert titles[12] == "Relevant mental health issues"
    assert titles[13] == "Over-identification with a group or ideology"
    assert titles[18] == "Harmful objectives"
    assert titles[21] == "Criminal capability"


@pytest.mark.parametrize("framework", [VAF, PAF], ids=lambda f: f.ref)
def test_every_factor_has_a_hint_and_two_or_three_evidence_prompts(framework: Framework) -> None:
    for factor in framework.factors:
        assert factor.hint.endswith("."), factor.code
        assert 2 <= len(factor.evidence_prompts) <= 3, factor.code
        assert all(p.endswith("?") for p in factor.evidence_prompts), factor.code


def test_the_framework_in_use_in_march_2015_is_the_vaf() -> None:
    assert current_framework(date(2015, 3, 1)) == VAF


def test_the_framework_in_use_in_january_2025_is_the_paf() -> None:
    assert current_framework(date(2025, 1, 1)) == PAF


def test_the_paf_takes_over_on_1_september_2024() -> None:
    assert current_framework(date(2024, 8, 31)) == VAF
    assert current_framework(date(2024, 9, 1)) == PAF


def test_the_vaf_is_superseded_on_1_september_2024_by_the_paf() -> None:
    assert not VAF.is_superseded_on(date(2024, 8, 31))
    assert VAF.is_superseded_on(date(2024, 9, 1))
    assert VAF.is_superseded_on(date(2030, 1, 1))
    assert VAF.superseded_by == PAF.ref == "paf:2024"


def test_the_paf_is_not_superseded() -> None:
    assert PAF.superseded_on is None
    assert not PAF.is_superseded_on(date(2099, 12, 31))


def test_no_framework_is_in_use_before_2012() -> None:
    with pytest.raises(UnknownFramework, match="2011-12-31"):
        current_framework(date(2011, 12, 31))


def test_the_paf_says_its_structure_is_locally_configured() -> None:
    assert (
        "locally configured; the published framework's internal structure is not public"
        in PAF.description.lower()
    )


def test_the_paf_covers_susceptibility_ideological_engagement_and_risk_of_harm() -> None:
    titles = {d.code: [f.title for f in d.factors] for d in PAF.dimensions}

    assert list(titles) == ["susceptibility", "ideological-engagement", "risk-of-harm"]
    assert "No ideology identified" in titles["ideological-engagement"]
    assert "Mixed or unclear ideology" in titles["ideological-engagement"]
    assert "Fixation on violence or mass-casualty attacks" in titles["ideological-engagement"]
    assert len({f.code for f in PAF.factors}) == len(PAF.factors)


def test_a_framework_is_referred_to_as_key_colon_version() -> None:
    assert VAF.ref == "vaf:2012"
    assert framework_from_ref("vaf:2012") == VAF


def test_asking_for_an_unknown_framework_raises_unknown_framework() -> None:
    with pytest.raises(UnknownFramework):
        get_framework("vaf", "1999")
    with pytest.raises(UnknownFramework):
        framework_from_ref("vaf")


def test_all_frameworks_are_listed_oldest_first_and_cannot_be_altered_by_callers() -> None:
    listed = all_frameworks()
    listed.clear()

    assert [f.ref for f in all_frameworks()] == ["vaf:2012", "paf:2024"]


def test_a_factor_is_found_by_code_with_its_dimension() -> None:
    factor = VAF.factor("I02-them-and-us")

    assert factor.dimension_code == "intent"
    assert VAF.dimension_of("C03-criminal-capability").code == "capability"


def test_asking_for_an_unknown_factor_raises_unknown_factor() -> None:
    with pytest.raises(UnknownFactor, match="S01-mental-health"):
        VAF.factor("S01-mental-health")
    with pytest.raises(UnknownFactor):
        VAF.dimension_of("nope")


# --- Validating judgements -------------------------------------------------------


def test_a_complete_set_of_valid_judgements_has_no_errors() -> None:
    judgements = all_absent(VAF) | {
        "E01-grievance-injustice": present("E01-grievance-injustice", UNDERLYING_CAUSE),
        "I05-harmful-means": present("I05-harmful-means", PRESENTING_BEHAVIOUR),
    }

    assert errors_for(judgements) == {}


def test_an_unknown_factor_code_is_rejected() -> None:
    judgements = all_absent(VAF) | {"S01-mental-health": absent("S01-mental-health")}

    assert errors_for(judgements) == {
        "S01-mental-health": [
            "'S01-mental-health' is not a factor in the Vulnerability Assessment Framework (2012)"
        ]
    }


def test_on_submission_a_factor_left_out_is_rejected() -> None:
    judgements = all_absent(VAF)
    del judgements["E01-grievance-injustice"]

    assert errors_for(judgements) == {
        "E01-grievance-injustice": ["Say whether 'Grievance and injustice' is present or not"]
    }


def test_on_submission_a_factor_not_yet_judged_is_rejected() -> None:
    judgements = all_absent(VAF) | {
        "C01-knowledge-skills": Judgement("C01-knowledge-skills", None, "", None)
    }

    assert errors_for(judgements) == {
        "C01-knowledge-skills": [
            "Say whether 'Individual knowledge, skills and competencies' is present or not"
        ]
    }


def test_a_draft_may_leave_factors_unjudged() -> None:
    judgements = {"E02-feeling-under-threat": Judgement("E02-feeling-under-threat", None)}

    assert errors_for(judgements, complete=False) == {}
    assert errors_for({}, complete=False) == {}


def test_a_present_factor_without_evidence_is_rejected() -> None:
    judgements = all_absent(VAF) | {
        "E01-grievance-injustice": present("E01-grievance-injustice", evidence="   \n ")
    }

    assert errors_for(judgements) == {
        "E01-grievance-injustice": ["Give the evidence for 'Grievance and injustice'"]
    }


def test_evidence_shorter_than_ten_characters_after_trimming_is_rejected() -> None:
    judgements = all_absent(VAF) | {
        "E04-desire-for-status": present("E04-desire-for-status", evidence="   see notes  ")
    }

    assert errors_for(judgements) == {
        "E04-desire-for-status": [
            "Give more detail in the evidence for 'Desire for status' (at least 10 characters)"
        ]
    }


def test_evidence_of_exactly_ten_characters_is_accepted() -> None:
    judgements = all_absent(VAF) | {
        "E04-desire-for-status": present("E04-desire-for-status", evidence=" 1234567890 ")
    }

    assert errors_for(judgements) == {}


def test_a_present_factor_without_a_nature_is_rejected() -> None:
    judgements = all_absent(VAF) | {
        "I03-dehumanisation": present("I03-dehumanisation", nature=None)
    }

    assert errors_for(judgements) == {
        "I03-dehumanisation": [
            "Say whether 'Dehumanisation of the enemy' is an underlying cause "
            "or a presenting behaviour"
        ]
    }


def test_a_present_factor_lacking_both_evidence_and_nature_gets_both_messages() -> None:
    judgements = all_absent(VAF) | {
        "I03-dehumanisation": present("I03-dehumanisation", nature=None, evidence="")
    }

    assert errors_for(judgements)["I03-dehumanisation"] == [
        "Give the evidence for 'Dehumanisation of the enemy'",
        "Say whether 'Dehumanisation of the enemy' is an underlying cause "
        "or a presenting behaviour",
    ]


@pytest.mark.parametrize("nature", ["trigger", "", "Underlying cause"])
def test_a_nature_other_than_the_two_allowed_values_is_rejected(nature: str) -> None:
    judgements = all_absent(VAF) | {
        "I06-harmful-objectives": present("I06-harmful-objectives", nature)
    }

    assert errors_for(judgements) == {
        "I06-harmful-objectives": [
            "The nature of 'Harmful objectives' must be either an underlying cause "
            "or a presenting behaviour"
        ]
    }


def test_a_factor_judged_not_present_needs_no_evidence_but_may_have_some() -> None:
    judgements = all_absent(VAF) | {
        "E10-family-friends-involved": absent(
            "E10-family-friends-involved", evidence="Checked with school; no known links."
        )
    }

    assert errors_for(judgements) == {}


def test_a_factor_judged_not_present_must_not_have_a_nature() -> None:
    judgements = all_absent(VAF) | {
        "E13-mental-health": absent("E13-mental-health", nature=PRESENTING_BEHAVIOUR)
    }

    assert errors_for(judgements) == {
        "E13-mental-health": [
            "Remove the nature from 'Relevant mental health issues': "
            "it is only recorded for a factor that is present"
        ]
    }


def test_the_evidence_and_nature_rules_apply_to_drafts_too() -> None:
    judgements = {"E01-grievance-injustice": present("E01-grievance-injustice", evidence="")}

    assert errors_for(judgements, complete=False) == {
        "E01-grievance-injustice": ["Give the evidence for 'Grievance and injustice'"]
    }


def test_a_judgement_filed_under_another_factors_code_is_rejected() -> None:
    judgements = all_absent(VAF) | {"E01-grievance-injustice": absent("E02-feeling-under-threat")}

    assert errors_for(judgements) == {
        "E01-grievance-injustice": [
            "The judgement filed under 'Grievance and injustice' is for a different factor "
            "('E02-feeling-under-threat')"
        ]
    }


def test_errors_are_listed_in_framework_order_with_unknown_codes_last() -> None:
    judgements = {
        "zzz": absent("zzz"),
        "C03-criminal-capability": present("C03-criminal-capability", evidence=""),
        "E01-grievance-injustice": present("E01-grievance-injustice", nature=None),
    }

    errors = errors_for(judgements, complete=False)

    assert list(errors) == ["E01-grievance-injustice", "C03-criminal-capability", "zzz"]


# --- What the judgements add up to ----------------------------------------------


def test_identified_vulnerabilities_are_the_present_factors_in_framework_order() -> None:
    # Entered in the opposite order to the framework, to show the order comes from it.
    judgements = {
        "C02-networks-funding-equipment": present(
            "C02-networks-funding-equipment", PRESENTING_BEHAVIOUR
        ),
        "E11-transitional-time": absent("E11-transitional-time"),
        "I02-them-and-us": Judgement("I02-them-and-us", None),
        "E03-identity-meaning-belonging": present(
            "E03-identity-meaning-belonging", UNDERLYING_CAUSE
        ),
        "unknown": present("unknown"),
    }

    assert identified_vulnerabilities(VAF, judgements) == [
        Vulnerability(
            "E03-identity-meaning-belonging",
            "Need for identity, meaning and belonging",
            "engagement",
            UNDERLYING_CAUSE,
        ),
        Vulnerability(
            "C02-networks-funding-equipment",
            "Access to networks, funding or equipment",
            "capability",
            PRESENTING_BEHAVIOUR,
        ),
    ]


def test_no_vulnerabilities_are_identified_when_nothing_is_present() -> None:
    assert identified_vulnerabilities(VAF, all_absent(VAF)) == []


def test_dimension_progress_counts_judged_factors_against_the_total() -> None:
    judgements = {
        "E01-grievance-injustice": absent("E01-grievance-injustice"),
        "E02-feeling-under-threat": present("E02-feeling-under-threat"),
        "E03-identity-meaning-belonging": Judgement("E03-identity-meaning-belonging", None),
        "C01-knowledge-skills": absent("C01-knowledge-skills"),
    }

    assert dimension_progress(VAF, judgements) == {
        "engagement": (2, 13),
        "intent": (0, 6),
        "capability": (1, 3),
    }


# --- Definition files -------------------------------------------------------------


def copy_builtin() -> dict[str, dict[str, Any]]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in BUILTIN_DIR.glob("*.json")}


def write(tmp_path: Path, files: dict[str, dict[str, Any]]) -> None:
    for name, data in files.items():
        (tmp_path / name).write_text(json.dumps(data), encoding="utf-8")


def test_an_installation_can_add_a_framework_in_its_own_directory(tmp_path: Path) -> None:
    files = copy_builtin()
    files["paf-2024.json"]["superseded_on"] = "2030-04-01"
    files["paf-2024.json"]["superseded_by"] = "local:2030"
    files["local-2030.json"] = dict(
        files["paf-2024.json"],
        key="local",
        version="2030",
        in_use_from="2030-04-01",
        superseded_on=None,
        superseded_by=None,
    )
    write(tmp_path, files)

    assert current_framework(date(2031, 1, 1), tmp_path).ref == "local:2030"
    assert get_framework("paf", "2024", tmp_path).is_superseded_on(date(2030, 4, 1))
    # The built-in set is untouched by an override.
    assert current_framework(date(2031, 1, 1)).ref == "paf:2024"


def _drop_title(files: dict[str, dict[str, Any]]) -> None:
    del files["vaf-2012.json"]["dimensions"][1]["factors"][0]["title"]


def _duplicate_factor(files: dict[str, dict[str, Any]]) -> None:
    factors = files["vaf-2012.json"]["dimensions"][2]["factors"]
    factors[1]["code"] = factors[0]["code"]


def _duplicate_across_dimensions(files: dict[str, dict[str, Any]]) -> None:
    dims = files["vaf-2012.json"]["dimensions"]
    dims[2]["factors"][0]["code"] = dims[0]["factors"][0]["code"]


def _unknown_successor(files: dict[str, dict[str, Any]]) -> None:
    files["vaf-2012.json"]["superseded_by"] = "paf:2025"


def _missing_key(files: dict[str, dict[str, Any]]) -> None:
    del files["vaf-2012.json"]["key"]


def _misspelt_field(files: dict[str, dict[str, Any]]) -> None:
    vaf = files["vaf-2012.json"]
    vaf["superseeded_on"] = vaf.pop("superseded_on")


def _bad_date(files: dict[str, dict[str, Any]]) -> None:
    files["vaf-2012.json"]["in_use_from"] = "01/01/2012"


def _no_prompts(files: dict[str, dict[str, Any]]) -> None:
    files["vaf-2012.json"]["dimensions"][0]["factors"][4]["evidence_prompts"] = []


def _overlap(files: dict[str, dict[str, Any]]) -> None:
    files["vaf-2012.json"]["superseded_on"] = "2025-01-01"


def _successor_not_yet_in_use(files: dict[str, dict[str, Any]]) -> None:
    files["vaf-2012.json"]["superseded_on"] = "2024-06-01"


MALFORMED: list[tuple[Callable[[dict[str, dict[str, Any]]], None], str]] = [
    (_drop_title, "dimension 'intent', factor 1: missing field(s) 'title'"),
    (_duplicate_factor, "duplicate factor code 'C01-knowledge-skills'"),
    (_duplicate_across_dimensions, "duplicate factor code 'E01-grievance-injustice'"),
    (_unknown_successor, "'superseded_by' names paf:2025, which is not defined"),
    (_missing_key, "missing field(s) 'key'"),
    (_misspelt_field, "unknown field(s) 'superseeded_on'"),
    (_bad_date, "'in_use_from' is '01/01/2012', not a date written YYYY-MM-DD"),
    (_no_prompts, "'evidence_prompts' must be a non-empty list"),
    (_overlap, "vaf:2012 is in use at the same time as paf:2024 (defined in"),
    (_successor_not_yet_in_use, "names paf:2024, which is not in use on 2024-06-01"),
]


@pytest.mark.parametrize(
    ("corrupt", "problem"), MALFORMED, ids=[fn.__name__.strip("_") for fn, _ in MALFORMED]
)
def test_a_malformed_definition_raises_an_error_naming_the_file_and_problem(
    tmp_path: Path, corrupt: Callable[[dict[str, dict[str, Any]]], None], problem: str
) -> None:
    files = copy_builtin()
    corrupt(files)
    write(tmp_path, files)

    with pytest.raises(FrameworkDefinitionError) as raised:
        all_frameworks(tmp_path)

    assert raised.value.source.endswith(".json")
    assert raised.value.source.startswith(str(tmp_path))
    assert problem in str(raised.value)


def test_a_file_that_is_not_json_is_named_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "broken.json").write_text('{"key": "vaf",', encoding="utf-8")

    with pytest.raises(FrameworkDefinitionError, match=r"broken\.json: is not valid JSON"):
        all_frameworks(tmp_path)


def test_a_field_given_twice_in_one_object_is_rejected(tmp_path: Path) -> None:
    text = (BUILTIN_DIR / "vaf-2012.json").read_text(encoding="utf-8")
    (tmp_path / "vaf-2012.json").write_text(
        text.replace('"key": "vaf",', '"key": "vaf", "key": "vaf2",', 1), encoding="utf-8"
    )

    with pytest.raises(FrameworkDefinitionError, match=r"vaf-2012\.json: .*'key' appears twice"):
        all_frameworks(tmp_path)


def test_the_same_framework_defined_in_two_files_is_rejected(tmp_path: Path) -> None:
    files = copy_builtin()
    files["vaf-copy.json"] = files["vaf-2012.json"]
    write(tmp_path, files)

    with pytest.raises(FrameworkDefinitionError, match=r"vaf:2012 is already defined in .*vaf-"):
        all_frameworks(tmp_path)


def test_a_directory_with_no_definitions_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(FrameworkDefinitionError, match="contains no"):
        all_frameworks(tmp_path)


# --- The validation rules as a property ----------------------------------------

EVIDENCE_SAMPLES = ["", "   ", "short", "123456789", " 123456789 ", "1234567890", EVIDENCE]
TEXT_ALPHABET = " \t\n\u00a0\u2003ab1."
NATURE_SAMPLES: list[str | None] = [None, UNDERLYING_CAUSE, PRESENTING_BEHAVIOUR, "other", ""]


def any_judgement(code: str) -> st.SearchStrategy[Judgement | None]:
    """Anything an assessor could enter for a factor, including leaving it out (None)."""
    return st.none() | st.builds(
        Judgement,
        factor_code=st.just(code),
        present=st.sampled_from([None, True, False]),
        # A small alphabet with Unicode spaces keeps generation fast while still
        # testing that evidence is measured after trimming.
        evidence=st.sampled_from(EVIDENCE_SAMPLES) | st.text(alphabet=TEXT_ALPHABET, max_size=15),
        nature=st.sampled_from(NATURE_SAMPLES),
    )


def valid_judgement(code: str) -> st.SearchStrategy[Judgement]:
    return st.sampled_from(
        [
            present(code, UNDERLYING_CAUSE),
            present(code, PRESENTING_BEHAVIOUR),
            absent(code),
            absent(code, evidence="Nothing seen."),
        ]
    )


@st.composite
def judgement_maps(draw: st.DrawFn) -> tuple[Framework, dict[str, Judgement]]:
    # Start from a valid map and spoil a few factors: purely random maps over 22
    # factors would almost never be valid, so the "valid" side would go untested.
    framework = draw(st.sampled_from([VAF, PAF]))
    codes = [f.code for f in framework.factors]
    judgements: dict[str, Judgement] = {c: draw(valid_judgement(c)) for c in codes}
    for code in draw(st.lists(st.sampled_from(codes), max_size=3, unique=True)):
        replacement = draw(any_judgement(code))
        if replacement is None:
            del judgements[code]
        else:
            judgements[code] = replacement
    return framework, judgements


def obeys_the_rules(framework: Framework, judgements: dict[str, Judgement]) -> bool:
    for factor in framework.factors:
        j = judgements.get(factor.code)
        if j is None or j.present is None:
            return False
        if j.present and (len(j.evidence.strip()) < 10 or j.nature not in NATURES):
            return False
        if not j.present and j.nature is not None:
            return False
    return True


@given(judgement_maps())
def test_submitted_judgements_are_valid_exactly_when_they_obey_every_rule(
    case: tuple[Framework, dict[str, Judgement]],
) -> None:
    framework, judgements = case

    errors = validate_judgements(framework, judgements, complete=True)

    assert (errors == {}) == obeys_the_rules(framework, judgements)
    assert all(messages for messages in errors.values())
    assert set(errors) <= set(judgements) | {f.code for f in framework.factors}


@given(judgement_maps())
def test_a_draft_never_has_more_errors_than_a_submission(
    case: tuple[Framework, dict[str, Judgement]],
) -> None:
    framework, judgements = case

    draft = validate_judgements(framework, judgements, complete=False)
    submitted = validate_judgements(framework, judgements, complete=True)

    assert set(draft) <= set(submitted)
    assert not any("is present or not" in m for ms in draft.values() for m in ms)
