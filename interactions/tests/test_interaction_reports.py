"""Interaction reports: counts by channel, staff member and outcome, average satisfaction, who is not contacted."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from interactions.models import InteractionChannel, Outcome
from interactions.tests.factories import InteractionFactory

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 3, 31, 12, 0, tzinfo=SHANGHAI)
REPORTS = reverse("interactions:reports")
DAY = datetime.timedelta(days=1)


@time_machine.travel(NOW, tick=False)
def test_counts_by_channel_staff_and_outcome_over_the_chosen_period(manager_client, service_user, sales_user):
    customer = CustomerFactory()
    for _ in range(3):
        InteractionFactory(
            customer=customer, staff=service_user, channel=InteractionChannel.PHONE, satisfaction=4, occurred_at=NOW
        )
    InteractionFactory(
        customer=customer,
        staff=sales_user,
        channel=InteractionChannel.VISIT,
        outcome=Outcome.SALE,
        satisfaction=1,
        occurred_at=NOW - 2 * DAY,
    )
    InteractionFactory(customer=customer, staff=sales_user, occurred_at=NOW - 60 * DAY)  # before the period
    response = manager_client.get(REPORTS, {"since": "2026-03-01", "until": "2026-03-31"})
    report = response.context["report"]
    assert report["total"] == 4 and report["scored"] == 4 and report["satisfaction"] == pytest.approx(3.25)
    assert [(r["channel"], r["n"]) for r in report["by_channel"]] == [("phone", 3), ("visit", 1)]
    assert [(r["staff__username"], r["n"]) for r in report["by_staff"]] == [("service", 3), ("sales", 1)]
    assert [(r["outcome"], r["n"]) for r in report["by_outcome"]] == [("resolved", 3), ("sale", 1)]
    body = response.content.decode()
    assert "Phone call" in body and "Store visit" in body and "3.25" in body


@time_machine.travel(NOW, tick=False)
def test_the_default_period_is_the_last_30_days(manager_client):
    InteractionFactory(occurred_at=NOW - 10 * DAY)
    InteractionFactory(occurred_at=NOW - 40 * DAY)
    response = manager_client.get(REPORTS)
    assert response.context["report"]["total"] == 1
    assert response.context["since"] == datetime.date(2026, 3, 2)


@time_machine.travel(NOW, tick=False)
def test_customers_not_contacted_in_n_days_are_listed_with_their_last_contact(manager_client):
    old = NOW.date() - 400 * DAY
    silent = CustomerFactory(name="沉默客户", registered_on=old)
    InteractionFactory(customer=silent, occurred_at=NOW - 100 * DAY)
    never = CustomerFactory(name="从未联系", registered_on=old)
    recent = CustomerFactory(name="刚联系过", registered_on=old)
    InteractionFactory(customer=recent, occurred_at=NOW - 5 * DAY)
    CustomerFactory(name="新客户", registered_on=NOW.date())
    response = manager_client.get(REPORTS, {"days": "90"})
    listed = {c.pk: c.last_contact for c in response.context["page"]}
    assert set(listed) == {silent.pk, never.pk}
    assert listed[never.pk] is None and listed[silent.pk] == NOW - 100 * DAY
    body = response.content.decode()
    assert "Customers not contacted in 90 days" in body and "从未联系" in body and "刚联系过" not in body


@time_machine.travel(NOW, tick=False)
def test_the_not_contacted_list_is_paginated_and_the_page_query_count_is_fixed(manager_client):
    old = NOW.date() - 400 * DAY
    CustomerFactory.create_batch(3, registered_on=old)
    manager_client.get(REPORTS)
    with CaptureQueriesContext(connection) as few:
        manager_client.get(REPORTS)
    CustomerFactory.create_batch(30, registered_on=old)
    for customer in CustomerFactory.create_batch(5, registered_on=old):
        InteractionFactory(customer=customer, occurred_at=NOW - 200 * DAY)
    with CaptureQueriesContext(connection) as many:
        response = manager_client.get(REPORTS)
    assert len(many) == len(few) <= 11  # one loads the manager's second factor (django-otp)
    assert len(response.context["page"].object_list) == 25 and response.context["page"].has_next
    assert len(manager_client.get(REPORTS, {"page": "2"}).context["page"].object_list) == 13


def test_service_may_see_the_reports_sales_and_marketing_may_not(service_client, sales_client, marketing_client):
    assert service_client.get(REPORTS).status_code == 200
    assert sales_client.get(REPORTS).status_code == 403
    assert marketing_client.get(REPORTS).status_code == 403


def test_reports_are_get_only(manager_client):
    assert manager_client.post(REPORTS).status_code == 405


def test_dates_beyond_what_a_person_means_are_refused_on_the_form(manager_client):
    response = manager_client.get(reverse("interactions:reports"), {"until": "9999-12-31", "since": "0001-01-01"})
    assert response.status_code == 200
    body = response.content.decode()
    assert "report-errors" in body and "less than or equal to 2100-12-31" in body
