"""Two-factor authentication for managers and admins: enrolment, the code step, backup codes and recovery."""

import re
from io import StringIO

import pytest
import time_machine
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from hypothesis import given
from hypothesis import strategies as st

from crm.roles import Role
from crm.two_factor import backup_codes_create, two_factor_required
from tests.hostile import hostile_text, rolled_back

pytestmark = pytest.mark.django_db

ENROL = reverse("two_factor_enrol")
VERIFY = reverse("two_factor_verify")
HOME = reverse("home")
PASSWORD = "pw"  # customers.tests.factories.UserFactory


def _password_login(user) -> Client:
    """Logged in with the password only, through the login form, as a person would."""
    client = Client()
    response = client.post(reverse("login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.content
    return client


def _code(device: TOTPDevice, steps: int = 0) -> str:
    return f"{totp(device.bin_key, t0=device.t0, step=device.step, drift=steps):06d}"


def _enrolled(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def _verified(client: Client) -> bool:
    return DEVICE_ID_SESSION_KEY in client.session


def test_managers_admins_staff_and_superusers_need_a_second_factor_the_others_do_not(make_user):
    assert two_factor_required(make_user(Role.MANAGER, username="m"))
    assert two_factor_required(make_user(Role.ADMIN, username="a"))
    assert two_factor_required(make_user(None, username="su", is_superuser=True))
    assert two_factor_required(make_user(None, username="staff", is_staff=True))
    for role in (Role.SERVICE, Role.SALES, Role.MARKETING, None):
        assert not two_factor_required(make_user(role, username=f"u-{role}"))


def test_a_manager_without_two_factor_is_sent_to_set_it_up_from_every_page(manager_user):
    client = _password_login(manager_user)
    for url in (HOME, reverse("customers:list"), reverse("analytics:dashboard"), reverse("admin:index")):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(ENROL) and "next=" in response.url
    page = client.get(ENROL)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'src="data:image/svg+xml;base64,' in html and 'id="two-factor-secret"' in html
    assert not _verified(client)


def test_the_set_up_page_keeps_its_secret_across_a_reload(manager_user):
    client = _password_login(manager_user)
    first = re.search(r'id="two-factor-secret">([^<]+)<', client.get(ENROL).content.decode()).group(1)
    second = re.search(r'id="two-factor-secret">([^<]+)<', client.get(ENROL).content.decode()).group(1)
    assert first == second
    assert TOTPDevice.objects.filter(user=manager_user).count() == 1


def test_setting_up_with_the_apps_code_turns_it_on_and_shows_ten_backup_codes_once(manager_user):
    client = _password_login(manager_user)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=manager_user)
    response = client.post(ENROL, {"code": _code(device), "next": reverse("customers:list")})
    assert response.status_code == 200
    codes = re.findall(r'<li class="col">([a-z2-7]{8})</li>', response.content.decode())
    assert len(codes) == 10
    assert "no-store" in response["Cache-Control"]
    device.refresh_from_db()
    assert device.confirmed and _verified(client)
    assert sorted(StaticToken.objects.filter(device__user=manager_user).values_list("token", flat=True)) == sorted(
        codes
    )
    assert client.get(reverse("customers:list")).status_code == 200
    # Shown once: the page now sends an enrolled, verified user on instead of showing new codes.
    assert client.get(ENROL).status_code == 302


def test_a_wrong_code_at_set_up_is_refused_and_nothing_is_turned_on(manager_user):
    client = _password_login(manager_user)
    client.get(ENROL)
    device = TOTPDevice.objects.get(user=manager_user)
    wrong = f"{(int(_code(device)) + 1) % 1_000_000:06d}"
    response = client.post(ENROL, {"code": wrong})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert not TOTPDevice.objects.filter(user=manager_user, confirmed=True).exists()
    assert not StaticDevice.objects.filter(user=manager_user).exists()
    assert not _verified(client)
    assert client.get(HOME).status_code == 302


def test_an_enrolled_manager_types_the_apps_code_after_the_password(manager_user):
    device = _enrolled(manager_user)
    client = _password_login(manager_user)
    response = client.get(reverse("customers:list"))
    assert response.url.startswith(VERIFY)
    response = client.post(VERIFY, {"code": _code(device), "next": reverse("customers:list")})
    assert response.status_code == 302 and response.url == reverse("customers:list")
    assert _verified(client)
    assert client.get(reverse("customers:list")).status_code == 200


def test_a_wrong_code_is_refused_and_the_session_stays_unverified(manager_user):
    device = _enrolled(manager_user)
    client = _password_login(manager_user)
    wrong = f"{(int(_code(device)) + 1) % 1_000_000:06d}"
    response = client.post(VERIFY, {"code": wrong})
    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert not _verified(client)
    assert client.get(HOME).status_code == 302
    device.refresh_from_db()
    assert device.throttling_failure_count == 1  # the next try has to wait


def test_a_code_is_not_accepted_twice(manager_user):
    device = _enrolled(manager_user)
    code = _code(device)
    assert _password_login(manager_user).post(VERIFY, {"code": code}).status_code == 302
    second = _password_login(manager_user)
    assert second.post(VERIFY, {"code": code}).status_code == 400
    assert not _verified(second)


def test_a_backup_code_works_once(manager_user):
    _enrolled(manager_user)
    codes = backup_codes_create(user=manager_user)
    first = _password_login(manager_user)
    assert first.post(VERIFY, {"code": f" {codes[3].upper()} "}).status_code == 302
    assert _verified(first)
    assert StaticToken.objects.filter(device__user=manager_user).count() == 9
    again = _password_login(manager_user)
    assert again.post(VERIFY, {"code": codes[3]}).status_code == 400
    assert not _verified(again)


def test_django_admin_needs_the_second_factor_too(admin_user):
    device = _enrolled(admin_user)
    client = _password_login(admin_user)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302 and response.url.startswith(VERIFY)
    client.post(VERIFY, {"code": _code(device)})
    assert client.get(reverse("admin:index")).status_code == 200


def test_staff_of_other_roles_go_straight_in(sales_user):
    client = _password_login(sales_user)
    assert client.get(HOME).status_code == 200


def test_an_htmx_fragment_asks_for_a_whole_page_load_instead_of_a_swap(manager_user):
    _enrolled(manager_user)
    client = _password_login(manager_user)
    response = client.get(reverse("notifications"), headers={"HX-Request": "true"})
    assert response["HX-Redirect"].startswith(VERIFY)
    assert response.content == b""


def test_the_integration_api_is_not_asked_for_a_second_factor(manager_user):
    """Its requests carry a token, not a session: a manager's browser session gets the API's own refusal."""
    _enrolled(manager_user)
    client = _password_login(manager_user)
    response = client.get(reverse("api:members"))
    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith("application/json")


def test_an_outside_next_address_is_not_followed(manager_user):
    device = _enrolled(manager_user)
    client = _password_login(manager_user)
    response = client.post(VERIFY, {"code": _code(device), "next": "https://evil.example.com/"})
    assert response.status_code == 302 and response.url == HOME


def test_reset_2fa_removes_the_devices_so_the_next_login_sets_up_anew(manager_user):
    _enrolled(manager_user)
    backup_codes_create(user=manager_user)
    out = StringIO()
    call_command("reset_2fa", "manager", stdout=out)
    assert "Removed 2" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=manager_user).exists()
    assert not StaticDevice.objects.filter(user=manager_user).exists()
    assert _password_login(manager_user).get(HOME).url.startswith(ENROL)


def test_reset_2fa_of_an_unknown_user_says_so():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user named"):
        call_command("reset_2fa", "nobody")


def test_a_code_from_the_next_time_step_is_still_accepted_but_not_one_from_long_ago(manager_user):
    device = _enrolled(manager_user)
    with time_machine.travel(timezone.now() - timezone.timedelta(minutes=10)):
        old = _code(device)
    client = _password_login(manager_user)
    assert client.post(VERIFY, {"code": old}).status_code == 400
    assert not _verified(client)


@given(code=st.one_of(hostile_text, st.from_regex(r"\A[0-9 ]{0,12}\Z")))
def test_the_code_step_answers_any_input_without_a_500_and_verifies_nothing(code, manager_user):
    _enrolled(manager_user)
    client = _password_login(manager_user)
    with rolled_back():
        response = client.post(VERIFY, {"code": code})
        assert response.status_code == 400
        assert not _verified(client)


@given(code=hostile_text)
def test_the_set_up_step_answers_any_input_without_a_500_and_turns_nothing_on(code, manager_user):
    client = _password_login(manager_user)
    with rolled_back():
        response = client.post(ENROL, {"code": code})
        assert response.status_code == 400
        assert not TOTPDevice.objects.filter(user=manager_user, confirmed=True).exists()
        assert not _verified(client)
