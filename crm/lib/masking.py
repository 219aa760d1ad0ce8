"""Masking personal data for users without the contact-details permission."""


def mask_phone(value: str) -> str:
    if not value:
        return ""
    return value[:-8] + "****" + value[-4:] if len(value) > 8 else "****"


def mask_email(value: str) -> str:
    if not value or "@" not in value:
        return value and "***"
    local, domain = value.split("@", 1)
    return f"{local[0]}***@{domain}"


def mask_text(value: str) -> str:
    """Any other personal text (a name, an address, a note): its first character and a fixed mask, so its
    length says nothing either."""
    if not value:
        return value
    return value[0] + "***" if len(value) > 1 else "*"
