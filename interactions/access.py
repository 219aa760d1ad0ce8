"""The one way views load purchases, interactions, reminders and mentions: 404 if not visible, 403 if not allowed."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from customers.access import get_customer_for_user
from customers.models import Customer
from interactions.models import Reminder, Transaction, UnmatchedMention


def get_customer_for_purchase(user: AbstractBaseUser, crm_number: int) -> Customer:
    customer = get_customer_for_user(user, crm_number)
    if not user.has_perm("interactions.add_transaction"):
        raise PermissionDenied
    return customer


def get_transaction_for_refund(user: AbstractBaseUser, crm_number: int, transaction_id: int) -> Transaction:
    customer = get_customer_for_user(user, crm_number)
    if not user.has_perm("interactions.refund_transaction"):
        raise PermissionDenied
    transaction = Transaction.objects.filter(customer=customer, pk=transaction_id).first()
    if transaction is None:
        raise Http404
    transaction.customer = customer
    return transaction


def get_customer_for_interaction(user: AbstractBaseUser, crm_number: int) -> Customer:
    customer = get_customer_for_user(user, crm_number)
    if not user.has_perm("interactions.add_interaction"):
        raise PermissionDenied
    return customer


def get_reminder_for_user(user: AbstractBaseUser, reminder_id: int) -> Reminder:
    """Staff act on their own reminders only: anyone else's is 404, as if it did not exist."""
    if not user.has_perm("interactions.view_reminder"):
        raise PermissionDenied
    reminder = Reminder.objects.select_related("customer").filter(pk=reminder_id, assignee=user).first()
    if reminder is None:
        raise Http404
    return reminder


def get_mention_for_user(user, mention_id: int, *, assign: bool = False) -> UnmatchedMention:
    may_view = user.has_perm("interactions.view_unmatchedmention")
    if not may_view or (assign and not user.has_perm("interactions.change_unmatchedmention")):
        raise PermissionDenied
    mention = UnmatchedMention.objects.filter(pk=mention_id).first()
    if mention is None:
        raise Http404
    return mention
