"""Phone numbers: mainland China mobiles and international E.164, stored as E.164."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from crm.lib.text import halfwidth

# [0-9], not \d: \d also matches other scripts' digits, which are no part of a dialable number.
_CN_MOBILE = re.compile(r"^(?:\+?86|0086)?(1[3-9][0-9]{9})$")
_E164 = re.compile(r"^(?:\+|00)([1-9][0-9]{6,14})$")
_PUNCT = re.compile(r"[\s\-().]")


def normalize_phone(raw: str) -> str:
    """Return the number as E.164 (+8613812345678) or raise ValidationError."""
    compact = _PUNCT.sub("", halfwidth(raw or ""))
    if not compact:
        return ""
    if m := _CN_MOBILE.match(compact):
        return "+86" + m.group(1)
    if compact.startswith(("+86", "0086")):
        raise ValidationError(_("Not a valid mainland China mobile number (11 digits starting with 1)."), code="phone")
    if m := _E164.match(compact):
        return "+" + m.group(1)
    raise ValidationError(
        _("Enter a mainland China mobile number (e.g. 13812345678) or an international number starting with +."),
        code="phone",
    )


def display_phone(e164: str) -> str:
    if e164.startswith("+86") and len(e164) == 14:
        local = e164[3:]
        return f"{local[:3]} {local[3:7]} {local[7:]}"
    return e164
