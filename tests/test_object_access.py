"""Object-level access: a Sales user (their own book only, no view_all_customers) can do nothing to another
seller's customer, by any address or identifier, and learns nothing of them.

Every URL that names a customer (a path parameter in CUSTOMER_PARAMS, found in the URL conf by
tests/test_access.py's walk) is requested by Sales with data that is valid: the same request by someone who
may (the customer's owner, a manager, a marketer, an API token) succeeds, so the refusal is the access check
and not a bad form. Sales get 404 (or 403; 401 from the token-only API), nothing is written, and the answer
holds none of the customer's details. Then every box that takes an identifier (the lookup box, the list's
search, the customer form's duplicate check, the till's coupon code, the bulk action's ticked ids) is tried
with another seller's CRM number, legacy number, phone, e-mail, name and coupon code; and the forms that take a
CRM number in their data (merge, mention, preview, why, upload) are closed to Sales.
"""

import io
import json
import re
from decimal import Decimal

import pytest
from django.forms.models import model_to_dict
from django.test import Client
from django.urls import reverse

from crm.lib import crm_number
from crm.roles import Role
from crm.web.api import services as api_services
from crm.web.api.models import Scope
from customers.models import Customer
from customers.services.membership import points_adjust
from customers.tests.factories import CustomerFactory, TagFactory, UserFactory
from interactions.models import UnmatchedMention
from interactions.tests.factories import TransactionFactory
from marketing.models import Campaign, Coupon, CouponOffer, RewardItem, Segment
from marketing.services.coupons import coupon_issue
from tests.hostile import rolled_back, table_counts
from tests.logins import force_login
from tests.test_access import all_urls

pytestmark = pytest.mark.django_db

# Path parameters that name a customer (or something only its viewers may use: a coupon code).
CUSTOMER_PARAMS = {"number", "crm_number", "customer_id", "pk", "code", "coupon_code", "legacy_number"}
OWNER, MG, MK, TOKEN = "owner", Role.MANAGER, Role.MARKETING, "token"

PROFILE = {"name": "改了名字", "gender": "unknown", "source": "store", "registered_on": "2026-01-02"}

# URL name -> {method: (who may make this request, its data from world())}. A URL that names a customer and
# is missing here fails test_every_url_naming_a_customer_is_walked.
CUSTOMER_URLS = {
    "customers:detail": {"get": (OWNER, lambda w: {})},
    "customers:edit": {
        "get": (OWNER, lambda w: {}),
        "post": (OWNER, lambda w: {**PROFILE, "mobile": "+8613911112222"}),
    },
    "customers:reveal": {"post": (OWNER, lambda w: {"field": "mobile"})},
    "customers:personal_data": {"get": (MG, lambda w: {}), "post": (MG, lambda w: {"format": "json"})},
    "customers:erase": {
        "get": (MG, lambda w: {}),
        "post": (MG, lambda w: {"confirm_number": str(w["theirs"].crm_number), "reason": "asked"}),
    },
    "customers:points_adjust": {
        "get": (MG, lambda w: {}),
        "post": (MG, lambda w: {"points": "10", "reason": "gift"}),
    },
    "customers:points_redeem": {
        "get": (OWNER, lambda w: {}),
        "post": (OWNER, lambda w: {"points": "10", "reason": "gift"}),
    },
    "interactions:purchase_record": {
        "get": (OWNER, lambda w: {}),
        "post": (OWNER, lambda w: {"amount": "100.00", "channel": "store"}),
    },
    "interactions:purchase_export": {"get": (MG, lambda w: {"format": "csv"})},
    "interactions:purchase_refund": {
        "get": (MG, lambda w: {}),
        "post": (MG, lambda w: {"amount": "10.00", "reason": "size"}),
    },
    "interactions:interaction_log": {
        "get": (OWNER, lambda w: {}),
        "post": (
            OWNER,
            lambda w: {"subject": "回访", "channel": "phone", "direction": "out", "outcome": "resolved"},
        ),
    },
    "marketing:coupon_issue": {"get": (MK, lambda w: {}), "post": (MK, lambda w: {"offer": w["another_offer"].pk})},
    "marketing:reward_exchange": {
        "get": (OWNER, lambda w: {}),
        "post": (OWNER, lambda w: {"item": w["item"].pk}),
    },
    "api:member": {"get": (TOKEN, lambda w: {}), "patch": (TOKEN, lambda w: {"name": "改了名字"})},
    "api:member_rewards": {"post": (TOKEN, lambda w: {"item": w["item"].pk})},
}


