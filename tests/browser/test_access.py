from __future__ import annotations

import re

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from access.services import grant_set
from catalog import services
from catalog.tests.factories import BusinessUnitFactory

from .conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def restricted(django_user_model):
    """Nina owns one ledger; fiona's payroll ledger belongs to finance, and auditors (gary) hold a view grant."""
    nina = django_user_model.objects.create_user(username="nina", password=PASSWORD)
    fiona = django_user_model.objects.create_user(username="fiona", password=PASSWORD)
    gary = django_user_model.objects.create_user(username="gary", password=PASSWORD)
    finance = Group.objects.create(name="finance")
    auditors = Group.objects.create(name="auditors")
    gary.groups.add(auditors)
    services.asset_create(actor=nina, kind="dataset", name="Nina ledger", owner=nina)
    secret = services.asset_create(
        actor=fiona,
        kind="dataset",
        name="Payroll ledger",
        owner=fiona,
        owner_group=finance,
        business_unit=BusinessUnitFactory(name="Treasury", slug="treasury"),
        tags=["salaries"],
    )
    grant_set(group=auditors, permission="view", actor=fiona, asset=secret)
    return secret


def test_a_user_without_a_grant_never_sees_the_restricted_asset(page: Page, sign_in, restricted):
    sign_in("nina")

    # not on the home page
    expect(page.get_by_role("link", name="Nina ledger").first).to_be_visible()
    expect(page.get_by_text("Payroll ledger")).to_have_count(0)

    # not in the search results nor in the facets
    page.goto("/search/?q=ledger")
    expect(page.get_by_role("heading", name="1 result for “ledger”")).to_be_visible()
    results = page.locator("#search-results")
    for hidden in ("Payroll", "Treasury", "fiona", "salaries"):
        expect(results).not_to_contain_text(hidden)
    expect(page.locator(".facet").filter(has_text="Owner")).to_contain_text("nina")

    # and its page is a 404
    response = page.goto(f"/assets/{restricted.pk}/")
    assert response is not None and response.status == 404
    expect(page.get_by_role("heading", level=1, name="Not found")).to_be_visible()
    expect(page.get_by_text("Payroll ledger")).to_have_count(0)


def test_a_user_with_a_grant_sees_the_restricted_asset(page: Page, sign_in, restricted):
    sign_in("gary")

    expect(page.get_by_role("link", name="Payroll ledger").first).to_be_visible()
    page.goto("/search/?q=ledger")
    expect(page.get_by_role("heading", name="1 result for “ledger”")).to_be_visible()
    expect(page.locator(".facet").filter(has_text="Business unit")).to_contain_text("Treasury")
    page.get_by_role("link", name="Payroll ledger").click()
    expect(page.get_by_role("heading", level=1, name="Payroll ledger")).to_be_visible()
    expect(page).to_have_url(re.compile(rf"/assets/{restricted.pk}/$"))


def test_signing_out_ends_the_session(page: Page, sign_in, restricted):
    sign_in("gary")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    page.goto(f"/assets/{restricted.pk}/")
    expect(page).to_have_url(re.compile(r"/sign-in/\?next=/assets/\d+/$"))
