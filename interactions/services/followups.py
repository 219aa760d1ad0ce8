"""The reminder jobs: tell assignees about reminders that fall due, and turn rules into reminders.

Notifying exactly once, a batch at a time. Each batch of due reminders is claimed
in one transaction: `SELECT ... FOR UPDATE SKIP LOCKED` takes up to `batch` rows
no other run holds, a conditional `UPDATE ... SET notified_at = now WHERE
notified_at IS NULL` claims them, and their in-app Notifications are inserted in
one statement before the commit. Claim and notifications commit or roll back
together: a run that dies before the commit leaves its batch unclaimed for the
next run, and two runs at once take disjoint batches (a locked row is skipped by
the other run, and a committed one no longer matches). The e-mails go out only
after the batch has committed (never inside the transaction). A worker that dies
between the commit and the sends loses at most that batch's e-mails: the
reminders are not notified again, and the in-app notifications are already
there. A send that fails is logged and the run carries on with the next e-mail.
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import BigIntegerField, Exists, OuterRef, Q, QuerySet, Value
from django.utils import timezone, translation
from django.utils.translation import gettext

from crm.models import Notification
from customers.models import Customer
from interactions.models import (
    ACTIVE_REMINDER,
    AssigneePolicy,
    Interaction,
    Reminder,
    ReminderRule,
    ReminderRuleKind,
    ReminderSource,
)

logger = logging.getLogger(__name__)

NOTIFY_BATCH = 500
RULE_CHUNK = 2000
NO_INTERACTION = Value(None, output_field=BigIntegerField())


def reminders_notify_due(*, now: datetime.datetime | None = None, batch: int | None = None) -> int:
    """Notify the assignees of every reminder due by `now`, claiming `batch` rows per transaction (a backlog
    after downtime does not load at once); returns how many this run notified."""
    now = now or timezone.now()
    batch = batch or NOTIFY_BATCH
    due = Reminder.objects.filter(ACTIVE_REMINDER, notified_at__isnull=True, due_at__lte=now)
    notified = 0
    while True:
        # Rows another run holds are skipped, not waited for: that run notifies them.
        claimed = _reminders_claim(due.order_by("due_at", "pk"), now=now, limit=batch)
        notified += claimed
        if claimed < batch:
            return notified


def reminder_notify(*, reminder: Reminder, now: datetime.datetime) -> bool:
    """Claim and notify one reminder; False if another run has claimed it (or it is no longer due)."""
    due = Reminder.objects.filter(ACTIVE_REMINDER, pk=reminder.pk, notified_at__isnull=True, due_at__lte=now)
    return _reminders_claim(due, now=now, limit=1) == 1


def _reminders_claim(due: QuerySet[Reminder], *, now: datetime.datetime, limit: int) -> int:
    """Claim the unlocked rows of `due` and write their notifications, in one transaction; the e-mails are
    queued for after its commit. Three queries whatever the batch size; returns how many were claimed."""
    with transaction.atomic():
        locked = due.select_related("customer", "assignee").select_for_update(skip_locked=True, of=("self",))
        reminders = list(locked[:limit])
        if not reminders:
            return 0
        # Locked by this transaction and read after the lock, so every row still matches: the update claims all.
        Reminder.objects.filter(pk__in=[r.pk for r in reminders], notified_at__isnull=True).update(notified_at=now)
        with translation.override(settings.LANGUAGE_CODE):
            notifications = [
                Notification(
                    user=reminder.assignee,
                    text=(
                        gettext("Due: %(text)s — %(customer)s")
                        % {"text": reminder.text, "customer": reminder.customer.name}
                    )[:255],
                    link=reminder.customer.get_absolute_url(),
                )
                for reminder in reminders
            ]
        _notifications_insert(notifications)
        to_mail = [reminder for reminder in reminders if reminder.assignee.email]
        if to_mail:
            transaction.on_commit(lambda: _send_reminder_emails(to_mail))
    return len(reminders)


def _notifications_insert(notifications: list[Notification]) -> None:
    Notification.objects.bulk_create(notifications)


def _send_reminder_emails(reminders: list[Reminder]) -> None:
    """Runs after the claim committed; a failed send is logged and not retried (the claim stands)."""
    with translation.override(settings.LANGUAGE_CODE):
        for reminder in reminders:
            try:
                _send_reminder_email(reminder)
            except OSError:  # smtplib.SMTPException and connection errors
                logger.exception("reminder %s: e-mail to its assignee failed", reminder.pk)


def _send_reminder_email(reminder: Reminder) -> None:
    subject = gettext("Reminder: %(text)s") % {"text": reminder.text}
    body = gettext("%(text)s\nCustomer: %(customer)s\nDue: %(due)s\n%(link)s") % {
        "text": reminder.text,
        "customer": reminder.customer,
        "due": timezone.localtime(reminder.due_at).strftime("%Y-%m-%d %H:%M"),
        "link": settings.CRM_BASE_URL.rstrip("/") + reminder.customer.get_absolute_url(),
    }
    send_mail(subject, body, None, [reminder.assignee.email])


def reminder_rules_apply(*, now: datetime.datetime | None = None) -> dict[str, int]:
    """Run every active rule; returns reminders created per rule name. Running it again creates none."""
    now = now or timezone.now()
    created = {}
    for rule in ReminderRule.objects.filter(active=True).select_related("min_tier", "assignee"):
        created[rule.name] = reminder_rule_apply(rule=rule, now=now)
    return created


def reminder_rule_apply(*, rule: ReminderRule, now: datetime.datetime) -> int:
    if rule.kind == ReminderRuleKind.NO_CONTACT:
        candidates = _no_contact_candidates(rule, now)
    elif rule.kind == ReminderRuleKind.LOW_SATISFACTION:
        candidates = _low_satisfaction_candidates(rule, now)
    else:  # a kind added to the choices but not here yet
        logger.warning("reminder rule %s has unknown kind %s", rule.pk, rule.kind)
        return 0
    before = Reminder.objects.filter(rule=rule).count()
    batch: list[Reminder] = []
    for customer_id, owner_id, interaction_id in candidates.iterator(chunk_size=RULE_CHUNK):
        assignee_id = owner_id if rule.assignee_policy == AssigneePolicy.OWNER and owner_id else rule.assignee_id
        if assignee_id is None:
            continue  # no owner and no fixed user to fall back on
        batch.append(
            Reminder(
                customer_id=customer_id,
                assignee_id=assignee_id,
                due_at=now,
                text=rule.text,
                source=ReminderSource.RULE,
                rule=rule,
                interaction_id=interaction_id,
            )
        )
        if len(batch) >= RULE_CHUNK:
            _insert(batch)
            batch = []
    _insert(batch)
    return Reminder.objects.filter(rule=rule).count() - before


def _insert(reminders: list[Reminder]) -> None:
    """Insert, skipping any the unique (rule, customer) constraint refuses: a concurrent run got there first."""
    if reminders:
        Reminder.objects.bulk_create(reminders, ignore_conflicts=True)


def _rule_reminders(rule: ReminderRule) -> QuerySet[Reminder]:
    return Reminder.objects.filter(rule=rule, customer=OuterRef("pk"))


def _no_contact_candidates(rule: ReminderRule, now: datetime.datetime) -> QuerySet[Customer]:
    """Customers (of the tier or above) registered before the cutoff with no interaction since, and no
    reminder from this rule waiting or made since the cutoff, so a done reminder is not repeated next day."""
    cutoff = now - datetime.timedelta(days=rule.days)
    customers = Customer.objects.filter(registered_on__lte=timezone.localdate(cutoff))
    if rule.min_tier is not None:
        customers = customers.filter(tier__rank__gte=rule.min_tier.rank)
    recent_contact = Interaction.objects.filter(customer=OuterRef("pk"), occurred_at__gt=cutoff)
    reminded = _rule_reminders(rule).filter(ACTIVE_REMINDER | Q(created_at__gt=cutoff))
    return (
        customers.exclude(Exists(recent_contact))
        .exclude(Exists(reminded))
        .order_by("pk")
        .values_list("pk", "owner_id", NO_INTERACTION)
    )


def _low_satisfaction_candidates(rule: ReminderRule, now: datetime.datetime) -> QuerySet[Customer]:
    """Each customer's lowest recent score at or below the limit, unless this rule already has a reminder
    waiting for them or has made one for that interaction."""
    since = now - datetime.timedelta(days=rule.days)
    already = Reminder.objects.filter(rule=rule, interaction=OuterRef("pk"))
    waiting = Reminder.objects.filter(ACTIVE_REMINDER, rule=rule, customer=OuterRef("customer_id"))
    return (
        Interaction.objects.filter(
            satisfaction__isnull=False, satisfaction__lte=rule.max_score, occurred_at__gt=since, occurred_at__lte=now
        )
        .exclude(Exists(already))
        .exclude(Exists(waiting))
        .order_by("customer_id", "satisfaction", "-occurred_at")
        .distinct("customer_id")
        .values_list("customer_id", "customer__owner_id", "pk")
    )
