"""Builds a reproducible synthetic demo through the services alone: agencies, one user per role, and people at every stage of the journey."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import Count
from tqdm import tqdm

from casetrail import clock
from casetrail.accounts.models import Agency, User
from casetrail.accounts.second_factor import second_factor_required
from casetrail.accounts.services import (
    agency_create,
    agency_set_duty_owner,
    totp_device_create_for_demo,
    user_create,
)
from casetrail.cases import services as cs
from casetrail.cases.models import Case, InformationRequest, PanelMeeting, SupportAction, Tasking
from casetrail.clock import frozen_at
from casetrail.core import frameworks
from casetrail.core.dates import PartialDate, add_months, age_on
from casetrail.core.lifecycle import Stage
from casetrail.core.referrals import ReferralInput
from casetrail.core.roles import AgencyKind, Role
from casetrail.demo.people import PersonGenerator, SyntheticPerson, misspelt
from casetrail.notifications.services import outbox_deliver
from casetrail.providers.services import provider_organisation_save, provider_worker_save
from casetrail.referrals.services import referral_submit
from casetrail.rights.services import subject_access_request_open

PASSWORD = "casetrail-demo-2026"
LONDON = ZoneInfo("Europe/London")
WORKING_HOUR = time(10, 0)

# ---------------------------------------------------------------- the world

POLICE = "Northshire Police — Counter Terrorism Policing"
NORTHSHIRE = "Northshire County Council"
RIVERTON = "Riverton City Council"
SCHOOL = "Ashby Cross Academy"
SCHOOL_2 = "Wyvern Bridge High School"
NHS = "Northshire and Riverton NHS Foundation Trust"
HOME_OFFICE = "Home Office — Prevent Oversight"
BRIDGES = "Bridges Mentoring CIC"
HORIZON = "Horizon Intervention Services"
AREA_AUTHORITY = {"northshire": NORTHSHIRE, "riverton": RIVERTON}

# (name, kind, region, email domain); the police force comes first, as the councils name it.
AGENCIES: tuple[tuple[str, AgencyKind, str, str], ...] = (
    (POLICE, AgencyKind.POLICE, "North West", "northshire.police.example.org"),
    (NORTHSHIRE, AgencyKind.LOCAL_AUTHORITY, "North West", "northshire-cc.example.org"),
    (RIVERTON, AgencyKind.LOCAL_AUTHORITY, "North West", "riverton.example.org"),
    (SCHOOL, AgencyKind.SCHOOL, "North West", "ashbycross.example.org"),
    (SCHOOL_2, AgencyKind.SCHOOL, "North West", "wyvernbridge.example.org"),
    (NHS, AgencyKind.HEALTH, "North West", "nrft.nhs.example.org"),
    (HOME_OFFICE, AgencyKind.HOME_OFFICE, "", "homeoffice.example.org"),
)
PROVIDERS: dict[str, tuple[str, ...]] = {
    BRIDGES: ("islamist", "mixed_unclear", "mentoring", "mental_health"),
    HORIZON: ("extreme_right_wing", "violence_fascination", "online_harms"),
}
EMAIL_DOMAINS = {name: domain for name, _, _, domain in AGENCIES} | {
    BRIDGES: "bridges-mentoring.example.org", HORIZON: "horizon-interventions.example.org"}


@dataclass(frozen=True)
class StaffMember:
    username: str
    first_name: str
    last_name: str
    agency: str | None
    role: Role
    job_title: str
    panel_authority: str | None = None
    duty_owner: bool = False  # new work for the agency arrives with this person


# In sign-in order; the first of each role is the one the README and pages refer to.
STAFF: tuple[StaffMember, ...] = (
    StaffMember("referrer", "Rachel", "Reid", SCHOOL, Role.REFERRER, "Designated safeguarding lead",
                duty_owner=True),
    StaffMember("referrer2", "Hannah", "Brooke", SCHOOL_2, Role.REFERRER, "Designated safeguarding lead",
                duty_owner=True),
    StaffMember("police", "Priya", "Sharma", POLICE, Role.POLICE_OFFICER, "Prevent officer", duty_owner=True),
    StaffMember("police2", "Gareth", "Owen", POLICE, Role.POLICE_OFFICER, "Prevent officer"),
    StaffMember("coordinator", "Colin", "Ward", NORTHSHIRE, Role.CHANNEL_COORDINATOR, "Channel coordinator",
                duty_owner=True),
    StaffMember("coordinator2", "Nadia", "Shah", RIVERTON, Role.CHANNEL_COORDINATOR, "Channel coordinator",
                duty_owner=True),
    StaffMember("chair", "Helen", "Marsh", NORTHSHIRE, Role.PANEL_CHAIR, "Head of safeguarding"),
    StaffMember("panel", "Peter", "Nkemelu", NHS, Role.PANEL_MEMBER, "Named nurse for safeguarding",
                panel_authority=NORTHSHIRE, duty_owner=True),
    StaffMember("provider", "Yasmin", "Farouk", BRIDGES, Role.PROVIDER, "Intervention provider", duty_owner=True),
    StaffMember("provider2", "Daniel", "Kerr", HORIZON, Role.PROVIDER, "Intervention provider", duty_owner=True),
    StaffMember("oversight", "Olivia", "Grant", HOME_OFFICE, Role.OVERSIGHT, "Prevent oversight officer"),
    StaffMember("admin", "Alex", "Morgan", None, Role.ADMINISTRATOR, "System administrator"),
)
STAFF_BY_USERNAME = {member.username: member for member in STAFF}
SCHOOL_REFERRER = {"northshire": "referrer", "riverton": "referrer2"}

# ---------------------------------------------------------------- the people and their journeys

# (plan, area, how many). Each plan ends at one stage; see Demo.plan_* for the steps.
PLANS: tuple[tuple[str, str, int], ...] = (
    ("gateway", "northshire", 2),
    ("gateway", "riverton", 1),
    ("signposted", "northshire", 2),
    ("signpost_accepted", "riverton", 1),
    ("no_further_action", "northshire", 2),
    ("no_further_action", "riverton", 1),
    ("police_led", "northshire", 2),
    ("police_led", "riverton", 1),
    ("police_led_closed", "northshire", 1),
    ("panel", "northshire", 3),
    ("not_adopted", "northshire", 1),
    ("awaiting_consent", "northshire", 2),
    ("support", "northshire", 6),
    ("consent_withdrawn", "northshire", 2),
    ("exited_awaiting_6", "northshire", 3),
    ("exited_awaiting_12", "northshire", 2),
    ("closed_after_reviews", "northshire", 3),
    ("repeat_referral", "northshire", 1),
    ("retention_due", "northshire", 2),
)
REPEAT_FAMILY_NAME = "Hussain"

CONCERN_WEIGHTS = {"islamist": 30, "extreme_right_wing": 30, "mixed_unclear": 16, "violence_fascination": 12,
                   "no_ideology": 8, "left_wing": 4}

# Concern descriptions, written for the demo; {he}, {his} and {him} follow the person's sex.
SCHOOL_CONCERNS: dict[str, tuple[str, ...]] = {
    "islamist": (
        "Has told classmates that anyone who votes is not a real Muslim and now refuses to sit with pupils "
        "{he} calls unbelievers. Shares clips from a preacher whose channel was removed for extremist content.",
        "Asked a teacher how someone could travel abroad without {his} parents knowing. Older young men "
        "none of the staff recognise have started collecting {him} from the school gate.",
    ),
    "extreme_right_wing": (
        "Drew symbols of a proscribed extreme right-wing group in {his} exercise books and told a Year 7 pupil "
        "that 'people like you will be sent back'.",
        "Posts memes about a coming 'race war' in a class group chat and has shown friends videos of "
        "{him}self in a skull mask making Nazi salutes.",
    ),
    "mixed_unclear": (
        "Moves between conspiracy channels, misogynist influencers and extreme right-wing memes. Tells staff "
        "that the system has to be 'torn down' and that violence will be needed to do it.",
    ),
    "violence_fascination": (
        "Repeatedly searches for school shootings on school computers and talks admiringly about the attackers' "
        "'scores'. A teacher found drawings of the school corridors with arrows and timings.",
    ),
    "no_ideology": (
        "Has become fixated on knives and on an online community that celebrates attackers. No particular "
        "ideology is expressed, but {he} has talked about 'going out with a bang'.",
    ),
    "left_wing": (
        "Talks about sabotaging a local defence factory and has shared instructions for disabling vehicles in "
        "an online group for a single-issue campaign.",
    ),
}
ADULT_CONCERNS: dict[str, tuple[str, ...]] = {
    "islamist": ("A colleague reported that {he} shares videos praising a banned group on a work chat and said "
                 "recent attacks abroad were 'deserved'.",),
    "extreme_right_wing": ("Neighbours reported stickers for an extreme right-wing group on {his} car and "
                           "threatening posts about a local mosque on {his} public social media account.",),
    "mixed_unclear": ("{He} told a housing officer that a 'cleansing' is coming and that {he} has a list of "
                      "people who will 'get what they deserve', mixing several conspiracy theories.",),
    "violence_fascination": ("A family member found folders of mass-shooting footage on {his} laptop and notes "
                             "comparing attackers' methods.",),
    "no_ideology": ("{He} has been buying knives online and talks about wanting to be remembered for something "
                    "'big'. No ideology has been expressed to staff.",),
    "left_wing": ("{He} has posted plans to damage the property of a company linked to animal testing and asked "
                  "others online for help.",),
}
REPEAT_CONCERN = ("Seen in the emergency department after a fight. Told the nurse {he} admires a recent attacker "
                  "and that {he} was 'reported to Prevent before and nothing happened'.")

GATEWAY_RATIONALE = {
    "no_further_action": (
        "Deconfliction and database checks found nothing of concern; the behaviour reflects a falling-out "
        "between pupils and the school's own behaviour policy is proportionate.",
        "Checks and a conversation with the referrer show no indicators of radicalisation; the concern arose "
        "from a misunderstood online joke, which the school has addressed with the family.",
    ),
    "signpost": (
        "The needs are about emotional wellbeing and family conflict rather than radicalisation; a service "
        "that can work with the whole family is better placed.",
        "No ideological engagement found, but real vulnerabilities need support from another service.",
    ),
    "police_led": (
        "Checks show live police interest in people around the person; police-led case management is "
        "proportionate while that is resolved.",
        "The person is over 18 and declined to engage; the risk is managed best by the police with partners.",
    ),
    "refer_to_panel": (
        "Checks confirm no live counter-terrorism investigation; the vulnerabilities and ideological interest "
        "are suited to multi-agency Channel support.",
        "There is a clear ideological element and several vulnerabilities the panel's partners can address.",
    ),
}
SIGNPOST_SERVICES = {
    "northshire": ("Northshire Early Help Service", "Children's social care, Northshire County Council",
                   "CAMHS, Northshire and Riverton NHS Foundation Trust"),
    "riverton": ("Riverton Early Help", "Riverton Youth Justice Service"),
}

# Each profile: factor code and its nature, for the framework a case is assessed on.
PROFILES: dict[str, dict[str, tuple[tuple[str, str], ...]]] = {
    "paf": {
        "islamist": (("S08-grievance", "underlying_cause"), ("S03-isolation", "underlying_cause"),
                     ("IE04-consuming-extremist-material", "presenting_behaviour"),
                     ("IE05-expressing-extremist-views", "presenting_behaviour")),
        "extreme_right_wing": (("S04-family-circumstances", "underlying_cause"),
                               ("S06-online-activity", "presenting_behaviour"),
                               ("IE04-consuming-extremist-material", "presenting_behaviour"),
                               ("IE05-expressing-extremist-views", "presenting_behaviour")),
        "mixed_unclear": (("S01-mental-health", "underlying_cause"), ("S03-isolation", "underlying_cause"),
                          ("IE02-mixed-unclear-ideology", "presenting_behaviour")),
        "violence_fascination": (("S02-neurodivergence", "underlying_cause"), ("S03-isolation", "underlying_cause"),
                                 ("IE03-fixation-on-violence", "presenting_behaviour"),
                                 ("RH02-weapons", "presenting_behaviour")),
        "no_ideology": (("S01-mental-health", "underlying_cause"),
                        ("S05-education-employment-disruption", "underlying_cause"),
                        ("IE01-no-ideology-identified", "presenting_behaviour"),
                        ("IE03-fixation-on-violence", "presenting_behaviour")),
        "left_wing": (("S08-grievance", "underlying_cause"), ("IE05-expressing-extremist-views", "presenting_behaviour")),
    },
    "vaf": {
        "islamist": (("E01-grievance-injustice", "underlying_cause"),
                     ("E03-identity-meaning-belonging", "underlying_cause"),
                     ("I01-over-identification", "presenting_behaviour"), ("I02-them-and-us", "presenting_behaviour")),
        "extreme_right_wing": (("E02-feeling-under-threat", "underlying_cause"),
                               ("E12-group-influence-control", "presenting_behaviour"),
                               ("I03-dehumanisation", "presenting_behaviour")),
        "mixed_unclear": (("E03-identity-meaning-belonging", "underlying_cause"),
                          ("E11-transitional-time", "underlying_cause"), ("I02-them-and-us", "presenting_behaviour")),
        "violence_fascination": (("E13-mental-health", "underlying_cause"),
                                 ("E05-excitement-adventure", "underlying_cause"),
                                 ("C01-knowledge-skills", "presenting_behaviour")),
        "no_ideology": (("E13-mental-health", "underlying_cause"), ("E05-excitement-adventure", "presenting_behaviour")),
        "left_wing": (("E08-political-moral-change", "underlying_cause"),
                      ("I04-justify-offending", "presenting_behaviour")),
    },
}
EVIDENCE: dict[str, str] = {
    "S01-mental-health": "Low mood and poor sleep reported by family; GP has noted anxiety.",
    "S02-neurodivergence": "School SENCo suspects autism; {he} struggles with change and fixes on topics.",
    "S03-isolation": "Few friends at school; spends most evenings alone online.",
    "S04-family-circumstances": "Parents separated last year; little supervision at home.",
    "S05-education-employment-disruption": "Excluded twice this year and now attends part-time.",
    "S06-online-activity": "Active in closed chat groups sharing extremist memes late at night.",
    "S08-grievance": "Angry about how {his} family was treated after an incident with neighbours.",
    "IE01-no-ideology-identified": "No consistent ideology; interest is in the violence itself.",
    "IE02-mixed-unclear-ideology": "Draws on several conflicting ideologies and conspiracy theories.",
    "IE03-fixation-on-violence": "Collects footage of attacks and talks about attackers' methods.",
    "IE04-consuming-extremist-material": "Watches and saves propaganda videos from banned groups.",
    "IE05-expressing-extremist-views": "Repeats extremist slogans to classmates and online.",
    "RH02-weapons": "Has searched online for how to buy knives and replica firearms.",
    "E01-grievance-injustice": "Feels {his} family and community are treated unjustly by the police.",
    "E02-feeling-under-threat": "Believes {his} area is being 'taken over' and {he} must defend it.",
    "E03-identity-meaning-belonging": "Looking for a group to belong to after moving schools.",
    "E05-excitement-adventure": "Drawn to the excitement and status of violent online communities.",
    "E08-political-moral-change": "Wants to force political change and is impatient with lawful routes.",
    "E11-transitional-time": "Left school with no plan and lost the routine that kept {him} steady.",
    "E12-group-influence-control": "Older members of an online group direct what {he} posts.",
    "E13-mental-health": "Long history of anxiety; currently not engaging with services.",
    "I01-over-identification": "Describes the group's cause as the only thing that gives life meaning.",
    "I02-them-and-us": "Divides people into believers and enemies in almost every conversation.",
    "I03-dehumanisation": "Uses dehumanising language about migrants in posts and at school.",
    "I04-justify-offending": "Says damaging property is justified to stop the company.",
    "C01-knowledge-skills": "Has researched weapons and attack methods in detail.",
}
# Support actions for underlying causes: description and who owns the action.
ACTIONS: dict[str, tuple[str, str]] = {
    "S01-mental-health": ("Referral for a mental health assessment and regular check-ins with the school nurse",
                          "health"),
    "S02-neurodivergence": ("Request an autism assessment through the school's SENCo and adapt how support is "
                            "offered", "school"),
    "S03-isolation": ("Place on the Saturday football programme at the community centre to widen friendships",
                      "coordinator"),
    "S04-family-circumstances": ("Early help family worker to support the parents with supervision at home",
                                 "coordinator"),
    "S05-education-employment-disruption": ("Reintegration plan with the school, with a named mentor", "school"),
    "S08-grievance": ("Youth worker sessions on the grievance, with a lawful route to raise the complaint",
                      "coordinator"),
    "E01-grievance-injustice": ("Youth worker sessions on the grievance and a meeting with the police "
                                "community liaison officer", "coordinator"),
    "E02-feeling-under-threat": ("Community cohesion project placement with young people from other areas",
                                 "coordinator"),
    "E03-identity-meaning-belonging": ("Mentoring and a place at the youth club to build belonging", "coordinator"),
    "E05-excitement-adventure": ("Fire service cadets programme for structured adventure", "coordinator"),
    "E08-political-moral-change": ("Mentor to channel campaigning into lawful activism", "coordinator"),
    "E11-transitional-time": ("Careers adviser to agree a college or apprenticeship place", "school"),
    "E13-mental-health": ("Referral to CAMHS and a named contact at the GP practice", "health"),
}
PROVIDER_FOR = {"islamist": "provider", "mixed_unclear": "provider", "left_wing": "provider",
                "no_ideology": "provider", "extreme_right_wing": "provider2", "violence_fascination": "provider2"}
TASKING_PURPOSE = {
    "islamist": "Theological and identity mentoring to challenge the extremist narrative",
    "extreme_right_wing": "Ideological mentoring on extreme right-wing narratives and online influence",
    "mixed_unclear": "Mentoring to untangle the mix of conspiracy beliefs and build critical thinking",
    "violence_fascination": "Specialist sessions on the fixation with violence and safer online habits",
    "no_ideology": "Mentoring on the fixation with violence and positive ways to gain status",
    "left_wing": "Mentoring on lawful campaigning and the harm of violent direct action",
}
SESSION_REPORTS = (
    "Met at the library. {He} engaged well and talked openly about the videos {he} had been watching.",
    "Session at the youth centre. We worked through where {his} information comes from and who benefits.",
    "Walked and talked in the park. {He} was quieter today but agreed to keep going with the sessions.",
    "Met at school in a private room. {He} challenged some of {his} own earlier views without prompting.",
    "Session at the community centre. We discussed the grievance and lawful ways to raise it.",
)
CANCEL_REASONS = (
    "The person was unwell; the session was rearranged for the following fortnight.",
    "The family was away; the parent asked to rearrange and the next session went ahead as planned.",
)
REVIEW_NOTES = {
    "continue": "Sessions are being attended and the school reports calmer behaviour; continue the plan.",
    "plan_changed": "Engagement dipped after a family crisis; the plan adds weekly check-ins with the school.",
    "consider_exit": "Partners agree vulnerability is much reduced; consider exit at the next panel.",
}
POST_EXIT_NOTES = "Police, school and health report no further concerns since the person exited Channel support."


class _DemoPostOffice:
    """A notifications backend that sends nothing and reports every message as delivered."""

    def send(self, message: Any) -> str:
        return f"demo-{message.pk}"


def at(day: date) -> Any:
    """Run services as if it were 10:00 on that day in London."""
    return frozen_at(datetime.combine(day, WORKING_HOUR, tzinfo=LONDON))


def _second_wednesday(year: int, month: int) -> date:
    first = date(year, month, 1)
    return first + timedelta(days=(2 - first.weekday()) % 7 + 7)


def panel_meetings_around(day: date) -> list[date]:
    """Northshire's panel meets on the second Wednesday of each month; the meetings near a day."""
    months = [add_months(date(day.year, day.month, 1), offset) for offset in range(-2, 3)]
    return [_second_wednesday(m.year, m.month) for m in months]


