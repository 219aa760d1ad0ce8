"""Logging an interaction from the customer's page, and the timeline it shows on."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from interactions.models import Interaction, InteractionChannel, Outcome, Reminder, ReminderSource
from interactions.tests.factories import InteractionFactory, ReminderFactory, TransactionFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 2, 15, 0, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))


def _log_url(customer):
    return reverse("interactions:interaction_log", args=[customer.crm_number])


def test_the_customer_page_has_the_log_form_and_the_latest_interactions(service_client):
    customer = CustomerFactory()
    InteractionFactory(customer=customer, subject="Asked about opening hours", satisfaction=5)
    body = service_client.get(customer.get_absolute_url()).content.decode()
    assert 'id="log-interaction-form"' in body and f'action="{_log_url(customer)}"' in body
    assert "Asked about opening hours" in body and "★★★★★" in body


@time_machine.travel(NOW, tick=False)
def test_log_a_call_with_a_follow_up_from_the_customer_page(service_client, service_user):
    customer = CustomerFactory()
    response = service_client.post(
        _log_url(customer),
        {
            "channel": InteractionChannel.PHONE,
            "direction": "in",
            "outcome": Outcome.FOLLOW_UP,
            "subject": "Wants a bigger size",
            "notes": "Call when the XL arrives",
            "satisfaction": "3",
            "follow_up_on": "2026-03-04",
        },
    )
    assert response.status_code == 302 and response.url == customer.get_absolute_url() + "#interactions"
    interaction = Interaction.objects.get()
    assert (interaction.customer, interaction.staff, interaction.satisfaction) == (customer, service_user, 3)
    reminder = Reminder.objects.get()
    assert (reminder.assignee, reminder.source, reminder.interaction) == (
        service_user,
        ReminderSource.FOLLOW_UP,
        interaction,
    )
    page = service_client.get(response.url).content.decode()
    assert "Wants a bigger size" in page and 'id="customer-reminders"' in page


def test_a_missing_subject_or_a_past_follow_up_shows_the_form_again_with_400(service_client):
    customer = CustomerFactory()
    response = service_client.post(
        _log_url(customer),
        {"channel": "phone", "direction": "in", "outcome": "resolved", "subject": "", "follow_up_on": "2020-01-01"},
    )
    assert response.status_code == 400
    assert set(response.context["form"].errors) == {"subject", "follow_up_on"}
    assert not Interaction.objects.exists()


def test_the_stand_alone_page_shows_the_same_form(service_client):
    customer = CustomerFactory()
    response = service_client.get(_log_url(customer))
    assert response.status_code == 200 and "Log interaction" in response.content.decode()


def test_marketing_may_not_log_and_sales_only_for_their_own_customers(
    marketing_client, sales_client, sales_user, other_sales_user
):
    data = {"channel": "phone", "direction": "in", "outcome": "resolved", "subject": "Hello"}
    assert marketing_client.post(_log_url(CustomerFactory()), data).status_code == 403
    assert sales_client.post(_log_url(CustomerFactory(owner=other_sales_user)), data).status_code == 404
    assert sales_client.post(_log_url(CustomerFactory(owner=sales_user)), data).status_code == 302
    assert Interaction.objects.count() == 1


def test_marketing_sees_no_log_form_and_no_interactions_on_the_page(marketing_client):
    customer = CustomerFactory()
    InteractionFactory(customer=customer, subject="Private complaint")
    body = marketing_client.get(customer.get_absolute_url()).content.decode()
    assert "log-interaction-form" not in body and "Private complaint" not in body


def test_logging_with_a_wrong_method_is_405(service_client):
    assert service_client.delete(_log_url(CustomerFactory())).status_code == 405


# --- timeline ----------------------------------------------------------------------------------


def _customer_with_interactions(n: int):
    customer = CustomerFactory()
    Interaction.objects.bulk_create(
        [
            Interaction(
                customer=customer,
                channel=InteractionChannel.CHAT,
                subject=f"Chat {i}",
                occurred_at=NOW - datetime.timedelta(hours=i),
            )
            for i in range(n)
        ]
    )
    ReminderFactory(customer=customer, due_at=NOW)
    TransactionFactory(customer=customer, occurred_at=NOW - datetime.timedelta(minutes=30))
    return customer


@time_machine.travel(NOW, tick=False)
def test_the_timeline_mixes_interactions_with_purchases_newest_first(service_client):
    customer = _customer_with_interactions(2)
    timeline = service_client.get(customer.get_absolute_url()).context["timeline"]
    assert [item.title for item in timeline][:3] == ["Online chat: Chat 0", "Purchase ¥100.00", "Online chat: Chat 1"]


@time_machine.travel(NOW, tick=False)
def test_the_timeline_filters_by_kind(service_client):
    customer = _customer_with_interactions(2)
    timeline = service_client.get(customer.get_absolute_url(), {"timeline": "interactions"}).context["timeline"]
    assert [item.title for item in timeline] == ["Online chat: Chat 0", "Online chat: Chat 1"]
    assert timeline.kind == "interactions"
    purchases = service_client.get(customer.get_absolute_url(), {"timeline": "purchases"}).context["timeline"]
    assert [item.title for item in purchases] == ["Purchase ¥100.00"]
    assert set(timeline.kinds) == {"purchases", "points", "interactions"}


@time_machine.travel(NOW, tick=False)
def test_the_timeline_is_paginated(service_client):
    customer = _customer_with_interactions(45)
    first = service_client.get(customer.get_absolute_url()).context["timeline"]
    assert len(first) == 20 and first.has_next and not first.has_previous
    third = service_client.get(customer.get_absolute_url(), {"timeline_page": "3"}).context["timeline"]
    assert len(third) == 6 and not third.has_next  # 45 chats + 1 purchase
    body = service_client.get(customer.get_absolute_url(), {"timeline_page": "2"}).content.decode()
    assert "Page 2" in body and "timeline_page=3" in body and "timeline_page=1" in body


@time_machine.travel(NOW, tick=False)
def test_the_page_runs_the_same_queries_for_3_and_60_interactions(service_client):
    few, many = _customer_with_interactions(3), _customer_with_interactions(60)
    service_client.get(few.get_absolute_url())
    for params in ({}, {"timeline": "interactions", "timeline_page": "2"}):
        with CaptureQueriesContext(connection) as few_queries:
            service_client.get(few.get_absolute_url(), params)
        with CaptureQueriesContext(connection) as many_queries:
            service_client.get(many.get_absolute_url(), params)
        assert len(many_queries) == len(few_queries) <= 21


def test_the_timeline_ignores_an_unknown_kind_and_a_silly_page(service_client):
    customer = _customer_with_interactions(1)
    timeline = service_client.get(customer.get_absolute_url(), {"timeline": "nope", "timeline_page": "x"}).context[
        "timeline"
    ]
    assert timeline.kind == "" and timeline.number == 1 and len(timeline) == 2


def test_recent_interactions_on_the_card_link_to_the_rest(service_client):
    customer = _customer_with_interactions(7)
    body = service_client.get(customer.get_absolute_url()).content.decode()
    assert "All interactions on the timeline" in body
    assert body.count("Chat ") >= 5
