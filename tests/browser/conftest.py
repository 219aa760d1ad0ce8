"""Browser tests: Playwright drives Debian's Chromium against pytest-django's live server.

Fixtures for journeys: `page` (desktop) and `phone_page` (375 px, touch), each in a fresh
browser context whose base URL is the live server, and `logged_in_page(user)` /
`logged_in_phone_page(user)`, which sign in through the real login form.
"""

import os
import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.db import connection
from playwright.sync_api import Browser, Page, sync_playwright

from tests.browser.helpers import log_in

# Playwright's sync API keeps an asyncio loop running in the test thread, so Django
# would refuse the ORM calls the tests make themselves (factories, assertions).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

HERE = Path(__file__).resolve().parent
ARTIFACTS = HERE.parent.parent / "test-artifacts"
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
TIMEOUT_MS = 5_000  # a journey step that takes longer than this is a failure, not a slow pass

_call_failed = pytest.StashKey[bool]()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    browser_items, other_items = [], []
    for item in items:
        (browser_items if item.path.is_relative_to(HERE) else other_items).append(item)
    for item in browser_items:
        item.add_marker(pytest.mark.browser)
    # Run them last: once Playwright starts, its event loop stays in the main thread
    # until the session ends, and would leak into any test that ran after it.
    items[:] = other_items + browser_items


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_call_failed] = report.failed
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not os.path.exists(CHROMIUM_PATH):
        message = (
            f"Chromium was not found at {CHROMIUM_PATH}. Install it with `apt-get install chromium`, "
            "or set CHROMIUM_PATH to a Chromium executable."
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


# Every page reports what the content security policy refused (crm/settings/base.py, SECURE_CSP) to the console,
# where the test collects it: a journey that meets one fails, so an inline script or style cannot slip back in.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (event) => {
  console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
    + ` at ${event.sourceFile}:${event.lineNumber} (${event.sample})`);
});
"""


def _csp_violation(text: str) -> bool:
    return text.startswith("CSP violation:") or "Content Security Policy" in text


def _open_page(browser: Browser, request: pytest.FixtureRequest, base_url: str, **options) -> Iterator[Page]:
    context = browser.new_context(base_url=base_url, locale="en-US", **options)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(REPORT_CSP_VIOLATIONS)
    page = context.new_page()
    violations: list[str] = []
    page.on("console", lambda message: _csp_violation(message.text) and violations.append(message.text))
    try:
        yield page
        assert not violations, "The content security policy refused:\n" + "\n".join(dict.fromkeys(violations))
    finally:
        if request.node.stash.get(_call_failed, False):
            ARTIFACTS.mkdir(exist_ok=True)
            name = re.sub(r"[^\w.-]+", "_", f"{request.node.nodeid}-{request.fixturename}")
            page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
        context.close()
        _wait_for_the_server()


def _wait_for_the_server(seconds: float = 10) -> None:
    """Until no request the page left behind (an htmx poll, a lazy fragment) is still in a transaction on the
    live server: the test's flush (TRUNCATE) would otherwise deadlock with it (seen once in CI)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND pid <> pg_backend_pid() AND state IN ('active', 'idle in transaction')"
            )
            if cursor.fetchone()[0] == 0:
                return
        time.sleep(0.05)


@pytest.fixture
def page(browser: Browser, live_server, request: pytest.FixtureRequest) -> Iterator[Page]:
    yield from _open_page(browser, request, live_server.url, viewport={"width": 1280, "height": 800})


@pytest.fixture
def phone_page(browser: Browser, live_server, request: pytest.FixtureRequest) -> Iterator[Page]:
    yield from _open_page(
        browser, request, live_server.url, viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True
    )


@pytest.fixture
def logged_in_page(page: Page) -> Callable[..., Page]:
    return lambda user: log_in(page, user)


@pytest.fixture
def logged_in_phone_page(phone_page: Page) -> Callable[..., Page]:
    return lambda user: log_in(phone_page, user)
