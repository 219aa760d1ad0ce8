import datetime

import pytest
import time_machine
from django.core.exceptions import ValidationError
from django.db import IntegrityError
from django.utils import timezone

from crm.roles import Role
from customers.tests.factories import CustomerFactory, UserFactory
from interactions import services
from interactions.models import (
    Direction,
    Interaction,
    InteractionChannel,
    InteractionSource,
    Outcome,
    Reminder,
    ReminderSource,
    ReminderStatus,
)
from interactions.tests.factories import InteractionFactory, ReminderFactory

pytestmark = pytest.mark.django_db

SHANGHAI = datetime.timezone(datetime.timedelta(hours=8))


def test_log_a_call_with_every_field(service_user):
    customer = CustomerFactory()
    interaction = services.interaction_log(
        customer=customer,
        channel=InteractionChannel.PHONE,
        direction=Direction.OUTBOUND,
        subject="Asked about the spring sale",
        notes="Wants the catalogue by e-mail",
        outcome=Outcome.INFO,
        staff=service_user,
        satisfaction=4,
    )
    interaction.refresh_from_db()
    assert (interaction.customer, interaction.staff, interaction.satisfaction) == (customer, service_user, 4)
    assert interaction.source == InteractionSource.STAFF
    assert not Reminder.objects.exists()


@pytest.mark.parametrize("score", [0, 6])
def test_satisfaction_outside_1_to_5_is_refused(score, service_user):
    with pytest.raises(ValidationError) as error:
        services.interaction_log(
            customer=CustomerFactory(),
            channel=InteractionChannel.CHAT,
            subject="x",
            staff=service_user,
            satisfaction=score,
        )
    assert "satisfaction" in error.value.message_dict


def test_the_database_refuses_a_satisfaction_outside_1_to_5_too():
    with pytest.raises(IntegrityError):
        InteractionFactory(satisfaction=9)


@time_machine.travel(datetime.datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI), tick=False)
def test_a_follow_up_date_leaves_a_reminder_for_the_staff_member_at_nine_that_morning(service_user):
    customer = CustomerFactory()
    interaction = services.interaction_log(
        customer=customer,
        channel=InteractionChannel.PHONE,
        subject="Broken zip",
        outcome=Outcome.FOLLOW_UP,
        staff=service_user,
        follow_up_on=datetime.date(2026, 3, 5),
    )
    reminder = Reminder.objects.get()
    assert reminder.assignee == service_user and reminder.customer == customer
    assert reminder.interaction == interaction and reminder.source == ReminderSource.FOLLOW_UP
    assert reminder.due_at == datetime.datetime(2026, 3, 5, 9, 0, tzinfo=SHANGHAI)
    assert reminder.status == ReminderStatus.OPEN and reminder.notified_at is None
    assert "Broken zip" in reminder.text


def test_a_follow_up_logged_through_the_api_goes_to_the_customer_owner():
    owner = UserFactory(role=Role.SALES)
    services.interaction_log(
        customer=CustomerFactory(owner=owner),
        channel=InteractionChannel.SOCIAL,
        subject="Mentioned us on Weibo",
        source=InteractionSource.SOCIAL,
        follow_up_on=timezone.localdate(),
    )
    assert Reminder.objects.get().assignee == owner


def test_a_follow_up_with_no_one_to_remind_is_refused_and_nothing_is_stored():
    with pytest.raises(ValidationError) as error:
        services.interaction_log(
            customer=CustomerFactory(owner=None),
            channel=InteractionChannel.EMAIL,
            subject="x",
            follow_up_on=timezone.localdate(),
        )
    assert "follow_up_on" in error.value.message_dict
    assert not Interaction.objects.exists()


def test_a_follow_up_date_in_the_past_is_refused(service_user):
    with pytest.raises(ValidationError):
        services.interaction_log(
            customer=CustomerFactory(),
            channel=InteractionChannel.PHONE,
            subject="x",
            staff=service_user,
            follow_up_on=timezone.localdate() - datetime.timedelta(days=1),
        )
    assert not Interaction.objects.exists()


def test_the_same_social_mention_delivered_twice_is_stored_once():
    customer = CustomerFactory()
    kwargs = {
        "customer": customer,
        "channel": InteractionChannel.SOCIAL,
        "subject": "Loved the new store",
        "source": InteractionSource.SOCIAL,
        "external_ref": "weibo:4711",
        "external_handle": "@chenjing",
        "external_url": "https://weibo.com/4711",
    }
    services.interaction_log(**kwargs)
    with pytest.raises(ValidationError, match="already been recorded"):
        services.interaction_log(**kwargs)
    assert Interaction.objects.count() == 1


def test_reminder_for_an_inactive_user_is_refused():
    with pytest.raises(ValidationError):
        services.reminder_create(
            customer=CustomerFactory(),
            assignee=UserFactory(is_active=False),
            due_at=timezone.now(),
            text="Call back",
        )


def test_complete_a_reminder_twice_keeps_the_first_time(service_user):
    reminder = ReminderFactory(assignee=service_user)
    services.reminder_complete(reminder=reminder, actor=service_user)
    first = Reminder.objects.get().done_at
    services.reminder_complete(reminder=reminder, actor=service_user)
    assert Reminder.objects.get().status == ReminderStatus.DONE
    assert Reminder.objects.get().done_at == first


