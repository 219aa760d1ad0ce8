"""A member with something in every app (a purchase with a line, a contact and a follow-up, a queued and a sent
message, a coupon, scores and a recommendation, consent given, a merged-in record), for the data-subject request
tests: what an export must hold and an erasure must settle."""

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.utils import timezone

from analytics.models import MemberRecommendation, MemberScore, RfmSegment, ScoreHistory, ScoringRun
from customers import services
from customers.models import ConsentChannel, ConsentMethod, Customer, MergeRecord
from customers.tests.factories import CustomerFactory, TagFactory
from interactions.models import Interaction, Reminder, Transaction
from interactions.services import LineInput, transaction_record
from interactions.tests.factories import InteractionFactory, ProductFactory, ReminderFactory
from marketing.models import Campaign, Coupon, CouponOffer, DiscountKind, Message, MessageStatus, Segment
from marketing.services import coupon_issue


@dataclass
class Member:
    customer: Customer
    purchase: Transaction
    contact: Interaction
    reminder: Reminder
    queued: Message
    sent: Message
    coupon: Coupon
    score: MemberScore


def scoring_run() -> ScoringRun:
    return ScoringRun.objects.filter(status="done").first() or ScoringRun.objects.create(
        as_of=timezone.now(), status="done"
    )


def member_with_everything(tag: str) -> Member:
    """Every personal value carries `tag`, so a test can look for it anywhere."""
    customer = CustomerFactory(
        name=f"{tag}名",
        address=f"{tag} Road 1",
        notes=f"{tag} likes tea",
        legacy_number=f"{tag}-OLD",
        occupation=f"{tag} teacher",
        company=f"{tag} Ltd",
        tags=[TagFactory(name=f"{tag}-tag")],
    )
    services.consent_set(customer=customer, channel=ConsentChannel.EMAIL, granted=True, method=ConsentMethod.PAPER)
    services.consent_set(customer=customer, channel=ConsentChannel.SMS, granted=True, method=ConsentMethod.VERBAL)
    product = ProductFactory(name=f"{tag} teapot", price=Decimal("88.00"))
    purchase = transaction_record(customer=customer, amount=Decimal("88.00"), lines=[LineInput(product=product)])
    contact = InteractionFactory(
        customer=customer, subject=f"{tag} called", notes=f"{tag} lives at the lake", external_handle=f"@{tag}"
    )
    reminder = ReminderFactory(customer=customer, text=f"Call {tag} back")
    offer = CouponOffer.objects.create(name=f"{tag} offer", kind=DiscountKind.AMOUNT, value=Decimal("10"))
    coupon = coupon_issue(offer=offer, customer=customer, actor=None)
    campaign = Campaign.objects.create(name=f"{tag} campaign", segment=Segment.objects.create(name=f"{tag} segment"))
    queued = Message.objects.create(campaign=campaign, customer=customer, status=MessageStatus.QUEUED)
    sent = Message.objects.create(
        campaign=campaign,
        customer=customer,
        occasion="earlier",
        status=MessageStatus.SENT,
        address=customer.email,
        sent_at=timezone.now() - datetime.timedelta(days=2),
    )
    run = scoring_run()
    score = MemberScore.objects.create(
        customer=customer, run=run, scored_at=timezone.now(), segment=RfmSegment.LOYAL, churn_probability=0.25
    )
    ScoreHistory.objects.create(customer=customer, run=run, segment=RfmSegment.LOYAL)
    MemberRecommendation.objects.create(customer=customer, rank=1, product=product, run=run)
    MergeRecord.objects.create(
        survivor=customer,
        merged_crm_number=customer.crm_number + 1_000_000_000,
        merged_name=f"{tag} twin",
        snapshot={"name": f"{tag} twin", "mobile": "+8613911112222", "points_balance": 5},
    )
    return Member(customer, purchase, contact, reminder, queued, sent, coupon, score)
