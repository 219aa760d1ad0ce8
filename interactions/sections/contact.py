"""What interactions and reminders add to the customer's page (registered from InteractionsConfig.ready())."""

from django.contrib.auth.models import AbstractBaseUser
from django.http import HttpRequest
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from customers.models import Customer
from customers.sections import Section, TimelineItem, TimelineWindow, register_sections, register_timeline
from interactions import selectors
from interactions.forms.contact import InteractionForm
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
    """The log form with the latest few interactions, and the customer's open reminders: two queries."""
    user = request.user
    if not user.has_perm("interactions.view_interaction"):
        return []
    recent = [_decorate(i) for i in selectors.interactions_for_customer(customer=customer)[: RECENT + 1]]
    sections = [
        Section(
            key="interactions",
            template="interactions/includes/interactions_section.html",
            column="main",
            order=5,
            data={
                "recent": recent[:RECENT],
                "more": len(recent) > RECENT,
                "form": InteractionForm(customer=customer) if user.has_perm("interactions.add_interaction") else None,
            },
        )
    ]
    reminders = list(selectors.reminders_for_customer(customer=customer)[:RECENT])
    if reminders:
        sections.append(
            Section(
                key="customer-reminders",
                template="interactions/includes/customer_reminders.html",
                column="side",
                order=5,
                data={"reminders": reminders},
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
