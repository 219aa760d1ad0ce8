import datetime

import pytest
from django.urls import reverse

from crm.lib import crm_number
from customers.models import Customer
from customers.tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db
CREATE = reverse("customers:create")


def form_data(**overrides):
    data = {
        "name": "刘洋",
        "gender": "female",
        "birthday": "1991-05-20",
        "mobile": "135 0000 8888",
        "email": "liu.yang@example.cn",
        "source": "store",
        "registered_on": "2026-01-15",
        "province": "四川省",
        "city": "成都市",
        "email_opt_in": "on",
    }
    data.update(overrides)
    return data


def test_service_staff_create_a_customer_and_land_on_the_page(service_client):
    response = service_client.post(CREATE, form_data(tags=[TagFactory(name="新客").pk]))
    customer = Customer.objects.get(name="刘洋")
    assert response.status_code == 302 and response.url == customer.get_absolute_url()
    assert crm_number.is_valid(str(customer.crm_number))
    assert customer.mobile == "+8613500008888"
    assert [t.name for t in customer.tags.all()] == ["新客"]
    assert customer.email_opt_in


def test_bad_phone_keeps_what_was_typed_and_says_why(service_client):
    response = service_client.post(CREATE, form_data(mobile="12345"))
    assert response.status_code == 200
    body = response.content.decode()
    assert "mainland China mobile" in body
    assert 'value="刘洋"' in body and 'value="12345"' in body and 'value="liu.yang@example.cn"' in body
    assert not Customer.objects.exists()


def test_future_birthday_is_refused(service_client):
    response = service_client.post(CREATE, form_data(birthday="2999-01-01"))
    assert "cannot be in the future" in response.content.decode()


def test_bad_email_is_refused(service_client):
    response = service_client.post(CREATE, form_data(email="not-an-email"))
    assert response.status_code == 200
    assert "Enter a valid email address" in response.content.decode()


def test_duplicate_phone_links_to_the_existing_customer(service_client):
    existing = CustomerFactory(name="原来的客户", mobile="+8613500008888")
    response = service_client.post(CREATE, form_data())
    body = response.content.decode()
    assert f'href="{existing.get_absolute_url()}"' in body
    assert existing.crm_number_display in body
    assert Customer.objects.count() == 1


def test_sales_staff_become_owner_of_customers_they_create(sales_client, sales_user):
    sales_client.post(CREATE, form_data())
    assert Customer.objects.get().owner == sales_user


def test_edit_changes_the_customer_and_keeps_the_number(service_client):
    customer = CustomerFactory(name="旧名字", mobile="+8613500008888", email="old@example.com")
    number = customer.crm_number
    url = reverse("customers:edit", args=[number])
    assert service_client.get(url).status_code == 200
    response = service_client.post(url, form_data(name="新名字", mobile="13500008888", email="old@example.com"))
    assert response.status_code == 302
    customer.refresh_from_db()
    assert (customer.name, customer.crm_number) == ("新名字", number)


def test_marketing_cannot_create_or_edit(marketing_client):
    customer = CustomerFactory()
    assert marketing_client.get(CREATE).status_code == 403
    assert marketing_client.post(reverse("customers:edit", args=[customer.crm_number]), form_data()).status_code == 403


def test_the_same_name_and_birthday_warns_with_a_link_and_lets_the_user_go_on(service_client):
    existing = CustomerFactory(name="刘洋", birthday=datetime.date(1991, 5, 20))
    first = service_client.post(CREATE, form_data())
    body = first.content.decode()
    assert first.status_code == 200 and existing.get_absolute_url() in body
    assert 'name="create_anyway"' in body and 'value="刘洋"' in body  # what was typed is kept
    assert Customer.objects.count() == 1  # nothing created yet
    second = service_client.post(CREATE, form_data(create_anyway="1"))
    assert second.status_code == 302 and Customer.objects.filter(name="刘洋").count() == 2


def test_a_different_birthday_creates_at_once(service_client):
    CustomerFactory(name="刘洋", birthday=datetime.date(1980, 1, 1))
    assert service_client.post(CREATE, form_data()).status_code == 302
