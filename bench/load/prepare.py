"""What the load test's users need from the bench database: logins with a password, an API token, and the
customers, CRM numbers and search texts each role will ask for. Written to a JSON file for the locustfile.

Logins: Service and Marketing users of the load test's own (load-service-NN, load-marketing-NN); Sales are the
bench fill's owners (sales01..16), given a password, so each asks for the customers in its own book. Manager
is left out: Manager and Admin logins are to need a second factor (issue 14), which a load test can't type.
"""

import json
import os
import random
import secrets
from pathlib import Path

from crm.lib.crm_number import format_number
from crm.roles import Role

SEGMENTS = {  # a segment list with something in it: the bench fill makes none
    "load: points over 500, SMS consent": {
        "op": "and",
        "rules": [
            {"field": "points_balance", "operator": "gt", "value": 500},
            {"field": "sms_consent", "operator": "eq", "value": True},
        ],
    },
    "load: 浙江省 or 广东省": {
        "op": "or",
        "rules": [
            {"field": "province", "operator": "eq", "value": "浙江省"},
            {"field": "province", "operator": "eq", "value": "广东省"},
        ],
    },
    "load: registered in the last two years": {
        "op": "and",
        "rules": [{"field": "registered_on", "operator": "in_last_days", "value": 730}],
    },
}
SAMPLE = 3000  # customers the Service and Marketing users pick from
PER_SELLER = 300  # customers of each Sales user's own book


def _user(username: str, role: str, password: str):  # noqa: ANN202
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    user, _ = get_user_model().objects.get_or_create(username=username)
    user.set_password(password)
    user.is_active = True
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    return user


def _texts(rows: list[dict]) -> dict[str, list[str]]:
    return {
        "chinese": sorted({r["name"][:2] for r in rows if not r["name"].isascii()})[:300],
        "english": sorted({r["name"].split()[-1][:4].lower() for r in rows if r["name"].isascii()})[:300],
        "mobile4": sorted({r["mobile"][-4:] for r in rows if r["mobile"]})[:300],
    }


def prepare(*, path: Path, service: int, marketing: int, seed: int = 14) -> dict:
    """Make the logins and the token, pick the customers; write them to `path` (readable by its owner only)."""
    from django.contrib.auth import get_user_model

    from crm.web.api.models import ApiClient, Scope
    from crm.web.api.services import api_client_create, api_client_rotate
    from customers.models import Customer
    from marketing.models import Segment
    from marketing.services import segment_count, segment_save

    rng = random.Random(seed)
    password = secrets.token_urlsafe(16)
    logins = {
        Role.SERVICE: [_user(f"load-service-{n:02d}", Role.SERVICE, password).username for n in range(1, service + 1)],
        Role.MARKETING: [
            _user(f"load-marketing-{n:02d}", Role.MARKETING, password).username for n in range(1, marketing + 1)
        ],
    }
    sellers = get_user_model().objects.filter(groups__name=Role.SALES, username__regex=r"^sales\d+$")
    books = {}
    for seller in sellers.order_by("username"):
        _user(seller.username, Role.SALES, password)
        # The book's first customers by id: an index range scan, not a sort of 60,000 rows.
        owned = Customer.objects.filter(owner=seller).order_by("id").values_list("crm_number", flat=True)
        books[seller.username] = list(owned[:PER_SELLER])
    logins[Role.SALES] = sorted(books)

    top = Customer.objects.order_by("-id").values_list("id", flat=True).first() or 0
    ids = rng.sample(range(1, top + 1), min(top, SAMPLE))
    rows = list(Customer.objects.filter(id__in=ids).values("crm_number", "name", "mobile"))

    client = ApiClient.objects.filter(name="load test").first()
    scopes = [Scope.LOOKUP, Scope.INTERACTIONS_WRITE, Scope.TRANSACTIONS_WRITE]
    token = api_client_rotate(client=client) if client else api_client_create(name="load test", scopes=scopes)[1]

    for name, rules in SEGMENTS.items():
        if not Segment.objects.filter(name=name).exists():
            segment_count(segment=segment_save(name=name, rules=rules, actor=None))

    data = {
        "password": password,
        "logins": logins,
        "books": books,
        "numbers": [r["crm_number"] for r in rows],
        "displayed": [format_number(r["crm_number"]) for r in rows],
        "search": _texts(rows),
        "token": token,
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, ensure_ascii=False)
    return data
