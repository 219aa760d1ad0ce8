import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from customers import services
from customers.models import AuditAction, AuditEvent, ConsentChannel, ConsentMethod, Customer, MergeRecord
from customers.services.membership import points_adjust
from customers.services.merge import customer_duplicate_candidates, customer_merge, duplicate_groups
from customers.tests.factories import CustomerFactory, TagFactory, TierFactory

pytestmark = pytest.mark.django_db
BIRTHDAY = datetime.date(1988, 8, 8)


@pytest.fixture
def pair(service_user):
    survivor = CustomerFactory(name="王小明", birthday=BIRTHDAY, email="", tags=[TagFactory(name="VIP")])
    other = CustomerFactory(
        name="王小明",
        birthday=BIRTHDAY,
        mobile="+8613700000001",
        email="xm@example.com",
        city="南京市",
        tier=TierFactory(name="金卡", rank=5),
        tags=[TagFactory(name="母婴")],
    )
    return survivor, other


def test_merge_moves_points_tags_consent_and_fills_blanks(pair, service_user):
    survivor, other = pair
    points_adjust(customer=other, points=120, reason="迁移积分", actor=service_user)
    points_adjust(customer=survivor, points=30, reason="迁移积分", actor=service_user)
    services.consent_set(customer=other, channel=ConsentChannel.SMS, granted=True, method=ConsentMethod.PAPER)
    other_number = other.crm_number

    customer_merge(survivor=survivor, other=other, actor=service_user)

    survivor.refresh_from_db()
    assert not Customer.objects.filter(crm_number=other_number).exists()
    assert survivor.points_balance == 150
    assert survivor.points_entries.count() == 3
    assert survivor.points_entries.first().balance_after == 150  # the merge's own row states the new balance
    change = survivor.tier_changes.get()
    assert (change.from_tier, change.to_tier.name) == (None, "金卡")
    assert sorted(t.name for t in survivor.tags.all()) == ["VIP", "母婴"]
    assert survivor.email == "xm@example.com" and survivor.tier.name == "金卡"
    assert survivor.mobile != "+8613700000001"  # the survivor's own phone is kept
    assert survivor.sms_opt_in and survivor.consent_events.filter(channel=ConsentChannel.SMS).exists()
    assert MergeRecord.objects.get(merged_crm_number=other_number).survivor == survivor
    merge = AuditEvent.objects.get(customer=survivor, action=AuditAction.MERGE)
    # As an edit would be: before and after of each field the survivor took over.
    assert merge.changes["email"] == ["", "xm@example.com"] and merge.changes["sms_opt_in"] == [False, True]
    assert merge.changes["tier"] == [None, "金卡"] and merge.changes["merged"] == other_number


def test_the_merged_number_keeps_leading_to_the_survivor(pair, service_user, service_client):
    survivor, other = pair
    number = other.crm_number
    customer_merge(survivor=survivor, other=other, actor=service_user)
    assert service_client.get(reverse("customers:lookup"), {"q": str(number)}).url == survivor.get_absolute_url()
    assert service_client.get(reverse("customers:detail", args=[number])).url == survivor.get_absolute_url()


def test_merging_twice_chains_to_the_last_survivor(service_user):
    a, b, c = CustomerFactory.create_batch(3)
    first = b.crm_number
    customer_merge(survivor=b, other=a, actor=service_user)
    customer_merge(survivor=c, other=b, actor=service_user)
    assert MergeRecord.objects.get(merged_crm_number=a.crm_number).survivor == c
    assert MergeRecord.objects.get(merged_crm_number=first).survivor == c


def test_a_customer_cannot_be_merged_with_itself(service_user):
    customer = CustomerFactory()
    with pytest.raises(ValidationError):
        customer_merge(survivor=customer, other=customer, actor=service_user)


def test_likely_duplicates_share_name_and_birthday(pair):
    survivor, other = pair
    CustomerFactory(name="李雷", birthday=BIRTHDAY)
    assert customer_duplicate_candidates(survivor, queryset=Customer.objects.all()) == [other]
    groups = list(duplicate_groups(queryset=Customer.objects.all()))
    assert groups == [{"lname": "王小明", "birthday": BIRTHDAY, "n": 2}]


def test_manager_merges_from_the_compare_page(pair, manager_client):
    survivor, other = pair
    url = reverse("customers:merge")
    page = manager_client.get(url, {"a": survivor.crm_number, "b": other.crm_number})
    assert page.status_code == 200 and "南京市" in page.content.decode()
    response = manager_client.post(url, {"a": survivor.crm_number, "b": other.crm_number, "keep": survivor.crm_number})
    assert response.url == survivor.get_absolute_url()
    assert Customer.objects.count() == 1


def test_duplicates_page_lists_the_pair(pair, manager_client):
    body = manager_client.get(reverse("customers:duplicates")).content.decode()
    assert body.count("王小明") == 2 and "Compare and merge" in body


def test_merge_without_choosing_keeps_both(pair, manager_client):
    survivor, other = pair
    response = manager_client.post(reverse("customers:merge"), {"a": survivor.crm_number, "b": other.crm_number})
    assert response.status_code == 200 and Customer.objects.count() == 2


def test_merge_with_bad_numbers_is_a_400(manager_client):
    assert manager_client.get(reverse("customers:merge"), {"a": "x"}).status_code == 400


def test_service_staff_may_not_merge(pair, service_client):
    survivor, other = pair
    url = reverse("customers:merge")
    assert (
        service_client.post(
            url, {"a": survivor.crm_number, "b": other.crm_number, "keep": survivor.crm_number}
        ).status_code
        == 403
    )
    assert service_client.get(reverse("customers:duplicates")).status_code == 403


def test_a_merge_fills_every_blank_profile_field_the_form_shows(service_user):
    from customers.forms.customers import CustomerForm
    from customers.models import PROFILE_FIELDS

    blanks = {"gender": "", "birthday": None, "mobile": "", "email": "", "province": "", "city": "", "address": ""}
    survivor = CustomerFactory(name="李娜", **blanks)
    other = CustomerFactory(
        name="李娜",
        gender="female",
        birthday=BIRTHDAY,
        mobile="+8613700000009",
        email="lina@example.com",
        occupation="教师",
        company="杭州一中",
        province="浙江省",
        city="杭州市",
        address="西湖路1号",
    )
    given = {f: getattr(other, f) for f in PROFILE_FIELDS}
    customer_merge(survivor=survivor, other=other, actor=service_user)
    survivor.refresh_from_db()
    assert {f: getattr(survivor, f) for f in PROFILE_FIELDS} == given
    assert set(PROFILE_FIELDS) <= set(CustomerForm._meta.fields)
