"""Personal fields: masked for every role on every surface, revealed one at a time by a recorded click."""

import datetime
import re

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from crm.lib.masking import mask_birthday, mask_id
from crm.models import AuditAction, AuditEvent, Job
from crm.roles import Role
from crm.segment_fields import segment_fields
from customers.models import Customer, IdType
from customers.personal import MASKED_FIELDS
from customers.tests.factories import CustomerFactory
from customers.tests.test_export import download_rows, run_export
from marketing.models import MessageStatus
from marketing.tests.tracking_helpers import make_campaign, make_message
from tests.hostile import hostile_text

pytestmark = pytest.mark.django_db

RESIDENT_ID = "11010519491231002X"  # the standard's own example, check character X
MOBILE, EMAIL = "+8613812345678", "wang.fang@example.com"
CLEAR = ["138 1234 5678", "13812345678", EMAIL, "1990-05-12", "12 May 1990", "May 12, 1990", "人民路 8 号", RESIDENT_ID]


@pytest.fixture
def member(sales_user):
    member = CustomerFactory(
        mobile=MOBILE,
        email=EMAIL,
        birthday=datetime.date(1990, 5, 12),
        province="广东省",
        city="深圳市",
        address="人民路 8 号",
        owner=sales_user,
    )
    Customer.objects.filter(pk=member.pk).update(id_type=IdType.RESIDENT_ID)
    member.id_type, member.id_number = IdType.RESIDENT_ID, RESIDENT_ID
    member.save()
    return member


def reveal(client, member, field, **extra):
    return client.post(reverse("customers:reveal", args=[member.crm_number]), {"field": field}, **extra)


def reveals():
    return list(AuditEvent.objects.filter(action=AuditAction.REVEAL).values_list("actor__username", "changes"))


def assert_nothing_clear(page: str) -> None:
    for value in CLEAR:
        assert value not in page, value


def test_the_masks():
    assert mask_birthday(datetime.date(1990, 5, 12)) == "****-05-12"
    assert mask_id(RESIDENT_ID) == "1101**********002X"
    assert mask_id("E12345678") == "E******78"
    assert mask_id("") == mask_birthday(None) == ""


def test_the_page_masks_every_field_for_a_role_without_the_permission(marketing_client, member):
    page = marketing_client.get(member.get_absolute_url()).content.decode()
    assert_nothing_clear(page)
    for masked in ("+86138****5678", "w***@example.com", "****-05-12", "1101**********002X", "广东省 深圳市"):
        assert masked in page, masked
    assert "reveal-button" not in page


def test_the_page_masks_every_field_for_a_role_with_it_too_with_a_show_button_each(sales_client, member):
    page = sales_client.get(member.get_absolute_url()).content.decode()
    assert_nothing_clear(page)
    shown = set(re.findall(r'data-field="(\w+)"><span class="personal-value">[^<]*</span> <button', page))
    assert shown == set(MASKED_FIELDS)


def test_show_reveals_one_field_clickable_and_records_which_never_the_value(sales_client, sales_user, member):
    response = reveal(sales_client, member, "mobile", HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    body = response.content.decode()
    assert f'href="tel:{MOBILE}"' in body and "138 1234 5678" in body
    assert reveals() == [("sales", {"field": "mobile"})]
    event = AuditEvent.objects.get(action=AuditAction.REVEAL)
    assert event.customer_id == member.pk and "5678" not in str(event.changes)
    body = reveal(sales_client, member, "id_number").content.decode()
    assert RESIDENT_ID in body and len(reveals()) == 2


@pytest.mark.parametrize("role", [Role.MARKETING])
def test_a_role_without_the_permission_gets_403_and_nothing_is_recorded(make_user, login_as, member, role):
    client = login_as(make_user(role, username="m2"))
    for field in MASKED_FIELDS:
        response = reveal(client, member, field)
        assert response.status_code == 403 and MOBILE not in response.content.decode()
    assert reveals() == []


def test_another_owners_member_is_not_found_and_a_get_is_refused(other_sales_user, login_as, sales_client, member):
    assert reveal(login_as(other_sales_user), member, "mobile").status_code == 404
    assert sales_client.get(reverse("customers:reveal", args=[member.crm_number])).status_code == 405
    assert reveal(sales_client, member, "name").status_code == 400
    assert reveals() == []


@given(number=st.one_of(st.integers(min_value=0, max_value=10**20), st.just(0)), field=hostile_text)
def test_hostile_reveal_parameters_never_500_and_record_only_a_real_reveal(service_client, member, number, field):
    before = AuditEvent.objects.count()
    number = number or member.crm_number
    response = service_client.post(f"/customers/{number}/reveal/", {"field": field})
    assert response.status_code in (200, 400, 404)
    recorded = AuditEvent.objects.count() - before
    assert recorded == (1 if response.status_code == 200 else 0)
    assert response.status_code != 200 or field in MASKED_FIELDS


def test_lists_mask_for_everyone_and_offer_no_reveal(service_client, marketing_client, member):
    for client in (service_client, marketing_client):
        page = client.get(reverse("customers:list")).content.decode()
        assert "+86138****5678" in page and "reveal-button" not in page
        assert_nothing_clear(page)


def test_a_role_without_the_permission_cannot_find_anyone_by_phone_or_email(marketing_client, service_client, member):
    for text in ("13812345678", "138 1234 5678", "5678", EMAIL, "wang.fang"):
        response = marketing_client.get(reverse("customers:lookup"), {"q": text})
        assert response.status_code == 302 and response["Location"] != member.get_absolute_url(), text
        listed = marketing_client.get(reverse("customers:list"), {"q": text}).content.decode()
        assert member.get_absolute_url() not in listed, text
    # The desk, which may see contacts, finds the member by them.
    assert service_client.get(reverse("customers:lookup"), {"q": "13812345678"})["Location"].endswith(
        member.get_absolute_url()
    )


def test_a_role_without_the_permission_cannot_sort_by_birthday(marketing_client, member):
    older = CustomerFactory(birthday=datetime.date(1950, 1, 1))
    younger = CustomerFactory(birthday=datetime.date(2000, 1, 1))
    page = marketing_client.get(reverse("customers:list"), {"sort": "birthday"}).content.decode()
    assert 'value="birthday"' not in page
    # Ignored: the list keeps its own order (newest CRM number first), not the birthdays'.
    assert page.index(younger.get_absolute_url()) < page.index(older.get_absolute_url())


def test_the_timeline_masks_where_a_message_went(service_client, marketing_client, member):
    sms = make_campaign(channel="sms", name="Birthday")
    make_message(customer=member, campaign=sms, status=MessageStatus.SENT)  # to the member's mobile
    for client in (service_client, marketing_client):
        page = client.get(member.get_absolute_url(), {"tab": "timeline"}).content.decode()
        assert "Sent · to +86138****5678" in page
        assert_nothing_clear(page)


def _without_contacts(make_user, username: str, *codenames: str):
    """A user in no role, with the customers' permissions named and not view_contact_details."""
    user = make_user(None, username=username)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_customer", "view_all_customers", *codenames])
    )
    return user


