import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from crm.roles import Role
from crm.web.api.models import Scope
from customers.tests.factories import CustomerFactory, UserFactory
from interactions.models import Interaction, InteractionChannel, InteractionSource, Reminder

pytestmark = pytest.mark.django_db


@pytest.fixture
def customer():
    return CustomerFactory(owner=UserFactory(username="owner", role=Role.SALES))


def call(customer, **overrides):
    return {
        "member": str(customer.crm_number),
        "channel": "phone",
        "subject": "Asked about the autumn menu",
        "notes": "Wants a table for 6",
        "satisfaction": 4,
        **overrides,
    }


def test_posting_an_interaction_logs_it_as_from_the_api(integration, customer):
    response = integration(Scope.INTERACTIONS_WRITE).post(reverse("api:interactions"), call(customer))
    assert response.status_code == 201, response.json()
    interaction = Interaction.objects.get()
    assert (interaction.customer, interaction.channel, interaction.source, interaction.satisfaction) == (
        customer,
        InteractionChannel.PHONE,
        InteractionSource.API,
        4,
    )
    assert response.json()["member"] == str(customer.crm_number)


def test_a_follow_up_date_leaves_a_reminder_for_the_owner(integration, customer):
    day = timezone.localdate() + datetime.timedelta(days=2)
    response = integration(Scope.INTERACTIONS_WRITE).post(
        reverse("api:interactions"), call(customer, follow_up_on=day.isoformat())
    )
    assert response.status_code == 201
    assert Reminder.objects.get().assignee == customer.owner


def test_a_follow_up_with_no_one_to_remind_is_400_with_the_reason(integration):
    response = integration(Scope.INTERACTIONS_WRITE).post(
        reverse("api:interactions"), call(CustomerFactory(), follow_up_on=timezone.localdate().isoformat())
    )
    assert response.status_code == 400
    assert "follow_up_on" in response.json()["errors"]
    assert not Interaction.objects.exists()


def test_the_same_external_ref_twice_is_logged_once(integration, customer):
    api = integration(Scope.INTERACTIONS_WRITE)
    first = api.post(reverse("api:interactions"), call(customer, external_ref="CHAT-77"))
    again = api.post(reverse("api:interactions"), call(customer, external_ref="CHAT-77"))
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["id"] == again.json()["id"]
    assert Interaction.objects.count() == 1


def test_bad_values_get_reasons_per_field(integration, customer):
    response = integration(Scope.INTERACTIONS_WRITE).post(
        reverse("api:interactions"), call(customer, channel="pigeon", satisfaction=9, subject="")
    )
    assert response.status_code == 400
    assert {"channel", "satisfaction", "subject"} <= set(response.json()["errors"])


def test_posting_without_the_scope_is_403(integration, customer):
    response = integration(Scope.TRANSACTIONS_WRITE).post(reverse("api:interactions"), call(customer))
    assert response.status_code == 403


def test_no_token_is_401(anonymous_api, customer):
    assert anonymous_api.post(reverse("api:interactions"), call(customer)).status_code == 401


@pytest.mark.parametrize("method", ["get", "put", "patch", "delete"])
def test_wrong_methods_are_405(integration, method):
    assert getattr(integration(Scope.INTERACTIONS_WRITE), method)(reverse("api:interactions")).status_code == 405
