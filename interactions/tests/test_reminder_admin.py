"""Reminder rules are configured in the admin; interactions and reminders are listed there, reminders cancelled."""

import pytest
from django.urls import reverse

from crm.notifications import notification_create
from customers.tests.factories import TierFactory
from interactions.models import ReminderRule, ReminderRuleKind, ReminderStatus
from interactions.tests.factories import InteractionFactory, ReminderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(admin_user, login_as):
    return login_as(admin_user)


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:interactions_interaction_changelist",
        "admin:interactions_reminder_changelist",
        "admin:interactions_reminderrule_changelist",
        "admin:interactions_reminderrule_add",
        "admin:crm_notification_changelist",
    ],
)
def test_admin_pages_for_interactions_reminders_rules_and_notifications_open(admin_client, admin_user, url_name):
    InteractionFactory()
    ReminderFactory()
    notification_create(user=admin_user, text="Due: call back")
    assert admin_client.get(reverse(url_name)).status_code == 200


def _rule_form(**overrides):
    data = {
        "name": "Gold, 90 days",
        "kind": ReminderRuleKind.NO_CONTACT,
        "text": "Check in",
        "active": "on",
        "days": "90",
        "min_tier": "",
        "max_score": "",
        "assignee_policy": "owner",
        "assignee": "",
    }
    return data | overrides


def test_an_admin_adds_a_no_contact_rule_for_a_tier(admin_client):
    gold = TierFactory(name="gold", rank=2)
    response = admin_client.post(reverse("admin:interactions_reminderrule_add"), _rule_form(min_tier=gold.pk))
    assert response.status_code == 302
    assert ReminderRule.objects.get().min_tier == gold


def test_a_satisfaction_rule_without_its_score_or_a_fixed_policy_without_a_user_is_refused(admin_client):
    response = admin_client.post(
        reverse("admin:interactions_reminderrule_add"),
        _rule_form(kind=ReminderRuleKind.LOW_SATISFACTION, assignee_policy="fixed"),
    )
    assert response.status_code == 200
    assert set(response.context["adminform"].form.errors) == {"max_score", "assignee"}
    assert not ReminderRule.objects.exists()


def test_the_cancel_action_cancels_waiting_reminders_only(admin_client):
    waiting = ReminderFactory()
    done = ReminderFactory(status=ReminderStatus.DONE)
    admin_client.post(
        reverse("admin:interactions_reminder_changelist"),
        {"action": "cancel", "_selected_action": [waiting.pk, done.pk]},
    )
    waiting.refresh_from_db()
    done.refresh_from_db()
    assert (waiting.status, done.status) == (ReminderStatus.CANCELLED, ReminderStatus.DONE)


def test_service_staff_cannot_reach_the_rules(login_as, service_user):
    response = login_as(service_user).get(reverse("admin:interactions_reminderrule_changelist"))
    assert response.status_code == 302
