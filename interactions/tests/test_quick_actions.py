"""The customer page's quick actions: each form comes alone for htmx, per role, and posts back into its panel."""

from decimal import Decimal

import pytest
from django.urls import reverse

from customers.models import PointsEntry
from customers.services import membership
from customers.tests.factories import CustomerFactory
from interactions import services
from interactions.models import Interaction, Transaction, TransactionStatus

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}
FORMS = {
    "log": ("interactions:interaction_log", 'name="subject"'),
    "purchase": ("interactions:purchase_record", 'name="amount"'),
    "redeem": ("customers:points_redeem", 'name="points"'),
}


def _url(form: str, customer) -> str:
    return reverse(FORMS[form][0], args=[customer.crm_number])


@pytest.mark.parametrize("form", FORMS)
@pytest.mark.parametrize(
    ("role", "status"), [("service", 200), ("sales", 200), ("manager", 200), ("marketing", 403), ("outsider", 403)]
)
def test_each_form_comes_alone_for_htmx_to_the_roles_that_may_use_it(
    login_as, service_user, sales_user, manager_user, marketing_user, outsider, form, role, status
):
    users = {"service": service_user, "sales": sales_user, "manager": manager_user}
    users |= {"marketing": marketing_user, "outsider": outsider}
    customer = CustomerFactory(owner=sales_user)
    response = login_as(users[role]).get(_url(form, customer), headers=HTMX)
    assert response.status_code == status
    if status == 200:
        body = response.content.decode()
        assert "<html" not in body and 'id="quick-action-panel"' in body and FORMS[form][1] in body
        assert f'hx-post="{_url(form, customer)}"' in body


@pytest.mark.parametrize("form", FORMS)
def test_the_form_urls_refuse_other_methods(service_client, form):
    customer = CustomerFactory()
    for method in ("put", "delete", "patch"):
        assert getattr(service_client, method)(_url(form, customer), headers=HTMX).status_code == 405


def test_sales_get_404_for_another_sellers_customer(sales_client, other_sales_user):
    customer = CustomerFactory(owner=other_sales_user)
    for form in FORMS:
        assert sales_client.get(_url(form, customer), headers=HTMX).status_code == 404


def test_the_full_page_still_works_without_javascript(service_client):
    customer = CustomerFactory()
    for form in FORMS:
        body = service_client.get(_url(form, customer)).content.decode()
        assert "<html" in body and FORMS[form][1] in body and "hx-post" not in body, form


def test_a_refused_purchase_in_the_panel_keeps_what_was_typed(service_client):
    customer = CustomerFactory()
    data = {"amount": "0", "channel": "store", "store": "西湖店", "sku": "", "quantity": "1"}
    response = service_client.post(_url("purchase", customer), data, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 400 and "<html" not in body and 'id="quick-action-panel"' in body
    assert "greater than or equal to 0.01" in body and 'value="西湖店"' in body and 'value="0"' in body
    assert not Transaction.objects.exists()


def test_a_refused_purchase_on_the_full_page_keeps_what_was_typed(service_client):
    customer = CustomerFactory()
    data = {"amount": "0", "channel": "store", "store": "西湖店", "sku": "", "quantity": "1"}
    response = service_client.post(_url("purchase", customer), data)
    body = response.content.decode()
    assert response.status_code == 400 and "<html" in body
    assert "greater than or equal to 0.01" in body and 'value="西湖店"' in body
    assert not Transaction.objects.exists()


def test_a_purchase_from_the_panel_reloads_the_customer_page(service_client):
    customer = CustomerFactory()
    data = {"amount": "88", "channel": "store", "store": "", "sku": "", "quantity": "1"}
    response = service_client.post(_url("purchase", customer), data, headers=HTMX)
    assert response.status_code == 200 and response["HX-Redirect"] == customer.get_absolute_url() + "?tab=purchases"
    assert Transaction.objects.get().amount == Decimal("88")


def test_redeeming_too_many_points_in_the_panel_says_why_and_writes_nothing(service_client):
    customer = CustomerFactory()
    membership.points_earn(customer=customer, points=50, reference="gift")
    response = service_client.post(_url("redeem", customer), {"points": "80", "reason": "雨伞"}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 400 and "<html" not in body and 'value="雨伞"' in body
    assert PointsEntry.objects.filter(customer=customer).count() == 1


def test_logging_from_the_panel_writes_once(service_client):
    customer = CustomerFactory()
    data = {"channel": "visit", "direction": "in", "outcome": "resolved", "subject": "试穿"}
    response = service_client.post(_url("log", customer), data, headers=HTMX)
    assert response["HX-Redirect"].startswith(customer.get_absolute_url())
    assert Interaction.objects.get().subject == "试穿"


# --- refund: a confirmation before anything is written ------------------------------------------------------


def _refund_url(tx) -> str:
    return reverse("interactions:purchase_refund", args=[tx.customer.crm_number, tx.pk])


def test_the_purchase_row_offers_a_refund_link_not_a_red_button(service_client):
    customer = CustomerFactory()
    tx = services.transaction_record(customer=customer, amount=Decimal("200"))
    body = service_client.get(customer.get_absolute_url(), {"tab": "purchases"}).content.decode()
    row = body[body.index(f'href="{_refund_url(tx)}"') - 200 :]
    assert "btn-danger" not in body and "btn-outline-danger" not in body
    assert f'hx-get="{_refund_url(tx)}"' in row


def test_opening_a_refund_shows_the_confirmation_and_writes_nothing(service_client):
    customer = CustomerFactory()
    tx = services.transaction_record(customer=customer, amount=Decimal("200"))
    for headers in ({}, HTMX):
        response = service_client.get(_refund_url(tx), headers=headers)
        body = response.content.decode()
        assert response.status_code == 200 and 'id="refund-details"' in body and 'name="reason"' in body
        assert 'type="submit"' in body
    tx.refresh_from_db()
    assert (tx.status, tx.refunded_amount, tx.points_reversed) == (TransactionStatus.COMPLETED, 0, 0)


def test_a_refused_refund_in_the_panel_says_why_and_writes_nothing(service_client):
    customer = CustomerFactory()
    tx = services.transaction_record(customer=customer, amount=Decimal("200"))
    response = service_client.post(_refund_url(tx), {"amount": "500", "reason": "尺码"}, headers=HTMX)
    body = response.content.decode()
    assert response.status_code == 400 and "At most 200.00 can still be refunded." in body and 'value="尺码"' in body
    tx.refresh_from_db()
    assert (tx.status, tx.refunded_amount) == (TransactionStatus.COMPLETED, 0)


def test_a_confirmed_refund_from_the_panel_reloads_the_purchases(service_client):
    customer = CustomerFactory()
    tx = services.transaction_record(customer=customer, amount=Decimal("200"))
    response = service_client.post(_refund_url(tx), {"amount": "50", "reason": "尺码"}, headers=HTMX)
    assert response["HX-Redirect"] == customer.get_absolute_url() + "?tab=purchases"
    tx.refresh_from_db()
    assert tx.refunded_amount == Decimal("50")


@pytest.mark.parametrize(("role", "status"), [("sales", 403), ("marketing", 403), ("manager", 200)])
def test_the_refund_confirmation_is_only_for_roles_that_may_refund(
    login_as, sales_user, marketing_user, manager_user, role, status
):
    customer = CustomerFactory(owner=sales_user)
    tx = services.transaction_record(customer=customer, amount=Decimal("200"))
    user = {"sales": sales_user, "marketing": marketing_user, "manager": manager_user}[role]
    assert login_as(user).get(_refund_url(tx), headers=HTMX).status_code == status
