"""The reminder jobs: due reminders notified exactly once, and rules turned into reminders without duplicates."""

import datetime

import pytest
import time_machine
from celery.schedules import crontab
from django.core import mail
from django.db import IntegrityError
from django.utils import timezone
from django_celery_beat.models import PeriodicTask
from django_celery_beat.schedulers import ModelEntry

from crm.celery import app
from crm.models import Notification
from crm.roles import Role
from customers.tests.factories import CustomerFactory, TierFactory, UserFactory
from interactions import services
from interactions.models import (
    AssigneePolicy,
    Interaction,
    InteractionChannel,
    Reminder,
    ReminderRuleKind,
    ReminderSource,
    ReminderStatus,
)
from interactions.services import followups
from interactions.tasks import reminder_rules_task, reminders_notify_task
from interactions.tests.factories import InteractionFactory, ReminderFactory, ReminderRuleFactory

pytestmark = pytest.mark.django_db

NOW = datetime.datetime(2026, 3, 2, 9, 30, tzinfo=datetime.timezone(datetime.timedelta(hours=8)))
HOUR = datetime.timedelta(hours=1)
DAY = datetime.timedelta(days=1)


def _run_notify(django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        return reminders_notify_task()


# --- notifying due reminders ---------------------------------------------------------------


@time_machine.travel(NOW, tick=False)
def test_a_due_reminder_gets_one_notification_and_one_email_even_when_the_job_runs_twice(
    service_user, django_capture_on_commit_callbacks
):
    customer = CustomerFactory(name="陈静")
    reminder = ReminderFactory(assignee=service_user, customer=customer, due_at=NOW - HOUR, text="Call back")
    assert _run_notify(django_capture_on_commit_callbacks) == 1
    assert _run_notify(django_capture_on_commit_callbacks) == 0

    notification = Notification.objects.get()
    assert notification.user == service_user and notification.read_at is None
    assert "Call back" in notification.text and "陈静" in notification.text
    assert notification.link == customer.get_absolute_url()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == [service_user.email] and "Call back" in mail.outbox[0].subject
    assert customer.get_absolute_url() in mail.outbox[0].body
    reminder.refresh_from_db()
    assert reminder.notified_at == NOW


@time_machine.travel(NOW, tick=False)
def test_reminders_not_yet_due_done_or_cancelled_are_not_notified(service_user, django_capture_on_commit_callbacks):
    ReminderFactory(assignee=service_user, due_at=NOW + HOUR)
    ReminderFactory(assignee=service_user, due_at=NOW - HOUR, status=ReminderStatus.DONE)
    ReminderFactory(assignee=service_user, due_at=NOW - HOUR, status=ReminderStatus.CANCELLED)
    assert _run_notify(django_capture_on_commit_callbacks) == 0
    assert not Notification.objects.exists() and not mail.outbox


@time_machine.travel(NOW, tick=False)
def test_the_email_is_sent_only_after_the_claim_has_committed(service_user, django_capture_on_commit_callbacks):
    ReminderFactory(assignee=service_user, due_at=NOW - HOUR)
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        reminders_notify_task()
        assert Notification.objects.count() == 1
        assert mail.outbox == []  # still inside the transaction: nothing sent
    for callback in callbacks:
        callback()
    assert len(mail.outbox) == 1


@time_machine.travel(NOW, tick=False)
def test_a_run_that_dies_midway_loses_and_duplicates_nothing_when_run_again(
    service_user, monkeypatch, django_capture_on_commit_callbacks
):
    reminders = [ReminderFactory(assignee=service_user, due_at=NOW - HOUR * (5 - i)) for i in range(5)]
    monkeypatch.setattr(followups, "NOTIFY_BATCH", 2)
    real_insert = followups._notifications_insert
    calls = {"n": 0}

    def dies_on_the_second_batch(notifications):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("worker lost")
        return real_insert(notifications)

    monkeypatch.setattr(followups, "_notifications_insert", dies_on_the_second_batch)
    with pytest.raises(RuntimeError):
        _run_notify(django_capture_on_commit_callbacks)
    # The first batch of two committed (claims + notifications) and was e-mailed; the second's claims rolled back.
    assert Notification.objects.count() == 2 and len(mail.outbox) == 2
    assert Reminder.objects.filter(notified_at__isnull=True).count() == 3

    monkeypatch.setattr(followups, "_notifications_insert", real_insert)
    assert _run_notify(django_capture_on_commit_callbacks) == 3
    assert _run_notify(django_capture_on_commit_callbacks) == 0
    assert Notification.objects.count() == 5 and len(mail.outbox) == 5
    assert all(r.notified_at for r in Reminder.objects.filter(pk__in=[r.pk for r in reminders]))


@time_machine.travel(NOW, tick=False)
def test_a_failed_email_is_not_retried_but_the_reminder_stays_notified_in_the_app(
    service_user, monkeypatch, django_capture_on_commit_callbacks
):
    """Documented trade-off: the claim committed before the send, so a lost e-mail is not sent again."""
    ReminderFactory(assignee=service_user, due_at=NOW - HOUR)
    ReminderFactory(assignee=service_user, due_at=NOW - HOUR)
    sent = []

    def flaky_send(subject, body, from_email, to):
        if not sent:
            sent.append(None)
            raise ConnectionError("smtp down")
        mail.outbox.append(subject)

    monkeypatch.setattr(followups, "send_mail", flaky_send)
    assert _run_notify(django_capture_on_commit_callbacks) == 2  # the failed send is logged, the run goes on
    assert _run_notify(django_capture_on_commit_callbacks) == 0
    assert Notification.objects.count() == 2 and len(mail.outbox) == 1


@time_machine.travel(NOW, tick=False)
def test_another_run_that_claimed_first_wins(service_user, django_capture_on_commit_callbacks):
    reminder = ReminderFactory(assignee=service_user, due_at=NOW - HOUR)
    Reminder.objects.filter(pk=reminder.pk).update(notified_at=NOW)  # as a concurrent run would
    with django_capture_on_commit_callbacks(execute=True):
        assert followups.reminder_notify(reminder=reminder, now=NOW) is False
    assert not Notification.objects.exists() and not mail.outbox


def test_a_snoozed_reminder_is_notified_again_when_its_new_time_comes(service_user, django_capture_on_commit_callbacks):
    with time_machine.travel(NOW, tick=False):
        reminder = ReminderFactory(assignee=service_user, due_at=NOW - HOUR)
        _run_notify(django_capture_on_commit_callbacks)
        services.reminder_snooze(reminder=reminder, until=NOW + 2 * HOUR)
        assert _run_notify(django_capture_on_commit_callbacks) == 0
    with time_machine.travel(NOW + 3 * HOUR, tick=False):
        assert _run_notify(django_capture_on_commit_callbacks) == 1
    assert Notification.objects.count() == 2 and len(mail.outbox) == 2


@time_machine.travel(NOW, tick=False)
def test_no_email_for_an_assignee_without_an_address(make_user, django_capture_on_commit_callbacks):
    ReminderFactory(assignee=make_user(Role.SERVICE, username="noemail", email=""), due_at=NOW - HOUR)
    assert _run_notify(django_capture_on_commit_callbacks) == 1
    assert Notification.objects.count() == 1 and not mail.outbox


@pytest.mark.parametrize(
    ("name", "task", "hour", "minute"),
    [("reminders-notify", reminders_notify_task, "*", "*/5"), ("reminder-rules-daily", reminder_rules_task, "6", "0")],
)
def test_the_reminder_jobs_are_on_the_beat_schedule_with_an_expiry(name, task, hour, minute):
    entry = app.conf.beat_schedule[name]
    assert entry["task"] == task.name
    assert isinstance(entry["schedule"], crontab)
    ModelEntry.from_entry(name, app=app, **entry)
    stored = PeriodicTask.objects.get(name=name)
    assert (stored.crontab.hour, stored.crontab.minute) == (hour, minute)
    assert stored.expire_seconds == entry["options"]["expires"] > 0


# --- rules -------------------------------------------------------------------------------------


@pytest.fixture
def gold():
    TierFactory(name="silver", rank=1)
    return TierFactory(name="gold", rank=2)


@time_machine.travel(NOW, tick=False)
def test_no_contact_rule_reminds_the_owner_about_gold_members_not_contacted_in_n_days(gold, sales_user):
    old = NOW.date() - 400 * DAY
    silent = CustomerFactory(tier=gold, owner=sales_user, registered_on=old)
    InteractionFactory(customer=silent, occurred_at=NOW - 40 * DAY)
    contacted = CustomerFactory(tier=gold, owner=sales_user, registered_on=old)
    InteractionFactory(customer=contacted, occurred_at=NOW - 5 * DAY)
    CustomerFactory(tier=TierFactory(name="silver"), owner=sales_user, registered_on=old)  # below the tier
    CustomerFactory(tier=gold, owner=sales_user, registered_on=NOW.date() - 3 * DAY)  # new: not yet due
    rule = ReminderRuleFactory(kind=ReminderRuleKind.NO_CONTACT, days=30, min_tier=gold, text="Check in")

    assert reminder_rules_task() == {rule.name: 1}
    reminder = Reminder.objects.get()
    assert (reminder.customer, reminder.assignee, reminder.rule) == (silent, sales_user, rule)
    assert (reminder.source, reminder.due_at, reminder.text) == (ReminderSource.RULE, NOW, "Check in")


@time_machine.travel(NOW, tick=False)
def test_running_the_rules_twice_creates_no_duplicates(gold, sales_user):
    CustomerFactory.create_batch(3, tier=gold, owner=sales_user, registered_on=NOW.date() - 400 * DAY)
    rule = ReminderRuleFactory(days=30, min_tier=gold)
    assert reminder_rules_task() == {rule.name: 3}
    assert reminder_rules_task() == {rule.name: 0}
    assert Reminder.objects.count() == 3


def test_a_done_no_contact_reminder_is_not_repeated_until_another_n_days_pass(gold, sales_user):
    customer = CustomerFactory(tier=gold, owner=sales_user, registered_on=NOW.date() - 400 * DAY)
    rule = ReminderRuleFactory(days=30, min_tier=gold)
    with time_machine.travel(NOW, tick=False):
        reminder_rules_task()
        services.reminder_complete(reminder=Reminder.objects.get())
    with time_machine.travel(NOW + DAY, tick=False):
        assert reminder_rules_task() == {rule.name: 0}
    with time_machine.travel(NOW + 31 * DAY, tick=False):
        assert reminder_rules_task() == {rule.name: 1}
    assert Reminder.objects.filter(customer=customer).count() == 2


def test_the_database_refuses_a_second_waiting_reminder_from_the_same_rule(sales_user):
    rule = ReminderRuleFactory()
    customer = CustomerFactory()
    ReminderFactory(rule=rule, customer=customer, assignee=sales_user)
    ReminderFactory(rule=rule, customer=customer, assignee=sales_user, status=ReminderStatus.DONE)
    with pytest.raises(IntegrityError):
        ReminderFactory(rule=rule, customer=customer, assignee=sales_user)


@time_machine.travel(NOW, tick=False)
def test_low_satisfaction_rule_reminds_a_fixed_user_once_per_unhappy_customer(manager_user, service_user):
    unhappy = CustomerFactory()
    InteractionFactory(customer=unhappy, satisfaction=1, occurred_at=NOW - DAY)
    InteractionFactory(customer=unhappy, satisfaction=2, occurred_at=NOW - 2 * DAY)
    InteractionFactory(customer=CustomerFactory(), satisfaction=4, occurred_at=NOW - DAY)  # happy
    InteractionFactory(customer=CustomerFactory(), satisfaction=1, occurred_at=NOW - 30 * DAY)  # too long ago
    rule = ReminderRuleFactory(
        kind=ReminderRuleKind.LOW_SATISFACTION,
        days=7,
        max_score=2,
        assignee_policy=AssigneePolicy.FIXED,
        assignee=manager_user,
        text="Call the unhappy customer",
    )
    assert reminder_rules_task() == {rule.name: 1}
    reminder = Reminder.objects.get()
    assert (reminder.customer, reminder.assignee) == (unhappy, manager_user)
    assert reminder.interaction.satisfaction == 1
    assert reminder_rules_task() == {rule.name: 0}


def test_a_new_low_score_after_the_reminder_was_done_reminds_again(manager_user):
    customer = CustomerFactory()
    rule = ReminderRuleFactory(
        kind=ReminderRuleKind.LOW_SATISFACTION,
        days=7,
        max_score=2,
        assignee_policy=AssigneePolicy.FIXED,
        assignee=manager_user,
    )
    with time_machine.travel(NOW, tick=False):
        InteractionFactory(customer=customer, satisfaction=1, occurred_at=NOW - HOUR)
        reminder_rules_task()
        services.reminder_complete(reminder=Reminder.objects.get())
        assert reminder_rules_task() == {rule.name: 0}
    with time_machine.travel(NOW + 2 * DAY, tick=False):
        InteractionFactory(customer=customer, satisfaction=2, occurred_at=NOW + DAY)
        assert reminder_rules_task() == {rule.name: 1}


@time_machine.travel(NOW, tick=False)
def test_owner_policy_falls_back_to_the_fixed_user_and_skips_customers_with_neither(gold, manager_user):
    old = NOW.date() - 400 * DAY
    CustomerFactory(tier=gold, owner=None, registered_on=old)
    with_fallback = ReminderRuleFactory(days=30, min_tier=gold, assignee=manager_user)
    without = ReminderRuleFactory(days=30, min_tier=gold)
    assert reminder_rules_task() == {with_fallback.name: 1, without.name: 0}
    assert Reminder.objects.get().assignee == manager_user


@time_machine.travel(NOW, tick=False)
def test_inactive_rules_do_nothing(gold):
    CustomerFactory(tier=gold, owner=UserFactory(), registered_on=NOW.date() - 400 * DAY)
    ReminderRuleFactory(days=30, active=False)
    assert reminder_rules_task() == {}
    assert not Reminder.objects.exists()


def test_a_rule_checks_it_has_the_parameters_its_kind_needs():
    from django.core.exceptions import ValidationError

    rule = ReminderRuleFactory.build(kind=ReminderRuleKind.LOW_SATISFACTION, assignee_policy=AssigneePolicy.FIXED)
    with pytest.raises(ValidationError) as error:
        rule.full_clean()
    assert {"max_score", "assignee"} <= set(error.value.message_dict)


@time_machine.travel(NOW, tick=False)
def test_a_follow_up_for_today_logged_after_nine_falls_due_in_an_hour_not_at_once(
    service_user, django_capture_on_commit_callbacks
):
    services.interaction_log(
        customer=CustomerFactory(),
        channel=InteractionChannel.PHONE,
        subject="Size exchange",
        staff=service_user,
        follow_up_on=NOW.date(),
    )
    assert timezone.localtime(Reminder.objects.get().due_at).strftime("%H:%M") == "10:30"
    assert _run_notify(django_capture_on_commit_callbacks) == 0  # not overdue the moment it is saved
    with time_machine.travel(NOW + datetime.timedelta(hours=1), tick=False):
        assert _run_notify(django_capture_on_commit_callbacks) == 1
    assert "Size exchange" in Notification.objects.get(user=service_user).text


@time_machine.travel(NOW, tick=False)
def test_a_follow_up_for_a_later_day_is_due_at_nine_or_at_the_time_given(service_user):
    tomorrow = NOW.date() + DAY
    for at in (None, datetime.time(15, 45)):
        services.interaction_log(
            customer=CustomerFactory(),
            channel=InteractionChannel.PHONE,
            subject="Call back",
            staff=service_user,
            follow_up_on=tomorrow,
            follow_up_time=at,
        )
    due = sorted(timezone.localtime(r.due_at).strftime("%H:%M") for r in Reminder.objects.all())
    assert due == ["09:00", "15:45"]


@time_machine.travel(NOW, tick=False)
def test_a_follow_up_time_already_past_today_is_refused_and_nothing_is_stored(service_user):
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError) as error:
        services.interaction_log(
            customer=CustomerFactory(),
            channel=InteractionChannel.PHONE,
            subject="Call back",
            staff=service_user,
            follow_up_on=NOW.date(),
            follow_up_time=datetime.time(8, 0),
        )
    assert "follow_up_time" in error.value.message_dict
    assert not Reminder.objects.exists() and not Interaction.objects.exists()


