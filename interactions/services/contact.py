"""Writes about contact with a customer: interactions, and the reminders they and staff leave.

The jobs that notify due reminders and apply reminder rules are in interactions.services.followups.
"""

import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db.transaction import atomic
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.lib.once import record_once
from crm.lib.users import acting_user
from customers.models import Customer
from interactions.models import (
    ACTIVE_REMINDER,
    Direction,
    Interaction,
    InteractionChannel,
    InteractionSource,
    Outcome,
    Reminder,
    ReminderRule,
    ReminderSource,
    ReminderStatus,
    UnmatchedMention,
)


def follow_up_due_at(
    day: datetime.date, at: datetime.time | None = None, *, now: datetime.datetime | None = None
) -> datetime.datetime:
    """When a follow-up falls due: at the time given, else at the start of the working day
    (CRM_FOLLOW_UP_HOUR); and when that hour of today has passed, in an hour, never already overdue."""
    due = timezone.make_aware(datetime.datetime.combine(day, at or datetime.time(settings.CRM_FOLLOW_UP_HOUR)))
    now = now or timezone.now()
    if at is None and day == timezone.localdate(now) and due <= now:
        return now + datetime.timedelta(hours=1)
    return due


def follow_up_validate(*, follow_up_on: datetime.date | None, follow_up_time: datetime.time | None = None) -> None:
    """A follow-up may not be in the past. interaction_log checks it; a form may ask first, to show
    it beside its own errors."""
    if follow_up_on is not None and follow_up_on < timezone.localdate():
        raise ValidationError({"follow_up_on": _("The follow-up date cannot be in the past.")})
    if follow_up_on and follow_up_time and follow_up_due_at(follow_up_on, follow_up_time) <= timezone.now():
        raise ValidationError({"follow_up_time": _("This time has already passed today.")})


def follow_up_reminder(
    *, interaction: Interaction, owner_id: int | None, at: datetime.time | None = None
) -> Reminder | None:
    """The reminder an interaction's follow-up date leaves (not saved): for the staff member who logged
    it, else the customer's owner; None when it has no follow-up date or there is no one to remind."""
    assignee_id = interaction.staff_id or owner_id
    if interaction.follow_up_on is None or assignee_id is None:
        return None
    return Reminder(
        customer_id=interaction.customer_id,
        assignee_id=assignee_id,
        due_at=follow_up_due_at(interaction.follow_up_on, at),
        text=(gettext("Follow up: %(subject)s") % {"subject": interaction.subject})[:255],
        source=ReminderSource.FOLLOW_UP,
        interaction=interaction,
        created_by_id=interaction.staff_id,
    )


@atomic
def interaction_log(
    *,
    customer: Customer,
    channel: InteractionChannel,
    subject: str,
    direction: Direction = Direction.INBOUND,
    notes: str = "",
    outcome: Outcome | str = "",
    staff: AbstractBaseUser | None = None,
    occurred_at: datetime.datetime | None = None,
    satisfaction: int | None = None,
    follow_up_on: datetime.date | None = None,
    follow_up_time: datetime.time | None = None,
    source: InteractionSource = InteractionSource.STAFF,
    external_ref: str = "",
    external_handle: str = "",
    external_url: str = "",
) -> Interaction:
    """Record a contact with the customer; a follow-up date leaves a reminder for the staff member
    (or, when none is named, for the customer's owner), due at `follow_up_time` or as follow_up_due_at says.

    A repeated (source, external_ref) is refused with a ValidationError, so a retried delivery is stored once.
    """
    staff = acting_user(staff)
    interaction = Interaction(
        customer=customer,
        channel=channel,
        direction=direction,
        subject=subject,
        notes=notes,
        outcome=outcome,
        staff=staff,
        occurred_at=occurred_at or timezone.now(),
        satisfaction=satisfaction,
        follow_up_on=follow_up_on,
        source=source,
        external_ref=external_ref,
        external_handle=external_handle,
        external_url=external_url,
    )
    interaction.full_clean()
    follow_up_validate(follow_up_on=follow_up_on, follow_up_time=follow_up_time)
    reminder = follow_up_reminder(interaction=interaction, owner_id=customer.owner_id, at=follow_up_time)
    if follow_up_on is not None and reminder is None:
        raise ValidationError(
            {"follow_up_on": _("No one to remind: name a staff member, or give the customer an owner first.")}
        )
    interaction.save()
    if reminder is not None:
        _reminder_save(reminder)
    return interaction


def interaction_receive(
    *, source: InteractionSource, external_ref: str = "", **fields: Any
) -> tuple[Interaction, bool]:
    """Log an interaction another system sends: returns (interaction, repeat). With an `external_ref`
    it is stored once; the same reference again (a retry, or two copies racing) returns the stored one."""

    def stored() -> Interaction | None:
        if not external_ref:
            return None
        return Interaction.objects.select_related("customer").filter(source=source, external_ref=external_ref).first()

    return record_once(find=stored, create=lambda: interaction_log(source=source, external_ref=external_ref, **fields))


