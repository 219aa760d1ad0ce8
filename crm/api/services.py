"""Writes of the API's own tables (integrations and their tokens, the mention queue), and social mentions."""

import datetime
import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, replace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from crm.api.models import ApiClient, Scope, UnmatchedMention
from crm.api.selectors import customer_by_contact, customer_by_handle
from customers.models import Customer
from interactions.models import Direction, Interaction, InteractionChannel, InteractionSource, Reminder, ReminderSource
from interactions.services import interaction_log, reminder_create

TOKEN_PREFIX = "crm_"  # noqa: S105 -- marks our tokens (secret scanners, logs); not a secret
# last_used_at is for spotting dead integrations, not an access log: one write a minute is enough.
TOUCH_EVERY = datetime.timedelta(minutes=1)
# A public complaint left unanswered for a day does damage: the owner is reminded to respond within hours.
MENTION_RESPOND_WITHIN = datetime.timedelta(hours=4)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def api_client_create(
    *, name: str, scopes: Iterable[Scope], actor: AbstractBaseUser | None = None
) -> tuple[ApiClient, str]:
    """Create an integration; returns it with its token, which is shown this once and never stored."""
    client = ApiClient(name=name, scopes=sorted({Scope(s).value for s in scopes}))
    client.created_by = actor if actor is not None and actor.is_authenticated else None
    token = _set_new_token(client)
    client.full_clean()
    client.save()
    return client, token


@transaction.atomic
def api_client_rotate(*, client: ApiClient) -> str:
    """Give the integration a new token (the old one stops working) and re-activate it."""
    token = _set_new_token(client)
    client.active = True
    client.full_clean()
    client.save(update_fields=["token_prefix", "token_hash", "active"])
    return token


@transaction.atomic
def api_client_update(*, client: ApiClient, name: str, scopes: Iterable[Scope], active: bool) -> ApiClient:
    client.name, client.scopes, client.active = name, sorted({Scope(s).value for s in scopes}), active
    client.full_clean()
    client.save(update_fields=["name", "scopes", "active"])
    return client


def api_client_revoke(*, client: ApiClient) -> None:
    client.active = False
    client.save(update_fields=["active"])


def api_client_for_token(*, token: str) -> ApiClient | None:
    if not token.startswith(TOKEN_PREFIX):
        return None
    return ApiClient.objects.filter(token_hash=token_hash(token)).first()


def api_client_touch(*, client: ApiClient, now: datetime.datetime | None = None) -> None:
    now = now or timezone.now()
    if client.last_used_at is None or client.last_used_at < now - TOUCH_EVERY:
        ApiClient.objects.filter(pk=client.pk).update(last_used_at=now)
        client.last_used_at = now


def _set_new_token(client: ApiClient) -> str:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client.token_prefix = token[:12]
    client.token_hash = token_hash(token)
    return token


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


@transaction.atomic
def mention_receive(*, mention: MentionInput, client: ApiClient | None = None) -> MentionOutcome:
    """Record a mention on the customer it names (phone, e-mail, then a handle seen before) with a reminder
    to respond; queue it for a person when no customer matches. A repeated delivery changes nothing."""
    mention = replace(mention, handle=normalize_handle(mention.handle))
    if mention.external_ref and (
        done := Interaction.objects.filter(source=InteractionSource.SOCIAL, external_ref=mention.external_ref).first()
    ):
        return MentionOutcome(interaction=done, reminder=done.reminders.first(), repeat=True)
    if mention.external_id and (
        waiting := UnmatchedMention.objects.filter(platform=mention.platform, external_id=mention.external_id).first()
    ):
        return MentionOutcome(queued=waiting, repeat=True)
    customer = customer_by_contact(phone=mention.phone, email=mention.email) or customer_by_handle(
        handle=mention.handle
    )
    if customer is not None:
        interaction, reminder = _mention_record(customer=customer, mention=mention, actor=None)
        return MentionOutcome(interaction=interaction, reminder=reminder)
    queued = UnmatchedMention(
        platform=mention.platform,
        handle=mention.handle,
        author_name=mention.author_name,
        phone=mention.phone,
        email=mention.email,
        text=mention.text,
        url=mention.url,
        external_id=mention.external_id,
        posted_at=mention.posted_at or timezone.now(),
        received_from=client,
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
        mention=MentionInput(
            platform=locked.platform,
            text=locked.text,
            handle=locked.handle,
            author_name=locked.author_name,
            url=locked.url,
            external_id=locked.external_id,
            posted_at=locked.posted_at,
        ),
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
    return actor if actor is not None and actor.is_authenticated else None
