"""The reminder jobs: tell assignees about reminders that fall due, and turn rules into reminders.

Notifying exactly once. Each due reminder is claimed with a conditional
`UPDATE ... SET notified_at = now WHERE notified_at IS NULL`; only the run whose
update changed the row goes on. The in-app Notification is written in the same
transaction as the claim, so the two commit or roll back together: a run that
dies before the commit leaves the reminder unclaimed for the next run, and one
that runs twice finds nothing left to claim. The e-mail goes out only after that
transaction has committed (never inside it), built from the committed row. A
worker that dies between the commit and the send loses at most that one e-mail:
the reminder is not notified again, and the in-app notification is already there.
A send that fails is logged and the run carries on with the next reminder.
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import BigIntegerField, Exists, OuterRef, Q, QuerySet, Value
from django.utils import timezone, translation
from django.utils.translation import gettext

from crm.notifications import notification_create
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


def reminders_notify_due(*, now: datetime.datetime | None = None, batch: int = NOTIFY_BATCH) -> int:
    """Notify the assignees of every reminder due by `now`, `batch` rows read at a time (a backlog after
    downtime does not load at once); returns how many this run notified."""
    now = now or timezone.now()
    due = (
        Reminder.objects.filter(ACTIVE_REMINDER, notified_at__isnull=True, due_at__lte=now)
        .select_related("customer", "assignee")
        .order_by("due_at", "pk")
    )
    notified = 0
    while True:
        rows = list(due[:batch])
        for reminder in rows:
            # A row another run holds blocks the claim until that run commits; then it matches nothing.
            if reminder_notify(reminder=reminder, now=now):
                notified += 1
        if len(rows) < batch:
            return notified


def reminder_notify(*, reminder: Reminder, now: datetime.datetime) -> bool:
    """Claim and notify one reminder; False if another run has claimed it (or it is no longer due)."""
    with transaction.atomic():
        claimed = Reminder.objects.filter(
            ACTIVE_REMINDER, pk=reminder.pk, notified_at__isnull=True, due_at__lte=now
        ).update(notified_at=now)
        if not claimed:
            return False
        with translation.override(settings.LANGUAGE_CODE):
            text = gettext("Due: %(text)s — %(customer)s") % {
                "text": reminder.text,
                "customer": reminder.customer.name,
            }
        notification_create(user=reminder.assignee, text=text, link=reminder.customer.get_absolute_url())
        if reminder.assignee.email:
            # A lambda, not functools.partial: a robust hook's failure is logged under its __qualname__.
            transaction.on_commit(lambda: _send_reminder_email(reminder.pk), robust=True)
    return True


def _send_reminder_email(reminder_id: int) -> None:
    reminder = Reminder.objects.select_related("customer", "assignee").filter(pk=reminder_id).first()
    if reminder is None or reminder.notified_at is None:
        return
    with translation.override(settings.LANGUAGE_CODE):
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