def test_the_export_masks_birthday_address_and_id_without_the_permission(
    make_user, manager_user, login_as, member, django_capture_on_commit_callbacks
):
    def export(user) -> str:
        client = login_as(user)
        job = run_export(client, django_capture_on_commit_callbacks, format="csv", query="")
        rows = download_rows(client, job)
        Job.objects.filter(pk=job.pk).delete()  # run_export expects the only job
        return "\n".join(",".join(row) for row in rows)

    masked = export(_without_contacts(make_user, "blind-manager", "export_customers"))
    for value in ("+86138****5678", "w***@example.com", "****-05-12", "***", "1101**********002X"):
        assert value in masked, value
    assert_nothing_clear(masked)
    full = export(manager_user)
    assert MOBILE in full and EMAIL in full and "1990-05-12" in full and "人民路 8 号" in full
    assert RESIDENT_ID not in full and "1101**********002X" in full  # never in clear in a list export


def test_the_admin_masks_the_list_and_keeps_contacts_off_the_form_without_the_permission(make_user, login_as, member):
    staff = _without_contacts(make_user, "blind-staff", "change_customer")
    staff.is_staff = True
    staff.save()
    client = login_as(staff)
    listing = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "+86138****5678" in listing and "w***@example.com" in listing
    assert_nothing_clear(listing)
    change = client.get(reverse("admin:customers_customer_change", args=[member.pk])).content.decode()
    assert "****-05-12" in change and "1101**********002X" in change
    assert 'name="mobile"' not in change and 'name="id_number"' not in change
    assert_nothing_clear(change)


def test_the_admin_list_masks_for_a_superuser_and_the_form_never_holds_the_id(admin_user, login_as, member):
    client = login_as(admin_user)
    listing = client.get(reverse("admin:customers_customer_changelist")).content.decode()
    assert "+86138****5678" in listing and MOBILE not in listing
    change = client.get(reverse("admin:customers_customer_change", args=[member.pk])).content.decode()
    assert 'name="mobile"' in change and RESIDENT_ID not in change and "1101**********002X" in change


def test_opening_the_edit_form_records_the_contacts_it_shows(sales_client, member):
    page = sales_client.get(reverse("customers:edit", args=[member.crm_number])).content.decode()
    assert MOBILE in page and RESIDENT_ID not in page and "On file: 1101**********002X" in page
    assert reveals() == [("sales", {"fields": ["mobile", "email", "birthday", "address"], "form": True})]


def test_no_segment_rule_can_name_a_contact_or_the_address_or_the_id():
    # A rule on the phone or e-mail would let a marketer find a member by it, one count at a time.
    hidden = {"mobile", "email", "address", "id_number", "id_number_index", "id_type"}
    for field in segment_fields():
        assert field.key not in hidden and field.lookup.split("__")[0] not in hidden, field.key


def test_the_merge_page_masks_both_records_with_a_show_button_each(manager_client, member):
    twin = CustomerFactory(name=member.name, birthday=member.birthday, mobile="+8613912340000")
    url = reverse("customers:merge")
    page = manager_client.get(url, {"a": member.crm_number, "b": twin.crm_number}).content.decode()
    assert "+86138****5678" in page and "+86139****0000" in page and "reveal-button" in page
    assert_nothing_clear(page)
    duplicates = manager_client.get(reverse("customers:duplicates")).content.decode()
    assert "****-05-12" in duplicates and "reveal-button" not in duplicates
    assert_nothing_clear(duplicates)