@time_machine.travel(NOW, tick=False)
def test_a_backlog_bigger_than_one_batch_is_notified_in_one_run(service_user, django_capture_on_commit_callbacks):
    ReminderFactory.create_batch(5, assignee=service_user, due_at=NOW - DAY)
    with django_capture_on_commit_callbacks(execute=True):
        assert followups.reminders_notify_due(batch=2) == 5
    assert Notification.objects.count() == 5 and len(mail.outbox) == 5


# --- notifying in batches ----------------------------------------------------------------------


def _due_backlog(user, count: int, due_at: datetime.datetime) -> None:
    customers = CustomerFactory.create_batch(5)
    Reminder.objects.bulk_create(
        Reminder(
            customer=customers[i % 5], assignee=user, due_at=due_at - i * datetime.timedelta(seconds=1), text=f"#{i}"
        )
        for i in range(count)
    )


@time_machine.travel(NOW, tick=False)
def test_a_backlog_of_5000_is_notified_once_each_with_a_few_queries_per_batch(
    service_user, django_assert_max_num_queries, django_capture_on_commit_callbacks
):
    _due_backlog(service_user, 5000, NOW - HOUR)
    batches = 5000 // followups.NOTIFY_BATCH + 1  # the last one finds nothing left
    # Per batch: savepoint, lock-and-read, claim, notifications insert, release; the e-mails need none.
    with django_assert_max_num_queries(5 * batches), django_capture_on_commit_callbacks(execute=True):
        assert followups.reminders_notify_due() == 5000
    assert _run_notify(django_capture_on_commit_callbacks) == 0
    texts = list(Notification.objects.values_list("text", flat=True))
    assert len(texts) == len({text.split(" — ")[0] for text in texts}) == 5000
    assert len(mail.outbox) == 5000 and not Reminder.objects.filter(notified_at__isnull=True).exists()


