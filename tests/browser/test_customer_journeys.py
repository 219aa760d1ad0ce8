"""What a front-desk user does every day: find a customer by number, register a new one."""

import re

import pytest
from playwright.sync_api import expect

from customers.models import Customer
from customers.tests.factories import CustomerFactory
from tests.browser.helpers import alert, form_field


@pytest.mark.parametrize("separator", ["-", " "])
def test_lookup_box_opens_customer_typed_with_separators(logged_in_page, service_user, separator):
    customer = CustomerFactory(name="林晓雨")
    digits = str(customer.crm_number)
    page = logged_in_page(service_user)

    lookup = page.locator("#lookup-box")
    lookup.fill(f"{digits[:-4]}{separator}{digits[-4:]}")
    lookup.press("Enter")

    expect(page).to_have_url(re.compile(rf"/customers/{digits}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("林晓雨")
    expect(page.locator("#crm-number")).to_have_text(customer.crm_number_display)


def test_lookup_of_mistyped_crm_number_says_check_digit_does_not_match(logged_in_page, service_user):
    customer = CustomerFactory()
    digits = str(customer.crm_number)
    # Damm check digits catch every single-digit typo, so any changed digit must be refused.
    typo = digits[:2] + str((int(digits[2]) + 1) % 10) + digits[3:]
    page = logged_in_page(service_user)

    page.locator("#lookup-box").fill(typo)
    page.locator("#lookup-box").press("Enter")

    expect(alert(page)).to_contain_text("the check digit does not match")
    expect(page.get_by_role("heading", level=1)).to_have_text("Customers")


def test_new_customer_form_creates_customer_with_crm_number(logged_in_page, service_user):
    page = logged_in_page(service_user)

    page.locator("#main-nav").get_by_role("link", name="New customer").click()
    form_field(page, "Name").fill("Zhou Mingyue")
    form_field(page, "Mobile phone").fill("138 1234 5678")
    form_field(page, "E-mail").fill("zhou.mingyue@example.com")
    page.get_by_role("button", name="Save").click()

    # Wait for the page before reading the database: the click does not wait for the POST.
    expect(alert(page)).to_contain_text("Customer Zhou Mingyue created with CRM number")
    customer = Customer.objects.get(mobile="+8613812345678")
    expect(alert(page)).to_contain_text(f"created with CRM number {customer.crm_number_display}.")
    expect(page.get_by_role("heading", level=1)).to_have_text("Zhou Mingyue")
    expect(page.locator("#crm-number")).to_have_text(customer.crm_number_display)


def test_new_customer_with_bad_phone_is_refused_and_keeps_what_was_typed(logged_in_page, service_user):
    page = logged_in_page(service_user)
    page.goto("/customers/new/")

    form_field(page, "Name").fill("Zhou Mingyue")
    form_field(page, "Mobile phone").fill("12345")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_text("Enter a mainland China mobile number")).to_be_visible()
    expect(form_field(page, "Name")).to_have_value("Zhou Mingyue")
    expect(form_field(page, "Mobile phone")).to_have_value("12345")
    assert not Customer.objects.exists()


def test_customer_list_on_a_phone_shows_customer_under_a_collapsed_menu(logged_in_phone_page, service_user):
    CustomerFactory(name="林晓雨")
    page = logged_in_phone_page(service_user)
    page.goto("/customers/")

    expect(page.get_by_role("link", name="林晓雨")).to_be_visible()
    menu_link = page.locator("#main-nav").get_by_role("link", name="New customer")
    toggler = page.get_by_role("button", name="Menu")
    expect(toggler).to_be_visible()
    expect(menu_link).to_be_hidden()
    toggler.click()
    expect(menu_link).to_be_visible()


def test_slash_anywhere_puts_the_cursor_in_the_lookup_box_and_a_mobile_opens_the_member(logged_in_page, service_user):
    customer = CustomerFactory(name="周末", mobile="+8613357877348")
    page = logged_in_page(service_user)
    page.keyboard.press("/")
    expect(page.locator("#lookup-box")).to_be_focused()
    page.keyboard.type("133 5787 7348")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(rf"/customers/{customer.crm_number}/$"))
    expect(page.get_by_role("heading", level=1)).to_have_text("周末")
