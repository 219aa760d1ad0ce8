"""Whatever staff type or a link carries, the answer is never a 500, and a refused request changes nothing.

One property test per outside input of the web pages: the lookup box, the list's query string,
the reports' parameters, and every form that writes (customer, purchase, refund, points,
interaction, follow-up, merge, export, mention assignment, import mapping).
"""

import io

import pytest
from django.test import Client
from django.urls import reverse
from hypothesis import example, given
from hypothesis import strategies as st

from crm.roles import Role
from customers.tests.factories import CustomerFactory, UserFactory
from interactions.models import UnmatchedMention
from interactions.tests.factories import ReminderFactory, TransactionFactory
from tests.hostile import hostile_date, hostile_number, hostile_text, rolled_back, table_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(login_as):
    """A manager (may do everything on these pages) and a customer with a purchase and a reminder."""
    user = UserFactory(username="desk", role=Role.MANAGER)
    customer = CustomerFactory(name="张三", mobile="+8613900001234", owner=user)
    return {
        "client": login_as(user),
        "customer": customer,
        "transaction": TransactionFactory(customer=customer),
        "reminder": ReminderFactory(customer=customer, assignee=user),
        "other": CustomerFactory(name="张三", owner=user),
    }


def check(response, before: dict, *, wrote_ok: bool = False) -> None:
    """No 5xx; and unless the request succeeded (a redirect after a write), nothing was written."""
    assert response.status_code < 500, response.content[:500]
    if not (wrote_ok and response.status_code == 302):
        assert table_counts() == before


def get(client, url, params):
    before = table_counts()
    with rolled_back():
        response = client.get(url, params)
        # Reading a customer's page writes its audit entry; nothing else may change.
        check(response, before if "detail" not in url else table_counts())


def post(client, url, data):
    before = table_counts()
    with rolled_back():
        check(client.post(url, data), before, wrote_ok=True)


@given(q=hostile_text)
@example(q="1000-0012\x00")
def test_lookup_box(desk, q):
    before = table_counts()
    with rolled_back():
        check(desk["client"].get(reverse("customers:lookup"), {"q": q}), before)


@given(
    params=st.fixed_dictionaries(
        {},
        optional={
            "q": hostile_text,
            "tier": hostile_number,
            "province": hostile_text,
            "city": hostile_text,
            "owner": hostile_number,
            "tag": hostile_number,
            "source": hostile_text,
            "birthday_month": hostile_number,
            "sort": st.one_of(hostile_text, st.sampled_from(["name", "-name", "points_balance,-crm_number"])),
            "page": hostile_number,
        },
    )
)
def test_customer_list_query_string(desk, params):
    get(desk["client"], reverse("customers:list"), params)


@given(since=hostile_date, until=hostile_date, days=hostile_number, page=hostile_number)
@example(since="", until="9999-12-31", days="90", page="1")
@example(since="0001-01-01", until="0001-01-02", days="1e309", page="9" * 5000)
def test_interaction_reports_parameters(desk, since, until, days, page):
    get(desk["client"], reverse("interactions:reports"), {"since": since, "until": until, "days": days, "page": page})


@given(page=hostile_number, timeline=hostile_text, points_page=hostile_number, purchases_page=hostile_number)
def test_customer_page_parameters(desk, page, timeline, points_page, purchases_page):
    number = desk["customer"].crm_number
    params = {"timeline_page": page, "timeline": timeline, "points_page": points_page, "purchases_page": purchases_page}
    before = table_counts()
    with rolled_back():
        response = desk["client"].get(reverse("customers:detail", args=[number]), params)
        assert response.status_code < 500
        assert sum(table_counts().values()) - sum(before.values()) <= 1  # the view's own audit entry


@given(
    data=st.fixed_dictionaries(
        {"name": hostile_text},
        optional={
            "gender": hostile_text,
            "birthday": hostile_date,
            "mobile": hostile_text,
            "email": hostile_text,
            "province": hostile_text,
            "city": hostile_text,
            "address": hostile_text,
            "source": hostile_text,
            "registered_on": hostile_date,
            "owner": hostile_number,
            "tier": hostile_number,
            "tags": hostile_number,
            "legacy_number": hostile_text,
            "email_opt_in": hostile_text,
            "notes": hostile_text,
        },
    ),
    edit=st.booleans(),
)
def test_customer_form(desk, data, edit):
    url = reverse("customers:edit", args=[desk["customer"].crm_number]) if edit else reverse("customers:create")
    post(desk["client"], url, data)


@given(
    amount=hostile_number,
    store=hostile_text,
    sku=hostile_text,
    quantity=hostile_number,
    channel=hostile_text,
    coupon=st.one_of(hostile_text, st.sampled_from(["CPN-0000-0000", "cpn 0000 0000", "0" * 13])),
)
@example(amount="10", store="", sku="", quantity=str(10**12), channel="store", coupon="")
def test_record_purchase_form(desk, amount, store, sku, quantity, channel, coupon):
    url = reverse("interactions:purchase_record", args=[desk["customer"].crm_number])
    data = {"amount": amount, "store": store, "sku": sku, "quantity": quantity, "channel": channel}
    post(desk["client"], url, data | {"coupon_code": coupon})