def test_snooze_moves_the_due_time_and_clears_the_notification_so_it_comes_again(service_user):
    reminder = ReminderFactory(assignee=service_user, notified_at=timezone.now())
    later = timezone.now() + datetime.timedelta(hours=2)
    services.reminder_snooze(reminder=reminder, until=later, actor=service_user)
    reminder.refresh_from_db()
    assert (reminder.status, reminder.due_at, reminder.notified_at) == (ReminderStatus.SNOOZED, later, None)


def test_snoozing_a_done_reminder_or_into_the_past_is_refused(service_user):
    reminder = ReminderFactory(assignee=service_user)
    with pytest.raises(ValidationError):
        services.reminder_snooze(reminder=reminder, until=timezone.now() - datetime.timedelta(minutes=1))
    services.reminder_complete(reminder=reminder)
    with pytest.raises(ValidationError):
        services.reminder_snooze(reminder=reminder, until=timezone.now() + datetime.timedelta(hours=1))


@time_machine.travel(datetime.datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI), tick=False)
def test_bulk_loaded_follow_ups_leave_the_reminders_interaction_log_leaves(service_user):
    owner = UserFactory(role=Role.SALES)
    owned, unowned = CustomerFactory(owner=owner), CustomerFactory(owner=None)
    day = datetime.date(2026, 3, 5)
    logged = services.interaction_log(
        customer=owned, channel=InteractionChannel.PHONE, subject="Size", staff=service_user, follow_up_on=day
    )
    by_staff, by_nobody, for_no_one = (
        Interaction(customer=owned, channel=InteractionChannel.PHONE, subject="Size", staff=service_user),
        Interaction(customer=owned, channel=InteractionChannel.CHAT, subject="Colour"),
        Interaction(customer=unowned, channel=InteractionChannel.CHAT, subject="Refund"),
    )
    for interaction in (by_staff, by_nobody, for_no_one):
        interaction.occurred_at, interaction.follow_up_on = timezone.now(), day
    services.interactions_bulk_load(interactions=[by_staff, by_nobody, for_no_one])

    fields = ("assignee", "due_at", "text", "source", "status", "created_by")
    made = {r.interaction_id: r for r in Reminder.objects.all()}
    assert [getattr(made[by_staff.pk], f) for f in fields] == [getattr(made[logged.pk], f) for f in fields]
    assert made[by_nobody.pk].assignee == owner  # the owner, as interaction_log falls back to
    assert for_no_one.pk not in made  # no one to remind: the bulk load leaves it out rather than refuse
    assert made[by_staff.pk].due_at == datetime.datetime(2026, 3, 5, 9, 0, tzinfo=SHANGHAI)


def test_a_follow_up_date_is_checked_by_the_service_for_the_form_too():
    with pytest.raises(ValidationError) as error:
        services.follow_up_validate(follow_up_on=timezone.localdate() - datetime.timedelta(days=1))
    assert error.value.message_dict == {"follow_up_on": ["The follow-up date cannot be in the past."]}
    services.follow_up_validate(follow_up_on=timezone.localdate())
    services.follow_up_validate(follow_up_on=None)


@time_machine.travel(datetime.datetime(2026, 3, 2, 15, 0, tzinfo=SHANGHAI), tick=False)
def test_snoozing_to_tomorrow_morning_lands_at_the_working_day_hour_of_a_follow_up(settings):
    from interactions.forms.followups import SnoozeForm

    settings.CRM_FOLLOW_UP_HOUR = 8
    form = SnoozeForm({"until": "tomorrow"})
    assert form.is_valid()
    until = form.until_time(timezone.now())
    assert until == services.follow_up_due_at(datetime.date(2026, 3, 3))
    assert until == datetime.datetime(2026, 3, 3, 8, 0, tzinfo=SHANGHAI)


def test_an_interaction_received_twice_with_its_reference_is_stored_once():
    kwargs = {
        "customer": CustomerFactory(),
        "channel": InteractionChannel.CHAT,
        "subject": "Where is my parcel",
        "source": InteractionSource.API,
        "external_ref": "chat-77",
    }
    first, first_repeat = services.interaction_receive(**kwargs)
    again, repeat = services.interaction_receive(**kwargs)
    assert (first_repeat, repeat, again) == (False, True, first)
    assert Interaction.objects.count() == 1


def test_interactions_received_without_a_reference_are_each_stored():
    kwargs = {"customer": CustomerFactory(), "channel": InteractionChannel.CHAT, "source": InteractionSource.API}
    services.interaction_receive(subject="One", **kwargs)
    _interaction, repeat = services.interaction_receive(subject="One", **kwargs)
    assert not repeat and Interaction.objects.count() == 2


def test_an_interaction_that_loses_a_race_returns_the_winners(monkeypatch):
    from interactions.services import contact

    real = contact.interaction_log

    def racing(**kwargs):
        real(**kwargs)  # the other copy commits first...
        raise IntegrityError("duplicate key")  # ...and this one hits the unique index

    monkeypatch.setattr(contact, "interaction_log", racing)
    interaction, repeat = services.interaction_receive(
        customer=CustomerFactory(),
        channel=InteractionChannel.CHAT,
        subject="x",
        source=InteractionSource.API,
        external_ref="chat-1",
    )
    assert repeat and interaction == Interaction.objects.get()
