"""CRM numbers: a database sequence value followed by a Damm check digit.

Damm's check digit catches every single-digit typo and every swap of two
neighbouring digits, which Luhn does not (it misses 09 <-> 90). The same
table lives in SQL (customers migration 0002) so the database can issue
numbers by itself; `tests` check the two agree.
"""

import re

from crm.lib.text import halfwidth

DAMM_TABLE = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

_SEPARATORS = re.compile(r"[\s\-_.·/]+")


class InvalidCrmNumber(ValueError):
    """Looks like a CRM number but its check digit is wrong."""


def damm_digit(digits: str) -> int:
    interim = 0
    for ch in digits:
        interim = DAMM_TABLE[interim][int(ch)]
    return interim


def with_check_digit(base: int) -> int:
    digits = str(base)
    return int(digits + str(damm_digit(digits)))


def is_valid(number: str) -> bool:
    return number.isascii() and number.isdigit() and len(number) >= 2 and damm_digit(number) == 0


def normalize(text: str) -> str | None:
    """Strip separators; return the digits if the text could be a CRM number."""
    compact = _SEPARATORS.sub("", halfwidth(text or "")).upper().removeprefix("CRM")
    # ASCII digits only: "²" and other Unicode digits pass isdigit() but are no part of a CRM number.
    return compact if compact.isascii() and compact.isdigit() and 6 <= len(compact) <= 12 else None


def parse(text: str) -> int | None:
    """The CRM number in `text`, None if it is not shaped like one.

    Raises InvalidCrmNumber when it is shaped like one but fails the check digit.
    """
    digits = normalize(text)
    if digits is None:
        return None
    if not is_valid(digits):
        raise InvalidCrmNumber(digits)
    return int(digits)


def format_number(number: int | str) -> str:
    """1000 0017 style: two groups of four read aloud more easily."""
    digits = str(number)
    return f"{digits[:-4]}-{digits[-4:]}" if len(digits) > 4 else digits
