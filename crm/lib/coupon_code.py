"""Coupon codes: 45 random bits in a readable alphabet, with a check character.

The alphabet leaves out 0/O and 1/I, which people misread from paper and phones; lower case and
separators are accepted on input. The check character is Damm's, over the field of 32 elements (the step
x * y = 2x + y is a totally anti-symmetric quasigroup there), so it catches every single wrong character and
every swap of two neighbours, and a mistyped code is refused before any lookup, as the CRM number's check
digit does. (Luhn mod 32 would miss swapping "2" and "Z".)
"""

import re
import secrets

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # 32 characters: 5 bits each
RANDOM_LENGTH = 9  # 45 bits
_INDEX = {c: i for i, c in enumerate(ALPHABET)}
_SEPARATORS = re.compile(r"[\s\-_.·]+")


class InvalidCode(ValueError):
    """Shaped like a coupon code but the check character does not match: a typo."""


def _times_two(x: int) -> int:
    """2·x in GF(32), built on x⁵ + x² + 1."""
    x <<= 1
    return x ^ 0b100101 if x & 0b100000 else x


def _interim(text: str) -> int:
    interim = 0
    for char in text:
        interim = _times_two(interim) ^ _INDEX[char]
    return interim


def check_character(body: str) -> str:
    return ALPHABET[_times_two(_interim(body))]


def generate() -> str:
    body = "".join(secrets.choice(ALPHABET) for _ in range(RANDOM_LENGTH))
    return body + check_character(body)


def normalize(text: str) -> str | None:
    """The code in stored form (upper case, no separators), None when it cannot be a code at all."""
    compact = _SEPARATORS.sub("", (text or "").strip()).upper()
    if len(compact) != RANDOM_LENGTH + 1 or any(c not in _INDEX for c in compact):
        return None
    return compact


def parse(text: str) -> str | None:
    """The stored form of a well-typed code; None if it is not shaped like one; InvalidCode for a typo."""
    code = normalize(text)
    if code is None:
        return None
    if _interim(code) != 0:
        raise InvalidCode(code)
    return code


def display(code: str) -> str:
    return f"{code[:5]}-{code[5:]}" if len(code) == RANDOM_LENGTH + 1 else code
