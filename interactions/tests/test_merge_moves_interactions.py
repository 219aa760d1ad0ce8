"""Merging customers moves interactions and reminders; two waiting reminders from one rule become one."""

import pytest

from customers.services.merge import customer_merge
from customers.tests.factories import CustomerFactory
from interactions.models import Interaction, Reminder, ReminderStatus
from interactions.tests.factories import InteractionFactory, ReminderFactory, ReminderRuleFactory

pytestmark = pytest.mark.django_db


def test_interactions_and_reminders_move_to_the_survivor(service_user):
    survivor, other = CustomerFactory.create_batch(2)
    InteractionFactory(customer=other, subject="Called about a refund")
    ReminderFactory(customer=other, assignee=service_user)
    customer_merge(survivor=survivor, other=other, actor=service_user)
    assert Interaction.objects.get().customer == survivor
    assert Reminder.objects.get().customer == survivor


def test_both_waiting_on_the_same_rule_keeps_the_survivors_and_cancels_the_others(service_user):
    survivor, other = CustomerFactory.create_batch(2)
    rule, other_rule = ReminderRuleFactory(), ReminderRuleFactory()
    kept = ReminderFactory(customer=survivor, rule=rule, assignee=service_user)
    duplicate = ReminderFactory(customer=other, rule=rule, assignee=service_user)
    unrelated = ReminderFactory(customer=other, rule=other_rule, assignee=service_user)
    done = ReminderFactory(customer=other, rule=rule, assignee=service_user, status=ReminderStatus.DONE)

    customer_merge(survivor=survivor, other=other, actor=service_user)

    statuses = {r.pk: (r.customer_id, r.status) for r in Reminder.objects.all()}
    assert statuses == {
        kept.pk: (survivor.pk, ReminderStatus.OPEN),
        duplicate.pk: (survivor.pk, ReminderStatus.CANCELLED),
        unrelated.pk: (survivor.pk, ReminderStatus.OPEN),
        done.pk: (survivor.pk, ReminderStatus.DONE),
    }
