"""A data-subject export: everything held on the member, from every app, and nothing of anyone else."""

import json

import pytest
from django.urls import reverse
from hypothesis import given

from crm.lib import crm_number
from crm.models import AuditAction, AuditEvent
from customers.models import Customer
from tests.hostile import hostile_text, rolled_back, table_counts
from tests.privacy import member_with_everything

pytestmark = pytest.mark.django_db


def export_url(customer: Customer) -> str:
    return reverse("customers:personal_data", args=[customer.crm_number])


def exports() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.EXPORT))


@pytest.fixture
def two_members():
    return member_with_everything("Alpha"), member_with_everything("Omega")


def test_the_json_export_holds_every_app_s_rows_of_the_member_and_none_of_another(
    manager_client, manager_user, two_members
):
    mine, theirs = two_members
    response = manager_client.post(export_url(mine.customer), {"format": "json"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    data = json.loads(response.content)
    parts = data["parts"]
    assert data["crm_number"] == crm_number.format_number(mine.customer.crm_number)
    assert parts["customer"]["profile"][0]["name"] == "Alpha名"
    assert [row["id"] for row in parts["interactions"]["purchases"]] == [mine.purchase.pk]
    assert parts["interactions"]["purchase_lines"][0]["product__name"] == "Alpha teapot"
    assert [row["status"] for row in parts["marketing"]["messages"]] == ["queued", "sent"]
    assert [row["code"] for row in parts["marketing"]["coupons"]] == [mine.coupon.code]
    assert [row["segment"] for row in parts["analytics"]["scores"]] == [mine.score.segment]
    assert parts["analytics"]["recommendations"][0]["product__name"] == "Alpha teapot"
    consent = parts["customer"]["consent"]
    assert {(row["channel"], row["granted"]) for row in consent} == {("email", True), ("sms", True)}
    assert any(row["action"] == AuditAction.CONSENT for row in parts["audit"]["audit"])
    # Nothing of the other member anywhere in the file.
    text = response.content.decode()
    for value in ("Omega", theirs.coupon.code, theirs.customer.mobile, theirs.customer.email):
        assert value not in text
    entry = AuditEvent.objects.get(action=AuditAction.EXPORT)
    assert (entry.customer_id, entry.actor, entry.changes["kind"]) == (mine.customer.pk, manager_user, "data_subject")


def test_the_readable_file_names_the_same_things_in_words(manager_client, two_members):
    mine, theirs = two_members
    response = manager_client.post(export_url(mine.customer), {"format": "html"})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
    assert "attachment" in response["Content-Disposition"]
    page = response.content.decode()
    for text in ("Alpha名", "Alpha teapot", "88.00", mine.coupon.code, "Alpha campaign", "Loyal", "Purchases"):
        assert text in page
    assert "Omega" not in page and theirs.coupon.code not in page
    assert "<script" not in page and "style=" not in page
    assert len(exports()) == 1


def test_the_export_page_is_linked_from_the_customer_page_for_those_who_may(manager_client, service_client):
    customer = member_with_everything("Beta").customer
    assert export_url(customer) in manager_client.get(customer.get_absolute_url()).content.decode()
    assert export_url(customer) not in service_client.get(customer.get_absolute_url()).content.decode()
    page = manager_client.get(export_url(customer))
    assert page.status_code == 200 and not exports()  # looking at the page exports nothing


@pytest.mark.parametrize("who", ["service_client", "sales_client", "marketing_client"])
def test_roles_without_the_permission_get_nothing_and_nothing_is_recorded(who, request, sales_user):
    client = request.getfixturevalue(who)
    customer = member_with_everything("Gamma").customer
    Customer.objects.filter(pk=customer.pk).update(owner=sales_user)
    assert client.get(export_url(customer)).status_code in (403, 404)
    response = client.post(export_url(customer), {"format": "json"})
    assert response.status_code in (403, 404) and b"Gamma" not in response.content
    assert not exports()


def test_an_admin_may_export(admin_user, login_as):
    customer = member_with_everything("Delta").customer
    assert login_as(admin_user).post(export_url(customer), {"format": "json"}).status_code == 200


def test_export_answers_get_and_post_only(manager_client):
    customer = member_with_everything("Eta").customer
    assert manager_client.put(export_url(customer)).status_code == 405 and not exports()


@given(fmt=hostile_text)
def test_hostile_formats_never_fail_and_record_nothing(manager_client, fmt):
    with rolled_back():
        customer = Customer.objects.create(name="Theta")
        customer.refresh_from_db()
        counts = table_counts()
        response = manager_client.post(export_url(customer), {"format": fmt})
        assert response.status_code in (200, 400)
        if fmt not in ("json", "html"):
            assert response.status_code == 400 and table_counts() == counts


def test_the_export_holds_the_id_number_in_full(manager_client):
    from customers.tests.factories import CustomerFactory

    member = CustomerFactory()
    Customer.objects.filter(pk=member.pk).update(id_type="passport", id_number="E12345678")
    data = json.loads(manager_client.post(export_url(member), {"format": "json"}).content)
    profile = data["parts"]["customer"]["profile"][0]
    assert (profile["id_type"], profile["id_number"]) == ("passport", "E12345678")
