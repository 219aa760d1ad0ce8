"""What interactions and reminders add to the customer's page (registered from InteractionsConfig.ready())."""

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.models import Customer
from customers.sections import (
    Section,
    TimelineItem,
    TimelineWindow,
    quick_action,
    register_sections,
    register_timeline,
)
from interactions import selectors
from interactions.models import Interaction, InteractionChannel

RECENT = 5

CHANNEL_ICONS = {
    InteractionChannel.PHONE: "telephone",
    InteractionChannel.EMAIL: "envelope",
    InteractionChannel.CHAT: "chat-dots",
    InteractionChannel.VISIT: "shop",
    InteractionChannel.EVENT: "calendar-event",
    InteractionChannel.SMS: "phone",
    InteractionChannel.SOCIAL: "megaphone",
}


def _decorate(interaction: Interaction) -> Interaction:
    interaction.icon = CHANNEL_ICONS.get(interaction.channel, "chat")
    interaction.stars = "★" * (interaction.satisfaction or 0)
    return interaction


def interaction_sections(request: HttpRequest, customer: Customer) -> list[Section]:
    """The latest few interactions as a tab (one query, when shown), the customer's open reminders beside
    (one query), and the button that opens the log form."""
    user = request.user
    if not user.has_perm("interactions.view_interaction"):
        return []

    def load() -> dict:
        recent = [_decorate(i) for i in selectors.interactions_for_customer(customer=customer)[: RECENT + 1]]
        return {"recent": recent[:RECENT], "more": len(recent) > RECENT}

    sections = [
        Section(
            key="interactions",
            template="interactions/includes/interactions_section.html",
            column="main",
            order=20,
            label=gettext_lazy("Interactions"),
            load=load,
        )
    ]
    if user.has_perm("interactions.add_interaction"):
        sections.append(
            quick_action(
                key="log-contact",
                label=_("Log interaction"),
                url=reverse("interactions:interaction_log", args=[customer.crm_number]),
                icon="telephone-plus",
                order=10,
            )
        )
    sections.append(
        Section(
            key="customer-reminders",
            template="interactions/includes/customer_reminders.html",  # shows nothing when there are none
            column="side",
            order=5,
            load=lambda: {"reminders": list(selectors.reminders_for_customer(customer=customer)[:RECENT])},
        )
    )
    return sections


def interaction_timeline(user: AbstractBaseUser, customer: Customer, window: TimelineWindow) -> list[TimelineItem]:
    if not user.has_perm("interactions.view_interaction"):
        return []
    items = []
    for interaction in window.apply(selectors.interactions_for_customer(customer=customer), at="occurred_at"):
        detail = [interaction.get_direction_display()]
        if interaction.outcome:
            detail.append(interaction.get_outcome_display())
        if interaction.satisfaction:
            detail.append("★" * interaction.satisfaction)
        if interaction.staff:
            detail.append(interaction.staff.get_username())
        items.append(
            TimelineItem(
                at=interaction.occurred_at,
                icon=CHANNEL_ICONS.get(interaction.channel, "chat"),
                title=_("%(channel)s: %(subject)s")
                % {"channel": interaction.get_channel_display(), "subject": interaction.subject},
                detail=" · ".join(detail),
                kind=window.kind,
                pk=interaction.pk,
            )
        )
    return items


def register() -> None:
    register_sections("interactions", interaction_sections)
    register_timeline("interactions", interaction_timeline, label=gettext_lazy("Interactions"))
