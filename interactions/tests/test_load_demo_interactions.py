import datetime

import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm.models import Notification
from crm.roles import Role
from interactions.management.commands.load_demo_interactions import MENTIONS
from interactions.models import Interaction, Reminder, ReminderRule, ReminderStatus, UnmatchedMention
from interactions.tasks import reminders_notify_task

pytestmark = pytest.mark.django_db


def test_demo_interactions_leave_follow_up_reminders_and_a_rerun_adds_nothing():
    call_command("load_demo", customers=40, stdout=None)
    assert Interaction.objects.count() > 40
    assert ReminderRule.objects.count() == 2
    follow_ups = Interaction.objects.exclude(follow_up_on=None)
    assert Reminder.objects.filter(interaction__isnull=False).count() == follow_ups.count() > 0
    week_ago = timezone.now() - datetime.timedelta(days=7)
    assert not Reminder.objects.filter(due_at__lt=week_ago, status=ReminderStatus.OPEN).exists()

    counts = (
        Interaction.objects.count(),
        Reminder.objects.count(),
        ReminderRule.objects.count(),
        UnmatchedMention.objects.count(),
    )
    call_command("load_demo_interactions", stdout=None)
    assert (
        Interaction.objects.count(),
        Reminder.objects.count(),
        ReminderRule.objects.count(),
        UnmatchedMention.objects.count(),
    ) == counts


def test_every_member_of_staff_hears_of_a_reminder_within_the_first_hour(django_capture_on_commit_callbacks):
    call_command("load_demo", customers=20, stdout=None)
    staff = get_user_model().objects.filter(groups__name__in=[Role.SERVICE, Role.SALES])
    loaded = timezone.now()
    for user in staff:
        assert Reminder.objects.filter(assignee=user, due_at__range=(loaded, loaded + datetime.timedelta(hours=1)))

    with time_machine.travel(loaded + datetime.timedelta(hours=1)), django_capture_on_commit_callbacks(execute=True):
        reminders_notify_task()
    for user in staff:
        assert Notification.objects.filter(user=user).exists(), user.username


def test_the_mention_queue_has_posts_waiting_for_a_customer():
    call_command("load_demo", customers=10, stdout=None)
    assert UnmatchedMention.objects.filter(assigned_at=None).count() == len(MENTIONS)
    client = Client()
    client.force_login(get_user_model().objects.get(username="service"))
    body = client.get(reverse("interactions:mention_queue")).content.decode()
    assert all(text in body for _platform, _id, _handle, _author, text in MENTIONS)
