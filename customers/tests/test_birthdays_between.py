"""Whose birthday falls in a window (the home page's birthdays panel): solar and lunar, in one query, soonest
first, and always the day customers.birthdays says."""

import datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from customers import birthdays
from customers.models import Customer
from customers.selectors import birthdays_between
from customers.tests.factories import CustomerFactory
from tests.hostile import rolled_back

pytestmark = pytest.mark.django_db


def _found(first: datetime.date, last: datetime.date) -> list[tuple[str, datetime.date]]:
    return [(c.name, c.birthday_on) for c in birthdays_between(Customer.objects.all(), first=first, last=last)]


def test_solar_and_lunar_birthdays_of_the_week_come_soonest_first():
    CustomerFactory(name="solar 14 Sept", birthday=datetime.date(1990, 9, 14))
    CustomerFactory(name="solar 20 Sept", birthday=datetime.date(1990, 9, 20))
    # 农历八月十五 (mid-autumn) in 2027 is 15 September 2027.
    CustomerFactory(name="lunar 8/15", birthday=datetime.date(1985, 8, 15), birthday_is_lunar=True)
    CustomerFactory(name="solar 15 Aug", birthday=datetime.date(1985, 8, 15))
    CustomerFactory(name="lunar 9/14", birthday=datetime.date(1990, 9, 14), birthday_is_lunar=True)
    CustomerFactory(name="no birthday", birthday=None)
    assert _found(datetime.date(2027, 9, 13), datetime.date(2027, 9, 19)) == [
        ("solar 14 Sept", datetime.date(2027, 9, 14)),
        ("lunar 8/15", datetime.date(2027, 9, 15)),
    ]


def test_29_february_is_met_on_the_28th_in_a_year_without_one():
    CustomerFactory(name="leap", birthday=datetime.date(1996, 2, 29))
    assert _found(datetime.date(2027, 2, 26), datetime.date(2027, 3, 4)) == [("leap", datetime.date(2027, 2, 28))]
    assert _found(datetime.date(2028, 2, 26), datetime.date(2028, 3, 4)) == [("leap", datetime.date(2028, 2, 29))]


def test_a_window_across_the_new_year_finds_both_ends():
    CustomerFactory(name="new year's eve", birthday=datetime.date(1990, 12, 31))
    CustomerFactory(name="new year", birthday=datetime.date(1990, 1, 1))
    assert _found(datetime.date(2026, 12, 29), datetime.date(2027, 1, 4)) == [
        ("new year's eve", datetime.date(2026, 12, 31)),
        ("new year", datetime.date(2027, 1, 1)),
    ]


def test_it_reads_only_the_customers_it_is_given(django_assert_num_queries):
    mine = CustomerFactory(name="mine", birthday=datetime.date(1990, 9, 14))
    CustomerFactory(name="not mine", birthday=datetime.date(1990, 9, 14))
    with django_assert_num_queries(1):
        found = list(
            birthdays_between(
                Customer.objects.filter(pk=mine.pk), first=datetime.date(2027, 9, 13), last=datetime.date(2027, 9, 19)
            )
        )
    assert [c.name for c in found] == ["mine"]


@given(
    born=st.dates(min_value=datetime.date(1920, 1, 1), max_value=datetime.date(2026, 12, 31)),
    lunar=st.booleans(),
    today=st.dates(min_value=datetime.date(2025, 1, 1), max_value=datetime.date(2040, 12, 31)),
)
def test_the_window_agrees_with_next_birthday(born, lunar, today):
    with rolled_back():  # customers are never deleted (customers migration 0016): each example's one goes back
        customer = CustomerFactory(birthday=born, birthday_is_lunar=lunar)
        last = today + datetime.timedelta(days=6)
        coming = birthdays.next_birthday(born, today, lunar=lunar)
        expected = [coming[0]] if coming is not None and coming[0] <= last else []
        found = birthdays_between(Customer.objects.filter(pk=customer.pk), first=today, last=last)
        assert [c.birthday_on for c in found] == expected
