"""Who did it: the user a write is recorded against."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser


def acting_user(user: AbstractBaseUser | AnonymousUser | None) -> AbstractBaseUser | None:
    """The signed-in user, or None for the system, an API client or an anonymous request."""
    return user if user is not None and user.is_authenticated else None
