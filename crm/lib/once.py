"""Storing what another system names by its own reference exactly once, also when two copies race."""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import IntegrityError


def record_once[T](*, find: Callable[[], T | None], create: Callable[[], T]) -> tuple[T, bool]:
    """(record, repeat): the one `find` returns, else the one `create` stores.

    `create` must run in its own transaction. When two copies race, the unique constraint
    is the referee: the loser's `create` fails (IntegrityError, or a ValidationError once
    the winner has committed) and it answers with the winner's record instead.
    """
    if (found := find()) is not None:
        return found, True
    try:
        return create(), False
    except (IntegrityError, ValidationError):
        if (found := find()) is not None:
            return found, True
        raise
