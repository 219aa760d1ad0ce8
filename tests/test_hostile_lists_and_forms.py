"""The outside inputs tests/test_hostile_web_input.py and the apps' own property tests left out: the query
strings of the lists and small pages (page, status, preset, format, the segment's "why" box), the small
marketing forms (freeze, export, issue to a segment, a coupon or a reward for one member, a list upload), the
admin's list pages (search, ordering, page, filters), and the contacts a seller types into the customer form.
The property, as everywhere: never a 500, and a refused request (anything but a redirect after a write)
changes nothing.
"""

import io

import pytest
from django.contrib import admin
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from crm.roles import Role
from customers.tests.factories import CustomerFactory, UserFactory
from interactions.tests.factories import ReminderFactory, TransactionFactory
from marketing.models import Campaign, CouponOffer, RewardItem, Segment
from tests.hostile import hostile_number, hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db

AUDIT = "customers.AuditEvent"  # a page that shows a customer's data records that it did


@pytest.fixture
def shop(login_as):
    manager = UserFactory(username="hostile-manager", role=Role.MANAGER)
    customer = CustomerFactory(owner=manager, points_balance=0)
    TransactionFactory(customer=customer)
    ReminderFactory(customer=customer, assignee=manager)
    segment = Segment.objects.create(name="Everyone")
    return {
        "manager": login_as(manager),
        "marketer": login_as(UserFactory(username="hostile-marketer", role=Role.MARKETING)),
        "seller": login_as(UserFactory(username="hostile-seller", role=Role.SALES)),
        "admin": login_as(UserFactory(username="hostile-admin", role=Role.ADMIN, is_staff=True, is_superuser=True)),
        "customer": customer,
        "segment": segment,
        "campaign": Campaign.objects.create(name="Spring", segment=Segment.objects.create(name="Spring list")),
        "offer": CouponOffer.objects.create(name="20 off", value=20),
        "item": RewardItem.objects.create(name="保温杯", points_price=10),
    }


def _counts_without_audit() -> dict:
    return {label: n for label, n in table_counts().items() if label != AUDIT}


def _refused_changes_nothing(response, before: dict, *, wrote_ok: bool = False) -> None:
    assert response.status_code < 500, response.content[:500]
    if not (wrote_ok and response.status_code == 302):
        assert _counts_without_audit() == before


page_param = st.one_of(hostile_number, st.sampled_from(["last", "0", "-1", "2", "9" * 30]))


# (who asks, URL name, its path parameter from shop(), the query parameters it reads): one drawn per example.
QUERIED = [
    ("manager", "customers:duplicates", None, ["page"]),
    ("manager", "interactions:mention_queue", None, ["page"]),
    ("manager", "interactions:my_day", None, ["page"]),
    ("manager", "interactions:purchase_export", "number", ["format"]),
    ("manager", "analytics:run_list", None, ["page"]),
    ("manager", "notifications", None, ["page"]),
    ("marketer", "marketing:campaign_list", None, ["page", "status"]),
    ("marketer", "marketing:segment_list", None, ["page"]),
    ("marketer", "marketing:offer_list", None, ["page"]),
    ("marketer", "marketing:automation_list", None, ["page"]),
    ("marketer", "marketing:segment_create", None, ["preset"]),
    ("marketer", "marketing:segment_detail", "segment", ["number"]),
    ("marketer", "marketing:campaign_progress", "campaign", ["status"]),
    ("manager", "marketing:reports", None, ["page", "sort"]),
]


@given(asked=st.sampled_from(QUERIED), value=st.one_of(hostile_text, page_param))
@example(asked=QUERIED[3], value="xlsx")
@example(asked=QUERIED[11], value="1000-0017")
def test_hostile_query_strings_of_the_lists_and_pages(shop, asked, value):
    who, name, param, keys = asked
    args = [] if param is None else [shop["customer"].crm_number if param == "number" else shop[param].pk]
    before = _counts_without_audit()
    with rolled_back():
        # As htmx asks (a fragment) and as a browser does.
        response = shop[who].get(reverse(name, args=args), dict.fromkeys(keys, value), headers={"HX-Request": "true"})
        _refused_changes_nothing(response, before)
        _refused_changes_nothing(shop[who].get(reverse(name, args=args), dict.fromkeys(keys, value)), before)


