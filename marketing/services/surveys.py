"""A member's answer to a satisfaction survey link, recorded through interactions' services."""

from django.core.exceptions import ObjectDoesNotExist

from interactions import services as interactions
from interactions.models import Interaction, InteractionChannel, Transaction
from marketing.models import Automation, AutomationKind, Message, MessageStatus
from marketing.surveys import Score, Subject

# A row with one of these was never sent, so its member cannot hold the links.
NOT_SENT = [MessageStatus.HELD_OUT, MessageStatus.SKIPPED]


def survey_message(score: Score) -> Message | None:
    """The survey message the score's links came in: there is none for a token made for anything else (a
    preview, a test send), and then nothing is recorded."""
    automation = Automation.objects.filter(kind=AutomationKind.SURVEY).first()
    if automation is None:
        return None
    return (
        Message.objects.select_related("campaign")
        .filter(campaign_id=automation.campaign_id, customer_id=score.customer_id, occasion=score.occasion)
        .exclude(status__in=NOT_SENT)
        .first()
    )


def survey_answer(*, score: Score) -> Interaction:
    """Record the score on the contact the survey asked about, or for a purchase on a contact record of its
    own; raises ObjectDoesNotExist when the survey, or what it asked about, is not this member's."""
    message = survey_message(score)
    if message is None:
        raise ObjectDoesNotExist("No survey message for this score.")
    if score.subject == Subject.CONTACT:
        interaction = Interaction.objects.get(pk=score.object_id, customer_id=score.customer_id)
        return interactions.interaction_score(interaction=interaction, score=score.score)
    purchase = Transaction.objects.get(pk=score.object_id, customer_id=score.customer_id)
    # The survey came by e-mail or SMS, both contact channels too.
    channel = (
        InteractionChannel(message.campaign.channel)
        if message.campaign.channel in InteractionChannel.values
        else InteractionChannel.EMAIL
    )
    return interactions.purchase_score(purchase=purchase, score=score.score, channel=channel)
