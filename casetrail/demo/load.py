"""A reproducible synthetic demo built only through the services: agencies, one user per role,
and people at every stage of the journey. No real person's data."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone
from tqdm import tqdm

from casetrail.accounts.services import agency_create, agency_set_duty_owner, user_create
from casetrail.cases import services as cs
from casetrail.cases.models import Case
from casetrail.clock import frozen_at
from casetrail.core import frameworks
from casetrail.core.dates import PartialDate
from casetrail.core.referrals import ReferralInput
from casetrail.providers.services import provider_organisation_save, provider_worker_save
from casetrail.referrals.services import referral_submit

PASSWORD = "casetrail-demo-2026"
GIVEN = ["Adam", "Ayaan", "Kacper", "Liam", "Mohammed", "Oluwaseun", "Tomasz", "Jayden", "Harvey", "Ibrahim",
         "Callum", "Yusuf", "Reece", "Kwame", "Arjun", "Dmitri", "Omar", "Connor", "Chloe", "Amira", "Wei", "Bilal"]
FAMILY = ["Hussain", "Kowalski", "Okafor", "Patel", "Thompson", "Begum", "Nowak", "Mensah", "Ahmed", "Walsh",
          "Chen", "Evans", "Rahman", "Popescu", "Osei", "Khan", "Murphy", "Ali", "Hughes", "Singh"]
STREETS = ["Mill Lane", "Station Road", "Church Street", "Albert Road", "Victoria Terrace", "Park Avenue"]
CONCERNS = [
    "Has told classmates that violence against a named group is justified and shares extreme videos in group chats.",
    "Says he wants to leave the country to live under a 'true' state and has stopped attending lessons.",
    "Searches repeatedly for school shootings and talks admiringly of the attackers to younger pupils.",
    "Posts antisemitic and anti-Muslim memes online and has tried to recruit friends to a private channel.",
]


@dataclass
class DemoSummary:
    stages: Counter[str] = field(default_factory=Counter)
    sign_in: list[tuple[str, str, str]] = field(default_factory=list)


def at(day: date) -> Any:
    return frozen_at(timezone.make_aware(datetime.combine(day, datetime.min.time()).replace(hour=10)))


class Demo:
    def __init__(self, seed: int):
        self.random = random.Random(seed)
        self.today = date.today()

    def world(self) -> None:
        police = agency_create(name="Northshire Police Counter Terrorism Policing", kind="police", region="North West")
        council = agency_create(name="Northshire County Council", kind="local_authority", police_force=police,
                                region="North West")
        riverton = agency_create(name="Riverton City Council", kind="local_authority", police_force=police,
                                 region="North West")
        school = agency_create(name="Northshire Academy", kind="school")
        nhs = agency_create(name="Northshire NHS Foundation Trust", kind="health")
        home_office = agency_create(name="Home Office Prevent Oversight", kind="home_office")

        def user(username: str, first: str, last: str, agency: Any, *roles: str, **extra: Any) -> Any:
            return user_create(username=username, password=PASSWORD, first_name=first, last_name=last,
                               email=f"{username}@example.org", agency=agency, roles=list(roles), **extra)

        self.admin = user("admin", "Alex", "Admin", None, "administrator", job_title="System administrator")
        bridges = provider_organisation_save(user=self.admin, agency=None, name="Bridges Mentoring CIC",
                                             specialisms=["islamist", "mentoring"], status="approved",
                                             approved_until=self.today + timedelta(days=400))
        horizon = provider_organisation_save(user=self.admin, agency=None, name="Horizon Intervention Services",
                                             specialisms=["extreme_right_wing", "online_harms"], status="approved",
                                             approved_until=self.today + timedelta(days=300))
        self.users = {
            "referrer": user("referrer", "Rachel", "Reid", school, "referrer", job_title="Designated safeguarding lead"),
            "police": user("police", "Priya", "Sharma", police, "police_officer", job_title="Prevent officer"),
            "police2": user("police2", "Gareth", "Owen", police, "police_officer", job_title="Prevent officer"),
            "coordinator": user("coordinator", "Colin", "Ward", council, "channel_coordinator",
                                job_title="Channel coordinator"),
            "chair": user("chair", "Helen", "Marsh", council, "panel_chair", job_title="Head of safeguarding"),
            "coordinator2": user("coordinator2", "Nadia", "Shah", riverton, "channel_coordinator",
                                 job_title="Channel coordinator"),
            "panel": user("panel", "Peter", "Nkemelu", nhs, "panel_member", panel_authority=council,
                          job_title="Safeguarding nurse"),
            "provider": user("provider", "Yasmin", "Farouk", bridges.agency, "intervention_provider",
                             job_title="Intervention provider"),
            "provider2": user("provider2", "Daniel", "Kerr", horizon.agency, "intervention_provider",
                              job_title="Intervention provider"),
            "oversight": user("oversight", "Olivia", "Grant", home_office, "oversight", job_title="Prevent oversight"),
        }
        for name, org in (("provider", bridges), ("provider2", horizon)):
            provider_worker_save(user=self.admin, worker_user=self.users[name], organisation=org,
                                 specialisms=org.specialisms, status="approved",
                                 vetting_expires_on=self.today + timedelta(days=200))
        for agency, owner in ((police, "police"), (council, "coordinator"), (riverton, "coordinator2"),
                              (school, "referrer"), (nhs, "panel"), (bridges.agency, "provider"),
                              (horizon.agency, "provider2")):
            agency_set_duty_owner(agency=agency, user=self.users[owner])
        self.council, self.riverton, self.nhs = council, riverton, nhs

    # ------------------------------------------------------------ steps of one journey

    def refer(self, day: date, given: str, family: str, birth: PartialDate, authority: Any) -> Case:
        data = ReferralInput(
            referrer_name="Rachel Reid", referrer_job_title="Designated safeguarding lead",
            referrer_email="referrer@example.org", referrer_phone="", referrer_organisation="Northshire Academy",
            referrer_sector="education", given_names=given, family_name=family, other_names="",
            date_of_birth=birth, sex="male" if self.random.random() < 0.9 else "female",
            address=f"{self.random.randint(1, 120)} {self.random.choice(STREETS)}, Northshire",
            postcode=f"NS{self.random.randint(1, 9)} {self.random.randint(1, 9)}{self.random.choice('ABDEFG')}"
                     f"{self.random.choice('HJLNPQ')}",
            school_or_workplace="Northshire Academy", local_authority_id=authority.pk,
            concern=self.random.choice(CONCERNS), first_observed_on=day - timedelta(days=10),
            concern_types=(self.random.choice(["islamist", "extreme_right_wing", "violence_fascination",
                                               "mixed_unclear"]),),
            urgency="routine", person_aware=self.random.choice(["yes", "no", "not_known"]),
            discussed_with="Head of sixth form",
        )
        with at(day):
            referral, _ = referral_submit(user=self.users["referrer"], data=data)
        return Case.objects.get(referral=referral)

    def gateway(self, case: Case, day: date, outcome: str) -> None:
        with at(day):
            cs.gateway_decide(user=self.users["police"], case=case, expected_version=None, deconfliction_done=True,
                              database_checks_done=True, referrer_contacted_on=day,
                              referrer_contact_summary="Spoke to the safeguarding lead, who added context.",
                              outcome=outcome, signposted_to="Northshire early help team" if outcome == "signpost" else "",
                              rationale={"no_further_action": "Checks show no radicalisation concern; school support suffices.",
                                         "signpost": "Needs are emotional wellbeing rather than radicalisation.",
                                         "police_led": "Live police interest makes police-led management proportionate.",
                                         "refer_to_panel": "Vulnerability and ideological interest suit multi-agency support."}[outcome],
                              decided_on=day)

    def adopt(self, case: Case, day: date) -> None:
        chair = self.users["chair"]
        with at(day):
            meeting = cs.panel_meeting_create(user=self.users["coordinator"], meets_on=day, chair=chair,
                                              location="County Hall, room 4")
            cs.agenda_add(user=self.users["coordinator"], meeting=meeting, case=case)
            request = cs.information_request_create(user=self.users["coordinator"], case=case, to_agency=self.nhs,
                                                    question="Is the person known to mental health services?",
                                                    requested_on=day)
            cs.information_request_reply(user=self.users["panel"], request=request,
                                         reply="Known to CAMHS in the past; discharged last year.", replied_on=day)
            cs.panel_decide(user=chair, case=case, expected_version=None, adopt=True,
                            attendees=["Helen Marsh, chair, Northshire CC", "Priya Sharma, Prevent officer, police",
                                       "Peter Nkemelu, nurse, NHS"],
                            rationale="The panel agrees there are vulnerabilities that support can reduce.",
                            dissent="", signposted_to="", decided_on=day)

    def consent(self, case: Case, day: date) -> None:
        with at(day):
            cs.consent_record(user=self.users["coordinator"], case=case, expected_version=None, given=True,
                              giver="parent_carer", giver_name="A parent", capacity_confirmed=True,
                              capacity_notes="", scope="Sharing with the provider, school and health", given_on=day)

    def assess_and_plan(self, case: Case, day: date, sessions_delivered: int) -> None:
        coordinator = self.users["coordinator"]
        with at(day):
            framework = frameworks.current_framework(day)
            assessment = cs.assessment_start(user=coordinator, case=case)
            judgements = {f.code: {"present": False, "evidence": "", "nature": None} for f in framework.factors}
            cause, behaviour = framework.factors[0].code, framework.factors[-1].code
            judgements[cause] = {"present": True, "evidence": "Repeated talk of unfair treatment of his family.",
                                 "nature": "underlying_cause"}
            judgements[behaviour] = {"present": True, "evidence": "Shares violent material with younger pupils.",
                                     "nature": "presenting_behaviour"}
            assessment = cs.assessment_save(user=coordinator, assessment=assessment, expected_version=None,
                                            judgements=judgements,
                                            summary="Grievance is the underlying driver; mentoring recommended.")
            cs.assessment_submit(user=coordinator, assessment=assessment, expected_version=None, assessed_on=day)
            cs.support_action_add(user=coordinator, case=case, description="Weekly mentoring on identity and belonging",
                                  vulnerabilities=[cause], owner_user=coordinator, due_on=day + timedelta(days=60))
            tasking = cs.tasking_commission(user=coordinator, case=case, provider_user=self.users["provider"],
                                            sessions_commissioned=3, purpose="Theological and identity mentoring",
                                            vulnerabilities=[cause], commissioned_on=day)
        if sessions_delivered:
            with at(day + timedelta(days=2)):
                cs.tasking_acknowledge(user=self.users["provider"], tasking=tasking, acknowledged_on=day + timedelta(days=2))
            for n in range(sessions_delivered):
                held = day + timedelta(days=14 * (n + 1))
                with at(held):
                    cs.session_record(user=self.users["provider"], tasking=tasking, held_on=held,
                                      report="Met at the library; he engaged well and talked about his grievances.")

    def exit(self, case: Case, day: date) -> None:
        with at(day):
            case.refresh_from_db()
            tasking = case.taskings.first()
            assert tasking is not None
            while tasking.sessions.count() < tasking.sessions_commissioned:
                cs.session_cancel(user=self.users["provider"], tasking=tasking, cancelled_on=day,
                                  reason="Not needed: the panel agreed the goals were met early.")
            cs.case_exit(user=self.users["chair"], case=case, expected_version=None, exited_on=day,
                         rationale="All members agree vulnerability is much reduced after mentoring.",
                         residual_concerns="Online activity to be watched by the school.",
                         onward_support="School pastoral support", attendees=["Helen Marsh, chair", "Priya Sharma, police"])

    def review(self, case: Case, day: date, months: int) -> None:
        with at(day):
            cs.post_exit_review_record(user=self.users["police"], case=case, expected_version=None, months=months,
                                       held_on=day, outcome="no_concerns",
                                       notes="No further concerns from police, school or health.")

    # ------------------------------------------------------------ the population

    def person(self) -> tuple[str, str, PartialDate]:
        birth_year = self.today.year - self.random.randint(13, 24)
        return (self.random.choice(GIVEN), self.random.choice(FAMILY),
                PartialDate(birth_year, self.random.randint(1, 12), self.random.randint(1, 28)))

    def run(self, progress: bool) -> DemoSummary:
        self.world()
        plans = (["gateway"] * 5 + ["nfa"] * 4 + ["signposted"] * 3 + ["police_led"] * 3 + ["panel"] * 4
                 + ["consent"] * 3 + ["support"] * 5 + ["exited_6"] * 3 + ["exited_12"] * 2 + ["closed"] * 3)
        for plan in tqdm(plans, desc="Building demo cases", unit="case", disable=not progress):
            self.journey(plan)
        self.repeat_referral()
        summary = DemoSummary(stages=Counter(Case.objects.values_list("stage", flat=True)))
        summary.sign_in = [(u.username, u.roles_display, str(u.agency or "–")) for u in
                           [self.admin, *self.users.values()]]
        return summary

    def journey(self, plan: str) -> None:
        given, family, birth = self.person()
        back = {"gateway": 3, "nfa": 200, "signposted": 20, "police_led": 90, "panel": 40, "consent": 60,
                "support": 120, "exited_6": 320, "exited_12": 500, "closed": 540}[plan]
        start = self.today - timedelta(days=back + self.random.randint(0, 10))
        case = self.refer(start, given, family, birth, self.council)
        if plan == "gateway":
            return
        outcome = {"nfa": "no_further_action", "signposted": "signpost", "police_led": "police_led"}.get(
            plan, "refer_to_panel")
        self.gateway(case, start + timedelta(days=5), outcome)
        if outcome != "refer_to_panel" or plan == "panel":
            return
        self.adopt(case, start + timedelta(days=20))
        if plan == "consent":
            return
        self.consent(case, start + timedelta(days=25))
        self.assess_and_plan(case, start + timedelta(days=30), sessions_delivered=1 if plan == "support" else 2)
        if plan == "support":
            return
        exited = {"exited_6": self.today - timedelta(days=150), "exited_12": self.today - timedelta(days=250),
                  "closed": self.today - timedelta(days=400)}[plan]
        self.exit(case, exited)
        if plan in ("exited_12", "closed"):
            self.review(case, exited + timedelta(days=183), 6)
        if plan == "closed":
            self.review(case, exited + timedelta(days=366), 12)
            with at(exited + timedelta(days=370)):
                cs.case_close(user=self.users["coordinator"], case=case, expected_version=None,
                              closed_on=exited + timedelta(days=370),
                              rationale="Both post-exit reviews found no concerns; closing to Prevent.")

    def repeat_referral(self) -> None:
        """The same boy referred twice, his surname misspelt the second time, linked by the police."""
        birth = PartialDate(self.today.year - 16, 3, 14)
        first = self.refer(self.today - timedelta(days=300), "Adam", "Hussain", birth, self.council)
        self.gateway(first, self.today - timedelta(days=295), "no_further_action")
        second = self.refer(self.today - timedelta(days=6), "Adam", "Husain", birth, self.council)
        with at(self.today - timedelta(days=2)):
            cs.case_link_person(user=self.users["police"], case=second, person=first.person,
                                rationale="Same date of birth, school and address; surname misspelt on this referral.")


def load_demo(*, seed: int = 2026, progress: bool = True) -> DemoSummary:
    return Demo(seed).run(progress)
