"""Erasure on request: the person's data goes from every app, totals stay, and it happens only when the CRM number
is typed, by a role allowed to, once."""

import json

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from hypothesis import given

from analytics.models import MemberRecommendation, MemberScore, ScoreHistory
from crm.lib import crm_number
from crm.models import AuditAction, AuditEvent
from customers import services
from customers.models import ConsentChannel, ConsentEvent, ConsentMethod, Customer, MergeRecord
from customers.personal import ERASED_NAME
from customers.services.erasure import customer_erase
from customers.tests.factories import CustomerFactory
from interactions.models import Interaction, PurchaseStats, Reminder, ReminderStatus, Transaction
from marketing.models import Coupon, Message, MessageStatus, Segment, SegmentMember, SkipReason
from marketing.selectors import segment_members
from marketing.services.sending import messages_prepare
from marketing.tests.sending_fixtures import make_campaign
from tests.hostile import hostile_text, rolled_back, table_counts
from tests.privacy import member_with_everything

pytestmark = pytest.mark.django_db


def erase(customer: Customer, actor=None) -> bool:
    return customer_erase(customer=customer, actor=actor, confirm_number=customer.crm_number, reason="asked by phone")


def everything_recorded(customer: Customer) -> str:
    """Every audit entry's details about the customer, as text."""
    return json.dumps([e.changes for e in AuditEvent.objects.filter(customer_id=customer.pk)], ensure_ascii=False)


def test_erasure_anonymises_the_person_in_every_app_and_keeps_the_totals(manager_user):
    member = member_with_everything("Lin")
    customer = member.customer
    stats_before = PurchaseStats.objects.values("orders", "lifetime_spend").get(customer=customer)
    points_before = customer.points_balance

    assert erase(customer, manager_user) is True

    customer.refresh_from_db()
    assert customer.is_erased and customer.name == ERASED_NAME
    assert (customer.mobile, customer.email, customer.address, customer.notes) == ("", "", "", "")
    assert (customer.birthday, customer.legacy_number, customer.occupation, customer.company) == (None, None, "", "")
    assert not customer.tags.exists()
    # Consent withdrawn on every channel, in the history too.
    assert not customer.email_opt_in and not customer.sms_opt_in
    erasures = ConsentEvent.objects.filter(customer=customer, method=ConsentMethod.ERASURE, granted=False)
    assert sorted(erasures.values_list("channel", flat=True)) == sorted(ConsentChannel.values)
    # Marketing stopped: the queued message will not go; the sent one loses the address it went to.
    member.queued.refresh_from_db()
    member.sent.refresh_from_db()
    assert (member.queued.status, member.queued.skip_reason) == (MessageStatus.SKIPPED, SkipReason.ERASED)
    assert member.sent.status == MessageStatus.SENT and member.sent.address == ""
    # Scores removed.
    assert not MemberScore.objects.filter(customer=customer).exists()
    assert not ScoreHistory.objects.filter(customer=customer).exists()
    assert not MemberRecommendation.objects.filter(customer=customer).exists()
    # Free text blanked, waiting follow-ups cancelled.
    contact = Interaction.objects.get(pk=member.contact.pk)
    assert "Lin" not in contact.subject + contact.notes + contact.external_handle
    reminder = Reminder.objects.get(pk=member.reminder.pk)
    assert reminder.status == ReminderStatus.CANCELLED and "Lin" not in reminder.text
    record = MergeRecord.objects.get(survivor=customer)
    assert "Lin" not in json.dumps(record.snapshot) + record.merged_name and record.snapshot["points_balance"] == 5
    # Totals stay: the purchase, its facts, the points and the coupon still belong to the member.
    assert Transaction.objects.get(pk=member.purchase.pk).customer_id == customer.pk
    assert PurchaseStats.objects.values("orders", "lifetime_spend").get(customer=customer) == stats_before
    assert customer.points_balance == points_before
    assert Coupon.objects.get(pk=member.coupon.pk).customer_id == customer.pk
    # Recorded with the names of what went, never the values.
    entry = AuditEvent.objects.get(customer_id=customer.pk, action=AuditAction.ERASE)
    assert entry.actor == manager_user and entry.changes["reason"] == "asked by phone"
    assert {"name", "mobile", "email", "birthday", "address", "notes", "legacy_number", "tags"} <= set(
        entry.changes["fields"]
    )
    assert "Lin" not in json.dumps(entry.changes)