def customer_urls() -> set[str]:
    return {key for key, params in all_urls().items() if set(params) & CUSTOMER_PARAMS and not key.startswith("admin:")}


def test_every_url_naming_a_customer_is_walked():
    missing = customer_urls() - CUSTOMER_URLS.keys()
    assert not missing, f"{sorted(missing)}: add a valid request to CUSTOMER_URLS in tests/test_object_access.py"
    assert CUSTOMER_URLS.keys() <= customer_urls()


@pytest.fixture
def world():
    """Two sellers' books; "theirs" is the other seller's customer, with points, a purchase and a coupon."""
    me = UserFactory(username="my-seller", role=Role.SALES)
    other = UserFactory(username="other-seller", role=Role.SALES)
    manager = UserFactory(username="a-manager", role=Role.MANAGER)
    mine = CustomerFactory(owner=me, name="自己的客户", legacy_number="OLD-MINE-1")
    theirs = CustomerFactory(
        owner=other, name="欧阳别人", legacy_number="OLD-THEIRS-7", mobile="+8613955556666", email="other@example.com"
    )
    points_adjust(customer=theirs, points=500, reason="opening balance", actor=manager)
    offer = CouponOffer.objects.create(name="20 off", value=20)
    return {
        "me": me,
        "users": {
            OWNER: other,
            MG: manager,
            MK: UserFactory(username="a-marketer", role=Role.MARKETING),
        },
        "mine": mine,
        "theirs": theirs,
        "transaction": TransactionFactory(customer=theirs),
        "offer": offer,
        "coupon": coupon_issue(offer=offer, customer=theirs, actor=None),
        "another_offer": CouponOffer.objects.create(name="10 off", value=10),
        "item": RewardItem.objects.create(name="保温杯", points_price=10),
        "tag": TagFactory(name="VIP"),
    }


def _body(response) -> str:
    """The answer as text, a download's too (the data-subject export streams its file)."""
    raw = b"".join(response.streaming_content) if response.streaming else response.content
    return raw.decode(errors="replace")


def _client(user) -> Client:
    return force_login(Client(raise_request_exception=False), user)


class _Token:
    """An integration with every scope, speaking JSON."""

    def __init__(self):
        _client, token = api_services.api_client_create(name="everything", scopes=list(Scope))
        self.client = Client(headers={"authorization": f"Bearer {token}"}, raise_request_exception=False)

    def request(self, method, url, data):
        if method == "get":
            return self.client.get(url, data)
        return getattr(self.client, method)(url, json.dumps(data), content_type="application/json")


def _send(client, method, url, data, *, api: bool):
    if api and method != "get":
        return getattr(client, method)(url, json.dumps(data), content_type="application/json")
    return getattr(client, method)(url, data)


def _state(theirs: Customer) -> tuple:
    """Everything a request could change: the row counts of every table, and the customer's own row."""
    row = model_to_dict(Customer.objects.get(pk=theirs.pk), exclude=["tags", "preferred_categories"])
    return table_counts(), row, list(theirs.tags.values_list("pk", flat=True))


def _url(name: str, world: dict) -> str:
    kwargs = {"number": world["theirs"].crm_number}
    if name == "interactions:purchase_refund":
        kwargs["transaction_id"] = world["transaction"].pk
    return reverse(name, kwargs=kwargs)


