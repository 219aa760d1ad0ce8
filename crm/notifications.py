"""In-app notifications: the badge and list in the top bar."""

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import QuerySet
from django.db.transaction import atomic
from django.utils import timezone

from crm.models import Notification

DROPDOWN_LENGTH = 10


@atomic
def notification_create(*, user: AbstractBaseUser, text: str, link: str = "") -> Notification:
    notification = Notification(user=user, text=text[:255], link=link)
    notification.full_clean()
    notification.save()
    return notification


@atomic
def notifications_mark_read(*, user: AbstractBaseUser, ids: list[int] | None = None) -> int:
    """Mark the user's unread notifications (or only the ones named) read; returns how many changed."""
    unread = Notification.objects.filter(user=user, read_at__isnull=True)
    if ids is not None:
        unread = unread.filter(pk__in=ids)
    return unread.update(read_at=timezone.now())


def notifications_for(*, user: AbstractBaseUser) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_count(*, user: AbstractBaseUser) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()
