"""The range of dates a person can mean.

Wider ones pass the date type but overflow the arithmetic done on them (a report "until
9999-12-31" asks for the day after), so every date typed or imported is held to these.
"""

import datetime

EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(2100, 12, 31)


def years_before(moment: datetime.datetime, years: int) -> datetime.datetime:
    """The same moment `years` calendar years earlier (29 February becomes the 28th)."""
    try:
        return moment.replace(year=moment.year - years)
    except ValueError:
        return moment.replace(year=moment.year - years, day=28)
