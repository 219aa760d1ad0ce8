"""Text from outside: as Chinese input methods type it, what a one-line field may hold, e-mail addresses."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# Full-width digits and signs (a Chinese IME in full-width mode): the same number, typed another way.
_HALFWIDTH = str.maketrans("０１２３４５６７８９＋－（）　", "0123456789+-() ")


def halfwidth(text: str) -> str:
    return text.translate(_HALFWIDTH)


# Control characters (tab, line breaks, NUL, escape, C1 codes): no one-line field holds them on purpose,
# and they break exports (xlsx cannot hold most of them) and the pages that show the value.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def validate_single_line(value: str) -> None:
    if _CONTROL.search(value or ""):
        raise ValidationError(
            _("Remove the line break or control character: this field is one line of text."), code="control"
        )


def normalize_email(value: str | None) -> str:
    """An e-mail address as stored and compared: no surrounding spaces, lower case."""
    return (value or "").strip().lower()
