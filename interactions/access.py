"""The one way views load purchases: 404 if the customer or purchase is not visible, 403 if not allowed."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from customers.access import get_customer_for_user
from customers.models import Customer
from interactions.models import Transaction


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
