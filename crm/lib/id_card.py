"""China's resident ID card number (居民身份证号码, GB 11643): 17 digits and an ISO 7064 MOD 11-2 check character."""

import datetime
import re

_SHAPE = re.compile(r"^[0-9]{17}[0-9X]$")
_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
_CHECK = "10X98765432"


def check_character(first17: str) -> str:
    return _CHECK[sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def is_valid_resident_id(value: str) -> bool:
    """18 characters, a real date of birth (characters 7-14), and the check character right."""
    if not _SHAPE.match(value):
        return False
    try:
        datetime.date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return False
    return value[17] == check_character(value[:17])
