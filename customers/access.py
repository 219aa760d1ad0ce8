"""The one way views load a customer: 404 if not visible, 403 if not allowed."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied
from django.http import Http404

from customers.models import Customer
from customers.selectors import customers_visible_to


def get_customer_for_user(user: AbstractBaseUser, crm_number: int, *, write: bool = False) -> Customer:
    if not user.has_perm("customers.view_customer"):
        raise PermissionDenied
    if write and not user.has_perm("customers.change_customer"):
        raise PermissionDenied
    customer = customers_visible_to(user).select_related("tier", "owner").filter(crm_number=crm_number).first()
    if customer is None:
        # Sales staff asking for someone else's customer learn nothing either way.
        raise Http404
    return customer
