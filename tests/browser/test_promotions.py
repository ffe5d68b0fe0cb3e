"""Promoting a dashboard in the browser: plan (graph and table) → approve → execute against a stubbed QuickSight →
the copy appears in the target folder."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from promotions.models import Promotion
from promotions.tests import stubs
from promotions.tests.world import bi_world

from .conftest import PASSWORD

pytestmark = pytest.mark.browser

NODES = "() => window.cartographPromotion.cy.nodes().map((node) => node.data('label').split('\\n')[0])"


@pytest.fixture
def stubbed_quicksight(settings):
    """The web server's execution gets a QuickSight client whose answers are stubbed (botocore's Stubber)."""
    settings.CARTOGRAPH_PROMOTIONS_CLIENT_FACTORY = "promotions.tests.stubs.client_factory"
    settings.CARTOGRAPH_PROMOTIONS_POLL_SECONDS = 0
    client, stubber = stubs.new_client()
    stubs.promote_dashboard_to_staging(stubber)
    stubs.prepare(client)
    with stubber:
        yield stubber
    stubs._prepared.clear()


def test_plan_approve_execute_and_the_copy_appears_in_the_target_folder(
    page: Page, sign_in, transactional_db, stubbed_quicksight
):
    # given a BI developer and a dashboard in development
    world = bi_world(password=PASSWORD)
    dashboard = world["assets"]["dashboard"]
    sign_in("ben")
    page.goto(f"/assets/{dashboard.pk}/")
    environments = page.locator("#environments")
    expect(environments.get_by_text("No copy of this asset in another environment yet.")).to_be_visible()

    # when ben plans a promotion into staging, mapping the data source
    environments.get_by_role("link", name="Promote").click()
    page.get_by_label("Target folder").select_option(label="Staging")
    page.get_by_label("Data source ARN for Warehouse").fill(f"{stubs.ACCOUNT}:datasource/warehouse-staging")
    page.get_by_role("button", name="Plan promotion").click()

    # then the plan shows as a graph and a table, and nothing ran yet
    expect(page.get_by_role("heading", name="Promotion", exact=False).first).to_contain_text(
        "Sales dashboard → Staging"
    )
    page.wait_for_function("() => window.cartographPromotion !== undefined")
    assert sorted(page.evaluate(NODES)) == [
        "Sales",
        "Sales analysis",
        "Sales dashboard",
        "Sales template",
        "Warehouse",
    ]
    steps = page.locator("[data-promotion-steps] tbody tr")
    expect(steps).to_have_count(8)
    expect(steps.nth(4)).to_contain_text("sales-dashboard--staging")
    expect(steps.nth(4)).to_contain_text("create")
    expect(page.locator("[data-status]")).to_have_text("Planned")

    # when ben approves and executes it
    page.get_by_role("button", name="Approve").click()
    expect(page.locator("[data-status]")).to_have_text("Approved")
    page.get_by_role("button", name="Execute").click()

    # then every step ran against (stubbed) QuickSight and the promotion succeeded
    expect(page.locator("[data-status]")).to_have_text("Succeeded")
    expect(page.locator("[data-progress]")).to_have_text("7 of 7 steps finished")
    stubbed_quicksight.assert_no_pending_responses()
    assert Promotion.objects.get().status == "succeeded"

    # and the copy appears in the staging folder, and on the source's page as the same version
    page.goto(f"/folders/{world['folders']['staging'].pk}/")
    expect(page.get_by_role("link", name="Sales dashboard")).to_be_visible()
    page.goto(f"/assets/{dashboard.pk}/")
    copies = page.locator("[data-environment-copies] tbody tr")
    expect(copies).to_have_count(1)
    expect(copies.first).to_contain_text("Staging")
    expect(copies.first).to_contain_text("Same version")
    expect(page.locator("[data-promotion-history] tbody tr")).to_have_count(1)