@time_machine.travel(NOW, tick=False)
def test_the_query_count_grows_with_the_batches_not_the_reminders(
    service_user, django_assert_num_queries, django_capture_on_commit_callbacks
):
    _due_backlog(service_user, 10, NOW - HOUR)
    with django_capture_on_commit_callbacks(execute=True), django_assert_num_queries(5):
        assert followups.reminders_notify_due(batch=20) == 10
    _due_backlog(service_user, 20, NOW - HOUR)
    with django_capture_on_commit_callbacks(execute=True), django_assert_num_queries(5):
        assert followups.reminders_notify_due(batch=25) == 20
    assert Notification.objects.count() == 30


@pytest.mark.django_db(transaction=True)
def test_two_runs_at_once_never_notify_a_reminder_twice(service_user):
    import threading

    from django.db import connection

    now = timezone.now()
    _due_backlog(service_user, 2000, now - HOUR)
    start = threading.Barrier(2)
    results: list[int] = []

    def run() -> None:
        try:
            start.wait()
            results.append(followups.reminders_notify_due(now=now, batch=50))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(results) == 2 and sum(results) == 2000
    texts = [text.split(" — ")[0] for text in Notification.objects.values_list("text", flat=True)]
    assert len(texts) == len(set(texts)) == 2000
    assert len(mail.outbox) == 2000
    assert not Reminder.objects.filter(notified_at__isnull=True).exists()
