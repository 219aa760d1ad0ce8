"""Masking personal data: what a field looks like to someone who may not (or has not asked to) see it.

The rules are here; who sees what is customers.personal's (pages) and the API's token scopes.
"""

import datetime


def mask_phone(value: str) -> str:
    if not value:
        return ""
    return value[:-8] + "****" + value[-4:] if len(value) > 8 else "****"


def mask_email(value: str) -> str:
    if not value or "@" not in value:
        return value and "***"
    local, domain = value.split("@", 1)
    return f"{local[0]}***@{domain}"


def mask_birthday(value: datetime.date | None) -> str:
    """The year hidden, the month and day kept: greetings, the birthday-month filter and birthday segments
    already show the day to those who greet; the year is what turns it into a date of birth that identifies."""
    if value is None:
        return ""
    return f"****-{value.month:02d}-{value.day:02d}"


def mask_address(value: str) -> str:
    """The street address hidden whole: province and city (fields of their own) say where a member lives."""
    return "***" if value else ""


def mask_id(value: str) -> str:
    """An ID card or passport number: 1101**********1234 (the region and the last four, as banks print it)."""
    if not value:
        return ""
    if len(value) >= 12:
        return value[:4] + "*" * (len(value) - 8) + value[-4:]
    if len(value) >= 6:
        return value[0] + "*" * (len(value) - 3) + value[-2:]
    return "*" * len(value)


def mask_text(value: str) -> str:
    """Any other personal text (a name, an address, a note): its first character, then a star for each of the
    next few, so a change still shows as one (王芳 -> 王*, 王芳芳 -> 王**) without saying what it was."""
    if not value:
        return value
    return value[0] + "*" * min(len(value) - 1, 8) if len(value) > 1 else "*"


def looks_masked(value: str) -> bool:
    """Whether a value carries the stars of mask_email or mask_phone: masked data sent back in, not real data."""
    return "***" in (value or "")
