import pytest
from django.urls import reverse

from customers.tests.factories import CustomerFactory

pytestmark = pytest.mark.django_db
LOOKUP = reverse("customers:lookup")


@pytest.mark.parametrize("shape", ["{d}", "{a}-{b}", "{a} {b}", " {a} - {b} ", "CRM{d}"])
def test_crm_number_with_or_without_separators_opens_the_customer(service_client, shape):
    customer = CustomerFactory()
    digits = str(customer.crm_number)
    typed = shape.format(d=digits, a=digits[:4], b=digits[4:])
    response = service_client.get(LOOKUP, {"q": typed})
    assert response.status_code == 302 and response.url == customer.get_absolute_url()


def test_wrong_check_digit_says_so(service_client):
    customer = CustomerFactory()
    digits = str(customer.crm_number)
    typo = digits[:-1] + str((int(digits[-1]) + 1) % 10)
    response = service_client.get(LOOKUP, {"q": typo}, follow=True)
    assert "check digit does not match" in response.content.decode()


def test_legacy_member_number_finds_the_customer(service_client):
    customer = CustomerFactory(legacy_number="M-2019-0042")
    response = service_client.get(LOOKUP, {"q": "M-2019-0042"})
    assert response.url == customer.get_absolute_url()


def test_numeric_legacy_number_that_fails_the_check_digit_still_finds_the_customer(service_client):
    customer = CustomerFactory(legacy_number="88001234")
    response = service_client.get(LOOKUP, {"q": "88001234"})
    assert response.url == customer.get_absolute_url()


def test_a_name_two_members_share_lists_them(service_client):
    CustomerFactory(name="黄磊")
    CustomerFactory(name="黄磊")
    response = service_client.get(LOOKUP, {"q": "黄磊"}, follow=True)
    assert [c.name for c in response.context["page"]] == ["黄磊", "黄磊"]


def test_a_name_only_one_member_has_opens_that_member(service_client):
    customer = CustomerFactory(name="黄磊")
    CustomerFactory(name="李娜")
    assert service_client.get(LOOKUP, {"q": "黄磊"}).url == customer.get_absolute_url()


@pytest.mark.parametrize(
    "typed", ["13357877348", "133 5787 7348", "133-5787-7348", "+86 133 5787 7348", "008613357877348", "5787734"]
)
def test_a_mobile_typed_the_usual_way_or_a_fragment_opens_the_member(service_client, typed):
    customer = CustomerFactory(mobile="+8613357877348")
    CustomerFactory(mobile="+8613900000000")
    response = service_client.get(LOOKUP, {"q": typed})
    assert response.status_code == 302 and response.url == customer.get_absolute_url()


def test_a_fragment_several_members_share_lists_them(service_client):
    CustomerFactory(name="甲", mobile="+8613357877348")
    CustomerFactory(name="乙", mobile="+8613957877348")
    response = service_client.get(LOOKUP, {"q": "57877348"}, follow=True)
    assert sorted(c.name for c in response.context["page"]) == ["乙", "甲"]


def test_an_email_opens_the_member(service_client):
    customer = CustomerFactory(email="wang.fang@example.cn")
    assert service_client.get(LOOKUP, {"q": "Wang.Fang@example.cn"}).url == customer.get_absolute_url()


def test_without_the_contact_permission_a_phone_finds_no_one(marketing_client):
    CustomerFactory(mobile="+8613357877348")
    response = marketing_client.get(LOOKUP, {"q": "13357877348"}, follow=True)
    assert list(response.context["page"]) == []


def test_sales_cannot_open_another_owners_customer_by_number(sales_client, other_sales_user):
    customer = CustomerFactory(owner=other_sales_user)
    response = sales_client.get(LOOKUP, {"q": str(customer.crm_number)}, follow=True)
    assert "No customer with CRM number" in response.content.decode()