def next_meeting(day: date) -> date:
    return next(m for m in panel_meetings_around(day) if m >= day)


def previous_meeting(day: date) -> date:
    return max(m for m in panel_meetings_around(day) if m <= day)


def meeting_near(day: date) -> date:
    return min(panel_meetings_around(day), key=lambda m: abs((m - day).days))


# ---------------------------------------------------------------- the summary


@dataclass
class DemoSummary:
    """What was built: cases per stage (every stage listed) and who can sign in."""

    stages: dict[str, int]
    sign_in: list[tuple[str, str, str]]  # (username, role label, agency)
    people: int
    referrals: int
    password: str = PASSWORD


def sign_in_rows(users: list[User] | None = None) -> list[tuple[str, str, str]]:
    """The demo's users as (username, role label, agency), in the order they are introduced."""
    if users is None:
        order = {member.username: index for index, member in enumerate(STAFF)}
        users = sorted(User.objects.select_related("agency"), key=lambda u: (order.get(u.username, len(order)),
                                                                             u.username))
    return [(u.username, u.roles_display, u.agency.name if u.agency else "–") for u in users]


# ---------------------------------------------------------------- building


@dataclass
class Journey:
    """One person's way through the programme, planned before anything is written."""

    plan: str
    person: SyntheticPerson
    rng: random.Random
    concern: str = ""
    referrer: str = ""
    case: Case | None = None
    earlier: Case | None = None  # the first case of a repeat referral
    requests: list[InformationRequest] = field(default_factory=list)
    actions: list[SupportAction] = field(default_factory=list)
    tasking: Tasking | None = None
    steps_left: int = 0

    def days(self, low: int, high: int) -> timedelta:
        return timedelta(days=self.rng.randint(low, high))

    def say(self, text: str) -> str:
        female = self.person.sex == "female"
        words = {"he": "she" if female else "he", "his": "her" if female else "his", "him": "her" if female else "him"}
        words |= {k.capitalize(): v.capitalize() for k, v in words.items()}
        return text.format(**words)

    @property
    def birth(self) -> PartialDate:
        born = self.person.date_of_birth
        # About one referral in ten knows only the month of birth, as often happens.
        if self.person.index % 10 == 7:
            return PartialDate(born.year, born.month)
        return PartialDate.from_date(born)


