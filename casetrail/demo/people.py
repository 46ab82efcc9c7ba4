"""Synthetic people for the demo, drawn from name pools written for it: no real person's data."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from stdnum.gb import nhs, upn

# Naming traditions found across the UK population. Each keeps its given and family
# names together so a drawn name reads plausibly ("Kacper Nowak", not "Kacper Okafor").
# The lists are common names written for this demo, not taken from any record.
TRADITIONS: dict[str, dict[str, tuple[str, ...]]] = {
    "white_british": {
        "male": ("Oliver", "Jack", "Harry", "George", "Charlie", "Jacob", "Thomas", "Oscar", "William", "Alfie",
                 "Joshua", "Daniel", "Ryan", "Callum", "Liam", "Kieran", "Connor", "Lewis", "Jake", "Reece",
                 "Tyler", "Bradley", "Ethan", "Kyle", "Nathan", "Harvey", "Mason", "Owen", "Luke", "Aaron"),
        "female": ("Olivia", "Amelia", "Isla", "Ella", "Grace", "Sophie", "Chloe", "Emily", "Jessica", "Lauren",
                   "Megan", "Holly", "Paige", "Bethany"),
        "family": ("Smith", "Jones", "Taylor", "Wilson", "Johnson", "Davies", "Robinson", "Wright", "Thompson",
                   "Evans", "Walker", "Roberts", "Green", "Hall", "Wood", "Jackson", "Clarke", "Hughes",
                   "Harrison", "Marshall", "Shaw", "Booth", "Barker", "Holden", "Pearson", "Kershaw", "Lomax",
                   "Whitworth", "Ashworth", "Dobson", "Pickering", "Hargreaves"),
    },
    "irish": {
        "male": ("Conor", "Sean", "Cian", "Darragh", "Niall", "Oisin", "Ciaran", "Padraig"),
        "female": ("Aoife", "Niamh", "Ciara", "Siobhan"),
        "family": ("Murphy", "Kelly", "O'Brien", "Byrne", "Doyle", "Gallagher", "McCarthy", "Quinn", "O'Neill"),
    },
    "polish": {
        "male": ("Kacper", "Jakub", "Szymon", "Filip", "Mateusz", "Tomasz", "Bartosz", "Michał", "Dawid"),
        "female": ("Zuzanna", "Oliwia", "Julia", "Natalia"),
        # Surnames ending -ski take -ska for women; see _family_for.
        "family": ("Kowalski", "Wiśniewski", "Lewandowski", "Nowak", "Wójcik", "Kaczmarek", "Mazur",
                   "Zieliński", "Krawczyk"),
    },
    "romanian": {
        "male": ("Andrei", "Bogdan", "Mihai", "Ionuț", "Alexandru", "Florin", "Adrian", "Cristian"),
        "female": ("Ioana", "Elena", "Andreea", "Bianca"),
        "family": ("Popescu", "Ionescu", "Dumitru", "Stan", "Constantin", "Marin", "Lungu", "Stoica"),
    },
    "pakistani_bangladeshi": {
        "male": ("Mohammed", "Muhammad", "Ibrahim", "Yusuf", "Zain", "Hamza", "Bilal", "Imran", "Rehan",
                 "Tariq", "Faisal", "Danyal", "Adnan", "Ayaan", "Haris", "Zakariya", "Ismail", "Sohail"),
        "female": ("Aisha", "Fatima", "Maryam", "Zara", "Sana", "Hafsa", "Noor", "Amina"),
        "family": ("Khan", "Hussain", "Ahmed", "Rahman", "Iqbal", "Malik", "Akhtar", "Mahmood", "Chaudhry",
                   "Uddin", "Miah", "Islam", "Raza", "Siddiqui", "Rashid"),
    },
    "indian": {
        "male": ("Arjun", "Rohan", "Aarav", "Sahil", "Vikram", "Kabir", "Dev", "Nikhil", "Jay", "Krish"),
        "female": ("Priya", "Anika", "Kiran", "Neha", "Pooja"),
        "family": ("Patel", "Sharma", "Mistry", "Parmar", "Chauhan", "Joshi", "Desai", "Lad", "Solanki"),
    },
    "sikh": {
        "male": ("Harpreet", "Gurpreet", "Jaspreet", "Manpreet", "Amrit", "Ranveer", "Jasdeep", "Karan"),
        "female": ("Simran", "Navneet", "Harleen", "Jasleen"),
        "family": ("Singh", "Gill", "Sandhu", "Dhillon", "Bains", "Virdi", "Johal", "Sidhu"),
    },
    "black_african": {
        "male": ("Kwame", "Kofi", "Emmanuel", "Samuel", "Tobi", "Oluwaseun", "Chidi", "Femi", "Tunde",
                 "Chinedu", "Yaw", "David"),
        "female": ("Abena", "Chioma", "Ama", "Adaeze", "Folake"),
        "family": ("Okafor", "Mensah", "Osei", "Adeyemi", "Boateng", "Okoro", "Asante", "Nwosu", "Adebayo",
                   "Owusu", "Eze", "Ogunleye"),
    },
    "black_caribbean": {
        "male": ("Tyrone", "Jamal", "Marcus", "Jerome", "Andre", "Malachi", "Josiah", "Dwayne", "Kyrie",
                 "Nathaniel"),
        "female": ("Shanice", "Jada", "Tiana", "Aaliyah", "Keisha"),
        "family": ("Campbell", "Francis", "Bailey", "Richards", "Gordon", "Grant", "Morgan", "Reid", "Henry",
                   "Forbes", "Samuels"),
    },
    "somali": {
        "male": ("Abdi", "Abdirahman", "Mahad", "Liban", "Guled", "Yahya", "Sakariye", "Mustaf"),
        "female": ("Hodan", "Sagal", "Ifrah", "Ubah"),
        "family": ("Warsame", "Osman", "Jama", "Aden", "Nur", "Duale", "Ismail", "Gedi", "Elmi"),
    },
    "arab": {
        "male": ("Omar", "Ahmad", "Khalid", "Yousef", "Karim", "Sami", "Rami", "Fadi", "Mustafa", "Ziad",
                 "Anas"),
        "female": ("Layla", "Rania", "Huda", "Salma", "Yasmin"),
        "family": ("Haddad", "Nasser", "Khalil", "Mansour", "Saleh", "Hamdan", "Darwish", "Aziz", "Sabbagh",
                   "Qasim", "Jaber", "Awad"),
    },
    "turkish_kurdish": {
        "male": ("Emre", "Mehmet", "Baran", "Deniz", "Kerem", "Serhat", "Berkay"),
        "female": ("Elif", "Zeynep", "Dilan"),
        "family": ("Yilmaz", "Demir", "Kaya", "Aydin", "Celik", "Dogan", "Arslan", "Ozturk"),
    },
    "chinese": {
        "male": ("Wei", "Jun", "Hao", "Ming", "Kevin", "Jason", "Ryan", "Tony"),
        "female": ("Mei", "Lin", "Xin", "Joanne"),
        "family": ("Chen", "Wong", "Li", "Zhang", "Liu", "Lam", "Cheung", "Ng", "Yeung", "Ho"),
    },
}

# Rough shares of each tradition, plus "mixed" (a given name from one and a family name
# from another). Illustrative only; concern types in the demo are drawn independently of
# them, so the demo implies no link between heritage and any kind of concern.
TRADITION_WEIGHTS: dict[str, int] = {
    "white_british": 46, "irish": 3, "polish": 5, "romanian": 3, "pakistani_bangladeshi": 12, "indian": 4,
    "sikh": 2, "black_african": 5, "black_caribbean": 4, "somali": 3, "arab": 4, "turkish_kurdish": 2,
    "chinese": 3, "mixed": 4,
}
_MIXED_PAIRS = (("white_british", "black_caribbean"), ("black_caribbean", "white_british"),
                ("white_british", "pakistani_bangladeshi"), ("irish", "black_african"),
                ("white_british", "chinese"))

# A later referral may spell a name differently (the Southport review found exactly this).
MISSPELLINGS: dict[str, str] = {
    "Hussain": "Husain", "Mohammed": "Mohamed", "Thompson": "Thomson", "Kowalski": "Kowalsky",
    "Okafor": "Okafur", "McCarthy": "MacCarthy", "Popescu": "Popesku", "Chaudhry": "Choudhury",
}

# Another way a third referral might write them (two letters transposed, a letter dropped).
MISSPELLINGS_AGAIN: dict[str, str] = {
    "Hussain": "Hussian", "Mohammed": "Mohammad", "Thompson": "Tompson", "Kowalski": "Kowalksi",
    "Okafor": "Okafo", "McCarthy": "McCarty", "Popescu": "Popsecu", "Chaudhry": "Chaudry",
}

# Full names that would point at real, widely reported people; never generated.
_AVOID = frozenset({"Mohammed Ali", "Muhammad Ali", "Khalid Masood", "Usman Khan", "Thomas Mair"})

SEXES = ("male", "female")
MALE_SHARE = 0.9  # about 90% of people referred are male

# Ages at the reference date; most people referred are 12 to 25, over half under 18.
AGE_WEIGHTS: dict[int, int] = {12: 4, 13: 8, 14: 11, 15: 12, 16: 11, 17: 9, 18: 7, 19: 6, 20: 5, 21: 5, 22: 4,
                               23: 4, 24: 3, 25: 3}
OLDER_SHARE = 0.06  # the rest are adults of 26 to 45

# Places in the demo's two areas, each with its own fictional postcode district (NS and
# RV are not real UK postcode areas).
PLACES: dict[str, tuple[str, ...]] = {
    "northshire": ("Ashby Cross", "Brackenfold", "Netherholme", "Kestleigh", "Marrowby", "Scarlow",
                   "Oakenfold", "Dunsmere", "Hollinthorpe", "Crossgill", "Witherby Moor", "Fenby"),
    "riverton": ("Riverton Central", "Cobblebank", "Wharfside", "Lowmoor Park", "Tanners Green", "Eastgate",
                 "St Anselm's", "Millbridge"),
}
OUTWARD: dict[str, str] = {"northshire": "NS", "riverton": "RV"}
AREAS = tuple(PLACES)
_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"  # the letters Royal Mail uses in the inward code

STREET_NAMES = ("Mill", "Station", "Church", "Albert", "Victoria", "Chapel", "Moorside", "Park", "Queen's",
                "Oak", "Beech", "Canal", "Granby", "Hawthorn", "Kingsley", "Lark", "Meadow", "Nelson",
                "Orchard", "Primrose", "Railway", "Springfield", "Tennyson", "Wellington", "Willow", "York")
STREET_KINDS = ("Road", "Street", "Lane", "Avenue", "Terrace", "Close", "Grove", "Way", "Crescent", "Drive")
SCHOOL_KINDS = ("Academy", "High School", "School", "Community College", "Church of England Academy")
COLLEGE_KINDS = ("Sixth Form College", "College")
WORK = ("Unemployed", "Apprentice, {place} Motors", "Warehouse operative, {place} Retail Park",
        "Student, University of Riverton", "Kitchen porter, {place}", "Delivery rider, self-employed",
        "Not known")


# Identifiers, made up with valid check characters (python-stdnum). NHS numbers starting 999 are
# kept for testing and never issued to a patient. A UPN starts with the number of the local
# authority that issued it (one stdnum knows, in the North West, where the demo is set), then a
# made-up establishment number, the year the child started school and a serial number.
UPN_AUTHORITY: dict[str, str] = {"northshire": "888", "riverton": "889"}
UPN_MAX_AGE = 18  # pupils keep their UPN until they leave school or college


@dataclass(frozen=True)
class SyntheticPerson:
    index: int
    given_names: str
    family_name: str
    sex: str
    date_of_birth: date
    tradition: str
    area: str
    town: str
    address: str
    postcode: str
    school_or_workplace: str
    parent_carer: str  # who would give consent for a child
    nhs_number: str = ""  # 10 digits, always in the 999 range
    upn: str = ""  # only for those of school or college age

    @property
    def full_name(self) -> str:
        return f"{self.given_names} {self.family_name}"

    def age_on(self, day: date) -> int:
        born = self.date_of_birth
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _pool(part: str) -> frozenset[str]:
    return frozenset(name for names in TRADITIONS.values() for name in names[part])


GIVEN_NAMES: frozenset[str] = _pool("male") | _pool("female")
FAMILY_NAMES: frozenset[str] = (
    _pool("family")
    | {name[:-1] + "a" for name in _pool("family") if name.endswith("ski")}
    | frozenset(MISSPELLINGS.values())
    | frozenset(MISSPELLINGS_AGAIN.values())
)


def misspelt(family_name: str, *, again: bool = False) -> str:
    """The way a later referral might misspell a family name (`again`: another way, for a third)."""
    return (MISSPELLINGS_AGAIN if again else MISSPELLINGS).get(family_name, family_name)


def is_from_pools(given_names: str, family_name: str) -> bool:
    return given_names in GIVEN_NAMES and family_name in FAMILY_NAMES


def _family_for(name: str, sex: str) -> str:
    return name[:-1] + "a" if sex == "female" and name.endswith("ski") else name


class PersonGenerator:
    """Draws people one at a time; the n-th person depends only on the seed, n and the overrides.

    Each person has their own random stream, so asking for a different area or age
    never changes anyone's name, and names never repeat within one generator.
    """

    def __init__(self, seed: int, *, today: date):
        self.seed = seed
        self.today = today
        self._count = 0
        self._used: set[str] = set()
        self._used_identifiers: set[str] = set()

    def person(self, *, area: str = "northshire", sex: str | None = None, tradition: str | None = None,
               family_name: str | None = None, age: int | None = None) -> SyntheticPerson:
        if area not in PLACES:
            raise ValueError(f"area must be one of {', '.join(AREAS)}")
        index = self._count
        self._count += 1
        rng = random.Random(f"{self.seed}:person:{index}")
        sex = sex or ("male" if rng.random() < MALE_SHARE else "female")
        tradition = tradition or rng.choices(list(TRADITION_WEIGHTS), weights=list(TRADITION_WEIGHTS.values()))[0]
        given_from, family_from = rng.choice(_MIXED_PAIRS) if tradition == "mixed" else (tradition, tradition)
        for _ in range(1000):
            given = rng.choice(TRADITIONS[given_from][sex])
            family = _family_for(family_name or rng.choice(TRADITIONS[family_from]["family"]), sex)
            full = f"{given} {family}"
            if given != family and full not in _AVOID and full not in self._used:
                break
        else:
            raise ValueError(f"No unused name left for the {tradition} tradition with these overrides")
        self._used.add(full)
        parent = f"{rng.choice(TRADITIONS[given_from]['female'])} {_family_for(family, 'female')}"
        if age is None:
            age = (rng.randint(26, 45) if rng.random() < OLDER_SHARE
                   else rng.choices(list(AGE_WEIGHTS), weights=list(AGE_WEIGHTS.values()))[0])
        born = self.today - timedelta(days=round(age * 365.25) + rng.randint(1, 364))
        return self._located(index, given, family, sex, born, tradition, area, parent)

    def _located(self, index: int, given: str, family: str, sex: str, born: date, tradition: str, area: str,
                 parent: str) -> SyntheticPerson:
        # A separate stream for where the person lives, so the area never shifts the names.
        rng = random.Random(f"{self.seed}:address:{index}:{area}")
        places = PLACES[area]
        place_number = rng.randrange(len(places))
        town = places[place_number]
        street = f"{rng.choice(STREET_NAMES)} {rng.choice(STREET_KINDS)}"
        house = f"{rng.randint(1, 180)} {street}"
        if rng.random() < 0.2:
            house = f"Flat {rng.randint(1, 24)}, {house}"
        postcode = (f"{OUTWARD[area]}{place_number + 1} "
                    f"{rng.randint(1, 9)}{rng.choice(_INWARD_LETTERS)}{rng.choice(_INWARD_LETTERS)}")
        age = self.today.year - born.year
        school_place = rng.choice(places)
        if age <= 16:
            setting = f"{school_place} {rng.choice(SCHOOL_KINDS)}"
        elif age <= 18:
            setting = f"{school_place} {rng.choice(COLLEGE_KINDS)}"
        else:
            setting = rng.choice(WORK).format(place=school_place)
        nhs_number, pupil_number = self._identifiers(index, born, area)
        return SyntheticPerson(index=index, given_names=given, family_name=family, sex=sex, date_of_birth=born,
                               tradition=tradition, area=area, town=town, address=f"{house}, {town}",
                               postcode=postcode, school_or_workplace=setting, parent_carer=parent,
                               nhs_number=nhs_number, upn=pupil_number)

    def _identifiers(self, index: int, born: date, area: str) -> tuple[str, str]:
        """A made-up NHS number for everyone and a UPN for those of school age, from a stream of
        their own (so adding them shifted nobody's name or address), never repeated."""
        rng = random.Random(f"{self.seed}:identifiers:{index}")
        while True:
            stem = f"999{rng.randrange(10**6):06d}"
            # One check digit in eleven stems is 10, which no NHS number has: draw again.
            checks = [d for d in "0123456789" if nhs.checksum(stem + d) == 0]
            if checks and stem + checks[0] not in self._used_identifiers:
                nhs_number = stem + checks[0]
                break
        pupil_number = ""
        if self.today.year - born.year <= UPN_MAX_AGE:
            while True:
                body = (f"{UPN_AUTHORITY[area]}{rng.randrange(1, 10**4):04d}{(born.year + 5) % 100:02d}"
                        f"{rng.randrange(1, 1000):03d}")
                pupil_number = upn.calc_check_digit(body) + body
                if pupil_number not in self._used_identifiers:
                    break
        self._used_identifiers.update({nhs_number, pupil_number} - {""})
        return nhs_number, pupil_number
