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
