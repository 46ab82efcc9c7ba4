"""The national world: police forces, the local authorities each screens for, their schools and
health trusts, intervention providers and the Home Office, with staff of every role and a duty
owner for every agency.

Small (about 600 agencies and 1,300 people at full size), so it is built through the real
services (`agency_create`, `user_create`, `agency_set_duty_owner`, `provider_organisation_save`,
`provider_worker_save`), each writing its own event exactly as an administrator's set-up would.
Passwords are hashed with a fast hasher while building, then every account is given one real
(Argon2) hash of WORLD_PASSWORD: hashing 1,300 passwords with Argon2 would take minutes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.contrib.auth.hashers import make_password
from django.test.utils import override_settings

from casetrail.accounts.models import Agency, User
from casetrail.accounts.services import agency_create, agency_set_duty_owner, user_create
from casetrail.core.roles import AgencyKind, Role
from casetrail.providers.services import provider_organisation_save, provider_worker_save

WORLD_PASSWORD = "national-bench-2026"

# Invented county names (no real place): stem + ending, unique together.
_STEMS = ("Ash", "Bram", "Cal", "Dun", "Elm", "Fal", "Glen", "Har", "Ives", "Kel", "Lin", "Mar", "Nor",
          "Ox", "Pen", "Quar", "Ros", "Sel", "Tam", "Ull", "Val", "Wen", "Yar", "Brack", "Cor", "Dray",
          "Eller", "Fen", "Gor", "Hol", "Kest", "Lang", "Mor", "Ned", "Orm", "Pol", "Rad", "Scar", "Thorn",
          "Whin", "Wol", "Ald", "Bel", "Crom", "Dal")
_ENDINGS = ("shire", "ford", "dale", "mouth", "wick", "ton", "by", "ham")
REGIONS = ("North East", "North West", "Yorkshire and the Humber", "East Midlands", "West Midlands",
           "East of England", "London", "South East", "South West", "Wales")
PROVIDER_SPECIALISMS = (("islamist", "mentoring"), ("extreme_right_wing", "online_harms"),
                        ("mixed_unclear", "mental_health"), ("violence_fascination", "mentoring"),
                        ("mixed_unclear", "mentoring"), ("violence_fascination", "mental_health"))
GIVEN = ("Alex", "Sam", "Jo", "Chris", "Pat", "Robin", "Kim", "Lee", "Ali", "Dana", "Jamie", "Morgan",
         "Ravi", "Amina", "Tomasz", "Grace", "Owen", "Nadia", "Femi", "Lucy", "Karim", "Hannah", "Ewan", "Zara")
FAMILY = ("Ashdown", "Brennick", "Colvey", "Dunmore", "Ellery", "Farrant", "Gilmour", "Hartwell", "Ingram",
          "Jessop", "Kenward", "Lockley", "Marlow", "Northcott", "Oldroyd", "Pennick", "Quarrie", "Rowntree",
          "Selwood", "Tranter", "Upfield", "Varley", "Whitlock", "Yardley")


@dataclass
class Area:
    """One local authority and the people the journeys of its cases need."""

    authority: Agency
    force: Agency
    coordinators: list[User]
    chair: User
    panel_member: User
    referrers: dict[str, User]  # by sector: education, health, local_authority, police
    schools: list[Agency]
    health: Agency


@dataclass
class World:
    forces: list[Agency]
    officers: dict[int, list[User]]  # force id -> officers (the first is the duty owner)
    areas: list[Area]
    providers: list[User]  # provider workers (each the duty owner of its organisation or not)
    oversight: list[User]
    admin: User
    users: list[User] = field(default_factory=list)

    @property
    def agencies(self) -> int:
        return Agency.objects.count()


def county_names(count: int) -> list[str]:
    """`count` different invented place names, the same every time."""
    import random

    names = [stem + ending for ending in _ENDINGS for stem in _STEMS]
    random.Random("casetrail-national-places").shuffle(names)
    return [names[i % len(names)] + ("" if i < len(names) else f" {i // len(names) + 1}") for i in range(count)]


class _People:
    """Invented staff names, in turn."""

    def __init__(self) -> None:
        self.made = 0

    def next(self) -> tuple[str, str, str]:
        n = self.made
        self.made += 1
        given, family = GIVEN[n % len(GIVEN)], FAMILY[(n // len(GIVEN)) % len(FAMILY)]
        return f"staff{n:05d}", given, family


def build_world(*, forces: int, authorities_per_force: int, referrals: int, start: date,
                progress: bool = True) -> World:
    """Every agency and member of staff, through the services (call inside frozen_at(start))."""
    from tqdm import tqdm

    people = _People()
    total_steps = forces * (1 + authorities_per_force) + len(PROVIDER_SPECIALISMS) * 2 + 2
    bar = tqdm(total=total_steps, desc="World (agencies, staff)", unit="agency", disable=not progress)
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        def staff(agency: Agency | None, role: Role, title: str, panel_authority: Agency | None = None) -> User:
            username, given, family = people.next()
            domain = (agency.name if agency else "casetrail").lower().replace(" ", "-").replace(",", "")
            return user_create(username=username, password=WORLD_PASSWORD, first_name=given, last_name=family,
                               email=f"{username}@{domain}.example.org", agency=agency, roles=[role.value],
                               job_title=title, panel_authority=panel_authority)

        admin = staff(None, Role.ADMINISTRATOR, "System administrator")
        home_office = agency_create(name="Home Office Prevent Oversight (synthetic)", kind=AgencyKind.HOME_OFFICE)
        oversight = [staff(home_office, Role.OVERSIGHT, "Prevent oversight officer") for _ in range(3)]
        agency_set_duty_owner(agency=home_office, user=oversight[0])
        bar.update(2)

        providers: list[User] = []
        # Approved from the start and still approved two years from now (the real today).
        approved_until = date.today() + timedelta(days=730)
        for i, specialisms in enumerate(PROVIDER_SPECIALISMS * 2):
            org = provider_organisation_save(user=admin, agency=None, name=f"Provider {i + 1:02d} Mentoring CIC",
                                             specialisms=list(specialisms), status="approved", approved_until=approved_until)
            workers = [staff(org.agency, Role.PROVIDER, "Intervention provider") for _ in range(3)]
            for worker in workers:
                provider_worker_save(user=admin, worker_user=worker, organisation=org,
                                     specialisms=list(specialisms), status="approved",
                                     vetting_expires_on=approved_until)
            agency_set_duty_owner(agency=org.agency, user=workers[0])
            providers.extend(workers)
            bar.update(1)

        per_force = referrals / max(forces, 1)
        officers_per_force = max(2, math.ceil(per_force / 600))
        names = county_names(forces * (1 + authorities_per_force))
        all_forces: list[Agency] = []
        officers: dict[int, list[User]] = {}
        areas: list[Area] = []
        for f in range(forces):
            county = names[f]
            region = REGIONS[f % len(REGIONS)]
            force = agency_create(name=f"{county} Police (synthetic)", kind=AgencyKind.POLICE, region=region)
            team = [staff(force, Role.POLICE_OFFICER, "Prevent officer") for _ in range(officers_per_force)]
            agency_set_duty_owner(agency=force, user=team[0])
            all_forces.append(force)
            officers[force.pk] = team
            health = agency_create(name=f"{county} NHS Foundation Trust (synthetic)", kind=AgencyKind.HEALTH,
                                   region=region)
            bar.update(1)
            for a in range(authorities_per_force):
                place = names[forces + f * authorities_per_force + a]
                authority = agency_create(name=f"{place} Council (synthetic)", kind=AgencyKind.LOCAL_AUTHORITY,
                                          police_force=force, region=region)
                coordinators = [staff(authority, Role.CHANNEL_COORDINATOR, "Channel coordinator")
                                for _ in range(2)]
                chair = staff(authority, Role.PANEL_CHAIR, "Head of safeguarding")
                la_referrer = staff(authority, Role.REFERRER, "Prevent education officer")
                member = staff(health, Role.PANEL_MEMBER, "Named nurse for safeguarding", panel_authority=authority)
                agency_set_duty_owner(agency=authority, user=coordinators[0])
                if health.duty_owner_id is None:
                    agency_set_duty_owner(agency=health, user=member)
                    health.refresh_from_db()
                schools = []
                for s in range(2):
                    school = agency_create(name=f"{place} {('Academy', 'High School')[s]} (synthetic)",
                                           kind=AgencyKind.SCHOOL, region=region)
                    teacher = staff(school, Role.REFERRER, "Designated safeguarding lead")
                    agency_set_duty_owner(agency=school, user=teacher)
                    schools.append(school)
                referrers = {"education": schools[0].duty_owner, "health": member, "local_authority": la_referrer,
                             "police": team[a % len(team)]}
                areas.append(Area(authority=authority, force=force, coordinators=coordinators, chair=chair,
                                  panel_member=member, referrers=referrers, schools=schools, health=health))
                bar.update(1)
    bar.close()
    # One real hash for every account (see the module's docstring).
    User.objects.update(password=make_password(WORLD_PASSWORD))
    users = list(User.objects.all())
    return World(forces=all_forces, officers=officers, areas=areas, providers=providers, oversight=oversight,
                 admin=admin, users=users)


def world_start(first_day: date) -> date:
    """The world is set up three weeks before the first referral."""
    return first_day - timedelta(days=21)
