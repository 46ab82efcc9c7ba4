"""The answers a simulated referrer gives on each page of the referral form: a synthetic person
with a made-up name, birthday and address (no Django import: the Locust file uses it too)."""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any

START = "/referrals/new/"
PAGES = ("about-you", "person", "concern", "urgency", "attachments")

_SYLLABLES = ["bar", "quil", "dor", "fen", "gat", "hux", "jor", "ka", "mo", "vi", "tre", "su", "pa", "ne",
              "rby", "wick", "lde", "mpt", "xor", "tan", "bel", "cor", "dun", "ev"]
CONCERN_TYPES = ["extreme_right_wing", "islamist", "violence_fascination"]


def _name(rng: random.Random, parts: int) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(parts)).title()


def answers(rng: random.Random, local_authority_id: int | None) -> list[tuple[str, dict[str, Any]]]:
    """(page, form data) for each question page, in order."""
    observed = date.today() - timedelta(days=rng.randint(1, 20))
    born = date(rng.randint(1975, 2012), rng.randint(1, 12), rng.randint(1, 28))
    family = _name(rng, 3) + "-Load"
    return [
        ("about-you", {"referrer_name": "Rita Referrer", "referrer_job_title": "Head of year",
                       "referrer_email": "rita@example.org", "referrer_phone": "01632 960 001",
                       "referrer_organisation": "Loadshire Academy", "referrer_sector": "education",
                       "discussed_with": "Sam Lead, DSL"}),
        ("person", {"given_names": _name(rng, 2), "family_name": family, "other_names": "",
                    "date_of_birth_day": str(born.day), "date_of_birth_month": str(born.month),
                    "date_of_birth_year": str(born.year), "sex": rng.choice(["male", "female"]),
                    "address": f"{rng.randint(1, 200)} {_name(rng, 2)} Street",
                    "postcode": f"LD{rng.randint(1, 9)} {rng.randint(1, 9)}ZZ", "school_or_workplace": "",
                    "local_authority": str(local_authority_id or "")}),
        ("concern", {"concern": "Shared violent extremist videos with younger pupils at lunch and said they "
                                "deserved it. (Synthetic load-test referral.)",
                     "first_observed_on_day": str(observed.day), "first_observed_on_month": str(observed.month),
                     "first_observed_on_year": str(observed.year),
                     "concern_types": rng.sample(CONCERN_TYPES, 2)}),
        ("urgency", {"urgency": rng.choice(["routine", "urgent"]), "person_aware": "no"}),
        ("attachments", {}),
    ]
