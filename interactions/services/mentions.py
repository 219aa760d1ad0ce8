"""Social-media mentions: matched to a customer they go on the timeline with a reminder to respond;
unmatched they wait in a queue for a person to assign them."""

import datetime
from dataclasses import asdict, dataclass, fields, replace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.lib.once import record_once
from crm.lib.users import acting_user
from customers.models import Customer
from customers.selectors import customer_by_contact
from interactions.models import (
    Direction,
    Interaction,
    InteractionChannel,
    InteractionSource,
    Reminder,
    ReminderSource,
    UnmatchedMention,
)
from interactions.selectors import customer_by_handle
from interactions.services.contact import interaction_log, reminder_create

# A public complaint left unanswered for a day does damage: the owner is reminded to respond within hours.
MENTION_RESPOND_WITHIN = datetime.timedelta(hours=4)


@dataclass(frozen=True)
class MentionInput:
    """A social-media mention as the listening tool reports it."""

    platform: str
    text: str
    handle: str = ""
    author_name: str = ""
    phone: str = ""  # already normalised (crm.lib.phone)
    email: str = ""
    url: str = ""
    external_id: str = ""
    posted_at: datetime.datetime | None = None

    @classmethod
    def from_queued(cls, queued: UnmatchedMention) -> "MentionInput":
        """The mention as it was received, from its place in the queue (the queue keeps every field)."""
        return cls(**{f.name: getattr(queued, f.name) for f in fields(cls)})

    @property
    def external_ref(self) -> str:
        return f"{self.platform}:{self.external_id}" if self.external_id else ""


@dataclass(frozen=True)
class MentionOutcome:
    interaction: Interaction | None = None
    reminder: Reminder | None = None
    queued: UnmatchedMention | None = None
    repeat: bool = False


def normalize_handle(handle: str) -> str:
    return handle.strip().removeprefix("@").lower()


def mention_receive(*, mention: MentionInput, received_from_id: int | None = None) -> MentionOutcome:
    """Record a mention on the customer it names (phone, e-mail, then a handle seen before) with a reminder
    to respond; queue it for a person when no customer matches. A repeated delivery changes nothing,
    also when two deliveries of one post arrive at once (crm.lib.once: the loser finds the winner's record)."""
    mention = replace(mention, handle=normalize_handle(mention.handle))
    if not mention.external_id:
        return _mention_store(mention=mention, received_from_id=received_from_id)
    outcome, repeat = record_once(
        find=lambda: _mention_stored(mention),
        create=lambda: _mention_store(mention=mention, received_from_id=received_from_id),
    )
    return replace(outcome, repeat=repeat)


def _mention_stored(mention: MentionInput) -> MentionOutcome | None:
    """What an earlier delivery of this post left: its interaction, or its place in the queue."""
    done = Interaction.objects.filter(source=InteractionSource.SOCIAL, external_ref=mention.external_ref).first()
    if done is not None:
        return MentionOutcome(interaction=done, reminder=done.reminders.first())
    waiting = UnmatchedMention.objects.filter(platform=mention.platform, external_id=mention.external_id).first()
    return MentionOutcome(queued=waiting) if waiting is not None else None


@transaction.atomic
def _mention_store(*, mention: MentionInput, received_from_id: int | None) -> MentionOutcome:
    customer = customer_by_contact(
        phone=mention.phone, email=mention.email, queryset=Customer.objects.all()
    ) or customer_by_handle(handle=mention.handle)
    if customer is not None:
        interaction, reminder = _mention_record(customer=customer, mention=mention, actor=None)
        return MentionOutcome(interaction=interaction, reminder=reminder)
    queued = UnmatchedMention(
        **asdict(mention) | {"posted_at": mention.posted_at or timezone.now()}, received_from_id=received_from_id
    )
    queued.full_clean()
    queued.save()
    return MentionOutcome(queued=queued)


@transaction.atomic
def mention_assign(*, mention: UnmatchedMention, customer: Customer, actor: AbstractBaseUser) -> Interaction:
    """A person says whose mention it is: it goes on that customer's timeline with a reminder to respond,
    and its handle will match that customer next time."""
    locked = UnmatchedMention.objects.select_for_update().get(pk=mention.pk)
    if locked.assigned_at is not None:
        raise ValidationError(_("This mention has already been assigned."))
    interaction, _reminder = _mention_record(
        customer=customer,
        mention=MentionInput.from_queued(locked),
        actor=actor,
    )
    locked.assigned_to, locked.assigned_by, locked.assigned_at = customer, actor, timezone.now()
    locked.save(update_fields=["assigned_to", "assigned_by", "assigned_at"])
    mention.assigned_to, mention.assigned_by, mention.assigned_at = customer, actor, locked.assigned_at
    return interaction


def _mention_record(
    *, customer: Customer, mention: MentionInput, actor: AbstractBaseUser | None
) -> tuple[Interaction, Reminder | None]:
    # Stored text: written in the site's language, not whatever the webhook request carried.
    with translation.override(settings.LANGUAGE_CODE):
        who = f"@{mention.handle}" if mention.handle else (mention.author_name or gettext("someone"))
        subject = gettext("Mention on %(platform)s by %(who)s") % {"platform": mention.platform, "who": who}
        task = gettext("Respond to the %(platform)s mention by %(who)s") % {"platform": mention.platform, "who": who}
    interaction = interaction_log(
        customer=customer,
        channel=InteractionChannel.SOCIAL,
        direction=Direction.INBOUND,
        subject=subject[:200],
        notes=mention.text,
        occurred_at=mention.posted_at,
        source=InteractionSource.SOCIAL,
        external_ref=mention.external_ref,
        external_handle=mention.handle,
        external_url=mention.url,
    )
    assignee = _mention_assignee(customer=customer, actor=actor)
    if assignee is None:
        return interaction, None
    reminder = reminder_create(
        customer=customer,
        assignee=assignee,
        due_at=timezone.now() + MENTION_RESPOND_WITHIN,
        text=task,
        source=ReminderSource.SOCIAL,
        interaction=interaction,
        created_by=actor,
    )
    return interaction, reminder


def _mention_assignee(*, customer: Customer, actor: AbstractBaseUser | None) -> AbstractBaseUser | None:
    """The customer's owner; else the CRM_MENTION_ASSIGNEE user; else whoever assigned the mention."""
    if customer.owner is not None and customer.owner.is_active:
        return customer.owner
    if settings.CRM_MENTION_ASSIGNEE:
        fallback = get_user_model().objects.filter(username=settings.CRM_MENTION_ASSIGNEE, is_active=True).first()
        if fallback is not None:
            return fallback
    return acting_user(actor)
