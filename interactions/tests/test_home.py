"""The home page for the desk (Service) and the sales floor (Sales): their day, and nobody else's."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.contrib.auth.models import Permission
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from interactions.models import Interaction, Reminder, Transaction
from interactions.tests.factories import InteractionFactory, ReminderFactory, TransactionFactory

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 9, 14, 10, 0, tzinfo=SHANGHAI)  # a Monday, before the login sessions expire
HOME = reverse("home")
DAY_PANELS = ["follow-ups", "recent-contacts", "recent-purchases", "birthdays"]
MARKETING_PANELS = ["segments", "campaigns", "automations"]


def panel(body: str, key: str) -> str:
    """The HTML of one panel of the home page ("" when the page has none)."""
    start = body.find(f'id="panel-{key}"')
    if start == -1:
        return ""
    end = body.find("</section>", start)
    return body[start:end]


def days_ago(days: float) -> datetime.datetime:
    return NOW - datetime.timedelta(days=days)


@time_machine.travel(NOW, tick=False)
def test_service_gets_their_follow_ups_contacts_purchases_and_birthdays(service_client, service_user, sales_user):
    customer = CustomerFactory(name="王芳", birthday=datetime.date(1990, 9, 15), mobile="+8613912345678")
    ReminderFactory(assignee=service_user, customer=customer, text="Call about the coat", due_at=days_ago(1))
    ReminderFactory(assignee=service_user, text="Next week's call", due_at=NOW + datetime.timedelta(days=7))
    ReminderFactory(assignee=sales_user, text="Someone else's call", due_at=days_ago(1))
    InteractionFactory(staff=service_user, customer=customer, subject="Asked about sizes", occurred_at=days_ago(2))
    InteractionFactory(staff=service_user, subject="Long ago", occurred_at=days_ago(8))
    InteractionFactory(staff=sales_user, subject="Logged by sales", occurred_at=days_ago(1))
    TransactionFactory(customer=customer, recorded_by=service_user, amount=Decimal("388.00"), occurred_at=days_ago(1))
    TransactionFactory(recorded_by=sales_user, amount=Decimal("777.00"), occurred_at=days_ago(1))
    CustomerFactory(name="李雷", birthday=datetime.date(1990, 9, 25))

    response = service_client.get(HOME)

    assert response.status_code == 200
    body = response.content.decode()
    follow_ups = panel(body, "follow-ups")
    assert "Call about the coat" in follow_ups and reverse("interactions:my_day") in follow_ups
    assert "Mark done" in follow_ups  # done and snooze as on My day
    assert "Next week" not in follow_ups and "Someone else" not in follow_ups
    contacts = panel(body, "recent-contacts")
    assert "Asked about sizes" in contacts and customer.get_absolute_url() in contacts
    assert "Long ago" not in contacts and "Logged by sales" not in contacts
    purchases = panel(body, "recent-purchases")
    assert "388" in purchases and "777" not in purchases  # the desk sees what it recorded
    birthdays = panel(body, "birthdays")
    assert "王芳" in birthdays and 'data-birthday="2026-09-15"' in birthdays and "李雷" not in birthdays
    assert "****5678" in birthdays  # a list: masked for everyone, the member's page reveals it
    for key in MARKETING_PANELS:
        assert not panel(body, key)


@time_machine.travel(NOW, tick=False)
def test_sales_see_their_own_members_and_never_another_owners(sales_client, sales_user, other_sales_user):
    mine = CustomerFactory(name="我的会员", owner=sales_user, birthday=datetime.date(1988, 9, 14))
    theirs = CustomerFactory(name="别人的会员", owner=other_sales_user, birthday=datetime.date(1988, 9, 14))
    TransactionFactory(customer=mine, amount=Decimal("120.00"), occurred_at=days_ago(3))
    TransactionFactory(customer=theirs, recorded_by=sales_user, amount=Decimal("950.00"), occurred_at=days_ago(3))
    TransactionFactory(customer=mine, amount=Decimal("640.00"), occurred_at=days_ago(9))
    ReminderFactory(assignee=other_sales_user, customer=theirs, text="Their follow-up", due_at=days_ago(1))

    body = sales_client.get(HOME).content.decode()

    purchases = panel(body, "recent-purchases")
    assert "我的会员" in purchases and "120" in purchases
    assert "别人的会员" not in purchases and "950" not in purchases and "640" not in purchases
    birthdays = panel(body, "birthdays")
    assert "我的会员" in birthdays and "别人的会员" not in birthdays
    assert "Their follow-up" not in body and "别人的会员" not in body
    for key in MARKETING_PANELS:
        assert not panel(body, key)


@time_machine.travel(NOW, tick=False)
def test_an_empty_day_says_so(sales_client):
    body = sales_client.get(HOME).content.decode()
    assert all(panel(body, key) for key in DAY_PANELS)
    assert "Nothing due today." in body and "No birthdays this week." in body


@time_machine.travel(NOW, tick=False)
def test_a_user_without_contact_details_sees_the_birthday_phone_masked(make_user, login_as):
    user = make_user("Sales", username="masked")
    user.user_permissions.add(Permission.objects.get(codename="view_all_customers"))
    user.groups.first().permissions.remove(Permission.objects.get(codename="view_contact_details"))
    CustomerFactory(name="生日会员", birthday=datetime.date(1990, 9, 14), mobile="+8613912345678")
    birthdays = panel(login_as(user).get(HOME).content.decode(), "birthdays")
    assert "生日会员" in birthdays and "+86139****5678" in birthdays and "1234" not in birthdays


@time_machine.travel(NOW, tick=False)
def test_more_follow_ups_than_shown_point_to_my_day(service_client, service_user):
    ReminderFactory.create_batch(12, assignee=service_user, due_at=days_ago(1))
    follow_ups = panel(service_client.get(HOME).content.decode(), "follow-ups")
    assert follow_ups.count('id="reminder-') == 10 and "see them all on My day" in follow_ups


@time_machine.travel(NOW, tick=False)
def test_the_day_costs_the_same_queries_for_a_small_and_a_big_book(login_as, make_user):
    small, big = make_user("Sales", username="small"), make_user("Sales", username="big")
    for user, n in ((small, 1), (big, 25)):
        for i in range(n):
            member = CustomerFactory(owner=user, birthday=datetime.date(1990, 9, 14 + i % 7))
            ReminderFactory(assignee=user, customer=member, due_at=days_ago(1))
            InteractionFactory(staff=user, customer=member, occurred_at=days_ago(1))
            TransactionFactory(customer=member, recorded_by=user, occurred_at=days_ago(1))
    counts = []
    for user in (small, big):
        client = login_as(user)
        client.get(HOME)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(HOME).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 10  # session, user, permissions, then one query per panel


@time_machine.travel(NOW, tick=False)
def test_the_manager_opens_on_the_business_not_on_a_desks_day(manager_client, manager_user):
    ReminderFactory(assignee=manager_user, text="Manager's own call", due_at=days_ago(1))
    body = manager_client.get(HOME, follow=True).content.decode()
    for key in DAY_PANELS + MARKETING_PANELS:
        assert not panel(body, key)


def test_a_user_with_no_role_goes_to_the_customer_list(make_user, login_as):
    response = login_as(make_user(None, username="nobody")).get(HOME)
    assert response.status_code == 302 and response.url == reverse("customers:list")


def test_the_home_page_refuses_a_post_and_writes_nothing(service_client, service_user):
    ReminderFactory(assignee=service_user, due_at=days_ago(1))
    assert service_client.post(HOME, {"status": "done"}).status_code == 405
    assert Reminder.objects.filter(status="open").count() == 1
    assert not Interaction.objects.exists() and Transaction.objects.count() == 0


def test_an_anonymous_visitor_is_sent_to_log_in():
    response = Client().get(HOME)
    assert response.status_code == 302 and reverse("login") in response.url
