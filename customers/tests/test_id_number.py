"""The ID number: validated, encrypted at rest, found by its blind index, shown masked, rotated to a new key."""

import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import FieldError, ValidationError
from django.core.management import call_command
from django.db import connection
from django.test import override_settings
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from crm.lib import crypto
from crm.lib.id_card import check_character, is_valid_resident_id
from crm.models import AuditAction, AuditEvent
from customers import services
from customers.models import Customer, IdType
from customers.services.merge import customer_merge
from customers.tests.factories import CustomerFactory
from customers.tests.test_customer_form import form_data
from tests.hostile import hostile_text

pytestmark = pytest.mark.django_db

RESIDENT_ID = "11010519491231002X"
OTHER_ID = "440524188001010014"


def raw_column(customer: Customer) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, id_number_index FROM customers_customer WHERE id = %s", [customer.pk])
        token, index = cursor.fetchone()
    return token, index


def with_id(number: str = RESIDENT_ID, id_type: str = IdType.RESIDENT_ID, name: str = "身份证", **fields) -> Customer:
    return services.customer_create(actor=None, name=name, id_type=id_type, id_number=number, **fields)


def test_resident_id_check_character():
    assert check_character("11010519491231002") == "X" and is_valid_resident_id(RESIDENT_ID)
    assert is_valid_resident_id(OTHER_ID)
    assert not is_valid_resident_id("110105194912310021")  # wrong check character
    assert not is_valid_resident_id("110105194913310028")  # no 13th month
    assert not is_valid_resident_id("11010519491231002")  # 17 characters


def test_the_column_in_postgres_never_holds_the_plaintext():
    customer = with_id(RESIDENT_ID.lower())  # stored in upper case, as printed on the card
    token, index = raw_column(customer)
    assert RESIDENT_ID not in token and RESIDENT_ID.lower() not in token and "19491231" not in token
    assert RESIDENT_ID not in index and token.startswith("gAAAA")  # a Fernet token
    assert Customer.objects.get(pk=customer.pk).id_number == RESIDENT_ID


def test_found_by_its_blind_index_and_never_by_the_column():
    customer = with_id()
    found = Customer.objects.filter(id_number_index__in=crypto.blind_indexes(" 11010519491231002x "))
    assert list(found) == [customer]
    with pytest.raises(FieldError):
        Customer.objects.filter(id_number=RESIDENT_ID).exists()


def test_the_same_id_twice_is_refused_without_naming_who_has_it():
    with_id()
    with pytest.raises(ValidationError) as refused:
        with_id(name="又一个")
    assert refused.value.message_dict["id_number"] == ["Another customer already has this ID number."]
    assert Customer.objects.count() == 1


@pytest.mark.parametrize(
    ("id_type", "number", "error"),
    [
        (IdType.RESIDENT_ID, "110105194912310021", "Not a valid resident ID number"),
        ("", RESIDENT_ID, "Say what kind of ID"),
        (IdType.PASSPORT, "", "Enter the ID number"),
    ],
)
def test_a_wrong_id_is_refused_by_the_form_and_nothing_is_written(service_client, id_type, number, error):
    response = service_client.post(reverse("customers:create"), form_data(id_type=id_type, id_number=number))
    assert response.status_code == 200 and error in response.content.decode()
    assert not Customer.objects.exists()


def test_a_passport_is_free_text():
    customer = with_id("e 1234 5678", id_type=IdType.PASSPORT)
    assert Customer.objects.get(pk=customer.pk).id_number == "E12345678"


def test_the_edit_form_keeps_the_id_when_left_empty_and_drops_it_with_no_id_type(service_client):
    customer = with_id(mobile="13500008888")
    url = reverse("customers:edit", args=[customer.crm_number])
    service_client.post(url, form_data(name="改名", id_type=IdType.RESIDENT_ID, id_number=""))
    customer.refresh_from_db()
    assert customer.name == "改名" and customer.id_number == RESIDENT_ID
    service_client.post(url, form_data(id_type="", id_number=""))
    customer.refresh_from_db()
    assert customer.id_number == "" and raw_column(customer) == ("", "")


def test_the_audit_trail_holds_the_id_masked():
    customer = with_id()
    services.customer_update(customer=customer, actor=None, id_number=OTHER_ID)
    change = AuditEvent.objects.get(action=AuditAction.UPDATE).changes
    assert change["id_number"] == ["1101**********002X", "4405**********0014"]
    assert RESIDENT_ID not in str(change) and OTHER_ID not in str(change)


def test_a_merge_keeps_the_id_only_the_other_record_held_and_audits_it_masked(manager_user):
    survivor = CustomerFactory()
    other = with_id()
    customer_merge(survivor=survivor, other=other, actor=manager_user)
    survivor = Customer.objects.get(pk=survivor.pk)
    assert (survivor.id_type, survivor.id_number) == (IdType.RESIDENT_ID, RESIDENT_ID)
    assert list(Customer.objects.filter(id_number_index__in=crypto.blind_indexes(RESIDENT_ID))) == [survivor]
    changes = AuditEvent.objects.get(action=AuditAction.MERGE).changes
    assert changes["id_number"] == ["", "1101**********002X"] and RESIDENT_ID not in str(changes)


@given(id_type=st.sampled_from(["", *IdType.values, "nope"]), number=hostile_text)
def test_hostile_id_input_never_500_and_changes_nothing_when_refused(service_client, id_type, number):
    customer = CustomerFactory(name="原样")
    url = reverse("customers:edit", args=[customer.crm_number])
    response = service_client.post(url, form_data(name="改了", id_type=id_type, id_number=number))
    assert response.status_code in (200, 302)
    customer.refresh_from_db()
    if response.status_code == 200:
        assert customer.name == "原样" and customer.id_number == ""
    else:
        assert customer.name == "改了"


OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def test_rotation_re_encrypts_every_row_so_the_new_key_alone_opens_them(capsys):
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]):
        customers = [with_id(), with_id(OTHER_ID, name="二"), with_id("G1234567", id_type=IdType.PASSPORT, name="三")]
        CustomerFactory()  # no ID: nothing to rotate
        tokens_before = [raw_column(c)[0] for c in customers]
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW, OLD]):
        call_command("rotate_encryption_key", chunk=2)
        first = capsys.readouterr().out
        assert "customers.Customer.id_number: 2 rows checked, 2 re-encrypted" in first
        assert "done, 3 rows checked, 3 re-encrypted" in first
        call_command("rotate_encryption_key", chunk=2)  # run again (or resumed): nothing left to do
        assert "done, 3 rows checked, 0 re-encrypted" in capsys.readouterr().out
    with override_settings(FIELD_ENCRYPTION_KEYS=[NEW]):
        assert [c.id_number for c in Customer.objects.filter(pk__in=[c.pk for c in customers]).order_by("pk")] == [
            RESIDENT_ID,
            OTHER_ID,
            "G1234567",
        ]
        assert [raw_column(c)[0] for c in customers] != tokens_before
        assert Customer.objects.filter(id_number_index__in=crypto.blind_indexes(OTHER_ID)).get() == customers[1]
    with override_settings(FIELD_ENCRYPTION_KEYS=[OLD]), pytest.raises(crypto.InvalidToken):
        Customer.objects.get(pk=customers[0].pk)  # the old key alone no longer opens them
