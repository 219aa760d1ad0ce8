"""The bell's menu fits the screen, on a phone too."""

from playwright.sync_api import Page, expect

from crm.notifications import notification_create


def _open_menu_inside_the_window(page: Page) -> None:
    page.locator("#notifications-button").click()
    menu = page.locator("#notifications-menu")
    expect(menu).to_be_visible()
    expect(menu).to_contain_text("回访 张三")
    box = menu.bounding_box()
    assert box["x"] >= 0 and box["x"] + box["width"] <= page.viewport_size["width"]


def test_on_a_phone_the_notifications_menu_opens_inside_the_screen(logged_in_phone_page, service_user):
    notification_create(user=service_user, text="回访 张三：今天 10:00", link="/my-day/")
    _open_menu_inside_the_window(logged_in_phone_page(service_user))


def test_on_a_desktop_the_notifications_menu_opens_inside_the_window(logged_in_page, service_user):
    notification_create(user=service_user, text="回访 张三：今天 10:00", link="/my-day/")
    _open_menu_inside_the_window(logged_in_page(service_user))
