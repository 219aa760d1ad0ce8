"""The same change to a customer leaves the same audit entry and consent history, whichever way it came in."""

import json
import threading

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse

from crm.importers import IMPORTERS
from crm.lib.tables import read_table
from crm.models import AuditAction, AuditEvent
from crm.web.api import services as api_services
from crm.web.api.models import Scope
from customers.models import ConsentChannel, ConsentEvent, ConsentMethod, Customer
from customers.tests.factories import CustomerFactory
from tests.logins import force_login

pytestmark = pytest.mark.django_db


def edit_form(customer: Customer, **changes) -> dict:
    data = {
        "name": customer.name,
        "gender": customer.gender,
        "birthday": customer.birthday.isoformat(),
        "mobile": customer.mobile,
        "email": customer.email,
        "source": customer.source,
        "registered_on": customer.registered_on.isoformat(),
        "province": customer.province,
        "city": customer.city,
    }
    data.update(changes)
    return {k: v for k, v in data.items() if v is not False}


def via_form(client, customer, *, name, email_consent):
    data = edit_form(customer, name=name, email_opt_in="on" if email_consent else False)
    response = client.post(reverse("customers:edit", args=[customer.crm_number]), data)
    assert response.status_code == 302


def via_api(client, customer, *, name, email_consent):
    api_client, token = api_services.api_client_create(name="shop", scopes=[Scope.MEMBERS_WRITE])
    response = Client(headers={"authorization": f"Bearer {token}"}).patch(
        reverse("api:member", args=[customer.crm_number]),
        json.dumps({"name": name, "email_opt_in": email_consent}),
        content_type="application/json",
    )
    assert response.status_code == 200, response.content


def via_admin(client, customer, *, name, email_consent):
    data = edit_form(customer, name=name)
    data.update({"consent_events-TOTAL_FORMS": 0, "consent_events-INITIAL_FORMS": 0})
    response = client.post(reverse("admin:customers_customer_change", args=[customer.pk]), data)
    assert response.status_code == 302, response.content.decode()[:2000]


def recorded(customer: Customer) -> tuple[list, list]:
    audits = [
        e.changes for e in AuditEvent.objects.filter(customer_id=customer.pk, action=AuditAction.UPDATE).order_by("pk")
    ]
    consents = list(ConsentEvent.objects.filter(customer=customer).values_list("channel", "granted"))
    return audits, consents


@pytest.mark.parametrize("path", [via_form, via_api], ids=["form", "api"])
def test_a_name_and_consent_change_is_audited_with_its_consent_event(path, manager_client):
    customer = CustomerFactory(name="王芳", email_opt_in=False)
    path(manager_client, customer, name="王芳芳", email_consent=True)
    customer.refresh_from_db()
    assert customer.name == "王芳芳" and customer.email_opt_in
    audits, consents = recorded(customer)
    # The name is personal: masked, so the append-only trail holds nothing an erasure would have to remove.
    assert audits == [{"name": ["王*", "王**"], "email_opt_in": [False, True]}]
    assert consents == [(ConsentChannel.EMAIL, True)]


def test_form_and_api_record_the_same_change_the_same_way(manager_client):
    by_form, by_api = CustomerFactory(name="李雷"), CustomerFactory(name="李雷")
    via_form(manager_client, by_form, name="李雷雷", email_consent=True)
    via_api(manager_client, by_api, name="李雷雷", email_consent=True)
    assert recorded(by_form) == recorded(by_api)
    methods = {e.customer_id: e.method for e in ConsentEvent.objects.all()}
    assert methods == {by_form.pk: ConsentMethod.FORM, by_api.pk: ConsentMethod.API}


def test_admin_records_the_same_name_change_as_the_form(manager_client, admin_client):
    by_form, by_admin = CustomerFactory(name="韩梅梅"), CustomerFactory(name="韩梅梅")
    via_form(manager_client, by_form, name="韩梅", email_consent=False)
    via_admin(admin_client, by_admin, name="韩梅", email_consent=False)
    assert recorded(by_form) == recorded(by_admin) == ([{"name": ["韩**", "韩*"]}], [])


def test_saving_the_form_unchanged_records_nothing(manager_client):
    customer = CustomerFactory(name="赵敏", email_opt_in=True)
    via_form(manager_client, customer, name="赵敏", email_consent=True)
    assert recorded(customer) == ([], [])


def at_once(n: int, make_client, send) -> list:
    """n clients, each made in its own thread, send at the same moment; their answers."""
    start, answers = threading.Barrier(n), []

    def run():
        try:
            client = make_client()
            start.wait()
            answers.append(send(client))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return answers


@pytest.mark.django_db(transaction=True)
def test_concurrent_duplicate_sign_ups_get_409_with_the_existing_number():
    _client, token = api_services.api_client_create(name="web", scopes=[Scope.MEMBERS_WRITE])
    body = json.dumps({"name": "抢注", "mobile": "13900001111"})
    answers = at_once(
        6,
        lambda: Client(headers={"authorization": f"Bearer {token}"}),
        lambda client: client.post(reverse("api:members"), body, content_type="application/json"),
    )
    winner = Customer.objects.get()
    assert sorted(r.status_code for r in answers) == [201, 409, 409, 409, 409, 409]
    for response in answers:
        if response.status_code == 409:
            assert response.json()["existing_crm_number"] == str(winner.crm_number)


def test_form_api_and_import_sign_ups_leave_the_same_trail(manager_client, manager_user):
    manager_client.post(
        reverse("customers:create"),
        {
            "name": "表单",
            "gender": "female",
            "mobile": "13900002222",
            "source": "store",
            "registered_on": "2026-01-15",
            "sms_opt_in": "on",
        },
    )
    _client, token = api_services.api_client_create(name="web", scopes=[Scope.MEMBERS_WRITE])
    Client(headers={"authorization": f"Bearer {token}"}).post(
        reverse("api:members"), {"name": "接口", "mobile": "13900003333", "sms_opt_in": True}, "application/json"
    )
    headers, rows = read_table("name,mobile,sms consent\n导入,13900004444,yes\n".encode(), "members.csv")
    IMPORTERS["customers"].run(rows, mapping={0: "name", 1: "mobile", 2: "sms_opt_in"}, actor=manager_user)
    trails = {}
    for customer in Customer.objects.all():
        creates = AuditEvent.objects.filter(customer_id=customer.pk, action=AuditAction.CREATE)
        trails[customer.name] = (creates.count(), recorded(customer)[1])
    assert trails == {name: (1, [(ConsentChannel.SMS, True)]) for name in ("表单", "接口", "导入")}


@pytest.mark.django_db(transaction=True)
def test_two_desks_creating_the_same_phone_at_once_get_a_form_error_not_a_500(make_user):
    desk = make_user("Service", username="desk")
    data = {
        "name": "同号",
        "gender": "female",
        "mobile": "13900006666",
        "source": "store",
        "registered_on": "2026-01-15",
    }

    def logged_in():
        return force_login(Client(), desk)

    answers = at_once(6, logged_in, lambda client: client.post(reverse("customers:create"), data))
    assert Customer.objects.count() == 1
    assert sorted(r.status_code for r in answers) == [200, 200, 200, 200, 200, 302]
    for response in answers:
        if response.status_code == 200:
            # "Customer … already has this mobile phone." or, losing at the constraint, "…with this mobile phone…"
            assert "this mobile phone" in response.content.decode()
            assert 'value="同号"' in response.content.decode()  # what was typed is kept
