"""What an erasure of a member's personal data does to marketing (customers.services.erasure)."""

from customers.models import Customer
from marketing.models import Message, MessageStatus, SegmentMember, SkipReason


def marketing_settle_erasure(*, customer: Customer, **kwargs: object) -> None:
    """In customer_erase's transaction: nothing more goes out to the member (their queued rows are skipped; a row
    a worker holds right now meets the guardrails again with consent withdrawn), the addresses frozen on their
    messages go, and static lists drop them. Sent and held-out rows, coupons and reward exchanges stay as they
    were, so every campaign's and offer's results still add up; the sending engine never writes them a new row
    (marketing.services.sending.freeze)."""
    Message.objects.filter(customer=customer, status=MessageStatus.QUEUED).update(
        status=MessageStatus.SKIPPED, skip_reason=SkipReason.ERASED
    )
    Message.objects.filter(customer=customer).exclude(address="", error="").update(address="", error="")
    SegmentMember.objects.filter(customer=customer).delete()
