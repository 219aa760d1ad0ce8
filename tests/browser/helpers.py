"""Steps and locators shared by browser journeys."""

import base64
import re
import time

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Locator, Page, expect

PASSWORD = "pw"  # customers.tests.factories.UserFactory


def log_in(page: Page, user, password: str = PASSWORD) -> Page:
    """Sign in through the login form, as a person would; returns the page on the landing page. A manager or admin
    then types the code of their authenticator app, setting one up first if they have none (crm/two_factor.py)."""
    page.goto("/accounts/login/")
    form_field(page, "Username").fill(user.get_username())
    form_field(page, "Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.locator("#lookup-box, #two-factor-form").first.wait_for(state="attached")
    if "/accounts/two-factor/set-up/" in page.url:
        secret = page.locator("#two-factor-secret").inner_text().replace(" ", "")
        form_field(page, "Code").fill(totp_code(base64.b32decode(secret + "=" * (-len(secret) % 8))))
        page.get_by_role("button", name="Turn on two-factor authentication").click()
        expect(page.locator("#backup-codes li")).to_have_count(10)
        page.get_by_role("link", name="I have kept them: continue").click()
    elif "/accounts/two-factor/" in page.url:
        device = TOTPDevice.objects.get(user=user, confirmed=True)
        form_field(page, "Code").fill(totp_code(device.bin_key, after=device.last_t))
        page.get_by_role("button", name="Verify").click()
    expect(page.locator("#lookup-box"), f"could not log in as {user.get_username()}").to_be_attached()
    return page


def totp_code(key: bytes, after: int = -1) -> str:
    """What the authenticator app shows now; a step later if the current one was used already (a second login
    within the same 30 seconds: the CRM accepts one step ahead, never a code twice)."""
    totp = TOTP(key)
    totp.time = time.time()
    if totp.t() <= after:
        totp.time += 30
    return f"{totp.token():06d}"


def form_field(page: Page, label: str) -> Locator:
    """The input whose label is exactly `label` (crispy adds a * to required ones).

    A plain get_by_label("E-mail") would also match "E-mail consent".
    """
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def alert(page: Page) -> Locator:
    """The flash messages at the top of the page."""
    return page.locator("main .alert")
