import uuid
from decimal import Decimal

import factory
from django.utils import timezone

from customers.tests.factories import CategoryFactory, CustomerFactory, UserFactory
from interactions.models import (
    Channel,
    Direction,
    Interaction,
    InteractionChannel,
    Outcome,
    Product,
    Reminder,
    ReminderRule,
    ReminderRuleKind,
    Transaction,
    TransactionLine,
)


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ["sku"]

    sku = factory.Sequence(lambda n: f"SKU-{n:05d}")
    name = factory.Sequence(lambda n: f"Product {n}")
    category = factory.SubFactory(CategoryFactory)
    price = Decimal("99.00")


class TransactionFactory(factory.django.DjangoModelFactory):
    """Straight to the table: no points, flags or tiers. Use services.transaction_record for those."""

    class Meta:
        model = Transaction

    customer = factory.SubFactory(CustomerFactory)
    occurred_at = factory.LazyFunction(timezone.now)
    channel = Channel.STORE
    store = "西湖店"
    amount = Decimal("100.00")


class TransactionLineFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TransactionLine

    transaction = factory.SubFactory(TransactionFactory)
    product = factory.SubFactory(ProductFactory)
    description = factory.LazyAttribute(lambda line: line.product.name)
    quantity = 1
    unit_price = factory.LazyAttribute(lambda line: line.product.price)
    line_total = factory.LazyAttribute(lambda line: line.unit_price * line.quantity)


class InteractionFactory(factory.django.DjangoModelFactory):
    """Straight to the table: no follow-up reminder. Use services.interaction_log for that."""

    class Meta:
        model = Interaction

    customer = factory.SubFactory(CustomerFactory)
    channel = InteractionChannel.PHONE
    direction = Direction.INBOUND
    subject = factory.Sequence(lambda n: f"Call {n}")
    outcome = Outcome.RESOLVED
    occurred_at = factory.LazyFunction(timezone.now)


class ReminderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Reminder

    customer = factory.SubFactory(CustomerFactory)
    assignee = factory.SubFactory(UserFactory)
    due_at = factory.LazyFunction(timezone.now)
    text = factory.Sequence(lambda n: f"Call back {n}")


class ReminderRuleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ReminderRule

    name = factory.Sequence(lambda n: f"Rule {n}")
    kind = ReminderRuleKind.NO_CONTACT
    days = 30
    text = "Check in with this customer"


def behaviour_events(member, *events, client_id: int = 1) -> None:
    """Record shop behaviour for `member` through the service: each event a (kind, time, product or category)."""
    from interactions.services import EventInput, behaviour_record

    inputs = [
        EventInput(
            event_id=uuid.uuid4().hex,
            kind=kind,
            occurred_at=at,
            number=str(member.crm_number),
            sku=getattr(thing, "sku", ""),
            category=None if thing is None or hasattr(thing, "sku") else thing.pk,
        )
        for kind, at, thing in events
    ]
    outcomes = behaviour_record(client_id=client_id, events=inputs)
    assert {o.status for o in outcomes} == {"accepted"}, outcomes
