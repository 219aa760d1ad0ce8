import pytest

from customers.services.merge import customer_merge
from customers.tests.factories import CustomerFactory
from marketing.models import Campaign, Message, MessageStatus, Segment

pytestmark = pytest.mark.django_db


def test_merging_two_members_who_got_the_same_campaign_keeps_both_messages(service_user):
    segment = Segment.objects.create(name="全体")
    spring, autumn = (Campaign.objects.create(name=name, segment=segment) for name in ("春", "秋"))
    survivor, other = CustomerFactory(), CustomerFactory()
    Message.objects.create(campaign=spring, customer=survivor, status=MessageStatus.SENT)
    Message.objects.create(campaign=spring, customer=other, status=MessageStatus.SENT)
    Message.objects.create(campaign=autumn, customer=other, status=MessageStatus.SENT)
    number = other.crm_number

    customer_merge(survivor=survivor, other=other, actor=service_user)

    assert sorted(Message.objects.filter(customer=survivor).values_list("campaign__name", "occasion")) == [
        ("春", ""),
        ("春", f":merged:{number}"),
        ("秋", ""),
    ]