def test_sales_can_do_nothing_to_another_sellers_customer(world):
    """The same valid request: done for the one who may, refused to Sales with nothing written or shown."""
    theirs = world["theirs"]
    mine = _client(world["me"])
    may = {who: _client(user) for who, user in world["users"].items()} | {TOKEN: _Token()}
    wrong = []
    for name, methods in sorted(CUSTOMER_URLS.items()):
        url = _url(name, world)
        api = name.startswith("api:")
        for method, (who, data) in sorted(methods.items()):
            payload = data(world)
            before = _state(theirs)
            with rolled_back():
                response = _send(mine, method, url, payload, api=api)
                changed = _state(theirs) != before
            content = _body(response)
            refused = {401} if api else {403, 404}
            if response.status_code not in refused or changed or theirs.name in content or theirs.mobile in content:
                wrong.append(f"Sales {method.upper()} {url}: {response.status_code}, wrote: {changed}")
            with rolled_back():
                if who == TOKEN:
                    allowed = may[TOKEN].request(method, url, payload)
                else:
                    allowed = _send(may[who], method, url, payload, api=False)
                body = _body(allowed)
                worked = (
                    _state(theirs) != before
                    or theirs.name in body
                    or theirs.mobile[-8:] in re.sub(r"\D", "", body)  # a revealed phone, however spaced
                    or str(theirs.crm_number) in allowed.get("Content-Disposition", "")  # a download of theirs
                )
            if allowed.status_code >= 400 or not worked:
                wrong.append(f"{who} {method.upper()} {url}: {allowed.status_code}; the request must work for them")
    assert wrong == [], "\n".join(wrong)


# Identifiers typed into a box --------------------------------------------------------------------------------


def _identifiers(customer: Customer) -> dict[str, str]:
    return {
        "CRM number": str(customer.crm_number),
        "CRM number as printed": customer.crm_number_display,
        "legacy number": customer.legacy_number,
        "mobile": customer.mobile[3:],  # as typed at a desk, without +86
        "e-mail": customer.email,
        "name": customer.name,
    }


def _found(client: Client, url: str, params: dict, customer: Customer) -> bool:
    response = client.get(url, params, follow=True)
    assert response.status_code == 200
    page = customer.get_absolute_url()
    return (
        any(page == hop.split("?")[0] for hop, _status in response.redirect_chain) or page in response.content.decode()
    )


@pytest.mark.parametrize("box", ["customers:lookup", "customers:list"])
def test_sales_find_another_sellers_customer_by_no_identifier(world, box):
    theirs, owner = world["theirs"], _client(world["users"][OWNER])
    me = _client(world["me"])
    for kind, text in _identifiers(theirs).items():
        assert _found(owner, reverse(box), {"q": text}, theirs), f"the owner finds them by {kind}"
        before = table_counts()
        assert not _found(me, reverse(box), {"q": text}, theirs), f"Sales found another's customer by {kind}"
        assert table_counts() == before