def test_after_an_erasure_the_audit_trail_holds_no_clear_personal_value(manager_user):
    customer = CustomerFactory(name="欧阳娜娜", email="nana@example.com", mobile="+8613812345678")
    services.customer_update(
        customer=customer, actor=manager_user, name="欧阳娜", email="nana.oy@example.com", mobile="+8613887654321"
    )
    erase(customer, manager_user)
    recorded = everything_recorded(customer)
    for value in ("欧阳娜娜", "欧阳娜", "nana@example.com", "nana.oy@example.com", "13812345678", "13887654321"):
        assert value not in recorded


def test_a_wrong_number_erases_nothing(manager_user):
    member = member_with_everything("Zhou")
    customer = member.customer
    before, counts = Customer.objects.filter(pk=customer.pk).values().get(), table_counts()
    wrong = crm_number.with_check_digit(customer.crm_number // 10 + 1)
    for typed in (wrong, "", "not a number", str(customer.crm_number)[:-1]):
        with pytest.raises(ValidationError):
            customer_erase(customer=customer, actor=manager_user, confirm_number=typed, reason="asked")
    assert Customer.objects.filter(pk=customer.pk).values().get() == before and table_counts() == counts
    assert MemberScore.objects.filter(customer=customer).exists()


def test_a_second_erasure_is_a_no_op():
    customer = CustomerFactory()
    assert erase(customer) is True
    counts = table_counts()
    assert erase(customer) is False
    assert table_counts() == counts
    assert AuditEvent.objects.filter(customer_id=customer.pk, action=AuditAction.ERASE).count() == 1


def test_the_number_may_be_typed_with_separators():
    customer = CustomerFactory()
    typed = " " + crm_number.format_number(customer.crm_number) + " "
    assert customer_erase(customer=customer, actor=None, confirm_number=typed, reason="") is True


def test_an_erased_member_cannot_be_changed_merged_or_opted_in_again(manager_user):
    customer, other = CustomerFactory(), CustomerFactory()
    erase(customer)
    with pytest.raises(ValidationError):
        services.customer_update(customer=customer, actor=manager_user, name="Back again")
    with pytest.raises(ValidationError):
        services.merge.customer_merge(survivor=other, other=customer, actor=manager_user)
    assert (
        services.consent_set(customer=customer, channel=ConsentChannel.SMS, granted=True, method=ConsentMethod.FORM)
        is None
    )
    customer.refresh_from_db()
    assert customer.name == ERASED_NAME and not customer.sms_opt_in and Customer.objects.filter(pk=other.pk).exists()


def test_an_erased_member_is_in_no_segment_and_gets_no_new_message():
    kept, erased = CustomerFactory(email_opt_in=True), CustomerFactory(email_opt_in=True)
    campaign = make_campaign([kept, erased])
    everyone = Segment.objects.create(name="everyone")
    erase(erased)
    assert list(segment_members(campaign.segment)) == [kept]
    assert erased not in segment_members(everyone)
    assert not SegmentMember.objects.filter(customer=erased).exists()
    messages_prepare(campaign=campaign, customer_ids=[kept.pk, erased.pk], occasion="birthday:2027")
    assert set(Message.objects.filter(campaign=campaign).values_list("customer_id", flat=True)) == {kept.pk}


# The pages.


def erase_url(customer: Customer) -> str:
    return reverse("customers:erase", args=[customer.crm_number])


def test_a_manager_erases_from_the_customer_page_by_typing_the_number(manager_client):
    customer = CustomerFactory(name="待删除")
    page = manager_client.get(customer.get_absolute_url()).content.decode()
    assert erase_url(customer) in page
    assert manager_client.get(erase_url(customer)).status_code == 200
    response = manager_client.post(
        erase_url(customer), {"confirm_number": crm_number.format_number(customer.crm_number), "reason": "asked"}
    )
    assert response.status_code == 302 and response.url == customer.get_absolute_url()
    customer.refresh_from_db()
    assert customer.is_erased
    page = manager_client.get(customer.get_absolute_url()).content.decode()
    assert "待删除" not in page and "Erased member" in page and erase_url(customer) not in page
    again = manager_client.get(erase_url(customer), follow=True)
    assert "already been erased" in again.content.decode()


def test_a_wrong_number_on_the_page_is_refused_with_a_message(manager_client):
    customer = CustomerFactory(name="留下")
    counts = table_counts()
    response = manager_client.post(erase_url(customer), {"confirm_number": "12345678", "reason": "asked"})
    assert response.status_code == 400 and "does not match" in response.content.decode()
    customer.refresh_from_db()
    assert customer.name == "留下" and not customer.is_erased and table_counts() == counts


@pytest.mark.parametrize("who", ["service_client", "sales_client", "marketing_client"])
def test_roles_without_the_permission_cannot_erase(who, request, sales_user):
    client = request.getfixturevalue(who)
    customer = CustomerFactory(owner=sales_user)
    counts = table_counts()
    assert client.get(erase_url(customer)).status_code in (403, 404)
    response = client.post(erase_url(customer), {"confirm_number": customer.crm_number, "reason": "x"})
    assert response.status_code in (403, 404)
    customer.refresh_from_db()
    assert not customer.is_erased and table_counts() == counts


def test_the_erase_button_is_only_shown_to_those_who_may(service_client, manager_client):
    customer = CustomerFactory()
    assert erase_url(customer) not in service_client.get(customer.get_absolute_url()).content.decode()
    assert erase_url(customer) in manager_client.get(customer.get_absolute_url()).content.decode()


def test_erase_answers_get_and_post_only(manager_client):
    customer = CustomerFactory()
    assert manager_client.put(erase_url(customer)).status_code == 405


@given(number=hostile_text, reason=hostile_text)
def test_hostile_confirmations_never_fail_and_erase_nothing(manager_client, number, reason):
    with rolled_back():
        customer = CustomerFactory()
        counts = table_counts()
        response = manager_client.post(erase_url(customer), {"confirm_number": number, "reason": reason})
        assert response.status_code in (302, 400)
        customer.refresh_from_db()
        try:
            typed_right = crm_number.parse(number) == customer.crm_number
        except crm_number.InvalidCrmNumber:
            typed_right = False
        if not (typed_right and reason.strip()):
            assert not customer.is_erased and table_counts() == counts


def test_a_bulk_tag_passes_an_erased_record_by(manager_client):
    kept, erased = CustomerFactory(city="杭州市"), CustomerFactory(city="杭州市")
    erase(erased)
    manager_client.post(
        reverse("customers:bulk"),
        {"action": "tag_add", "scope": "selected", "ids": [kept.pk, erased.pk], "tag": "VIP", "query": ""},
    )
    assert list(kept.tags.values_list("name", flat=True)) == ["VIP"] and not erased.tags.exists()


def test_erased_records_leave_the_list_except_for_those_who_may_erase(manager_client, service_client):
    kept, erased = CustomerFactory(name="保留"), CustomerFactory(name="抹去")
    erase(erased)
    listed = service_client.get(reverse("customers:list")).content.decode()
    assert kept.get_absolute_url() in listed and erased.get_absolute_url() not in listed
    assert erased.get_absolute_url() in manager_client.get(reverse("customers:list")).content.decode()
    # Its number still opens it, for a refund at the desk.
    assert service_client.get(erased.get_absolute_url()).status_code == 200
