"""Server time of the customer pages: Django's test client in-process, so no network and no browser.

Each measurement requests a different customer or search text on every run, as a busy desk would. Its
requests alternate with requests for a reference page (bench/urls.py: the base template with the top bar and
nothing else), so each figure is also a multiple of a page timed under the same load on the same machine.
"""

import itertools
import os
import random
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, override_settings

from bench.urls import REFERENCE
from crm.lib.crm_number import format_number
from crm.roles import Role
from customers.models import Customer, Tag, Tier
from tests.logins import force_login

OPEN, DETAIL, LIST, SEARCH = "Open a customer by CRM number", "Customer page", "List and filter", "Search"
BUDGET_MS = {OPEN: 10, DETAIL: 100, LIST: 150, SEARCH: 150}
# The same budgets as multiples of the reference page's p95, so a slower machine is judged fairly (issue 9).
BUDGET_MULTIPLE = {OPEN: 2, DETAIL: 6, LIST: 8, SEARCH: 8}
LOOKUP = "/customers/lookup/"


@dataclass
class Scenario:
    group: str
    name: str
    urls: list[str]
    status: int = 200
    profile: bool = False  # one of the pages `run.py --profile` breaks down


@dataclass
class Result:
    scenario: Scenario
    median_ms: float
    p95_ms: float
    queries: tuple[int, int]  # fewest and most over different customers or search texts
    slowest_sql_ms: float
    slowest_sql: str
    reference_median_ms: float  # the reference page, timed between this measurement's requests
    reference_p95_ms: float
    reference_times: list[float] = field(default_factory=list)
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)  # load averages (1, 5, 15 min) when it ended

    @property
    def budget_ms(self) -> int:
        return BUDGET_MS[self.scenario.group]

    @property
    def meets_budget(self) -> bool:
        fixed = self.queries[0] == self.queries[1] or self.scenario.group != DETAIL
        return self.p95_ms < self.budget_ms and fixed

    @property
    def median_multiple(self) -> float:
        return self.median_ms / self.reference_median_ms

    @property
    def p95_multiple(self) -> float:
        return self.p95_ms / self.reference_p95_ms

    @property
    def budget_multiple(self) -> int:
        return BUDGET_MULTIPLE[self.scenario.group]

    @property
    def meets_multiple_budget(self) -> bool:
        """Time only: the query-count rule of the customer page is judged once, in meets_budget."""
        return self.p95_multiple < self.budget_multiple


def bench_client() -> Client:
    """A client logged in as a Manager: sees every customer, unmasked, like service and sales leads.

    Switches to the bench's URL conf (the product's plus the reference page) for the rest of the process.
    """
    override_settings(ROOT_URLCONF="bench.urls").enable()
    user, created = get_user_model().objects.get_or_create(username="bench-manager")
    if created:
        user.set_unusable_password()
        user.save()
        user.groups.add(Group.objects.get(name=Role.MANAGER))
    client = Client(HTTP_HOST="localhost")  # settings' ALLOWED_HOSTS has no "testserver"
    force_login(client, user)  # with the second factor a manager needs (tests/logins.py)
    return client


def reference_scenario() -> Scenario:
    return Scenario("Reference", "reference: the base page with the top bar, signed in", [REFERENCE])


def scenarios(*, count: int, seed: int) -> list[Scenario]:
    """`count` URLs per measurement, built from randomly picked customers."""
    rng = random.Random(seed)
    top = Customer.objects.order_by("-id").values_list("id", flat=True).first()
    rows = list(Customer.objects.filter(id__in=rng.sample(range(1, top + 1), min(top, count * 10))).values())
    rng.shuffle(rows)
    picked = rows[:count]
    numbers = [r["crm_number"] for r in picked]
    chinese = [r["name"][:2] for r in rows if not r["name"].isascii()]
    english = [r["name"].split()[-1][:4].lower() for r in rows if r["name"].isascii()]
    mobiles = [r["mobile"].removeprefix("+86") for r in picked if r["mobile"]]
    tiers = itertools.cycle(Tier.objects.values_list("id", flat=True))
    tags = Tag.objects.values_list("id", flat=True)

    def urls(path: str, queries) -> list[str]:
        queries = itertools.islice(itertools.cycle(queries), count)
        return [f"{path}?{urlencode(q)}" if q else path for q in queries]

    def listing(queries) -> list[str]:
        return urls("/customers/", queries)

    def search(texts) -> list[str]:
        return listing({"q": t} for t in texts)

    regions = [{"tier": next(tiers), "province": r["province"]} for r in picked]
    months = [{"birthday_month": m, "sort": "name"} for m in range(1, 13)]
    return [
        Scenario(OPEN, "lookup box, number with a dash", urls(LOOKUP, ({"q": format_number(n)} for n in numbers)), 302),
        Scenario(DETAIL, "customer page /customers/<number>/", [f"/customers/{n}/" for n in numbers], profile=True),
        Scenario(LIST, "first page", listing([{}]), profile=True),
        Scenario(LIST, "filter tier + province", listing(regions)),
        Scenario(LIST, "filter tag", listing({"tag": t} for t in tags)),
        Scenario(LIST, "filter birthday month, sort by name", listing(months)),
        Scenario(SEARCH, "two Chinese characters, like 张伟", search(chinese), profile=True),
        Scenario(SEARCH, "mobile, last 4 digits", search(m[-4:] for m in mobiles)),
        Scenario(SEARCH, "mobile, all 11 digits", search(mobiles)),
        Scenario(SEARCH, "English name fragment, like smit", search(english)),
    ]  # fmt: skip


