import itertools

import pytest
from django.db import connection

from crm.lib import crm_number
from customers.services.merge import customer_merge
from customers.tests.factories import CustomerFactory

SAMPLE = [10000004, 10000017, 12345678, 98765432, 10099996, 55500012]


def _valid_samples():
    return [crm_number.with_check_digit(int(str(n)[:-1])) for n in SAMPLE]


@pytest.mark.parametrize("number", _valid_samples())
def test_every_single_digit_typo_is_refused(number):
    digits = str(number)
    for pos, wrong in itertools.product(range(len(digits)), "0123456789"):
        if wrong == digits[pos]:
            continue
        typo = digits[:pos] + wrong + digits[pos + 1 :]
        assert not crm_number.is_valid(typo), typo


@pytest.mark.parametrize("number", _valid_samples())
def test_every_swap_of_neighbouring_digits_is_refused(number):
    digits = str(number)
    for pos in range(len(digits) - 1):
        if digits[pos] == digits[pos + 1]:
            continue
        swapped = digits[:pos] + digits[pos + 1] + digits[pos] + digits[pos + 2 :]
        assert not crm_number.is_valid(swapped), swapped


def test_lookup_text_accepts_separators_and_spaces():
    number = crm_number.with_check_digit(1000123)
    text = str(number)
    for typed in (text, f"{text[:4]}-{text[4:]}", f" {text[:4]} {text[4:]} ", f"CRM{text}", f"{text[:4]}.{text[4:]}"):
        assert crm_number.parse(typed) == number


def test_lookup_text_with_wrong_check_digit_raises():
    text = str(crm_number.with_check_digit(1000123))
    wrong = text[:-1] + str((int(text[-1]) + 1) % 10)
    with pytest.raises(crm_number.InvalidCrmNumber):
        crm_number.parse(wrong)


def test_text_that_is_not_a_number_is_not_a_crm_number():
    assert crm_number.parse("张伟") is None
    assert crm_number.parse("1234") is None


def test_format_groups_digits_for_reading_aloud():
    assert crm_number.format_number(10000004) == "1000-0004"


@pytest.mark.django_db
def test_database_issues_valid_numbers_that_match_python_check_digit():
    customers = CustomerFactory.create_batch(5)
    numbers = [c.crm_number for c in customers]
    assert len(set(numbers)) == 5
    assert numbers == sorted(numbers)
    for n in numbers:
        assert crm_number.is_valid(str(n))
        assert crm_number.with_check_digit(n // 10) == n


@pytest.mark.django_db
def test_database_and_python_check_digits_agree_on_many_bases():
    bases = [1000000 + i * 7919 for i in range(200)]
    with connection.cursor() as cursor:
        cursor.execute("SELECT b, crm_damm_digit(b::text) FROM unnest(%s::bigint[]) AS b", [bases])
        rows = cursor.fetchall()
    assert {b: d for b, d in rows} == {b: crm_number.damm_digit(str(b)) for b in bases}


@pytest.mark.django_db
def test_numbers_are_never_reused_after_a_merge_deletes_one():
    survivor, first = CustomerFactory(), CustomerFactory()
    number = first.crm_number
    customer_merge(survivor=survivor, other=first, actor=None)  # the one way a customer row goes
    assert CustomerFactory().crm_number > number


@pytest.mark.parametrize("text", ["123456²", "1000-001٧"])
def test_digits_other_than_ascii_are_not_a_crm_number(text):
    assert crm_number.normalize(text) is None
    assert crm_number.parse(text) is None


def test_full_width_digits_from_a_chinese_input_method_are_read_as_digits():
    number = str(crm_number.with_check_digit(1000001))
    full_width = number.translate(str.maketrans("0123456789", "０１２３４５６７８９"))
    assert crm_number.parse(full_width[:4] + "－" + full_width[4:]) == int(number)
