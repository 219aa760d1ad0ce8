"""The load test's users: Service, Sales and Marketing staff signed in through the login page, and an outside
system on the API with its token. Run by `python -m bench.load` (which prepares the data file named by
CRM_LOAD_DATA and starts gunicorn); each request is named by its endpoint, so the figures come per endpoint.

Plain HTTP on loopback in front of production settings: every request says X-Forwarded-Proto: https, as the TLS
proxy would (production trusts that header: SECURE_PROXY_SSL_HEADER), so Django serves it as HTTPS and sets
Secure cookies; the client keeps sending those cookies over its loopback HTTP, as a browser would over the
proxy's HTTPS. Nothing in the settings is changed for the test.
"""

import itertools
import json
import os
import random
import re
import uuid

from locust import HttpUser, between, task

DATA = json.loads(open(os.environ["CRM_LOAD_DATA"], encoding="utf-8").read())  # noqa: SIM115
CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
WAIT = tuple(float(s) for s in os.environ.get("CRM_LOAD_WAIT", "1,5").split(","))
_logins = {role: itertools.cycle(names) for role, names in DATA["logins"].items() if names}


class Staff(HttpUser):
    """Signed in as one of the role's logins (taken in turn), asking for that role's pages."""

    abstract = True
    role = ""
    wait_time = between(*WAIT)

    def on_start(self) -> None:
        self.client.headers.update({"X-Forwarded-Proto": "https", "Accept-Language": "zh-hans"})
        send = self.client.request

        def request(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
            # The proxy's HTTPS is played by loopback HTTP: the Secure cookies go over it, as a browser sends
            # them over HTTPS (requests copies the jar into a fresh one per request, so a policy can't say it).
            for cookie in self.client.cookies:
                cookie.secure = False
            return send(*args, **kwargs)

        self.client.request = request
        self.username = next(_logins[self.role])
        self.numbers = DATA["books"].get(self.username) or DATA["numbers"]
        self.login()

    def login(self) -> None:
        page = self.client.get("/accounts/login/", name="login page")
        token = CSRF_RE.search(page.text)
        # Over "HTTPS" Django checks the Referer (and an Origin, if sent, against the scheme it sees): a Referer
        # alone passes both behind the proxy and on a plain HTTP test server (bench/load/smoke.py).
        referer = self.host.replace("http://", "https://", 1) + "/accounts/login/"
        form = {"username": self.username, "password": DATA["password"], "csrfmiddlewaretoken": token and token[1]}
        with self.client.post(
            "/accounts/login/",
            data=form,
            headers={"Referer": referer},
            allow_redirects=False,
            name="login",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"login of {self.username}: {response.status_code}")

    def page(self, url: str, name: str) -> None:
        with self.client.get(url, name=name, allow_redirects=False, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {url}")

    def number(self) -> int:
        return random.choice(self.numbers)

    @task(3)
    def home(self) -> None:
        self.page("/", "home")

    @task(2)
    def customer_list(self) -> None:
        self.page(f"/customers/?page={random.randint(1, 5)}", "customer list")

    @task(3)
    def search_chinese(self) -> None:
        self.page(f"/customers/?q={random.choice(DATA['search']['chinese'])}", "search: Chinese name")

    @task(1)
    def search_english(self) -> None:
        self.page(f"/customers/?q={random.choice(DATA['search']['english'])}", "search: English name")

    @task(3)
    def customer_page(self) -> None:
        self.page(f"/customers/{self.number()}/", "customer page")


class DeskStaff(Staff):
    """Service and Sales: the lookup box, purchases, their day."""

    abstract = True

    @task(4)
    def lookup(self) -> None:
        number = self.number()
        shown = f"{str(number)[:-4]}-{str(number)[-4:]}"  # as staff type it from a card
        url = f"/customers/lookup/?q={shown}"
        with self.client.get(url, name="lookup by CRM number", allow_redirects=False, catch_response=True) as r:
            if r.status_code != 302 or not r.headers.get("Location", "").endswith(f"/customers/{number}/"):
                r.failure(f"{r.status_code} to {r.headers.get('Location')} for {url}")

    @task(2)
    def purchases(self) -> None:
        self.page(f"/customers/{self.number()}/?tab=purchases", "customer purchases")

    @task(1)
    def search_mobile(self) -> None:
        self.page(f"/customers/?q={random.choice(DATA['search']['mobile4'])}", "search: mobile, last 4")

    @task(1)
    def my_day(self) -> None:
        self.page("/my-day/", "my day")


class ServiceUser(DeskStaff):
    role = "Service"
    weight = 20

    @task(1)
    def reports(self) -> None:
        self.page("/interactions/reports/", "contact reports")


class SalesUser(DeskStaff):
    role = "Sales"
    weight = 15


class MarketingUser(Staff):
    role = "Marketing"
    weight = 10

    @task(3)
    def segments(self) -> None:
        self.page("/marketing/segments/", "segment list")

    @task(3)
    def campaigns(self) -> None:
        self.page("/marketing/campaigns/", "campaign list")

    @task(1)
    def reports(self) -> None:
        self.page("/marketing/reports/", "marketing reports")

    @task(1)
    def category_report(self) -> None:
        self.page("/analytics/reports/categories/", "category report")


class ApiClientUser(HttpUser):
    """A shop or call centre on the API: look members up, post purchases and contacts."""

    weight = 5
    wait_time = between(*WAIT)

    def on_start(self) -> None:
        self.client.headers.update({"Authorization": f"Bearer {DATA['token']}", "X-Forwarded-Proto": "https"})

    def call(self, method: str, url: str, name: str, expected: int, **kwargs) -> None:
        with self.client.request(method, url, name=name, catch_response=True, **kwargs) as response:
            if response.status_code != expected:
                response.failure(f"{response.status_code} for {url}: {response.text[:200]}")

    @task(4)
    def member(self) -> None:
        self.call("GET", f"/api/v1/members/{random.choice(DATA['displayed'])}/", "API: member by CRM number", 200)

    @task(2)
    def purchase(self) -> None:
        body = {
            "member": random.choice(DATA["displayed"]),
            "external_ref": f"LOAD-{uuid.uuid4().hex[:16]}",
            "amount": f"{random.randint(20, 800)}.00",
            "store": "load test",
        }
        self.call("POST", "/api/v1/transactions/", "API: post a purchase", 201, json=body)

    @task(2)
    def interaction(self) -> None:
        body = {
            "member": random.choice(DATA["displayed"]),
            "channel": "phone",
            "subject": "咨询积分 (load test)",
            "external_ref": f"LOAD-{uuid.uuid4().hex[:16]}",
        }
        self.call("POST", "/api/v1/interactions/", "API: post an interaction", 201, json=body)
