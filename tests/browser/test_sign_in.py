from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from .conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_a_wrong_password_shows_the_error_and_keeps_you_signed_out(page: Page, django_user_model):
    django_user_model.objects.create_user(username="ana", password=PASSWORD)

    page.goto("/")
    expect(page).to_have_url(re.compile(r"/sign-in/\?next=/$"))
    page.get_by_label("Username").fill("ana")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()

    expect(page.get_by_role("alert")).to_have_text(
        re.compile("That username and password do not match an account. Check both")
    )
    expect(page.get_by_label("Username")).to_have_value("ana")
    expect(page.get_by_role("navigation", name="Main")).to_have_count(0)


def test_the_skip_link_comes_first_and_moves_focus_to_the_content(page: Page, sign_in, django_user_model):
    django_user_model.objects.create_user(username="ana", password=PASSWORD)
    sign_in("ana")

    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Skip to main content")
    expect(skip).to_be_focused()
    expect(skip).to_be_visible()
    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()
    expect(page.get_by_role("link", name="Home")).to_have_attribute("aria-current", "page")
