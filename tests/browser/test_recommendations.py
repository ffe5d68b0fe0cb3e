"""The "Joins well with" panel of a product's page: Customer → Claim on its key, Customer → Encounter through the
enriched view, accept and dismiss, the knowledge graph and the enriched view preview."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from playwright.sync_api import Page, expect

from access.services import grant_set
from recommender import services
from recommender.models import Relationship
from recommender.tests.conftest import Mesh, mesh_build

from .conftest import PASSWORD

pytestmark = pytest.mark.browser


@pytest.fixture
def mesh(transactional_db, tmp_path) -> Mesh:
    """The recommender's test mesh (five products with data, Customer hasSalesOpportunity), smaller."""
    return mesh_build(tmp_path, (200, 30, 300))


@pytest.fixture
def analyst(mesh, django_user_model):
    """Carla edits Customer and sees Claim, Encounter and SalesOpportunity, not Policy."""
    group = Group.objects.create(name="mesh-analysts")
    for slug in ("customer", "claim", "encounter", "sales-opportunity"):
        grant_set(group=group, permission="view", actor=None, asset=mesh[slug])
    grant_set(group=group, permission="edit", actor=None, asset=mesh["customer"])
    user = django_user_model.objects.create_user(username="carla", password=PASSWORD)
    user.groups.add(group)
    services.recommendations_compute(asset=mesh["customer"])
    return user


def test_customer_joins_claim_on_its_key_and_encounter_through_the_enriched_view(
    page: Page,
    sign_in,
    mesh,
    analyst,
):
    sign_in("carla")
    page.goto(f"/assets/{mesh['customer'].pk}/")
    section = page.locator("#joins")
    expect(section.get_by_role("heading", name="Joins well with")).to_be_visible()

    # Claim: from the plain view, on Customer_ID ↔ Cust_Nbr, every claim's customer found
    claim = section.locator("[data-join-candidate='Claim']")
    expect(claim).to_be_visible()
    expect(claim.locator(".join-badge--plain")).to_have_text("Plain view")
    expect(claim).to_contain_text("100% of Claim.Cust_Nbr values appear in Customer.Customer_ID")
    expect(
        claim.get_by_role("img", name="100% of Claim.Cust_Nbr values appear in Customer.Customer_ID")
    ).to_be_visible()

    # Encounter: only the enriched view recommends it, with the encounters that only enrichment matched
    encounter = section.locator("[data-join-candidate='Encounter']")
    expect(encounter.locator(".join-badge--enriched")).to_have_text("Enriched view")
    enrichment = encounter.locator("[data-join-enrichment]")
    expect(enrichment).to_contain_text("SalesOpportunity")
    expect(enrichment).to_contain_text("more rows")
    expect(enrichment).to_contain_text("below the threshold")
    expect(enrichment.get_by_role("table")).to_contain_text("Encounter_ID")
    expect(enrichment.locator("tbody tr")).to_have_count(5)

    # Policy is hidden from Carla: its name only, with a way to ask for access
    expect(section.locator("[data-requestable='Policy']")).to_contain_text("request access")
    expect(section.locator("[data-join-candidate='Policy']")).to_have_count(0)

    # the knowledge graph, drawn and listed
    expect(section.locator("[data-relationship='hasSalesOpportunity']")).to_contain_text("Contact_Email")
    expect(section.locator("[data-relationship-graph]")).to_have_attribute("data-graph-drawn", "2")

    # the enriched view preview says what the relationship added
    section.get_by_role("button", name="Show the enriched view").click()
    preview = section.locator("[data-enriched-view]")
    expect(preview).to_contain_text("rows in the enriched view (1 hop)")
    expect(preview).to_contain_text("Email gained")
    expect(preview.get_by_role("table")).to_be_visible()


def test_accepting_and_dismissing_from_the_panel(page: Page, sign_in, mesh, analyst):
    sign_in("carla")
    page.goto(f"/assets/{mesh['customer'].pk}/")
    section = page.locator("#joins")
    section.get_by_role("button", name="Accept Claim").click()
    expect(section.get_by_role("status").filter(has_text="Claim accepted")).to_be_visible()
    expect(section.locator("[data-join-candidate='Claim']")).to_have_count(0)
    expect(section.locator("[data-relationship='joinsWith']")).to_contain_text("Cust_Nbr")
    assert Relationship.objects.filter(name="joinsWith", to_asset=mesh["claim"], source="recommendation").exists()

    section.get_by_role("button", name="Dismiss Encounter").click()
    expect(section.get_by_role("status").filter(has_text="Encounter dismissed")).to_be_visible()
    expect(section.locator("[data-join-candidate='Encounter']")).to_have_count(0)
    # after a reload the decisions hold
    page.reload()
    expect(page.locator("#joins [data-join-candidate='SalesOpportunity']")).to_be_visible()
    expect(page.locator("#joins [data-join-candidate='Claim']")).to_have_count(0)
