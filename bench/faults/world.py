"""A small world for the fault runs, built through the real services in a fresh database:
one police force, one local authority, one school, their staff and an API token each.

Run as `python -m bench.faults.world` with CASETRAIL_DATABASE_URL pointing at a migrated
database; prints a JSON object with the ids and API keys the runs need.
"""

from __future__ import annotations

import json
import os
import random
import string
from datetime import date
from typing import Any

PASSWORD = "faults-only-password-not-secret-42"


def build() -> dict[str, Any]:
    from casetrail.accounts.services import (
        agency_create,
        agency_set_duty_owner,
        api_token_issue,
        user_create,
    )

    police = agency_create(name="Faultshire Police CTP", kind="police")
    council = agency_create(name="Faultshire County Council", kind="local_authority", police_force=police)
    school = agency_create(name="Faultshire Academy", kind="school")

    def user(username: str, agency: Any, role: str) -> Any:
        return user_create(username=username, password=PASSWORD, first_name=username.title(), last_name="Fault",
                           email=f"{username}@example.org", agency=agency, roles=[role], job_title=f"{role} lead")

    referrer = user("referrer", school, "referrer")
    officer = user("officer", police, "police_officer")
    coordinator = user("coordinator", council, "channel_coordinator")
    agency_set_duty_owner(agency=police, user=officer)
    agency_set_duty_owner(agency=council, user=coordinator)
    agency_set_duty_owner(agency=school, user=referrer)
    return {
        "council_id": council.pk,
        "tokens": {name: api_token_issue(user=u, name="faults")[1]
                   for name, u in [("referrer", referrer), ("officer", officer), ("coordinator", coordinator)]},
    }


_SYLLABLES = ["ka", "lo", "mi", "ra", "ven", "tor", "shi", "da", "pel", "qui", "zor", "bex", "ul", "nor", "fey"]
_GIVEN = ["Ash", "Blake", "Corin", "Dale", "Emery", "Finley", "Gale", "Harper", "Indy", "Jules", "Kit", "Lane"]


def referral_body(council_id: int, rnd: random.Random, today: date) -> dict[str, Any]:
    """A synthetic referral of someone nobody else in the run resembles (a made-up family name
    of four random syllables), so no possible earlier record holds up its gateway decision."""
    family = "".join(rnd.choice(_SYLLABLES) for _ in range(4)).capitalize()
    year = rnd.randint(1990, 2010)
    return {
        "referrer_name": "Rita Referrer", "referrer_job_title": "Designated safeguarding lead",
        "referrer_email": "rita@example.org", "referrer_organisation": "Faultshire Academy",
        "referrer_sector": "education", "given_names": rnd.choice(_GIVEN), "family_name": family,
        "date_of_birth": f"{year}-{rnd.randint(1, 12):02d}-{rnd.randint(1, 28):02d}", "sex": "male",
        "postcode": f"FA{rnd.randint(1, 9)} {rnd.randint(1, 9)}{rnd.choice(string.ascii_uppercase)}"
                    f"{rnd.choice(string.ascii_uppercase)}",
        "local_authority_id": council_id,
        "concern": "Has told classmates that violence against a named group is justified and shares videos.",
        "first_observed_on": today.isoformat(), "concern_types": ["extreme_right_wing"],
        "urgency": "routine", "person_aware": "no",
    }


def gateway_body(version: int | None, today: date) -> dict[str, Any]:
    """Refer the case to the local authority's panel, as the version the caller last saw."""
    return {"expected_version": version, "deconfliction_done": True, "database_checks_done": True,
            "outcome": "refer_to_panel", "rationale": "Escalating behaviour with a clear ideological element.",
            "decided_on": today.isoformat()}


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casetrail.settings")
    import django

    django.setup()
    print(json.dumps(build()))


if __name__ == "__main__":
    main()
