"""Browser fixtures of the browser and end-to-end tests: one headless Chromium for the whole session (shared by both
folders, since Playwright runs one instance per process), a fresh context (own cookies) for every test.

The page fixture also fails a test when the page raised a JavaScript error or tried to load anything from another
host: the UI must work offline, with no CDN.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Page, Route, expect, sync_playwright

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PASSWORD = "a-long-test-password"

expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium is not at {CHROMIUM}; install Debian's chromium (make system-deps) or set CHROMIUM_PATH")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser, live_server, transactional_db) -> Iterator[Page]:
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1366, "height": 800})
    context.set_default_timeout(10_000)
    own_host = urlparse(live_server.url).netloc
    foreign: list[str] = []
    errors: list[str] = []

    def only_our_server(route: Route) -> None:
        if urlparse(route.request.url).netloc == own_host:
            route.continue_()
        else:
            foreign.append(route.request.url)
            route.abort()

    context.route("**/*", only_our_server)
    page = context.new_page()
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not foreign, f"the page tried to load from other hosts: {foreign}"
    assert not errors, f"JavaScript errors on the page: {errors}"


@pytest.fixture
def sign_in(page: Page) -> Callable[[str], None]:
    """Signs in through the form, as a person would, and waits for the home page."""

    def sign_in_as(username: str, password: str = PASSWORD) -> None:
        page.goto("/sign-in/")
        page.get_by_label("Username").fill(username)
        page.get_by_label("Password").fill(password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text(f"Signed in as {username}")).to_be_visible()

    return sign_in_as
