"""Governance in the browser: a sharing request from the request form to the owner's inbox and back, the audit page
and the rules page of a dataset."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from playwright.sync_api import Page, expect

from catalog import datasets
from catalog.tests.factories import DomainFactory

from .conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def sales(django_user_model, settings, tmp_path):
    """Olga owns the Sales domain and its Orders dataset; Ana's analysts have no access yet."""
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.CELERY_TASK_ALWAYS_EAGER = True
    olga = django_user_model.objects.create_user(username="olga", password=PASSWORD, email="olga@example.com")
    ana = django_user_model.objects.create_user(username="ana", password=PASSWORD, email="ana@example.com")
    owners, analysts = Group.objects.create(name="sales-owners"), Group.objects.create(name="analysts")
    olga.groups.add(owners)
    ana.groups.add(analysts)
    domain = DomainFactory(name="Sales", slug="sales", owner_group=owners)
    rows = "".join(f"{('North', 'South', 'East')[i % 3]},{i}\n" for i in range(300))
    dataset = datasets.dataset_create(
        actor=olga, name="Orders", domain=domain, upload=SimpleUploadedFile("o.csv", f"region,amount\n{rows}".encode())
    )
    run = dataset.refreshes.get()
    datasets.dataset_refresh_run(refresh_id=run.pk)
    return dataset


def test_request_approve_and_see(page: Page, sign_in, sales):
    asset_id = sales.asset_id
    sign_in("ana")
    page.goto(f"/assets/{asset_id}/")
    expect(page.get_by_role("heading", name="Orders")).to_have_count(0)  # not visible yet: a 404 page

    page.goto(f"/assets/{asset_id}/request-access/")
    expect(page.get_by_role("heading", name="Request access to Orders")).to_be_visible()
    page.get_by_label("Why do you need it?").fill("Regional revenue review")
    page.get_by_label("For how many days").fill("30")
    page.get_by_role("button", name="Send request").click()
    expect(page.locator("[data-request-status]")).to_have_text("Pending")

    page.get_by_role("button", name="Sign out").click()
    sign_in("olga")
    expect(page.locator("[data-unread-count]")).to_have_text("1")
    page.get_by_role("link", name="Access").click()
    page.get_by_role("link", name="Inbox").click()
    page.get_by_role("link", name="Orders").click()
    page.get_by_label("Comment").fill("Granted for the review")
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("[data-request-status]")).to_have_text("Approved")
    expect(page.locator("[data-request-history] li")).to_have_count(2)

    page.get_by_role("button", name="Sign out").click()
    sign_in("ana")
    page.goto(f"/assets/{asset_id}/")
    expect(page.locator("h1")).to_have_text("Orders")


def test_rules_page_shows_the_effect_and_the_audit_shows_the_read(page: Page, sign_in, sales):
    from access.services import grant_set

    grant_set(group=Group.objects.get(name="analysts"), permission="view", asset=sales.asset, actor=None)
    sign_in("olga")
    page.goto(f"/assets/{sales.asset_id}/")
    page.get_by_role("link", name="Row and column rules").click()
    expect(page.locator("[data-rule-effects] [data-group='analysts']")).to_contain_text("sees 300 of 300 rows")
    form = page.get_by_role("form", name="Add a row rule")
    form.get_by_label("Column").select_option("region")
    form.get_by_label("Group").select_option("analysts")
    form.get_by_label("Allowed values").fill("North")
    form.get_by_role("button", name="Add row rule").click()
    expect(page.locator("[data-rule-effects] [data-group='analysts']")).to_contain_text("sees 100 of 300 rows")

    page.goto(f"/assets/{sales.asset_id}/preview/")
    page.goto("/access/audit/")
    expect(page.locator("[data-audit]")).to_contain_text("Previewed data")
    expect(page.get_by_role("link", name="Export CSV")).to_be_visible()
