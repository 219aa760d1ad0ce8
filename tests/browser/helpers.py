"""Steps and locators shared by browser journeys."""

import re

from playwright.sync_api import Locator, Page, expect

PASSWORD = "pw"  # customers.tests.factories.UserFactory


def log_in(page: Page, user, password: str = PASSWORD) -> Page:
    """Sign in through the login form, as a person would; returns the page on the landing page."""
    page.goto("/accounts/login/")
    form_field(page, "Username").fill(user.get_username())
    form_field(page, "Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.locator("#lookup-box"), f"could not log in as {user.get_username()}").to_be_attached()
    return page


def form_field(page: Page, label: str) -> Locator:
    """The input whose label is exactly `label` (crispy adds a * to required ones).

    A plain get_by_label("E-mail") would also match "E-mail consent".
    """
    return page.get_by_label(re.compile(rf"^\s*{re.escape(label)}\s*\*?\s*$"))


def alert(page: Page) -> Locator:
    """The flash messages at the top of the page."""
    return page.locator("main .alert")