@given(amount=hostile_number, reason=hostile_text)
def test_refund_form(desk, amount, reason):
    url = reverse("interactions:purchase_refund", args=[desk["customer"].crm_number, desk["transaction"].pk])
    post(desk["client"], url, {"amount": amount, "reason": reason})


@given(points=hostile_number, reason=hostile_text, redeem=st.booleans())
@example(points=str(10**12), reason="gift", redeem=False)
def test_points_forms(desk, points, reason, redeem):
    url = reverse(
        "customers:points_redeem" if redeem else "customers:points_adjust", args=[desk["customer"].crm_number]
    )
    post(desk["client"], url, {"points": points, "reason": reason})


@given(
    data=st.fixed_dictionaries(
        {"subject": hostile_text},
        optional={
            "channel": hostile_text,
            "direction": hostile_text,
            "outcome": hostile_text,
            "notes": hostile_text,
            "satisfaction": hostile_number,
            "follow_up_on": hostile_date,
        },
    )
)
def test_interaction_form(desk, data):
    post(desk["client"], reverse("interactions:interaction_log", args=[desk["customer"].crm_number]), data)


@given(until=hostile_text, done=st.booleans())
def test_reminder_buttons(desk, until, done):
    url = reverse("interactions:reminder_done" if done else "interactions:reminder_snooze", args=[desk["reminder"].pk])
    post(desk["client"], url, {"until": until})


@given(a=hostile_number, b=hostile_number, keep=hostile_number)
def test_merge_form(desk, a, b, keep):
    post(desk["client"], reverse("customers:merge"), {"a": a, "b": b, "keep": keep})


@given(query=hostile_text, fmt=hostile_text)
def test_export_form(desk, query, fmt):
    before = table_counts()
    with rolled_back():
        response = desk["client"].post(reverse("customers:export"), {"query": query, "format": fmt})
        assert response.status_code < 500
        if response.status_code != 302:
            assert table_counts() == before


@given(path_text=st.sampled_from(["%00", "1000-0012%00", "abc%00def"]), q=hostile_text)
def test_nul_anywhere_in_the_address_is_a_400(desk, path_text, q):
    before = table_counts()
    with rolled_back():
        client = desk["client"]
        response = client.get(f"/customers/lookup/?q={path_text}")
        assert response.status_code == 400 and "contains a NUL character" in response.content.decode()
        assert client.get(f"/import/{path_text}/").status_code == 400
        assert client.get(f"/api/v1/members/{path_text}/").status_code == 400
        assert client.get(reverse("customers:list"), {"q": q + "\x00"}).status_code == 400
        assert table_counts() == before


@given(customer=hostile_text)
def test_mention_assignment_form(desk, customer):
    mention = UnmatchedMention.objects.create(platform="weibo", text="差评")
    post(desk["client"], reverse("interactions:mention_assign", args=[mention.pk]), {"customer": customer})


@given(content=st.one_of(st.binary(max_size=3000), hostile_text.map(str.encode)), name=hostile_text, kind=hostile_text)
def test_import_upload_form(desk, content, name, kind, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    file = io.BytesIO(content)
    file.name = (name or "x")[:200] + ".csv"
    before = table_counts()
    with rolled_back():
        response = desk["client"].post(reverse("import"), {"file": file, "importer": kind})
        check(response, before)  # the upload itself writes no rows: the mapping page starts the job


@given(username=hostile_text, password=hostile_text)
def test_login_form(username, password, db):
    before = table_counts()
    with rolled_back():
        response = Client().post(reverse("login"), {"username": username, "password": password})
        check(response, before)


@given(language=hostile_text, next_url=hostile_text, job=hostile_number)
def test_language_switch_notifications_and_job_pages(desk, language, next_url, job):
    client = desk["client"]
    before = table_counts()
    with rolled_back():
        check(client.post(reverse("set_language"), {"language": language, "next": next_url}), before)
        check(client.get(f"/jobs/{job}/"), before)
        check(client.get(f"/jobs/{job}/download/"), before)
        assert client.post(reverse("notifications_read")).status_code == 200


@given(mapping=st.dictionaries(st.sampled_from(["col_0", "col_1", "col_2", "col_99", "x"]), hostile_text, max_size=4))
def test_import_mapping_form(desk, mapping, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    file = io.BytesIO("name,mobile\n张三,13900005555\n".encode())
    file.name = "members.csv"
    url = desk["client"].post(reverse("import"), {"file": file, "importer": "customers"}).url
    before = table_counts()
    with rolled_back():
        response = desk["client"].post(url, mapping)
        check(response, before, wrote_ok=True)  # a valid mapping starts the job (one row) and redirects
