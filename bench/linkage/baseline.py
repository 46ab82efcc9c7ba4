"""Splink's default approach, for comparison: its library comparisons for names, date of birth
and postcode on lightly cleaned columns (with exact NHS number and pupil number where the data
has them), blocking on exact names, on date of birth and on the identifiers, trained
as Splink's tutorials train (u by sampling, EM on two blocking rules, always with max_pairs)."""

from __future__ import annotations

import logging
from typing import Any

import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on


def columns(normalised: Any) -> Any:
    """first_name, surname, dob (string), postcode, sex, address, nhs, upn from our normalised table."""
    return normalised.select(["record_id", "given", "family", "dob", "postcode", "sex", "address", "nhs", "upn"]
                             ).rename_columns(["record_id", "first_name", "surname", "dob", "postcode", "sex",
                                               "address", "nhs", "upn"])


def settings() -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            cl.NameComparison("first_name"),
            cl.NameComparison("surname"),
            cl.DateOfBirthComparison("dob", input_is_string=True),
            cl.PostcodeComparison("postcode"),
            cl.ExactMatch("sex"),
            cl.ExactMatch("address"),
            cl.ExactMatch("nhs"),
            cl.ExactMatch("upn"),
        ],
        blocking_rules_to_generate_predictions=[
            block_on("first_name", "surname"),
            block_on("surname", "dob"),
            block_on("first_name", "dob"),
            block_on("postcode", "first_name"),
            block_on("nhs"),
            block_on("upn"),
        ],
    )


def linker(normalised: Any, *, memory_limit: str = "4GB") -> Linker:
    import duckdb

    from bench.linkage.common import DUCKDB_TEMP

    con = duckdb.connect()
    con.execute(f"SET temp_directory = '{DUCKDB_TEMP}'")
    con.execute(f"SET memory_limit = '{memory_limit}'")
    db_api = DuckDBAPI(con)
    return Linker(db_api.register(columns(normalised), table_name="baseline_people"), settings(),
                  log_level=logging.WARNING)


def train(linker: Linker, *, seed: int = 0, max_pairs: float = 2e6, u_max_pairs: float = 1e7) -> None:
    linker.training.estimate_probability_two_random_records_match(
        [block_on("first_name", "surname", "dob")], recall=0.7)
    linker.training.estimate_u_using_random_sampling(max_pairs=u_max_pairs, seed=seed)
    linker.training.estimate_parameters_using_expectation_maximisation(
        block_on("first_name", "surname"), max_pairs=max_pairs)
    linker.training.estimate_parameters_using_expectation_maximisation(block_on("dob"), max_pairs=max_pairs)
