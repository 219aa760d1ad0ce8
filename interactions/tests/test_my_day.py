"""'My day': a member of staff's reminders due today and overdue, done or snoozed in one click."""

import datetime

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from customers.tests.factories import CustomerFactory
from interactions.models import Reminder, ReminderStatus
from interactions.tests.factories import ReminderFactory

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))
NOW = datetime.datetime(2026, 3, 2, 10, 0, tzinfo=SHANGHAI)
MY_DAY = reverse("interactions:my_day")


@time_machine.travel(NOW, tick=False)
def test_my_day_lists_overdue_and_todays_reminders_but_not_tomorrows_or_others(
    service_client, service_user, manager_user
):
    ReminderFactory(assignee=service_user, text="Overdue call", due_at=NOW - datetime.timedelta(days=2))
    ReminderFactory(assignee=service_user, text="This afternoon", due_at=NOW + datetime.timedelta(hours=5))
    ReminderFactory(assignee=service_user, text="Next day call", due_at=NOW + datetime.timedelta(days=1))
    ReminderFactory(assignee=service_user, text="Already done", due_at=NOW, status=ReminderStatus.DONE)
    ReminderFactory(assignee=manager_user, text="Someone else's", due_at=NOW)
    body = service_client.get(MY_DAY).content.decode()
    assert body.index("Overdue call") < body.index("This afternoon")
    assert "Overdue" in body
    for hidden in ["Next day call", "Already done", "Someone else"]:
        assert hidden not in body


@time_machine.travel(NOW, tick=False)
def test_my_day_runs_the_same_queries_for_2_and_60_reminders_and_pages_them(login_as, make_user):
    few, many = make_user("Service", username="few"), make_user("Service", username="many")
    ReminderFactory.create_batch(2, assignee=few, due_at=NOW)
    ReminderFactory.create_batch(60, assignee=many, due_at=NOW)
    counts = []
    for user in (few, many):
        client = login_as(user)
        client.get(MY_DAY)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(MY_DAY).status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1] <= 7
    second = login_as(many).get(MY_DAY, {"page": "2"})
    assert len(second.context["page"].object_list) == 10 and "Page 2 of 2" in second.content.decode()


@time_machine.travel(NOW, tick=False)
def test_mark_done_with_htmx_swaps_the_row(service_client, service_user):
    reminder = ReminderFactory(assignee=service_user, due_at=NOW, customer=CustomerFactory(name="王芳"))
    response = service_client.post(
        reverse("interactions:reminder_done", args=[reminder.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert f'id="reminder-{reminder.pk}"' in body and 'data-status="done"' in body and "王芳" in body
    assert Reminder.objects.get().status == ReminderStatus.DONE


@time_machine.travel(NOW, tick=False)
def test_mark_done_without_htmx_goes_back_to_my_day(service_client, service_user):
    reminder = ReminderFactory(assignee=service_user, due_at=NOW)
    response = service_client.post(reverse("interactions:reminder_done", args=[reminder.pk]))
    assert response.status_code == 302 and response.url == MY_DAY


@time_machine.travel(NOW, tick=False)
def test_snooze_until_tomorrow_morning(service_client, service_user):
    reminder = ReminderFactory(assignee=service_user, due_at=NOW, notified_at=NOW)
    response = service_client.post(
        reverse("interactions:reminder_snooze", args=[reminder.pk]),
        {"until": "tomorrow"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "Snoozed until 2026-03-03 09:00" in response.content.decode()
    reminder.refresh_from_db()
    assert reminder.status == ReminderStatus.SNOOZED and reminder.notified_at is None
    assert reminder.due_at == datetime.datetime(2026, 3, 3, 9, 0, tzinfo=SHANGHAI)
    assert "Snoozed until" not in service_client.get(MY_DAY).content.decode()


@time_machine.travel(NOW, tick=False)
def test_snooze_for_an_hour_and_a_bad_choice(service_client, service_user):
    reminder = ReminderFactory(assignee=service_user, due_at=NOW)
    url = reverse("interactions:reminder_snooze", args=[reminder.pk])
    assert service_client.post(url, {"until": "forever"}, headers={"HX-Request": "true"}).status_code == 400
    service_client.post(url, {"until": "hour"})
    assert Reminder.objects.get().due_at == NOW + datetime.timedelta(hours=1)


def test_done_and_snooze_are_post_only(service_client, service_user):
    reminder = ReminderFactory(assignee=service_user)
    assert service_client.get(reverse("interactions:reminder_done", args=[reminder.pk])).status_code == 405
    assert service_client.get(reverse("interactions:reminder_snooze", args=[reminder.pk])).status_code == 405
    assert service_client.post(MY_DAY).status_code == 405


def test_someone_elses_reminder_is_404_and_a_role_without_reminders_gets_403(
    service_client, manager_user, marketing_client
):
    others = ReminderFactory(assignee=manager_user)
    assert service_client.post(reverse("interactions:reminder_done", args=[others.pk])).status_code == 404
    assert (
        service_client.post(reverse("interactions:reminder_snooze", args=[others.pk]), {"until": "hour"}).status_code
        == 404
    )
    assert marketing_client.post(reverse("interactions:reminder_done", args=[others.pk])).status_code == 403
    assert marketing_client.get(MY_DAY).status_code == 403
    assert Reminder.objects.get().status == ReminderStatus.OPEN


def test_a_cancelled_reminder_cannot_be_done(service_client, service_user):
    reminder = ReminderFactory(assignee=service_user, status=ReminderStatus.CANCELLED)
    response = service_client.post(
        reverse("interactions:reminder_done", args=[reminder.pk]), headers={"HX-Request": "true"}
    )
    assert "cancelled" in response.content.decode()
    assert Reminder.objects.get().status == ReminderStatus.CANCELLED
