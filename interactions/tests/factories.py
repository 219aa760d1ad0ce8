from decimal import Decimal

import factory
from django.utils import timezone

from customers.tests.factories import CategoryFactory, CustomerFactory
from interactions.models import Channel, Product, Transaction, TransactionLine


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
