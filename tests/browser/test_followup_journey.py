"""Service staff log a call with a follow-up date; when it falls due they see it in the top bar and on My day."""

import datetime

import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from customers.tests.factories import CustomerFactory
from interactions.models import Reminder, ReminderStatus
from interactions.tasks import reminders_notify_task
from tests.browser.helpers import alert, form_field, log_in


def test_log_a_call_with_a_follow_up_then_see_it_due_and_mark_it_done(logged_in_page, service_user):
    customer = CustomerFactory(name="林晓燕")
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    page = logged_in_page(service_user)
    page.goto(customer.get_absolute_url())

    page.locator("#quick-actions").get_by_role("link", name="Log interaction").click()
    card = page.locator("#quick-action-panel")
    form_field(card, "Subject").fill("Wants the trench coat in blue, size L")
    form_field(card, "Outcome").select_option(label="Follow-up needed")
    form_field(card, "Satisfaction").select_option(label="★★★★")
    form_field(card, "Follow up on").fill(tomorrow.isoformat())
    card.get_by_role("button", name="Log interaction").click()

    expect(alert(page).first).to_contain_text("Phone call logged")
    expect(page.locator("#recent-interactions")).to_contain_text("Wants the trench coat in blue")
    page.locator("#customer-tab-list").get_by_role("link", name="Timeline").click()
    expect(page.locator("#timeline")).to_contain_text("Phone call: Wants the trench coat in blue")
    expect(page.locator("#customer-reminders")).to_contain_text("Follow up: Wants the trench coat in blue")
    expect(page.locator("#notifications-button")).to_be_visible()
    expect(page.locator("#notifications-badge")).to_have_count(0)

    # The next morning, after the beat job has run.
    morning = timezone.make_aware(datetime.datetime.combine(tomorrow, datetime.time(9, 5)))
    with time_machine.travel(morning, tick=True):
        assert reminders_notify_task() == 1
        log_in(page, service_user)  # overnight the session ended (SESSION_IDLE_MINUTES): a new day, a new login
        page.goto("/my-day/")
        expect(page.locator("#notifications-badge")).to_contain_text("1")
        row = page.locator("#my-day li").filter(has_text="Follow up: Wants the trench coat in blue")
        expect(row).to_contain_text("林晓燕")
        row.get_by_role("button", name="Mark done").click()
        expect(page.locator("#my-day li[data-status=done]")).to_contain_text("Done")

        page.locator("#notifications-button").click()
        expect(page.locator("#notifications-menu")).to_contain_text("Wants the trench coat in blue, size L — 林晓燕")
        page.get_by_role("button", name="Mark all read").click()
        expect(page.locator("#notifications-badge")).to_have_count(0)

    assert Reminder.objects.get().status == ReminderStatus.DONE


def test_logging_a_visit_works_on_a_phone(logged_in_phone_page, sales_user):
    customer = CustomerFactory(name="周杰", owner=sales_user)
    page = logged_in_phone_page(sales_user)
    page.goto(customer.get_absolute_url())

    page.locator("#quick-actions").get_by_role("link", name="Log interaction").click()
    card = page.locator("#quick-action-panel")
    form_field(card, "Channel").select_option(label="Store visit")
    form_field(card, "Subject").fill("Tried on shoes")
    card.get_by_role("button", name="Log interaction").click()

    expect(alert(page).first).to_contain_text("Store visit logged")
    expect(page.locator("#recent-interactions")).to_contain_text("Tried on shoes")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
