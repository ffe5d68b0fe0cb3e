from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from catalog import services
from catalog.models import Asset
from catalog.tests.factories import BusinessUnitFactory

from .conftest import PASSWORD

pytestmark = pytest.mark.browser


def test_search_open_an_asset_and_read_who_renamed_it(page: Page, sign_in, django_user_model):
    # given an asset of ana's that bob renamed, and another asset that does not match
    ana = django_user_model.objects.create_user(username="ana", password=PASSWORD)
    bob = django_user_model.objects.create_user(username="bob", password=PASSWORD)
    ledger = services.asset_create(
        actor=ana,
        kind="dataset",
        name="Claims ledger",
        owner=ana,
        tags=["claims"],
        columns=[{"name": "claim_id", "data_type": "bigint"}],
    )
    services.asset_create(actor=ana, kind="dashboard", name="Sales overview", owner=ana)
    services.asset_update(asset=ledger, actor=bob, name="Claims ledger 2024")

    # when ana signs in, searches and opens the result
    sign_in("ana")
    page.get_by_role("searchbox", name="Search the catalog").fill("ledger")
    page.get_by_role("button", name="Search").click()
    expect(page.get_by_role("heading", name="1 result for “ledger”")).to_be_visible()
    expect(page.get_by_role("link", name="Sales overview")).to_have_count(0)
    page.get_by_role("link", name="Claims ledger 2024").click()
    expect(page.get_by_role("heading", level=1, name="Claims ledger 2024")).to_be_visible()
    expect(page.get_by_role("cell", name="claim_id")).to_be_visible()
    page.get_by_role("link", name="History", exact=True).click()

    # then the history says bob renamed it, before → after
    expect(page).to_have_url(re.compile(r"/assets/\d+/#history$"))
    latest = page.locator("#history .history__entry").first
    expect(latest.locator(".history__summary")).to_contain_text("Updated by bob via API")
    rename = latest.get_by_role("row", name=re.compile(r"^Name\b"))
    expect(rename.locator(".changes__before")).to_have_text("Claims ledger")
    expect(rename.locator(".changes__after")).to_have_text("Claims ledger 2024")
    expect(page.locator("#history .history__entry").last.locator(".history__summary")).to_contain_text("Created by ana")
    # and opening the page counted as a view
    assert Asset.objects.get(pk=ledger.pk).view_count == 1


def test_facet_links_swap_the_results_in_place(page: Page, sign_in, django_user_model):
    ana = django_user_model.objects.create_user(username="ana", password=PASSWORD)
    healthcare = BusinessUnitFactory(name="Healthcare", slug="healthcare")
    services.asset_create(actor=ana, kind="dataset", name="Claims ledger", owner=ana, business_unit=healthcare)
    services.asset_create(actor=ana, kind="dashboard", name="Claims dashboard", owner=ana)

    sign_in("ana")
    page.goto("/search/?q=claims")
    expect(page.get_by_role("heading", name="2 results for “claims”")).to_be_visible()
    page.evaluate("window.stillTheSamePage = true")

    page.locator(".facet").filter(has_text="Kind").get_by_role("link", name=re.compile("^Dashboard")).click()

    expect(page.get_by_role("heading", name="1 result for “claims”")).to_be_visible()
    expect(page.get_by_role("link", name="Claims dashboard")).to_be_visible()
    expect(page.get_by_role("link", name="Claims ledger")).to_have_count(0)
    expect(page).to_have_url(re.compile(r"/search/\?q=claims&kind=dashboard$"))
    assert page.evaluate("window.stillTheSamePage") is True  # HTMX swapped the results; no full page load
    expect(page.locator(".results__title")).to_be_focused()

    page.get_by_role("link", name=re.compile("^Kind: Dashboard")).click()
    expect(page.get_by_role("heading", name="2 results for “claims”")).to_be_visible()
