"""Masking personal data for users without the contact-details permission (and API tokens without personal_data)."""

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
    """The year only (1990-**-**): an age band for reports, but not the day that, with a name, identifies someone."""
    if value is None:
        return ""
    return f"{value.year:04d}-**-**"


def mask_address(value: str) -> str:
    """The start only (province and city, in a Chinese address): at most 6 characters, and at most half of it."""
    if not value:
        return ""
    return value[: min(6, len(value) // 2)] + "****"


def mask_text(value: str) -> str:
    """Any other personal text (a name, an address, a note): its first character, then a star for each of the
    next few, so a change still shows as one (王芳 -> 王*, 王芳芳 -> 王**) without saying what it was."""
    if not value:
        return value
    return value[0] + "*" * min(len(value) - 1, 8) if len(value) > 1 else "*"
