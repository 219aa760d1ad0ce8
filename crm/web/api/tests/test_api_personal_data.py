"""Members' contact details leave the API masked unless the token was granted the scope personal_data."""

import datetime

import pytest
import yaml
from django.urls import reverse

from crm.lib.masking import mask_address, mask_birthday
from crm.web.api.models import ApiClient, Scope
from customers.models import Customer
from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db

CONTACTS = {"mobile": "+8613812345678", "email": "wang.fang@example.com", "birthday": datetime.date(1990, 5, 17)}
MASKED = {"mobile": "+86138****5678", "email": "w***@example.com", "birthday": "****-05-17"}
PLAIN = {"mobile": "+8613812345678", "email": "wang.fang@example.com", "birthday": "1990-05-17"}


def contacts(body: dict) -> dict:
    return {field: body[field] for field in ("mobile", "email", "birthday")}


@pytest.fixture
def member():
    return CustomerFactory(**CONTACTS)


@pytest.mark.parametrize(("extra", "seen"), [((), MASKED), ((Scope.PERSONAL_DATA,), PLAIN)], ids=["masked", "plain"])
def test_look_ups_answer_contacts_masked_unless_granted_personal_data(integration, member, extra, seen):
    api = integration(Scope.LOOKUP, *extra)
    by_number = api.get(reverse("api:member", args=[member.crm_number]))
    by_phone = api.get(reverse("api:member_by_phone"), {"phone": "13812345678"})
    assert by_number.status_code == by_phone.status_code == 200
    assert contacts(by_number.json()) == contacts(by_phone.json()) == seen
    assert by_number.json()["name"] == member.name  # the rest is as before


@pytest.mark.parametrize(("extra", "seen"), [((), MASKED), ((Scope.PERSONAL_DATA,), PLAIN)], ids=["masked", "plain"])
def test_sign_up_and_update_answers_mask_contacts_but_store_them_whole(integration, extra, seen):
    api = integration(Scope.MEMBERS_WRITE, *extra)
    response = api.post(reverse("api:members"), {"name": "王芳", **PLAIN})
    assert response.status_code == 201
    assert contacts(response.json()) == seen
    customer = Customer.objects.get(crm_number=int(response.json()["crm_number"]))
    assert (customer.mobile, customer.email, customer.birthday) == tuple(CONTACTS.values())
    response = api.patch(reverse("api:member", args=[customer.crm_number]), {"name": "王芳芳"})
    assert response.status_code == 200 and contacts(response.json()) == seen
    customer.refresh_from_db()
    assert customer.name == "王芳芳" and customer.mobile == CONTACTS["mobile"]


def test_a_member_without_contacts_answers_empty_not_a_mask(integration):
    member = CustomerFactory(mobile="", email="", birthday=None)
    body = integration(Scope.LOOKUP).get(reverse("api:member", args=[member.crm_number])).json()
    assert contacts(body) == {"mobile": "", "email": "", "birthday": None}


def test_the_admin_can_grant_personal_data(admin_user, login_as):
    browser = login_as(admin_user)
    response = browser.post(
        reverse("admin:api_apiclient_add"),
        {"name": "CRM sync", "scopes": ["lookup", "personal_data"], "rate_limit": "", "active": "on"},
    )
    assert response.status_code == 302
    assert ApiClient.objects.get(name="CRM sync").scopes == ["lookup", "personal_data"]


def test_the_schema_says_which_scope_unmasks(integration):
    schema = yaml.safe_load(integration(Scope.LOOKUP).get(reverse("api:schema")).content)
    member = schema["components"]["schemas"]["Member"]["properties"]
    assert all("personal_data" in member[field]["description"] for field in ("mobile", "email", "birthday"))


@pytest.mark.parametrize(
    ("value", "masked"),
    [(datetime.date(1990, 5, 17), "****-05-17"), (datetime.date(1, 1, 1), "****-01-01"), (None, "")],
)
def test_a_birthday_is_masked_to_its_month_and_day(value, masked):
    assert mask_birthday(value) == masked


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("浙江省杭州市西湖区文三路100号", "***"),
        ("12 Baker Street, London", "***"),
        ("", ""),
    ],
)
def test_an_address_is_hidden_whole(value, masked):
    assert mask_address(value) == masked


def test_a_masked_email_read_back_and_sent_in_again_is_refused_and_the_real_one_kept(integration):
    api = integration(Scope.LOOKUP, Scope.MEMBERS_WRITE)
    member = CustomerFactory(email="wang.fang@example.com")
    masked = api.get(f"/api/v1/members/{member.crm_number}/").json()["email"]
    assert masked == "w***@example.com"
    response = api.patch(f"/api/v1/members/{member.crm_number}/", {"email": masked})
    assert response.status_code == 400 and "masked" in str(response.json())
    member.refresh_from_db()
    assert member.email == "wang.fang@example.com"