@atomic
def reminder_create(
    *,
    customer: Customer,
    assignee: AbstractBaseUser,
    due_at: datetime.datetime,
    text: str,
    source: ReminderSource = ReminderSource.STAFF,
    interaction: Interaction | None = None,
    rule: ReminderRule | None = None,
    created_by: AbstractBaseUser | None = None,
) -> Reminder:
    """A reminder for `assignee` about `customer`; the notification job tells them when it falls due."""
    return _reminder_save(
        Reminder(
            customer=customer,
            assignee=assignee,
            due_at=due_at,
            text=text[:255],
            source=source,
            interaction=interaction,
            rule=rule,
            created_by=acting_user(created_by),
        )
    )


def _reminder_save(reminder: Reminder) -> Reminder:
    if not reminder.assignee.is_active:
        raise ValidationError({"assignee": _("Reminders can only be given to active users.")})
    reminder.full_clean()
    reminder.save()
    return reminder


@atomic
def reminder_complete(*, reminder: Reminder, actor: AbstractBaseUser | None = None) -> Reminder:
    """Mark the reminder done; doing it twice changes nothing, a cancelled one cannot be done."""
    locked = Reminder.objects.select_for_update().get(pk=reminder.pk)
    if locked.status == ReminderStatus.CANCELLED:
        raise ValidationError(_("This reminder was cancelled."))
    if locked.status != ReminderStatus.DONE:
        locked.status, locked.done_at = ReminderStatus.DONE, timezone.now()
        locked.save(update_fields=["status", "done_at"])
    reminder.status, reminder.done_at = locked.status, locked.done_at
    return locked


@atomic
def reminder_snooze(*, reminder: Reminder, until: datetime.datetime, actor: AbstractBaseUser | None = None) -> Reminder:
    """Put the reminder off to `until`; it is notified again then (notified_at is cleared)."""
    if until <= timezone.now():
        raise ValidationError(_("Snooze to a time in the future."))
    locked = Reminder.objects.select_for_update().get(pk=reminder.pk)
    if not locked.is_active:
        raise ValidationError(_("Only open reminders can be snoozed."))
    locked.status, locked.due_at, locked.notified_at = ReminderStatus.SNOOZED, until, None
    locked.save(update_fields=["status", "due_at", "notified_at"])
    reminder.status, reminder.due_at, reminder.notified_at = locked.status, locked.due_at, None
    return locked


@atomic
def reminder_cancel(*, reminder: Reminder, actor: AbstractBaseUser | None = None) -> Reminder:
    locked = Reminder.objects.select_for_update().get(pk=reminder.pk)
    if locked.is_active:
        locked.status = ReminderStatus.CANCELLED
        locked.save(update_fields=["status"])
    reminder.status = locked.status
    return locked


def interactions_bulk_load(*, interactions: list[Interaction], now: datetime.datetime | None = None) -> int:
    """Demo data and trusted back-fills only: insert many interactions fast, with the reminders their
    follow-up dates leave, as interaction_log leaves them. No per-row validation: the database still
    checks the satisfaction range. Follow-ups already past are stored done, as if handled in time."""
    now = now or timezone.now()
    with atomic():
        Interaction.objects.bulk_create(interactions, batch_size=2000)
        unlogged = {i.customer_id for i in interactions if i.follow_up_on is not None and i.staff_id is None}
        owners = dict(Customer.objects.filter(pk__in=unlogged).values_list("pk", "owner_id")) if unlogged else {}
        reminders = []
        for interaction in interactions:
            reminder = follow_up_reminder(interaction=interaction, owner_id=owners.get(interaction.customer_id))
            if reminder is None:
                continue
            if reminder.due_at < now - datetime.timedelta(days=3):
                reminder.status = ReminderStatus.DONE
                reminder.done_at = reminder.notified_at = reminder.due_at
            reminders.append(reminder)
        Reminder.objects.bulk_create(reminders, batch_size=2000)
    return len(interactions)


def reminders_settle_merge(*, survivor: Customer, other: Customer, **kwargs: object) -> int:
    """Before a merge moves `other`'s reminders: a rule keeps one waiting reminder per customer, so the
    other's that duplicate one of the survivor's are cancelled. Runs in the merge's transaction."""
    survivor_rules = Reminder.objects.filter(ACTIVE_REMINDER, customer=survivor, rule__isnull=False).values("rule")
    return Reminder.objects.filter(ACTIVE_REMINDER, customer=other, rule__in=survivor_rules).update(
        status=ReminderStatus.CANCELLED
    )


# What a subject or a reminder's text becomes once blanked: both are required, and neither is shown translated.
ERASED_TEXT = "—"


def contact_settle_erasure(*, customer: Customer, **kwargs: object) -> None:
    """In customer_erase's transaction: what staff, the member or a social post wrote about the person goes
    (subjects, notes, social handles and links, reminders' texts, assigned mentions); when, how and how satisfied
    stay, so the contact reports still count them. Waiting reminders are cancelled: no one calls an erased
    member back."""
    Interaction.objects.filter(customer=customer).update(
        subject=ERASED_TEXT, notes="", external_handle="", external_url=""
    )
    Reminder.objects.filter(ACTIVE_REMINDER, customer=customer).update(status=ReminderStatus.CANCELLED)
    Reminder.objects.filter(customer=customer).update(text=ERASED_TEXT)
    UnmatchedMention.objects.filter(assigned_to=customer).update(
        handle="", author_name="", phone="", email="", text=ERASED_TEXT, url=""
    )