@given(kind=hostile_text)
def test_hostile_import_template_kinds(shop, kind):
    before = _counts_without_audit()
    with rolled_back():
        response = shop["manager"].get(f"/import/template/{kind.replace('/', '_').replace('?', '_')}.csv")
        _refused_changes_nothing(response, before)


# (who, URL name, path parameter, the field it posts): a small form each, one drawn per example.
POSTED = [
    ("marketer", "marketing:segment_freeze", "segment", "name"),
    ("marketer", "marketing:segment_export", "segment", "format"),
    ("marketer", "marketing:offer_issue_segment", "offer", "segment"),
    ("marketer", "marketing:coupon_issue", "number", "offer"),
    ("manager", "marketing:reward_exchange", "number", "item"),
]


@given(posted=st.sampled_from(POSTED), value=st.one_of(hostile_text, hostile_number, st.just("REAL")))
@example(posted=POSTED[2], value="REAL")
@example(posted=POSTED[3], value="REAL")
@example(posted=POSTED[4], value="REAL")
def test_hostile_small_marketing_forms(shop, posted, value):
    """Freeze a segment, export it, issue an offer to it; a coupon or a reward for one member."""
    who, name, param, field = posted
    real = {"name": "A frozen copy", "format": "csv", "segment": shop["segment"].pk, "offer": shop["offer"].pk}
    real["item"] = shop["item"].pk
    arg = shop["customer"].crm_number if param == "number" else shop[param].pk
    before = _counts_without_audit()
    with rolled_back():
        response = shop[who].post(reverse(name, args=[arg]), {field: real[field] if value == "REAL" else value})
        _refused_changes_nothing(response, before, wrote_ok=True)


@given(
    content=st.one_of(st.binary(max_size=2000), hostile_text.map(lambda s: s.encode("utf-8", "surrogatepass"))),
    filename=hostile_text,
    extension=st.sampled_from([".csv", ".txt", ".xlsx", ""]),
    name=hostile_text,
    description=hostile_text,
)
@example(content=b"10000017\n13900001234\n", filename="list", extension=".csv", name="From a file", description="")
def test_hostile_segment_uploads(shop, content, filename, extension, name, description):
    upload = io.BytesIO(content)
    upload.name = (filename.replace("/", "_") or "x")[:150] + extension
    before = _counts_without_audit()
    with rolled_back():
        response = shop["marketer"].post(
            reverse("marketing:segment_upload"), {"file": upload, "name": name, "description": description}
        )
        assert response.status_code in (200, 302, 400), response.content[:500]
        if response.status_code == 400:  # 200: the list was made, and the lines it could not use are shown
            assert _counts_without_audit() == before


ADMIN_LISTS = sorted(f"admin:{m._meta.app_label}_{m._meta.model_name}_changelist" for m in admin.site._registry)


@given(
    name=st.sampled_from(ADMIN_LISTS),
    params=st.dictionaries(
        st.one_of(st.sampled_from(["q", "o", "p", "e", "all", "_popup", "_to_field", "id__exact"]), hostile_text),
        st.one_of(hostile_text, hostile_number),
        max_size=4,
    ),
)
@example(name="admin:customers_customer_changelist", params={"q": "张三", "o": "-1.2", "p": "9" * 30})
def test_hostile_admin_list_query_strings(shop, name, params):
    before = table_counts()
    with rolled_back():
        response = shop["admin"].get(reverse(name), params)
        assert response.status_code < 500, response.content[:500]
        assert table_counts() == before


@given(
    mobile=st.one_of(hostile_text, st.sampled_from(["THEIRS", "13900001234", "+86 139 0000 1234"])),
    email=st.one_of(hostile_text, st.sampled_from(["THEIRS", "A@EXAMPLE.COM"])),
)
@example(mobile="THEIRS", email="THEIRS")
def test_hostile_contacts_typed_by_a_seller_never_fail_nor_name_another_book(shop, mobile, email):
    """The customer form as Sales see it: a duplicate outside their book is refused without naming whose it is."""
    theirs = shop["customer"]  # the manager's
    data = {"name": "新客户", "gender": "unknown", "source": "store", "registered_on": "2026-01-02"}
    data["mobile"] = theirs.mobile if mobile == "THEIRS" else mobile
    data["email"] = theirs.email if email == "THEIRS" else email
    before = _counts_without_audit()
    with rolled_back():
        response = shop["seller"].post(reverse("customers:create"), data)
        _refused_changes_nothing(response, before, wrote_ok=True)
        if response.status_code != 302:
            assert theirs.crm_number_display not in response.content.decode()
