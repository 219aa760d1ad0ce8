"""Fake customers as COPY text lines: realistic shape, unique phones and e-mails, a million in seconds."""

import random
from datetime import date, timedelta
from itertools import accumulate

from faker.providers.person.en_US import Provider as EnglishNames

from bench import names

COLUMNS = (
    "legacy_number", "name", "gender", "birthday", "mobile", "email", "occupation", "company", "province",
    "city", "address", "source", "registered_on", "points_balance", "notes", "email_opt_in", "sms_opt_in",
    "created_at", "updated_at", "owner_id", "tier_id",
)  # fmt: skip
NULL = r"\N"
SOURCES = {"store": 40, "wechat": 25, "app": 12, "website": 10, "import": 6, "referral": 5, "api": 2}
TIER_SHARES = (60, 25, 11, 4)  # by tier rank: most members are in the lowest tier
TIER_POINTS = (800, 3_000, 12_000, 60_000)  # upper bound of the points balance per tier
ENGLISH_SHARE = 0.15
FIRST_DAY, LAST_DAY = date(2018, 1, 1), date(2026, 11, 1)  # registration dates


class Pool:
    """Weighted choice with precomputed cumulative weights (random.choices is slow without them)."""

    def __init__(self, items, weights):
        self.items, self.cum = list(items), list(accumulate(weights))

    def one(self, rng: random.Random):
        return rng.choices(self.items, cum_weights=self.cum)[0]


def _english_pools() -> tuple[Pool, Pool, Pool]:
    female, male, last = EnglishNames.first_names_female, EnglishNames.first_names_male, EnglishNames.last_names
    return Pool(female, female.values()), Pool(male, male.values()), Pool(last, last.values())


SURNAMES = Pool([(s, p) for s, p, _ in names.SURNAMES], [w for *_, w in names.SURNAMES])
EN_FEMALE, EN_MALE, EN_LAST = _english_pools()
PROVINCES = Pool(names.PROVINCES.items(), [w for w, _ in names.PROVINCES.values()])
DOMAINS = Pool(*zip(*names.MAIL_DOMAINS, strict=True))
SOURCE_POOL = Pool(SOURCES, SOURCES.values())
TIER_RANKS = Pool(range(len(TIER_SHARES)), TIER_SHARES)


def mobile(i: int) -> str:
    """A unique mainland mobile for row i: an affine permutation of all prefix x 8-digit numbers."""
    prefixes = names.MOBILE_PREFIXES
    # The multiplier is a prime above 5, coprime to len(prefixes) * 10**8, so no two rows collide.
    j = (i * 2_654_435_761 + 20_260_101) % (len(prefixes) * 10**8)
    return f"+86{prefixes[j // 10**8]}{j % 10**8:08d}"


def person(rng: random.Random, i: int) -> tuple[str, str, str]:
    """(name, gender, e-mail local part); the row number makes the e-mail unique."""
    female = rng.random() < 0.52
    gender = "unknown" if rng.random() < 0.05 else ("female" if female else "male")
    if rng.random() < ENGLISH_SHARE:
        first, last = (EN_FEMALE if female else EN_MALE).one(rng), EN_LAST.one(rng)
        local = f"{first}.{last}".lower().replace("'", "")
        return f"{first} {last}", gender, f"{local}{i}"
    surname, sur_py = SURNAMES.one(rng)
    given, given_py = rng.choice(names.GIVEN_FEMALE if female else names.GIVEN_MALE)
    local = rng.choice((f"{sur_py}{given_py}", f"{given_py}.{sur_py}", f"{sur_py}_{given_py}"))
    return surname + given, gender, f"{local}{i}"


def draw(rng: random.Random, i: int, owners: list, tiers: list) -> dict:
    """Row i's values by column (None for NULL), drawn in a fixed order so a seed gives the same rows."""
    name, gender, local = person(rng, i)
    province, (_, cities) = PROVINCES.one(rng)
    city = rng.choice(cities)
    phone = mobile(i) if rng.random() < 0.97 else ""
    email = f"{local}@{DOMAINS.one(rng)}" if rng.random() < 0.65 else ""
    source, rank = SOURCE_POOL.one(rng), TIER_RANKS.one(rng)
    registered = FIRST_DAY + timedelta(days=rng.randrange((LAST_DAY - FIRST_DAY).days))
    birthday = date(1950, 1, 1) + timedelta(days=rng.randrange(20_800)) if rng.random() < 0.85 else None
    company = f"{city}{rng.choice(names.COMPANY_WORDS)}{rng.choice(names.COMPANY_KINDS)}有限公司"
    created = f"{registered} {rng.randrange(9, 21):02d}:{rng.randrange(60):02d}:{rng.randrange(60):02d}+08"
    row = {
        "legacy_number": f"HY{8_000_000 + i}" if source == "import" else None,
        "name": name,
        "gender": gender,
        "birthday": birthday,
        "mobile": phone,
        "email": email,
        "occupation": rng.choice(names.OCCUPATIONS) if rng.random() < 0.6 else "",
        "company": company if rng.random() < 0.3 else "",
        "province": province,
        "city": city,
        "address": f"{rng.choice(names.ROADS)}{rng.randrange(1, 999)}号",
        "source": source,
        "registered_on": registered,
        "points_balance": rng.randrange(TIER_POINTS[rank]),
        "notes": rng.choice(names.NOTES) if rng.random() < 0.05 else "",
        "email_opt_in": "t" if email and rng.random() < 0.4 else "f",
        "sms_opt_in": "t" if phone and rng.random() < 0.55 else "f",
        "created_at": created,
        "updated_at": created,
        "owner_id": rng.choice(owners) if rng.random() < 0.9 else None,
        "tier_id": tiers[rank],
    }
    return row  # keys in COLUMNS order


def customer_line(rng: random.Random, i: int, owners: list[int], tiers: list[int]) -> str:
    values = draw(rng, i, owners, tiers).values()
    return "\t".join(NULL if v is None else str(v) for v in values) + "\n"


def customer_lines(*, start: int, count: int, owners: list[int], tiers: list[int], seed: int) -> str:
    """Rows start..start+count as COPY text; each chunk has its own seed, so a chunk is reproducible."""
    rng = random.Random(f"{seed}-{start}")
    return "".join(customer_line(rng, i, owners, tiers) for i in range(start, start + count))
