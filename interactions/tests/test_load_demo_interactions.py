import datetime

import pytest
from django.core.management import call_command
from django.utils import timezone

from interactions.models import Interaction, Reminder, ReminderRule, ReminderStatus

pytestmark = pytest.mark.django_db


def test_demo_interactions_leave_follow_up_reminders_and_a_rerun_adds_nothing():
    call_command("load_demo", customers=40, stdout=None)
    assert Interaction.objects.count() > 40
    assert ReminderRule.objects.count() == 2
    follow_ups = Interaction.objects.exclude(follow_up_on=None)
    assert Reminder.objects.count() == follow_ups.count() > 0
    week_ago = timezone.now() - datetime.timedelta(days=7)
    assert not Reminder.objects.filter(due_at__lt=week_ago, status=ReminderStatus.OPEN).exists()

    counts = (Interaction.objects.count(), Reminder.objects.count(), ReminderRule.objects.count())
    call_command("load_demo_interactions", stdout=None)
    assert (Interaction.objects.count(), Reminder.objects.count(), ReminderRule.objects.count()) == counts
