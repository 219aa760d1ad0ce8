"""A member's satisfaction score from a survey link: on the contact it asked about, or for a purchase on a new
contact record, so the low-satisfaction reminder rule (interactions.services.followups) sees it as it sees a
score staff typed."""

from django.db.transaction import atomic
from django.utils import timezone
from django.utils.translation import gettext

from interactions.models import Direction, Interaction, InteractionChannel, InteractionSource, Transaction


@atomic
def interaction_score(*, interaction: Interaction, score: int) -> Interaction:
    """Record the member's score on a contact; a second answer replaces the first (the latest is meant)."""
    locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
    locked.satisfaction = score
    locked.full_clean()
    locked.save(update_fields=["satisfaction"])
    interaction.satisfaction = score
    return locked


@atomic
def purchase_score(*, purchase: Transaction, score: int, channel: InteractionChannel) -> Interaction:
    """Record the member's score for a purchase as one contact record per purchase (found again by its
    reference, so a second answer replaces the first instead of adding a record)."""
    reference = f"purchase:{purchase.pk}"
    # Lock the purchase, so two answers at once cannot both find no record and both create one.
    Transaction.objects.select_for_update().filter(pk=purchase.pk).first()
    found = Interaction.objects.filter(source=InteractionSource.SURVEY, external_ref=reference).first()
    if found is not None:
        return interaction_score(interaction=found, score=score)
    interaction = Interaction(
        customer_id=purchase.customer_id,
        channel=channel,
        direction=Direction.INBOUND,
        subject=(gettext("Satisfaction with purchase #%(id)s") % {"id": purchase.pk})[:200],
        occurred_at=timezone.now(),
        satisfaction=score,
        source=InteractionSource.SURVEY,
        external_ref=reference,
    )
    interaction.full_clean()
    interaction.save()
    return interaction
