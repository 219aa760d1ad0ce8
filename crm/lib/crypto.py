"""Encryption at rest for the few sensitive fields a business chooses to collect (an ID card number).

Keys come from FIELD_ENCRYPTION_KEYS (Fernet keys, newest first): the newest encrypts, every one decrypts, so a
new key can be put in front and the rows re-encrypted at leisure (`manage.py rotate_encryption_key`). A Fernet
token is random each time, so an encrypted column cannot be searched; its blind index (an HMAC of the value,
keyed by a key derived from each encryption key) can, for exact matches and duplicate checks.
"""

import base64
import hashlib
import hmac

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import models

__all__ = ["InvalidToken", "blind_index", "blind_indexes", "decrypt", "encrypt", "is_current", "rotate"]

_INDEX_CONTEXT = b"crm blind index v1"


def _keys() -> list[str]:
    keys = settings.FIELD_ENCRYPTION_KEYS
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEYS is empty: set at least one Fernet key.")
    return keys


def _fernet() -> MultiFernet:
    return MultiFernet([Fernet(key) for key in _keys()])


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(token: str) -> str:
    """Raises InvalidToken when no configured key opens it (a key dropped before its rows were rotated)."""
    return _fernet().decrypt(token.encode()).decode()


def is_current(token: str) -> bool:
    """Whether the newest key already opens it (so rotating it would change nothing)."""
    try:
        Fernet(_keys()[0]).decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate(token: str) -> str:
    """The same value encrypted with the newest key."""
    return _fernet().rotate(token.encode()).decode()


def _normalize(value: str) -> str:
    return "".join(value.split()).upper()


def _index(key: str, value: str) -> str:
    index_key = hmac.new(base64.urlsafe_b64decode(key), _INDEX_CONTEXT, hashlib.sha256).digest()
    return hmac.new(index_key, _normalize(value).encode(), hashlib.sha256).hexdigest()


def blind_index(value: str) -> str:
    """The value's index under the newest key ("" for no value): what a row stores."""
    return _index(_keys()[0], value) if value else ""


def blind_indexes(value: str) -> list[str]:
    """Its index under every key, newest first: what a lookup asks for while a rotation is under way."""
    return [_index(key, value) for key in _keys()] if value else []


class EncryptedTextField(models.TextField):
    """Plaintext in Python, a Fernet token in the database; no value is "" in both.

    No lookup may be asked of it: any would compare a fresh token that never matches (ask the blind index
    instead). `blind_index` names the model's field holding the value's index, which the rotation re-keys.
    """

    def __init__(self, *args, blind_index: str = "", **kwargs):
        self.blind_index = blind_index
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.blind_index:
            kwargs["blind_index"] = self.blind_index
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        return decrypt(value) if value else ""

    def to_python(self, value):
        return "" if value is None else str(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return encrypt(value) if value else ""

    def get_lookup(self, lookup_name):
        return None
