"""When a member's birthday falls, and its key: pure date arithmetic, no database.

Here, beside Customer.birthday, so that every app that asks "whose birthday is coming" (marketing's birthday
automation, the home page's birthdays panel through customers.selectors.birthdays_between) counts it one way.

A birthday is solar, or lunar (农历: Customer.birthday_is_lunar, the month and day of Customer.birthday are a
lunar month and day). Rules:
- 29 February falls on 28 February in a year without one;
- a lunar day 30 falls on day 29 in a year whose lunar month has only 29 days (and a stored 31st, which a
  lunar month never has, on its last day);
- a birthday in a leap lunar month is kept in the regular month of that number (only month and day are stored,
  so a leap-month birthday reads as the regular month anyway, and a leap month holds no birthdays).
The key of a birthday names the year it belongs to ("birthday:2027"): the solar year for a solar birthday,
the lunar year for a lunar one (a lunar year's 12th month reaches into the next solar year, so two lunar
birthdays can fall in one solar year and both are greeted).
"""

import calendar
import datetime

from lunardate import LunarDate

# lunardate covers these lunar years; a date outside has no lunar birthday.
LUNAR_YEARS = range(1900, 2100)


def birthday_key(year: int) -> str:
    return f"birthday:{year}"


def solar_birthday(birthday: datetime.date, year: int) -> datetime.date:
    """The day a solar birthday falls on in `year`."""
    if birthday.month == 2 and birthday.day == 29 and not calendar.isleap(year):
        return datetime.date(year, 2, 28)
    return birthday.replace(year=year)


def lunar_birthday(month: int, day: int, lunar_year: int) -> datetime.date | None:
    """The solar day of lunar `month`/`day` in `lunar_year` (day 30 on day 29 when the month is short)."""
    if lunar_year not in LUNAR_YEARS:
        return None
    # A lunar month has 29 or 30 days; a stored 31st (the profile took a solar date) counts as the last day.
    return LunarDate(lunar_year, month, min(day, _month_days(lunar_year, month))).to_solar_date()


def birthday_in(birthday: datetime.date, year: int, *, lunar: bool) -> datetime.date | None:
    """A member's birthday in `year` (solar year for a solar birthday, lunar year for a lunar one)."""
    if lunar:
        return lunar_birthday(birthday.month, birthday.day, year)
    return solar_birthday(birthday, year)


def next_birthday(birthday: datetime.date, today: datetime.date, *, lunar: bool) -> tuple[datetime.date, str] | None:
    """(the day, its key) of the member's next birthday on or after `today`."""
    for year in (today.year - 1, today.year, today.year + 1):
        day = birthday_in(birthday, year, lunar=lunar)
        if day is not None and day >= today:
            return day, birthday_key(year)
    return None


def solar_birthdays_on(day: datetime.date) -> list[tuple[int, int]]:
    """The (month, day) of the solar birthdays that fall on `day`: its own, and 29 February on the 28th of a
    year without one."""
    found = [(day.month, day.day)]
    if day.month == 2 and day.day == 28 and not calendar.isleap(day.year):
        found.append((2, 29))
    return found


def lunar_birthdays_on(day: datetime.date) -> tuple[int, list[tuple[int, int]]] | None:
    """(the lunar year, the lunar (month, day)s) of the lunar birthdays that fall on solar `day`; None when no
    lunar birthday can (a day of a leap month, or outside lunardate's years)."""
    try:
        lunar = LunarDate.from_solar_date(day.year, day.month, day.day)
    except ValueError:
        return None
    if lunar.is_leap_month:
        return None
    found = [(lunar.month, lunar.day)]
    if lunar.day == _month_days(lunar.year, lunar.month):  # the last day takes the days the month lacks
        found += [(lunar.month, missing) for missing in range(lunar.day + 1, 32)]
    return lunar.year, found


def _month_days(lunar_year: int, month: int) -> int:
    try:
        LunarDate(lunar_year, month, 30).to_solar_date()
    except ValueError:
        return 29
    return 30


def days(first: datetime.date, last: datetime.date) -> list[datetime.date]:
    """Every day from `first` to `last`, both included (none when `last` is before `first`)."""
    return [first + datetime.timedelta(days=n) for n in range((last - first).days + 1)]
