"""A one-line field (a name, a city, a store) refuses control characters on every way in."""

import json

import pytest
from django.test import Client
from django.urls import reverse

from crm.importers import IMPORTERS
from crm.lib.tables import read_table
from crm.web.api import services as api_services
from crm.web.api.models import Scope
from customers.models import Customer

pytestmark = pytest.mark.django_db
NAMES = ["王\n芳", "王\t芳", "王\x1b[31m芳", "王\x85芳"]


@pytest.mark.parametrize("name", NAMES)
def test_the_customer_form_refuses_and_keeps_the_rest(service_client, name):
    data = {"name": name, "gender": "female", "mobile": "13900008888", "source": "store", "registered_on": "2026-01-15"}
    response = service_client.post(reverse("customers:create"), data)
    assert response.status_code == 200 and "this field is one line of text" in response.content.decode()
    assert 'value="13900008888"' in response.content.decode()
    assert not Customer.objects.exists()


@pytest.mark.parametrize("name", NAMES)
def test_the_api_refuses_with_a_reason(name):
    _client, token = api_services.api_client_create(name="web", scopes=[Scope.MEMBERS_WRITE])
    response = Client(headers={"authorization": f"Bearer {token}"}).post(
        reverse("api:members"), json.dumps({"name": name, "mobile": "13900008888"}), content_type="application/json"
    )
    assert response.status_code == 400 and "one line of text" in response.json()["errors"]["name"][0]
    assert not Customer.objects.exists()


def test_an_import_reports_the_row_and_takes_the_others(manager_user):
    _headers, rows = read_table('name,mobile\n"王\t芳",13900008888\n李雷,13900009999\n'.encode(), "m.csv")
    report = IMPORTERS["customers"].run(rows, mapping={0: "name", 1: "mobile"}, actor=manager_user)
    assert [(line, "one line of text" in reason) for line, _cells, reason in report.errors] == [(2, True)]
    assert list(Customer.objects.values_list("name", flat=True)) == ["李雷"]