def demo_cast(seed: int, today: date) -> list[Journey]:
    """Every journey of the demo with its synthetic person: pure, so tests can compute it without a database."""
    generator = PersonGenerator(seed, today=today)
    journeys = []
    for plan, area, count in PLANS:
        for _ in range(count):
            if plan == "repeat_referral":
                person = generator.person(area=area, sex="male", tradition="pakistani_bangladeshi",
                                          family_name=REPEAT_FAMILY_NAME, age=16)
            elif plan in ("support", "awaiting_consent", "panel"):
                # Under 18, so the school that referred them stays involved and a parent consents.
                age = random.Random(f"{seed}:age:{len(journeys)}").randint(13, 16)
                person = generator.person(area=area, age=age)
            else:
                person = generator.person(area=area)
            journeys.append(Journey(plan=plan, person=person, rng=random.Random(f"{seed}:journey:{person.index}")))
    return journeys


class Demo:
    """Plans every journey, then runs the steps in date order through the services."""

    def __init__(self, seed: int, today: date):
        self.today = today
        # Nothing happens later than yesterday, so no service sees a date in its future.
        self.last = today - timedelta(days=1)
        self.journeys = demo_cast(seed, today)
        self.steps: list[tuple[date, int, Journey, Callable[[], Any]]] = []
        self.users: dict[str, User] = {}
        self.agencies: dict[str, Agency] = {}
        self.meetings: dict[date, PanelMeeting] = {}

    # ------------------------------------------------------------ scheduling

    def position(self, j: Journey) -> int:
        """Which of the people on the same plan this is; the first few carry the plan's special features."""
        return [o for o in self.journeys if o.plan == j.plan].index(j)

    def step(self, j: Journey, day: date, run: Callable[[], Any]) -> None:
        """Plan one step; a step after yesterday has not happened yet, so it is left out."""
        if day > self.last:
            return
        self.steps.append((day, len(self.steps), j, run))
        j.steps_left += 1

    def build(self, progress: bool) -> DemoSummary:
        for j in self.journeys:
            j.concern = j.rng.choices(list(CONCERN_WEIGHTS), weights=list(CONCERN_WEIGHTS.values()))[0]
            getattr(self, f"plan_{j.plan}")(j)
        # Everything runs in date order, so references, meetings and the event log read as they would have.
        self.steps.sort(key=lambda s: (s[0], s[1]))
        with at(self.steps[0][0] - timedelta(days=21)):
            self.world()
        bar = tqdm(total=len(self.journeys), desc="Building the demo", unit="person", disable=not progress)
        with bar:
            previous: date | None = None
            for day, _, j, run in self.steps:
                if previous is not None and day != previous:
                    self.post(previous)
                previous = day
                with at(day):
                    run()
                j.steps_left -= 1
                if j.steps_left == 0:
                    bar.update(1)
            if previous is not None:
                self.post(previous)
        counts = dict(Case.objects.order_by().values_list("stage").annotate(n=Count("id")).values_list("stage", "n"))
        return DemoSummary(
            stages={stage.value: counts.get(stage.value, 0) for stage in Stage},
            sign_in=sign_in_rows([self.users[m.username] for m in STAFF]),
            people=len(self.journeys),
            referrals=sum(counts.values()),
        )

    def post(self, day: date) -> None:
        """The day's messages go out that evening, as the worker would have sent them (to nobody
        real: the demo's post office only notes them as sent)."""
        with frozen_at(datetime.combine(day, time(17), tzinfo=LONDON)):
            while True:
                report = outbox_deliver(backend=_DemoPostOffice())
                if not report.sent or not report.remaining:
                    break

    def world(self) -> None:
        police = None
        for name, kind, region, _ in AGENCIES:
            police_force = police if kind == AgencyKind.LOCAL_AUTHORITY else None
            self.agencies[name] = agency_create(name=name, kind=kind, region=region, police_force=police_force)
            if kind == AgencyKind.POLICE:
                police = self.agencies[name]
        admin = self.user(STAFF_BY_USERNAME["admin"])
        organisations = {}
        for name, specialisms in PROVIDERS.items():
            organisations[name] = provider_organisation_save(
                user=admin, agency=None, name=name, specialisms=list(specialisms), status="approved",
                approved_until=self.today + timedelta(days=365))
            self.agencies[name] = organisations[name].agency
        for member in STAFF:
            if member.username == "admin":
                continue
            user = self.user(member)
            if member.role is Role.PROVIDER:
                organisation = organisations[member.agency or ""]
                provider_worker_save(user=admin, worker_user=user, organisation=organisation,
                                     specialisms=list(organisation.specialisms), status="approved",
                                     vetting_expires_on=self.today + timedelta(days=240))
            if member.duty_owner:
                agency_set_duty_owner(agency=self.agencies[member.agency or ""], user=user, actor=admin)

    def user(self, member: StaffMember) -> User:
        agency = self.agencies[member.agency] if member.agency else None
        domain = EMAIL_DOMAINS.get(member.agency or "", "casetrail.example.org")
        self.users[member.username] = user_create(
            username=member.username, password=PASSWORD, first_name=member.first_name, last_name=member.last_name,
            email=f"{member.first_name}.{member.last_name}@{domain}".lower(), agency=agency,
            roles=[member.role.value], job_title=member.job_title,
            panel_authority=self.agencies[member.panel_authority] if member.panel_authority else None,
            is_demo=True,
        )
        # Staff need a second factor; `manage.py demo_code <username>` prints a demo user's code.
        if second_factor_required(self.users[member.username]):
            totp_device_create_for_demo(user=self.users[member.username])
        return self.users[member.username]

    def meeting(self, day: date) -> PanelMeeting:
        if day not in self.meetings:
            self.meetings[day] = cs.panel_meeting_create(user=self.users["coordinator"], meets_on=day,
                                                         chair=self.users["chair"],
                                                         location="County Hall, Committee Room 2")
        return self.meetings[day]

    def attendees(self, j: Journey) -> list[str]:
        people = ["chair", "coordinator", "police", "panel"]
        if j.referrer in SCHOOL_REFERRER.values():
            people.append(j.referrer)  # the school that referred stays involved
        return [f"{u.get_full_name()}, {u.job_title}, {u.agency}" for u in (self.users[p] for p in people)]

    # ------------------------------------------------------------ steps shared by the plans

    def choose_referrer(self, j: Journey, day: date) -> str:
        if j.person.age_on(day) < 18:
            options = {SCHOOL_REFERRER[j.person.area]: 55, "police2": 20, "panel": 15, "coordinator": 10}
        else:
            options = {"police2": 45, "panel": 35, "coordinator": 20}
        if j.person.area == "riverton" and "coordinator" in options:
            options["coordinator2"] = options.pop("coordinator")
        return j.rng.choices(list(options), weights=list(options.values()))[0]

    def refer(self, j: Journey, day: date, *, referrer: str = "", family_name: str = "", concern: str = "",
              again: bool = False) -> None:
        j.referrer = referrer or self.choose_referrer(j, day)
        member = STAFF_BY_USERNAME[j.referrer]
        at_school = member.role is Role.REFERRER
        pool = SCHOOL_CONCERNS if j.person.age_on(day) < 18 else ADULT_CONCERNS
        text = j.say(concern or j.rng.choice(pool[j.concern]))
        types = [j.concern] + (["mixed_unclear"] if j.concern != "mixed_unclear" and j.rng.random() < 0.15 else [])
        observed = max(day - j.days(2, 45), j.person.date_of_birth)
        sector = {Role.REFERRER: "education", Role.POLICE_OFFICER: "police", Role.PANEL_MEMBER: "health",
                  Role.CHANNEL_COORDINATOR: "local_authority"}[member.role]
        data = dict(
            referrer_job_title=member.job_title, referrer_phone=f"01632 960{j.rng.randint(0, 999):03d}",
            referrer_sector=sector, given_names=j.person.given_names,
            family_name=family_name or j.person.family_name, other_names="", date_of_birth=j.birth,
            sex=j.person.sex, address=j.person.address, postcode=j.person.postcode,
            school_or_workplace=member.agency if at_school else j.person.school_or_workplace, concern=text,
            first_observed_on=observed, concern_types=tuple(types),
            urgency=j.rng.choices(["routine", "urgent"], weights=[85, 15])[0],
            person_aware=j.rng.choice(["yes", "no", "not_known"]),
            discussed_with=j.rng.choice(["Head of year", "Designated safeguarding lead", "Line manager",
                                         "Team manager", "Named nurse for safeguarding"]),
            **self.identifiers_known(j, day, sector),
        )
        area = j.person.area

        def run() -> None:
            user = self.users[member.username]
            referral, _ = referral_submit(user=user, data=ReferralInput(
                referrer_name=user.get_full_name(), referrer_email=user.email,
                referrer_organisation=str(user.agency), local_authority_id=self.agencies[AREA_AUTHORITY[area]].pk,
                **data))
            if again:
                j.earlier = j.case
            j.case = referral.case
        self.step(j, day, run)

    @staticmethod
    def identifiers_known(j: Journey, day: date, sector: str) -> dict[str, str]:
        """Which of the person's identifiers this referrer knows: a health referrer usually has the
        NHS number and a school the UPN; others seldom. A stream of its own, so the rest of the
        journey draws exactly what it drew before identifiers were recorded."""
        rng = random.Random(f"identifiers:{j.person.nhs_number}:{day.isoformat()}")
        nhs_known = rng.random() < (0.9 if sector == "health" else 0.3)
        upn_known = bool(j.person.upn) and rng.random() < (0.75 if sector == "education" else 0.1)
        # Written as people type them: the NHS number in groups, sometimes the UPN in lower case.
        nhs_number = f"{j.person.nhs_number[:3]} {j.person.nhs_number[3:6]} {j.person.nhs_number[6:]}"
        pupil_number = j.person.upn.lower() if rng.random() < 0.2 else j.person.upn
        return {"nhs_number": nhs_number if nhs_known else "", "upn": pupil_number if upn_known else ""}

    def gateway(self, j: Journey, referred: date, decided: date, outcome: str, *, officer: str = "") -> None:
        officer = officer or j.rng.choices(["police", "police2"], weights=[70, 30])[0]
        signposted_to = j.rng.choice(SIGNPOST_SERVICES[j.person.area]) if outcome == "signpost" else ""
        rationale = j.rng.choice(GATEWAY_RATIONALE[outcome])
        contacted = max(referred, decided - j.days(0, 3))
        self.step(j, decided, lambda: cs.gateway_decide(
            user=self.users[officer], case=j.case, expected_version=None, deconfliction_done=True,
            database_checks_done=True, referrer_contacted_on=contacted,
            referrer_contact_summary="Spoke to the referrer, who added background and agreed to share updates.",
            outcome=outcome, signposted_to=signposted_to, rationale=rationale, decided_on=decided,
            nfa_reasons=["no_vulnerability", "needs_met_elsewhere"] if outcome == "no_further_action" else []))

    def to_panel(self, j: Journey, referred: date, *, agenda_on: date | None = None, meeting: date | None = None,
                 open_requests: tuple[str, ...] = ()) -> date:
        """Gateway to Channel, onto a panel agenda, with information requests; returns the meeting day."""
        decided = referred + j.days(3, 6)
        agenda_on = agenda_on or decided + j.days(1, 3)
        decided = min(decided, agenda_on)
        meeting = meeting or next_meeting(agenda_on + timedelta(days=5))
        self.gateway(j, referred, decided, "refer_to_panel")
        ask = ["nhs"] + (["police"] if "police" in open_requests or j.rng.random() < 0.35 else [])
        def put_on_agenda() -> None:
            cs.agenda_add(user=self.users["coordinator"], meeting=self.meeting(meeting), case=j.case)
            for partner in ask:
                question = ("Is the young person known to health services, and is there anything the panel should "
                            "know about {his} mental health?" if partner == "nhs" else
                            "Please share any police contact or intelligence relevant to the panel's assessment.")
                j.requests.append(cs.information_request_create(
                    user=self.users["coordinator"], case=j.case, requested_on=agenda_on, question=j.say(question),
                    to_agency=self.agencies[NHS if partner == "nhs" else POLICE]))
        self.step(j, agenda_on, put_on_agenda)
        for index, partner in enumerate(ask):
            if partner in open_requests:
                continue
            replied = min(agenda_on + j.days(2, 5), meeting - timedelta(days=1), self.last)
            reply = (j.rng.choice(["Known to CAMHS two years ago for anxiety; discharged after six sessions.",
                                   "Not known to mental health services; no recent GP contact of concern.",
                                   "On the waiting list for a neurodevelopmental assessment."])
                     if partner == "nhs" else
                     j.rng.choice(["No intelligence of concern beyond the referral.",
                                   "One contact last year as a witness; nothing linked to extremism."]))
            self.step(j, replied, lambda i=index, p=partner, r=reply, d=replied: cs.information_request_reply(
                user=self.users["panel" if p == "nhs" else "police"], request=j.requests[i], reply=r, replied_on=d))
        return meeting

    def panel_decision(self, j: Journey, meeting: date, *, adopt: bool) -> None:
        dissent = ("The police representative thought police-led management more proportionate; the panel "
                   "agreed to review after the first sessions." if adopt and j.rng.random() < 0.2 else "")
        rationale = ("The panel agrees there are vulnerabilities that multi-agency support can reduce, and the "
                     "family is willing to engage." if adopt else
                     "The panel found no ideological element needing Channel; the needs are met by early help.")
        self.step(j, meeting, lambda: cs.panel_decide(
            user=self.users["chair"], case=j.case, expected_version=None, adopt=adopt,
            attendees=self.attendees(j), rationale=rationale, dissent=dissent,
            signposted_to="" if adopt else "Northshire Early Help Service", decided_on=meeting))

    def consent(self, j: Journey, day: date) -> None:
        child = age_on(j.birth, day) < 18
        self.step(j, day, lambda: cs.consent_record(
            user=self.users["coordinator"], case=j.case, expected_version=None, given=True,
            giver="parent_carer" if child else "person",
            giver_name=j.person.parent_carer if child else j.person.full_name, capacity_confirmed=True,
            capacity_notes="" if child else "Understands what Channel support involves and can decide.",
            scope="Channel support, and sharing information with the provider, school and health partners.",
            given_on=day))

    def assess(self, j: Journey, day: date, *, reduced: bool = False) -> list[tuple[str, str]]:
        """Assess on the framework in use that day; returns the factors found present."""
        framework = frameworks.current_framework(day)
        profile = PROFILES[framework.key][j.concern]
        if reduced:
            # At exit, only the deepest underlying cause remains, much reduced.
            profile = profile[:1]
        judgements: dict[str, dict[str, Any]] = {
            f.code: {"present": False, "evidence": "", "nature": None} for f in framework.factors}
        for code, nature in profile:
            evidence = j.say(EVIDENCE[code]) + (" Much reduced since support began." if reduced else "")
            judgements[code] = {"present": True, "evidence": evidence, "nature": nature}
        summary = (f"Reassessed before exit on the {framework.name}: the remaining vulnerability is much reduced."
                   if reduced else
                   f"Assessed on the {framework.name}: underlying causes to be met by the plan, "
                   f"presenting behaviours by the intervention provider.")
        def run() -> None:
            user = self.users["coordinator"]
            draft = cs.assessment_start(user=user, case=j.case)
            draft = cs.assessment_save(user=user, assessment=draft, expected_version=None, judgements=judgements,
                                       summary=summary)
            cs.assessment_submit(user=user, assessment=draft, expected_version=None, assessed_on=day)
        self.step(j, day, run)
        return list(profile)

    def support_plan(self, j: Journey, day: date, found: list[tuple[str, str]], sessions: int) -> None:
        underlying = [code for code, nature in found if nature == "underlying_cause"]
        presenting = [code for code, nature in found if nature == "presenting_behaviour"]
        owners = {"coordinator": "coordinator", "health": "panel",
                  "school": j.referrer if j.referrer in SCHOOL_REFERRER.values() else "coordinator"}
        planned = [(j.say(ACTIONS[code][0]), code, owners[ACTIONS[code][1]], day + j.days(30, 90))
                   for code in underlying]
        provider = PROVIDER_FOR[j.concern]

        def run() -> None:
            for description, code, owner, due in planned:
                j.actions.append(cs.support_action_add(user=self.users["coordinator"], case=j.case,
                                                       description=description, vulnerabilities=[code],
                                                       owner_user=self.users[owner], due_on=due))
            j.tasking = cs.tasking_commission(user=self.users["coordinator"], case=j.case,
                                              provider_user=self.users[provider], sessions_commissioned=sessions,
                                              purpose=TASKING_PURPOSE[j.concern], vulnerabilities=presenting,
                                              commissioned_on=day)
        self.step(j, day, run)

    def deliver(self, j: Journey, acknowledged: date, session_days: list[date], *, cancel: int | None) -> None:
        provider = PROVIDER_FOR[j.concern]
        self.step(j, acknowledged, lambda: cs.tasking_acknowledge(
            user=self.users[provider], tasking=j.tasking, acknowledged_on=acknowledged))
        for number, held in enumerate(session_days):
            if number == cancel:
                reason = j.rng.choice(CANCEL_REASONS)
                self.step(j, held, lambda d=held, r=reason: cs.session_cancel(
                    user=self.users[provider], tasking=j.tasking, cancelled_on=d, reason=r))
            else:
                report = j.say(j.rng.choice(SESSION_REPORTS))
                self.step(j, held, lambda d=held, r=report: cs.session_record(
                    user=self.users[provider], tasking=j.tasking, held_on=d, report=r))

    def panel_reviews(self, j: Journey, after: date, before: date, *, exiting: bool) -> None:
        meetings = sorted({m for d in range(0, (before - after).days, 25)
                           for m in panel_meetings_around(after + timedelta(days=d))
                           if after + timedelta(days=10) <= m < before})
        held = [m for m in meetings if j.rng.random() < 0.8]
        for index, meeting in enumerate(held):
            outcome = ("consider_exit" if exiting and index == len(held) - 1
                       else j.rng.choices(["continue", "plan_changed"], weights=[75, 25])[0])
            self.on_agenda(j, meeting)
            self.step(j, meeting, lambda m=meeting, o=outcome: cs.panel_review_record(
                user=self.users["chair"], case=j.case, expected_version=None, held_on=m, outcome=o,
                notes=REVIEW_NOTES[o], attendees=self.attendees(j)))

    def on_agenda(self, j: Journey, meeting: date) -> None:
        self.step(j, meeting - timedelta(days=7), lambda: cs.agenda_add(
            user=self.users["coordinator"], meeting=self.meeting(meeting), case=j.case))

    def complete_actions(self, j: Journey, day: date, *, status: str = "done", only_first: bool = False) -> None:
        note = ("Delivered as planned; the person took part and partners saw the difference." if status == "done"
                else "Stopped because consent to Channel support was withdrawn.")

        def run() -> None:
            for action in j.actions[:1] if only_first else j.actions:
                # The owner records it when they can (the school, say); otherwise the coordinator.
                owner = User.objects.get(pk=action.owner_user_id)
                cs.support_action_complete(user=owner, action=action, status=status, completed_on=day, note=note)
        self.step(j, day, run)

    def cover_remaining(self, j: Journey, day: date) -> None:
        """After a reassessment (perhaps on a newer framework, with new factor codes), record the
        support already delivered against any remaining vulnerability the plan does not yet name."""
        covered = {code for a in j.case.support_actions.filter(status="done") for code in a.vulnerabilities}
        covered |= {code for t in j.case.taskings.all() if t.sessions.filter(status="delivered").exists()
                    for code in t.vulnerabilities}
        coordinator = self.users["coordinator"]
        for code in cs.latest_vulnerability_codes(j.case):
            if code in covered:
                continue
            action = cs.support_action_add(
                user=coordinator, case=j.case, vulnerabilities=[code], owner_user=coordinator, due_on=day,
                description="Support given through the plan and the sessions, recorded against the reassessment.")
            cs.support_action_complete(user=coordinator, action=action, status="done", completed_on=day,
                                       note="Delivered through the mentoring sessions and the school's pastoral plan.")

    def channel(self, j: Journey, referred: date, *, end: date | None = None, ending: str = "",
                reviews: bool = True, cancel_a_session: bool | None = None, referrer: str = "",
                consequence: str = "") -> date:
        """The Channel journey from referral through support, up to an exit or a withdrawal of consent on `end`.

        Returns the day support ended (the exit meeting), or today when it goes on.
        """
        self.refer(j, referred, referrer=referrer)
        meeting = self.to_panel(j, referred)
        self.panel_decision(j, meeting, adopt=True)
        consented = meeting + j.days(4, 12)
        self.consent(j, consented)
        assessed = consented + j.days(3, 10)
        found = self.assess(j, assessed)
        if ending == "exit":
            assert end is not None
            end = meeting_near(end)
            while end < assessed + timedelta(days=45):
                end = next_meeting(end + timedelta(days=1))
        finish = end or self.last + timedelta(days=1)
        acknowledged = assessed + j.days(1, 4)
        session_days = []
        held = acknowledged + j.days(5, 9)
        while held <= finish - timedelta(days=5) and len(session_days) < 10:
            session_days.append(held)
            held += j.days(12, 16)
        if ending == "exit":
            commissioned = max(len(session_days), 1)
        else:
            commissioned = min(len(session_days) + j.rng.randint(2, 4), 12)
        if cancel_a_session is None:
            cancel_a_session = j.rng.random() < 0.5
        self.support_plan(j, assessed, found, commissioned)
        self.deliver(j, acknowledged, session_days,
                     cancel=1 if cancel_a_session and len(session_days) > 2 else None)
        if reviews:
            self.panel_reviews(j, assessed, finish, exiting=ending == "exit")
        if ending == "exit":
            self.complete_actions(j, finish - j.days(8, 14))
            reassessed = finish - j.days(8, 12)
            self.assess(j, reassessed, reduced=True)
            self.step(j, reassessed, lambda: self.cover_remaining(j, reassessed))
            consulted = finish - j.days(4, 7)
            self.step(j, consulted, lambda: cs.referrer_consultation_record(
                user=self.users["coordinator"], case=j.case, consulted_on=consulted, method="phone",
                summary="The referrer sees a real change in the person and supports ending Channel support."))
            self.on_agenda(j, finish)
            self.step(j, finish, lambda: cs.case_exit(
                user=self.users["chair"], case=j.case, expected_version=None, exited_on=finish,
                rationale="All members agree the vulnerabilities are removed or much reduced after the sessions "
                          "and the plan's actions.",
                residual_concerns="Online activity to be watched by the school and family.",
                onward_support="School pastoral support and the youth club placement continue.",
                attendees=self.attendees(j)))
        elif ending == "withdrawn":
            assert end is not None
            reason = ("The parent withdrew consent after the family moved in with relatives and no longer wants "
                      "contact." if age_on(j.birth, end) < 18 else
                      "The person said they no longer want contact with any service.")
            self.step(j, end, lambda: cs.consent_withdraw(user=self.users["coordinator"], case=j.case,
                                                          expected_version=None, withdrawn_on=end, reason=reason,
                                                          consequence=consequence))
            self.complete_actions(j, end, status="cancelled")
        else:
            self.complete_actions(j, assessed + j.days(20, 40), only_first=True)
        return finish

    def post_exit_reviews(self, j: Journey, exited: date, *, late_twelve: bool = False) -> None:
        reviewer = j.rng.choice(["police", "coordinator"])
        for months in (6, 12):
            held = add_months(exited, months) + j.days(0, 12)
            # One review recorded weeks after it was held, as in the 2014 case; the log shows the gap.
            recorded = held + timedelta(days=30) if late_twelve and months == 12 else held
            self.step(j, recorded, lambda m=months, h=held: cs.post_exit_review_record(
                user=self.users[reviewer], case=j.case, expected_version=None, months=m, held_on=h,
                outcome="no_concerns", notes=POST_EXIT_NOTES))
        closed = recorded + j.days(2, 10)
        self.step(j, closed, lambda: cs.case_close(
            user=self.users["coordinator"], case=j.case, expected_version=None, closed_on=closed,
            rationale="Both post-exit reviews found no concerns; the case is closed to Prevent."))

    # ------------------------------------------------------------ the plans

    def plan_gateway(self, j: Journey) -> None:
        self.refer(j, self.last - j.days(0, 4))

    def plan_signposted(self, j: Journey) -> None:
        referred = self.last - j.days(12, 30)
        self.refer(j, referred)
        self.gateway(j, referred, referred + j.days(3, 6), "signpost")

    def plan_signpost_accepted(self, j: Journey) -> None:
        referred = self.today - j.days(120, 200)
        decided = referred + j.days(3, 6)
        replied = decided + j.days(6, 14)
        self.refer(j, referred)
        self.gateway(j, referred, decided, "signpost", officer="police")
        self.step(j, replied, lambda: cs.signposting_reply(
            user=self.users["police"], case=j.case, expected_version=None, accepted=True,
            service_contact="Duty manager, Riverton Early Help",
            rationale="The service has accepted the referral and allocated a family worker.", replied_on=replied))

    def plan_no_further_action(self, j: Journey) -> None:
        referred = self.today - j.days(30, 520)
        self.refer(j, referred)
        self.gateway(j, referred, referred + j.days(2, 6), "no_further_action")

    def plan_retention_due(self, j: Journey) -> None:
        """Closed with no further action over three years ago: its retention review is due (the
        retention queue). The first is held from disposal while a learning review reads it."""
        referred = self.today - j.days(3 * 365 + 30, 3 * 365 + 200)
        decided = referred + j.days(2, 6)
        self.refer(j, referred)
        self.gateway(j, referred, decided, "no_further_action")
        if self.position(j) == 0:
            held = self.today - j.days(20, 60)
            self.step(j, held, lambda: cs.retention_hold_place(
                user=self.users["police"], case=j.case, reason_kind="review", placed_on=held,
                reason="The community safety partnership's learning review has asked for every referral from this "
                       "school in that year; keep it until the review reports."))

    def plan_police_led(self, j: Journey) -> None:
        referred = self.today - j.days(40, 150)
        decided = referred + j.days(3, 6)
        self.refer(j, referred)
        self.gateway(j, referred, decided, "police_led", officer="police")
        if self.position(j) == 0:
            # Handed to a colleague and accepted: the owner changes, the history shows who and why.
            offered = decided + j.days(10, 20)
            offers = []
            self.step(j, offered, lambda: offers.append(cs.handover_offer(
                user=self.users["police"], case=j.case, target_type="case", target_id=j.case.pk,
                to_user=self.users["police2"],
                reason="Gareth covers the person's neighbourhood and already knows the family; one point of "
                       "contact is better.")))
            self.step(j, offered + j.days(1, 2), lambda: cs.handover_respond(
                user=self.users["police2"], handover=offers[0], accept=True,
                note="Accepted; I will contact the family this week."))

    def plan_police_led_closed(self, j: Journey) -> None:
        referred = self.today - j.days(200, 400)
        decided = referred + j.days(3, 6)
        closed = decided + j.days(60, 120)
        self.refer(j, referred)
        self.gateway(j, referred, decided, "police_led", officer="police")
        self.step(j, closed, lambda: cs.police_led_decide(
            user=self.users["police"], case=j.case, expected_version=None, outcome="close",
            rationale="Police-led work is complete: the associates are no longer of concern and the person is "
                      "in work with support.", decided_on=closed))

    def plan_panel(self, j: Journey) -> None:
        # On the agenda of the next meeting, which has not happened yet.
        earliest = max(previous_meeting(self.last) - timedelta(days=4), self.last - timedelta(days=20))
        agenda_on = earliest + j.days(0, max((self.last - earliest).days, 0))
        referred = agenda_on - j.days(5, 9)
        # The first waits on the police while health has answered; the second waits on health.
        still_open = {0: ("police",), 1: ("nhs",)}.get(self.position(j), ())
        self.refer(j, referred)
        self.to_panel(j, referred, agenda_on=agenda_on, open_requests=still_open,
                      meeting=next_meeting(max(agenda_on + timedelta(days=5), self.today)))

    def plan_not_adopted(self, j: Journey) -> None:
        referred = self.today - j.days(60, 250)
        self.refer(j, referred)
        self.panel_decision(j, self.to_panel(j, referred), adopt=False)

    def plan_awaiting_consent(self, j: Journey) -> None:
        meeting = previous_meeting(self.last)
        agenda_on = meeting - j.days(6, 20)
        referred = agenda_on - j.days(5, 9)
        self.refer(j, referred)
        self.to_panel(j, referred, agenda_on=agenda_on, meeting=meeting)
        self.panel_decision(j, meeting, adopt=True)

    def plan_support(self, j: Journey) -> None:
        feature = {0: "cancelled_session", 1: "case_handover", 2: "action_handover"}.get(self.position(j), "")
        # Referred by the school, which stays involved in the plan (the 2014 case left it out).
        self.channel(j, self.today - j.days(100, 220), cancel_a_session=feature == "cancelled_session" or None,
                     referrer=SCHOOL_REFERRER[j.person.area])
        if feature == "cancelled_session":
            # A concern raised at a multi-agency meeting, not yet discussed and decided: flagged.
            raised = self.last - j.days(18, 24)
            self.step(j, raised, lambda: cs.significant_event_record(
                user=self.users["coordinator"], case=j.case, kind="meeting_concern", occurred_on=raised,
                source="Multi-agency safeguarding meeting",
                summary="Youth services said {he} has new older friends who share violent material online."
                        .format(he="he" if j.person.sex == "male" else "she")))
        if feature == "case_handover":
            offered = self.last - j.days(0, 3)
            self.step(j, offered, lambda: cs.case_transfer_offer(
                user=self.users["coordinator"], case=j.case, to_agency=self.users["coordinator2"].agency,
                kind="moved_area",
                reason="The family has moved to Riverton; transferring the case so support carries on without a "
                       "break, rather than closing it."))
        elif feature == "action_handover":
            offered = self.last - j.days(0, 3)

            def offer_action() -> None:
                action = (SupportAction.objects.filter(case=j.case, status="open")
                          .exclude(owner_user=self.users["panel"]).order_by("id").last())
                if action is not None:  # every action may already be done or with health
                    cs.handover_offer(user=self.users["coordinator"], case=j.case, target_type="support_action",
                                      target_id=action.pk, to_user=self.users["panel"],
                                      reason="Health is better placed to lead this action now that a CAMHS "
                                             "appointment has been offered.")
            self.step(j, offered, offer_action)

    def plan_consent_withdrawn(self, j: Journey) -> None:
        referred = self.today - j.days(150, 260)
        withdrawn = referred + timedelta(days=75) + j.days(20, 50)
        # One goes back to police-led management, the other is closed with other safeguarding support.
        self.channel(j, referred, end=min(withdrawn, self.last), ending="withdrawn",
                     consequence="police_led" if self.position(j) == 0 else "close")

    def plan_exited_awaiting_6(self, j: Journey) -> None:
        # Exited about five months ago: the 6-month post-exit review falls due next month.
        target = self.today - timedelta(days=150)
        # The first exits without a single panel review, as the 2014 case did.
        self.channel(j, target - j.days(150, 190), end=target, ending="exit", reviews=self.position(j) != 0)

    def plan_exited_awaiting_12(self, j: Journey) -> None:
        target = self.today - j.days(225, 300)
        exited = self.channel(j, target - j.days(150, 190), end=target, ending="exit")
        self.post_exit_reviews(j, exited)

    def plan_closed_after_reviews(self, j: Journey) -> None:
        position = self.position(j)
        if position < 2:
            # Assessed in summer 2024, before the Prevent Assessment Framework replaced the VAF.
            referred = date(2024, 5, 13) + j.days(0, 14)
            target = referred + j.days(170, 220)
        else:
            target = self.today - timedelta(days=440)
            referred = target - j.days(150, 190)
        exited = self.channel(j, referred, end=target, ending="exit")
        self.post_exit_reviews(j, exited, late_twelve=position == 1)
        if position == 2:
            # Years later, the young person asks for everything held about them (a subject access
            # request, with its statutory deadline; it holds the case from disposal until answered).
            asked = self.today - j.days(8, 15)
            self.step(j, asked, lambda: subject_access_request_open(
                user=self.users["police"], person=j.case.person, requested_by="The person, by email to the force",
                received_on=asked))

    def plan_repeat_referral(self, j: Journey) -> None:
        """Referred twice, the surname misspelt the second time; the police link the records."""
        j.concern = "violence_fascination"
        first = self.today - j.days(230, 260)
        self.refer(j, first, referrer=SCHOOL_REFERRER[j.person.area])
        self.gateway(j, first, first + j.days(2, 5), "no_further_action", officer="police2")
        second = self.last - j.days(1, 3)
        self.refer(j, second, referrer="panel", family_name=misspelt(j.person.family_name), concern=REPEAT_CONCERN,
                   again=True)
        self.step(j, second + timedelta(days=1), lambda: cs.case_link_person(
            user=self.users["police"], case=j.case, person=j.earlier.person,
            rationale="Same date of birth and home address as an earlier referral; the surname is misspelt on "
                      "this one."))
        # A third, yesterday, with the surname written yet another way: nobody has looked yet, so
        # its possible earlier record waits on the gateway officer's work list and blocks the gateway.
        self.refer(j, self.last, referrer=SCHOOL_REFERRER[j.person.area],
                   family_name=misspelt(j.person.family_name, again=True))


def load_demo(*, seed: int = 2026, progress: bool = True) -> DemoSummary:
    """Build the demo into an empty database, as of today (or the clock's frozen day)."""
    with transaction.atomic():
        return Demo(seed, clock.today()).build(progress)
