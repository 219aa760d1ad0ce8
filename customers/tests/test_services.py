import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from crm.lib import crm_number
from crm.models import AuditAction, AuditEvent
from customers import services
from customers.models import ConsentChannel, ConsentEvent, ConsentMethod, Customer
from customers.tests.factories import CustomerFactory, TagFactory

pytestmark = pytest.mark.django_db


def test_customer_create_issues_a_valid_crm_number_and_normalises_contacts(service_user):
    customer = services.customer_create(
        actor=service_user, name="王芳", mobile="139 0000 1111", email="Wang.Fang@Example.COM"
    )
    assert crm_number.is_valid(str(customer.crm_number))
    assert customer.mobile == "+8613900001111"
    assert customer.email == "wang.fang@example.com"
    assert AuditEvent.objects.filter(customer_id=customer.pk, action=AuditAction.CREATE, actor=service_user).exists()


def test_customer_create_with_duplicate_phone_is_refused_naming_the_existing_customer(service_user):
    existing = CustomerFactory(mobile="+8613900001111")
    with pytest.raises(ValidationError) as exc:
        services.customer_create(actor=service_user, name="另一个人", mobile="13900001111")
    assert existing.crm_number_display in exc.value.message_dict["mobile"][0]


def test_customer_create_with_duplicate_email_in_other_case_is_refused(service_user):
    CustomerFactory(email="li@example.com")
    with pytest.raises(ValidationError) as exc:
        services.customer_create(actor=service_user, name="李", email="LI@example.com")
    assert "email" in exc.value.message_dict


def test_birthday_in_the_future_is_refused(service_user):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    with pytest.raises(ValidationError) as exc:
        services.customer_create(actor=service_user, name="未来", birthday=tomorrow)
    assert "birthday" in exc.value.message_dict


def test_legacy_number_must_be_unique_when_present(service_user):
    services.customer_create(actor=service_user, name="A", legacy_number="VIP-001")
    services.customer_create(actor=service_user, name="B", legacy_number="")
    services.customer_create(actor=service_user, name="C", legacy_number="")
    with pytest.raises(ValidationError) as exc:
        services.customer_create(actor=service_user, name="D", legacy_number="VIP-001")
    assert "legacy_number" in exc.value.message_dict


def test_consent_given_at_creation_is_recorded_with_how(service_user):
    customer = services.customer_create(
        actor=service_user, name="赵", email="z@example.com", email_opt_in=True, consent_method=ConsentMethod.PAPER
    )
    event = ConsentEvent.objects.get(customer=customer)
    assert (event.channel, event.granted, event.method, event.recorded_by) == (
        ConsentChannel.EMAIL,
        True,
        ConsentMethod.PAPER,
        service_user,
    )


def test_withdrawing_consent_on_update_adds_to_history_and_audit(service_user):
    customer = services.customer_create(actor=service_user, name="钱", sms_opt_in=True)
    services.customer_update(customer=customer, actor=service_user, sms_opt_in=False, city="上海市")
    history = list(customer.consent_events.order_by("at", "id").values_list("channel", "granted"))
    assert history == [(ConsentChannel.SMS, True), (ConsentChannel.SMS, False)]
    update = AuditEvent.objects.get(customer_id=customer.pk, action=AuditAction.UPDATE)
    assert update.changes["sms_opt_in"] == [True, False]
    assert update.changes["city"][1] == "上海市"


def test_update_that_changes_nothing_writes_no_audit(service_user):
    customer = services.customer_create(actor=service_user, name="孙", city="北京市")
    services.customer_update(customer=customer, actor=service_user, city="北京市")
    assert not AuditEvent.objects.filter(customer_id=customer.pk, action=AuditAction.UPDATE).exists()


def test_tag_changes_are_audited(service_user):
    customer = services.customer_create(actor=service_user, name="周")
    vip = TagFactory(name="VIP")
    services.customer_update(customer=customer, actor=service_user, tags=[vip])
    assert list(customer.tags.all()) == [vip]
    assert AuditEvent.objects.get(customer_id=customer.pk, action=AuditAction.UPDATE).changes["tags"] == [[], ["VIP"]]


def test_consent_set_twice_records_once(service_user):
    customer = CustomerFactory()
    first = services.consent_set(
        customer=customer, channel=ConsentChannel.EMAIL, granted=True, method=ConsentMethod.API
    )
    again = services.consent_set(
        customer=customer, channel=ConsentChannel.EMAIL, granted=True, method=ConsentMethod.API
    )
    assert first is not None and again is None
    customer.refresh_from_db()
    assert customer.email_opt_in is True
    assert customer.consent_events.count() == 1


def test_a_member_whose_stored_birthday_now_fails_validation_can_still_withdraw_consent():
    customer = CustomerFactory(sms_opt_in=True)
    Customer.objects.filter(pk=customer.pk).update(birthday=datetime.date.today() + datetime.timedelta(days=30))
    event = services.consent_set(
        customer=customer, channel=ConsentChannel.SMS, granted=False, method=ConsentMethod.UNSUBSCRIBE
    )
    customer.refresh_from_db()
    assert customer.sms_opt_in is False and event.granted is False
    assert AuditEvent.objects.get(customer_id=customer.pk, action=AuditAction.CONSENT).changes == {
        "sms_opt_in": [True, False]
    }