# The customer page's worst case: the fill gives one customer far more purchases than anyone else.
HEAVIEST = "SELECT customer_id, count(*) FROM interactions_transaction GROUP BY 1 ORDER BY 2 DESC LIMIT 1"
PURCHASES = "SELECT customer_id, count(*) FROM interactions_transaction WHERE customer_id = ANY(%s) GROUP BY 1"


def history_scenarios(*, count: int, seed: int) -> list[Scenario]:
    """The customer page with a long history (the same customer every time), with a short one and with none."""
    with connection.cursor() as cur:
        cur.execute(HEAVIEST)
        if (heaviest := cur.fetchone()) is None:
            return []
        rng = random.Random(seed)
        top = Customer.objects.order_by("-id").values_list("id", flat=True).first()
        sample = rng.sample(range(1, top + 1), min(top, count * 20))
        cur.execute(PURCHASES, [sample])
        bought = dict(cur.fetchall())
    few = [pk for pk in sample if 1 <= bought.get(pk, 0) <= 5][:count]
    none = [pk for pk in sample if pk not in bought][:count]
    numbers = dict(Customer.objects.filter(pk__in=[heaviest[0], *few, *none]).values_list("pk", "crm_number"))
    url = f"/customers/{numbers[heaviest[0]]}/"
    return [
        Scenario(DETAIL, f"customer page, {heaviest[1]:,} purchases (the same customer)", [url], profile=True),
        Scenario(DETAIL, "same customer, purchase history page 50", [f"{url}?purchases_page=50"]),
        Scenario(DETAIL, "same customer, points ledger page 100", [f"{url}?points_page=100"]),
        Scenario(DETAIL, "customer page, 1–5 purchases", [f"/customers/{numbers[pk]}/" for pk in few]),
        Scenario(DETAIL, "customer page, no purchase", [f"/customers/{numbers[pk]}/" for pk in none]),
    ]


def measure(client: Client, scenario: Scenario, *, runs: int, warmup: int) -> Result:
    """Time the scenario's requests, each paired with a request for the reference page.

    The pair's order alternates, so neither side always runs straight after the other (caches, a busy core).
    """
    urls = itertools.cycle(scenario.urls)
    for _ in range(warmup):
        _get(client, next(urls), scenario.status)
        _get(client, REFERENCE, 200)
    times, reference_times = [], []
    for run in range(runs):
        pair = [(next(urls), scenario.status, times), (REFERENCE, 200, reference_times)]
        for url, status, into in pair if run % 2 == 0 else reversed(pair):
            into.append(_timed_get(client, url, status))
    counts, slowest = [], {"time": "0", "sql": ""}
    for url in scenario.urls[:10]:
        with CaptureQueriesContext(connection) as captured:
            _get(client, url, scenario.status)
        counts.append(len(captured))
        slowest = max([slowest, *captured.captured_queries], key=lambda q: float(q["time"]))
    return Result(
        scenario=scenario,
        median_ms=statistics.median(times),
        p95_ms=p95(times),
        queries=(min(counts), max(counts)),
        slowest_sql_ms=float(slowest["time"]) * 1000,
        slowest_sql=slowest["sql"],
        reference_median_ms=statistics.median(reference_times),
        reference_p95_ms=p95(reference_times),
        reference_times=reference_times,
        load=os.getloadavg(),
    )


def p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20, method="inclusive")[-1]


def _timed_get(client: Client, url: str, status: int) -> float:
    started = time.perf_counter()
    _get(client, url, status)
    return (time.perf_counter() - started) * 1000


def _get(client: Client, url: str, status: int) -> None:
    response = client.get(url)
    if response.status_code != status:
        raise RuntimeError(f"GET {url} answered {response.status_code}, expected {status}")


def explain(sql: str) -> str:
    """EXPLAIN ANALYZE of a captured read, to see why it is slow."""
    if not sql.lstrip().upper().startswith("SELECT"):
        return ""
    with connection.cursor() as cur:
        cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cur.fetchall())