def test_a_crm_number_outside_the_book_is_answered_like_one_that_does_not_exist(world):
    """The lookup box says the same of another seller's customer as of a number no one has: no existence leak."""
    me, theirs = _client(world["me"]), world["theirs"]
    nobody = crm_number.with_check_digit(Customer.objects.order_by("-crm_number").first().crm_number // 10 + 1000)
    answers = []
    for number in (theirs.crm_number, nobody):
        response = me.get(reverse("customers:lookup"), {"q": number}, follow=True)
        page = re.sub(r'(csrftoken": "|csrfmiddlewaretoken" value=")[^"]+', "", response.content.decode(), flags=re.I)
        answers.append(page.replace(crm_number.format_number(number), "N").replace(str(number), "N"))
    assert answers[0] == answers[1]


def test_the_list_filtered_by_another_sellers_owner_id_is_empty(world):
    me, theirs = _client(world["me"]), world["theirs"]
    response = me.get(reverse("customers:list"), {"owner": world["users"][OWNER].pk})
    assert response.status_code == 200
    assert theirs.get_absolute_url() not in response.content.decode()


@pytest.mark.parametrize("field", ["mobile", "email"])
@pytest.mark.parametrize("edit", [False, True])
def test_the_customer_form_does_not_name_whose_phone_or_email_it_is(world, field, edit):
    """Unique across every book, so refused; but Sales are not told whose it is (their name, CRM number)."""
    theirs = world["theirs"]
    data = {**PROFILE, field: getattr(theirs, field)}
    url = reverse("customers:edit", args=[world["mine"].crm_number]) if edit else reverse("customers:create")
    before = _state(theirs)
    response = _client(world["me"]).post(url, data)
    assert response.status_code == 200  # the form again, with the reason
    content = response.content.decode()
    assert "outside your book" in content
    assert theirs.name not in content and theirs.crm_number_display not in content
    assert _state(theirs) == before
    # Someone who sees every customer is told whom, with a link (so the check above can fail).
    content = _client(world["users"][MG]).post(url, data).content.decode()
    assert theirs.name in content and theirs.get_absolute_url() in content


def test_another_members_coupon_code_at_the_till_is_an_unknown_code(world):
    """Recording a purchase for one's own customer with another seller's customer's code: refused as if the code
    did not exist, and the coupon stays unused."""
    code = world["coupon"].code_display
    data = {"amount": "100.00", "channel": "store", "coupon_code": code}
    before = _state(world["theirs"])
    url = reverse("interactions:purchase_record", args=[world["mine"].crm_number])
    response = _client(world["me"]).post(url, data)
    assert response.status_code == 400
    assert "No coupon has this code." in response.content.decode()
    assert _state(world["theirs"]) == before
    assert Coupon.objects.get(pk=world["coupon"].pk).transaction_id is None
    # The desk, which sees every member, is told whose it is; the member's own seller may redeem it.
    manager = _client(world["users"][MG]).post(url, data).content.decode()
    assert "This coupon was issued to another member." in manager
    theirs = reverse("interactions:purchase_record", args=[world["theirs"].crm_number])
    assert _client(world["users"][OWNER]).post(theirs, data).status_code == 302
    assert Coupon.objects.get(pk=world["coupon"].pk).transaction.amount == Decimal("80.00")


def test_a_bulk_action_on_another_sellers_customer_id_changes_nothing(world):
    theirs, tag = world["theirs"], world["tag"]
    data = {"action": "tag_add", "scope": "selected", "ids": [theirs.pk], "tag": tag.name}
    before = _state(theirs)
    assert _client(world["me"]).post(reverse("customers:bulk"), data).status_code == 302
    assert _state(theirs) == before
    _client(world["users"][OWNER]).post(reverse("customers:bulk"), data)
    assert tag in theirs.tags.all()


# Forms and query strings that take a customer by CRM number outside the path: (method, URL name, the object its
# path names, the field that takes the number). Closed to Sales by their role; the form or box filters by the
# book as well (customers_visible_to), for a role that might one day be given them.
NAMED_IN_DATA = [
    ("post", "customers:merge", None, "a"),
    ("get", "customers:merge", None, "a"),
    ("post", "interactions:mention_assign", "mention", "customer"),
    ("get", "marketing:campaign_preview", "campaign", "number"),
    ("get", "marketing:segment_detail", "segment", "number"),
    ("post", "marketing:segment_upload", None, "file"),
]


@pytest.mark.parametrize(("method", "name", "path", "field"), NAMED_IN_DATA, ids=lambda v: str(v))
def test_sales_cannot_reach_another_sellers_customer_through_a_form(world, method, name, path, field):
    theirs = world["theirs"]
    named = {
        "mention": UnmatchedMention.objects.create(platform="weibo", text="差评"),
        "campaign": Campaign.objects.create(name="Spring", segment=Segment.objects.create(name="Spring list")),
        "segment": Segment.objects.create(name="Everyone"),
    }
    value = theirs.crm_number
    if field == "file":
        value = io.BytesIO(str(theirs.crm_number).encode())
        value.name = "list.csv"
    data = {field: value, "b": world["mine"].crm_number, "name": "list"}
    before = _state(theirs)
    response = getattr(_client(world["me"]), method)(reverse(name, args=[named[path].pk] if path else []), data)
    assert response.status_code == 403
    assert _state(theirs) == before
    assert theirs.name not in response.content.decode()
