import pytest
from django.contrib.auth.models import AnonymousUser

from crm.lib.users import acting_user
from customers.tests.factories import UserFactory


@pytest.mark.django_db
def test_a_signed_in_user_is_who_acted():
    user = UserFactory()
    assert acting_user(user) is user


@pytest.mark.parametrize("nobody", [None, AnonymousUser()])
def test_no_user_or_an_anonymous_one_is_recorded_as_none(nobody):
    assert acting_user(nobody) is None
