"""When birthdays fall: solar, lunar (农历), 29 February, and the keys that make each one once a year."""

import datetime

from hypothesis import given
from hypothesis import strategies as st
from lunardate import LunarDate

from customers import birthdays


def test_a_solar_birthday_falls_on_its_day_this_year():
    assert birthdays.birthday_in(datetime.date(1990, 6, 15), 2027, lunar=False) == datetime.date(2027, 6, 15)


def test_29_february_falls_on_28_february_in_a_year_without_one():
    born = datetime.date(1996, 2, 29)
    assert birthdays.birthday_in(born, 2027, lunar=False) == datetime.date(2027, 2, 28)
    assert birthdays.birthday_in(born, 2028, lunar=False) == datetime.date(2028, 2, 29)


def test_28_february_gathers_the_29th_only_in_a_year_without_one():
    assert birthdays.solar_birthdays_on(datetime.date(2027, 2, 28)) == [(2, 28), (2, 29)]
    assert birthdays.solar_birthdays_on(datetime.date(2028, 2, 28)) == [(2, 28)]
    assert birthdays.solar_birthdays_on(datetime.date(2028, 2, 29)) == [(2, 29)]


def test_a_lunar_birthday_falls_on_the_solar_day_of_its_lunar_date_this_year():
    # 农历八月十五 (mid-autumn) in 2027 is 15 September 2027.
    assert birthdays.birthday_in(datetime.date(1985, 8, 15), 2027, lunar=True) == datetime.date(2027, 9, 15)
    assert LunarDate.from_solar_date(2027, 9, 15) == LunarDate(2027, 8, 15)


def test_a_lunar_day_30_falls_on_day_29_when_the_month_is_short_this_year():
    # 正月三十 (stored as 30 January): the first lunar month of 2030 has 29 days, of 2029 thirty.
    born = datetime.date(1980, 1, 30)
    assert birthdays.birthday_in(born, 2030, lunar=True) == LunarDate(2030, 1, 29).to_solar_date()
    assert birthdays.birthday_in(born, 2029, lunar=True) == LunarDate(2029, 1, 30).to_solar_date()
    # The second lunar month of 2026 has 29 days; its first month has 30.
    assert birthdays.lunar_birthday(2, 30, 2026) == LunarDate(2026, 2, 29).to_solar_date()
    assert birthdays.lunar_birthday(1, 30, 2026) == LunarDate(2026, 1, 30).to_solar_date()
    year, found = birthdays.lunar_birthdays_on(LunarDate(2026, 2, 29).to_solar_date())
    assert year == 2026 and (2, 29) in found and (2, 30) in found


def test_a_leap_month_holds_no_lunar_birthdays_they_fall_in_the_regular_month():
    # 2025 has a leap sixth month: 闰六月初八 is 1 August 2025, and 六月初八 is 2 July 2025.
    assert birthdays.lunar_birthdays_on(LunarDate(2025, 6, 8, True).to_solar_date()) is None
    assert birthdays.lunar_birthdays_on(datetime.date(2025, 7, 2)) == (2025, [(6, 8)])
    assert birthdays.lunar_birthday(6, 8, 2025) == datetime.date(2025, 7, 2)


def test_the_next_birthday_and_its_key():
    today = datetime.date(2027, 12, 30)
    assert birthdays.next_birthday(datetime.date(1990, 1, 2), today, lunar=False) == (
        datetime.date(2028, 1, 2),
        "birthday:2028",
    )
    # A lunar twelfth month reaches into the next solar year: the key names the lunar year.
    day, key = birthdays.next_birthday(datetime.date(1990, 12, 20), datetime.date(2028, 1, 1), lunar=True)
    assert day == LunarDate(2027, 12, 20).to_solar_date() == datetime.date(2028, 1, 16) and key == "birthday:2027"


@given(st.dates(min_value=datetime.date(1901, 3, 1), max_value=datetime.date(2098, 12, 31)))
def test_every_day_maps_back_to_the_lunar_birthdays_that_fall_on_it(day):
    found = birthdays.lunar_birthdays_on(day)
    if found is None:
        assert LunarDate.from_solar_date(day.year, day.month, day.day).is_leap_month
        return
    lunar_year, month_days = found
    for month, day_of_month in month_days:
        assert birthdays.lunar_birthday(month, day_of_month, lunar_year) == day


@given(
    st.dates(min_value=datetime.date(1920, 1, 1), max_value=datetime.date(2026, 12, 31)),
    st.integers(min_value=1901, max_value=2098),
)
def test_a_solar_birthday_is_found_on_exactly_the_day_it_falls_on(born, year):
    day = birthdays.birthday_in(born, year, lunar=False)
    assert (born.month, born.day) in birthdays.solar_birthdays_on(day)
    assert day.year == year and abs((day - born.replace(year=year, day=min(born.day, 28))).days) <= 3


@given(
    st.integers(min_value=1, max_value=12),
    st.integers(min_value=1, max_value=30),
    st.integers(min_value=1901, max_value=2098),
)
def test_a_lunar_birthday_is_found_on_exactly_the_day_it_falls_on(month, day_of_month, lunar_year):
    day = birthdays.lunar_birthday(month, day_of_month, lunar_year)
    assert birthdays.lunar_birthdays_on(day) == (lunar_year, birthdays.lunar_birthdays_on(day)[1])
    assert (month, day_of_month) in birthdays.lunar_birthdays_on(day)[1]


def test_days_lists_both_ends():
    first = datetime.date(2027, 2, 27)
    assert birthdays.days(first, first + datetime.timedelta(days=2)) == [
        datetime.date(2027, 2, 27),
        datetime.date(2027, 2, 28),
        datetime.date(2027, 3, 1),
    ]
    assert birthdays.days(first, first - datetime.timedelta(days=1)) == []
